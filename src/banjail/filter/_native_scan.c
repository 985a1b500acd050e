/* banjail.filter._native.Program.scan: the matching of one chunk's lines by a Program's PCRE2 regexes (see
 * _native.c's note for what scan takes and returns), and the groupdict of a match.
 *
 * In its own file because it is the per-line hot path, apart from the Program's making (compile, init, dealloc
 * in _native.c). Moved from _native.c unchanged. No global state; every buffer is sized from the line it holds.
 */
#include "_native_program.h"

/* A dict of the named groups of one match (None for a group that did not take part), as re's groupdict: a copy
 * of the regex's blank dict (same keys, same order; a copy of a dict is one block copy) with the groups that
 * took part set, rather than one insertion per name. The groups are md's (rc: the match's return), or with
 * `pairs` the (start, end) pairs Program.start's worker took from it, (-1, -1) for a group not taking part. */
PyObject *native_groupdict(const Regex *r, const char *subject, pcre2_match_data *md, int rc, const Py_ssize_t *pairs)
{
    PCRE2_SIZE *ov = pairs == NULL ? pcre2_get_ovector_pointer(md) : NULL;
    PyObject *d = PyDict_Copy(r->blank);
    if (d == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(r->names);
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t start, end;
        if (pairs != NULL) {
            start = pairs[2 * k];
            end = pairs[2 * k + 1];
        } else {
            Py_ssize_t g = r->numbers[k];
            if (g < 0 || g >= rc || ov[2 * g] == PCRE2_UNSET)
                continue; /* None, as in the blank */
            start = (Py_ssize_t)ov[2 * g];
            end = (Py_ssize_t)ov[2 * g + 1];
        }
        if (start < 0)
            continue;
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

static int add_undecided(PyObject *out, Py_ssize_t line)
{
    PyObject *row = Py_BuildValue("(nOO)", line, Py_None, Py_None);
    if (row == NULL)
        return -1;
    int bad = PyList_Append(out, row);
    Py_DECREF(row);
    return bad;
}

/* One line's work; appends its row to out when a failregex matched. Returns -1 on a Python error. */
static int scan_line(ProgramObject *self, const char *text, Py_ssize_t size, Py_ssize_t line,
                     pcre2_match_data *md, char *scratch, PyObject *out)
{
    const char *buf = text;
    Py_ssize_t bufsize = size;
    PyObject *pre = NULL;
    if (self->candidates.code != NULL) {
        int rc = native_match(self->candidates.code, self->candidates.jit, text, size, md, self->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0; /* no failregex can match this line */
        if (rc < 0)
            return add_undecided(out, line);
    }
    if (self->pref.code != NULL) {
        int rc = native_match(self->pref.code, self->pref.jit, text, size, md, self->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc < 0)
            return add_undecided(out, line);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int c = self->content;
        if (c >= 0 && c < rc && ov[2 * c] != PCRE2_UNSET && ov[2 * c + 1] > ov[2 * c]) {
            Py_ssize_t start = (Py_ssize_t)ov[2 * c], len = (Py_ssize_t)(ov[2 * c + 1] - ov[2 * c]);
            if (start + len < size && text[start + len] == '\n' && start + len + 1 == size) {
                buf = text + start; /* content + "\n" is already there */
            } else {
                memcpy(scratch, text + start, (size_t)len);
                scratch[len] = '\n';
                buf = scratch;
            }
            bufsize = len + 1;
        }
        pre = native_groupdict(&self->pref, text, md, rc, NULL);
        if (pre == NULL)
            return -1;
    }
    unsigned char first = (unsigned char)buf[0];
    Py_ssize_t *order = self->order_items + self->orders[self->table[first & 0x7F]][0];
    Py_ssize_t count = self->orders[self->table[first & 0x7F]][1];
    PyObject *found = NULL;
    for (Py_ssize_t j = 0; j < count; j++) {
        Py_ssize_t index = order[j];
        const Regex *r = &self->fail[index];
        int rc = native_match(r->code, r->jit, buf, bufsize, md, self->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            continue;
        if (rc < 0) {
            Py_XDECREF(pre);
            Py_XDECREF(found);
            return add_undecided(out, line);
        }
        if (found == NULL) {
            found = PyTuple_New(self->nfail);
            if (found == NULL)
                goto fail;
            for (Py_ssize_t k = 0; k < self->nfail; k++) {
                Py_INCREF(Py_None);
                PyTuple_SET_ITEM(found, k, Py_None);
            }
        }
        PyObject *d = native_groupdict(r, buf, md, rc, NULL);
        if (d == NULL)
            goto fail;
        Py_DECREF(PyTuple_GET_ITEM(found, index));
        PyTuple_SET_ITEM(found, index, d);
    }
    if (found == NULL) {
        Py_XDECREF(pre);
        return 0;
    }
    /* the row's tuple is filled directly: Py_BuildValue parses its format once per hit line */
    if (pre == NULL && (pre = PyDict_New()) == NULL)
        goto fail;
    PyObject *index = PyLong_FromSsize_t(line);
    PyObject *row = index != NULL ? PyTuple_New(3) : NULL;
    if (row == NULL) {
        Py_XDECREF(index);
        goto fail;
    }
    PyTuple_SET_ITEM(row, 0, index);
    PyTuple_SET_ITEM(row, 1, pre); /* the row takes both references */
    PyTuple_SET_ITEM(row, 2, found);
    int bad = PyList_Append(out, row);
    Py_DECREF(row);
    return bad;
fail:
    Py_XDECREF(pre);
    Py_XDECREF(found);
    return -1;
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

/* scan(chunk, cuts) -> list of (line index, prefregex groups, failregex groups) */
PyObject *native_program_scan(ProgramObject *self, PyObject *args)
{
    PyObject *chunk, *cuts;
    if (!PyArg_ParseTuple(args, "UO!", &chunk, &PyList_Type, &cuts))
        return NULL;
    Py_ssize_t lines = 0, longest = 0;
    const char *data = native_scan_lines(self, chunk, cuts, &lines, &longest, NULL, NULL);
    if (data == NULL)
        return NULL;
    Py_ssize_t size = PyUnicode_GET_LENGTH(chunk);
    pcre2_match_data *md = pcre2_match_data_create(self->groups + 1, NULL);
    char *scratch = PyMem_Malloc((size_t)longest + 2);
    PyObject *out = PyList_New(0);
    if (md == NULL || scratch == NULL || out == NULL) {
        if (md != NULL)
            pcre2_match_data_free(md);
        PyMem_Free(scratch);
        Py_XDECREF(out);
        return PyErr_NoMemory();
    }
    Py_ssize_t line = 0;
    for (Py_ssize_t at = 0; at < size; line++) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        Py_ssize_t cut = PyLong_AsSsize_t(PyList_GET_ITEM(cuts, line)); /* checked by native_scan_lines */
        if (scan_line(self, data + at + cut, end + 1 - (at + cut), line, md, scratch, out) < 0)
            goto fail;
        at = end + 1;
    }
    pcre2_match_data_free(md);
    PyMem_Free(scratch);
    return out;
fail:
    pcre2_match_data_free(md);
    PyMem_Free(scratch);
    Py_DECREF(out);
    return NULL;
}
