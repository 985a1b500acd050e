/* banjail.filter._native.Program.scan: a chunk's lines matched by a Program's PCRE2 regexes on the caller's
 * thread (see _native.c's note for what scan takes and returns), through the same batch records as
 * Program.start (_native_batch.c); the checks of scan's and start's arguments, and the groupdict of a match.
 *
 * In its own file because it is the per-line hot path, apart from the Program's making (compile, init, dealloc
 * in _native.c). No global state; every buffer is sized from the chunk it holds.
 */
#include "_native_pipe.h"

/* lines matched per slice: their records stay in the cache until their rows are made */
#define SCAN_SLICE 32

/* A dict of the named groups of one match (None for a group that did not take part), as re's groupdict: a copy
 * of the regex's blank dict (same keys, same order; a copy of a dict is one block copy) with the groups that
 * took part set, rather than one insertion per name. pairs: each name's group (start, end) in subject, as a
 * batch record holds them, (-1, -1) for a group that did not take part. */
PyObject *native_groupdict(const Regex *r, const char *subject, const Py_ssize_t *pairs)
{
    PyObject *d = PyDict_Copy(r->blank);
    if (d == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(r->names);
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t start = pairs[2 * k], end = pairs[2 * k + 1];
        if (start < 0)
            continue; /* None, as in the blank */
        PyObject *name = PyTuple_GET_ITEM(PyTuple_GET_ITEM(r->names, k), 0);
        PyObject *value = native_ascii(subject + start, end - start);
        if (value == NULL) {
            Py_DECREF(d);
            return NULL;
        }
        int bad = PyDict_SetItem(d, name, value);
        Py_DECREF(value);
        if (bad < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}

/* scan's and start's checks of (chunk, cuts): the chunk's bytes, its line count and its longest line's length;
 * NULL with an error. With starts and ends (room for len(cuts) each), line i's match start (its start + its
 * cut) and end (one past its newline) are set in the same pass. */
const char *native_scan_lines(ProgramObject *self, PyObject *chunk, PyObject *cuts, Py_ssize_t *lines,
                              Py_ssize_t *longest, Py_ssize_t *starts, Py_ssize_t *ends)
{
    if (self->fail == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Program not initialised");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(chunk)) {
        PyErr_SetString(PyExc_ValueError, "scan takes ASCII text only");
        return NULL;
    }
    const char *data = (const char *)PyUnicode_1BYTE_DATA(chunk);
    Py_ssize_t size = PyUnicode_GET_LENGTH(chunk);
    if (size == 0 || data[size - 1] != '\n') {
        PyErr_SetString(PyExc_ValueError, "scan takes complete lines, each ending with a newline");
        return NULL;
    }
    Py_ssize_t n = 0, most = 0, count = PyList_GET_SIZE(cuts);
    int bad = 0; /* a cut not an int or beyond its line; reported after a wrong count, which comes first */
    for (Py_ssize_t at = 0; at < size; n++) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        if (end - at > most)
            most = end - at;
        if (!bad && n < count) {
            Py_ssize_t cut = PyLong_AsSsize_t(PyList_GET_ITEM(cuts, n));
            bad = cut < 0 || cut > end - at;
            if (starts != NULL) { /* room for count lines */
                starts[n] = at + cut;
                ends[n] = end + 1;
            }
        }
        at = end + 1;
    }
    if (n != count) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "cuts must hold one offset per line");
        return NULL;
    }
    if (bad) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a cut beyond its line");
        return NULL;
    }
    *lines = n;
    *longest = most;
    return data;
}

/* scan(chunk, cuts) -> list of (line index, prefregex groups, failregex groups): the chunk's lines matched a
 * slice at a time into one batch (_native_batch.c), whose rows are made while its records are in the cache */
PyObject *native_program_scan(ProgramObject *self, PyObject *args)
{
    PyObject *chunk, *cuts;
    if (!PyArg_ParseTuple(args, "UO!", &chunk, &PyList_Type, &cuts))
        return NULL;
    size_t room = (size_t)(PyList_GET_SIZE(cuts) ? PyList_GET_SIZE(cuts) : 1);
    Lines v = {self, NULL, 0, PyMem_Malloc(room * sizeof(Py_ssize_t)), PyMem_Malloc(room * sizeof(Py_ssize_t))};
    Py_ssize_t longest = 0;
    Context c = {NULL, self->mctx, NULL};
    char *row_scratch = NULL;
    Batch b = {NULL, 0, 0, 0};
    PyObject *out = NULL;
    if (v.starts == NULL || v.ends == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if ((v.data = native_scan_lines(self, chunk, cuts, &v.lines, &longest, v.starts, v.ends)) == NULL)
        goto done;
    c.md = pcre2_match_data_create(self->groups + 1, NULL);
    c.scratch = PyMem_Malloc((size_t)longest + 2);
    row_scratch = PyMem_Malloc((size_t)longest + 2);
    if (c.md == NULL || c.scratch == NULL || row_scratch == NULL || (out = PyList_New(0)) == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t first = 0; first < v.lines; first += SCAN_SLICE) {
        b.used = 0;
        if (native_match_batch(&v, &c, first, first + SCAN_SLICE < v.lines ? first + SCAN_SLICE : v.lines, &b) < 0) {
            PyErr_NoMemory();
            Py_CLEAR(out);
            goto done;
        }
        for (Py_ssize_t at = 0; at < b.used; at += native_record_size(self, b.recs + at)) {
            PyObject *row = native_record_row(&v, row_scratch, b.recs + at);
            if (row == NULL || PyList_Append(out, row) < 0) {
                Py_XDECREF(row);
                Py_CLEAR(out);
                goto done;
            }
            Py_DECREF(row);
        }
    }
done:
    if (c.md != NULL)
        pcre2_match_data_free(c.md);
    PyMem_Free(c.scratch);
    PyMem_Free(row_scratch);
    PyMem_RawFree(b.recs);
    PyMem_Free(v.starts);
    PyMem_Free(v.ends);
    return out;
}
