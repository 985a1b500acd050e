/* banjail.filter._native.DateCut: where each line's date text is, for the uniform path's dates
 * (banjail.filter.uniform.read_dates), and the two chunk operations the native engine needs around it.
 *
 * A DateCut holds one regex translated by banjail.filter.translate (same matches and group numbers as Python's
 * re on ASCII text): a date template's, or any other regex for count().
 * - cuts(chunk, fraction) matches it, anchored, at the start of every line of an ASCII chunk (each line without
 *   its "\n", as re.match on the line) and returns, when for every line it matches with group 1 set and not
 *   empty: (starts, ends, texts, fraction starts, fraction ends): group 1's start (starts is None when every
 *   line's date starts at 0), end and text per line (a text equal to the previous line's is the same object),
 *   and the span of group `fraction` relative to group 1's start (-1, -1 when unset; both None when
 *   fraction < 0). Otherwise, or when PCRE2 cannot decide (a match limit), None: the caller then does the same
 *   with Python's re, which decides.
 * - runs(chunk, seconds, fraction) matches as cuts does, and cuts the lines into runs: a line starts a new run
 *   (is a head) unless its date text has the length of its run's head's, every group at the same place, and the
 *   same bytes except in group `seconds` and group `fraction` (-1: none). Returns (starts, ends, heads, seconds):
 *   starts and ends as cuts gives them, heads a list of (line index, text, group spans) for each head (the spans
 *   of groups 1.. relative to the text, (-1, -1) when unset), seconds a bytes object with each line's value of
 *   group `seconds` (1 or 2 digits; 255 when it is anything else). Or None, as cuts.
 * - without(chunk, starts, ends): the chunk with [starts[i], ends[i]) taken out of line i (the date-cut lines
 *   the regexes search when a date does not start its line).
 * - count(chunk): on how many lines an unanchored search of the line with its "\n" finds the regex (as
 *   Python's pattern.search(line + "\n")), and whether it found it on the last line; None when PCRE2 cannot
 *   decide for some line.
 * No global state; every buffer is sized from the chunk. runs is in _native_runs.c; the object and the helpers
 * both files use are declared in _native_dates.h.
 */
#include "_native_dates.h"

static void DateCut_dealloc(DateCutObject *self)
{
    native_prefetch_free(self); /* first: its thread matches with the code */
    if (self->code != NULL)
        pcre2_code_free(self->code);
    if (self->mctx != NULL)
        pcre2_match_context_free(self->mctx);
    if (self->jstack != NULL)
        pcre2_jit_stack_free(self->jstack);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* DateCut(pattern) */
static int DateCut_init(DateCutObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *pattern;
    static char *kwlist[] = {"pattern", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U", kwlist, &pattern))
        return -1;
    if (self->code != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DateCut is initialised once");
        return -1;
    }
    self->code = native_compile(pattern, &self->jit);
    if (self->code == NULL)
        return -1;
    self->mctx = pcre2_match_context_create(NULL);
    self->jstack = pcre2_jit_stack_create(32 * 1024, 256 * 1024, NULL);
    if (self->mctx == NULL || self->jstack == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    pcre2_jit_stack_assign(self->mctx, NULL, self->jstack);
    pcre2_set_match_limit(self->mctx, 1000000);
    return 0;
}

/* Appends a new reference to `item` to `list` (steals it); -1 on error. */
int native_append_new(PyObject *list, PyObject *item)
{
    if (item == NULL)
        return -1;
    int bad = PyList_Append(list, item);
    Py_DECREF(item);
    return bad;
}

/* The lines of an ASCII chunk ending with "\n": NULL (no error set) when it is not one. */
static const char *chunk_data(PyObject *chunk, Py_ssize_t *size)
{
    if (!PyUnicode_IS_ASCII(chunk))
        return NULL;
    *size = PyUnicode_GET_LENGTH(chunk);
    const char *data = (const char *)PyUnicode_1BYTE_DATA(chunk);
    return *size > 0 && data[*size - 1] == '\n' ? data : NULL;
}

/* The match of the regex at the start of a line (its text without the "\n"): pcre2_match's result, or
 * PCRE2_ERROR_NOMATCH when the match found does not start the line. Not PCRE2_ANCHORED, which sends JIT-compiled
 * code to the interpreter: a search from 0 that finds a match starting at 0 finds the one an anchored match
 * finds (the same backtracking order from the same place), and the date templates given to DateCut start with
 * "^", so PCRE2 tries no other place. */
static int line_match(DateCutObject *self, const char *line, Py_ssize_t len, pcre2_match_data *md)
{
    int rc = native_match(self->code, self->jit, line, len, md, self->mctx);
    if (rc >= 0 && pcre2_get_ovector_pointer(md)[0] != 0)
        return PCRE2_ERROR_NOMATCH;
    return rc;
}

/* The chunk's text and the regex's capture count, for cuts and runs: 1, or 0 when the chunk is not ASCII lines
 * ending with "\n" or `group` (-1: none) is not a group (the answer is then None), or -1 with an error. */
int native_chunk_groups(DateCutObject *self, PyObject *chunk, int group, const char **data, Py_ssize_t *size,
                        uint32_t *groups)
{
    if (self->code == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DateCut not initialised");
        return -1;
    }
    *data = chunk_data(chunk, size);
    if (*data == NULL)
        return 0;
    *groups = 0;
    pcre2_pattern_info(self->code, PCRE2_INFO_CAPTURECOUNT, groups);
    return *groups >= 1 && (group < 0 || (uint32_t)group <= *groups);
}

/* The date at the start of the line [line, line + len): 1 with group 1's start and length in *first and *len and
 * both appended to `starts` and `ends` (its end), 0 when there is none with group 1 set and not empty (or PCRE2
 * cannot decide: the caller answers None), -1 on a Python error. */
int native_line_date(DateCutObject *self, const char *line, Py_ssize_t size, pcre2_match_data *md, PyObject *starts,
                     PyObject *ends, Py_ssize_t *first, Py_ssize_t *len)
{
    int rc = line_match(self, line, size, md);
    if (rc < 2) /* no match at the line start, an error, or group 1 unset: Python decides */
        return 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    if (ov[2] == PCRE2_UNSET || ov[3] == PCRE2_UNSET || ov[3] <= ov[2])
        return 0;
    *first = (Py_ssize_t)ov[2];
    *len = (Py_ssize_t)(ov[3] - ov[2]);
    if (native_append_new(starts, PyLong_FromSsize_t(*first)) < 0 ||
        native_append_new(ends, PyLong_FromSsize_t(*first + *len)) < 0)
        return -1;
    return rc;
}

int native_line_date_at(DateCutObject *self, const Prefetched *pre, Py_ssize_t index, const char *line,
                        Py_ssize_t size, pcre2_match_data *md, PyObject *starts, PyObject *ends, Py_ssize_t *first,
                        Py_ssize_t *len, const PCRE2_SIZE **ov)
{
    if (pre == NULL || index >= pre->lines || index >= __atomic_load_n(pre->done, __ATOMIC_ACQUIRE)) {
        *ov = pcre2_get_ovector_pointer(md);
        return native_line_date(self, line, size, md, starts, ends, first, len);
    }
    int rc = pre->rc[index];
    const PCRE2_SIZE *o = pre->ov + 2 * pre->pairs * index;
    *ov = o;
    /* native_line_date's tests on the match, as it makes them */
    if (rc < 2)
        return 0;
    if (o[2] == PCRE2_UNSET || o[3] == PCRE2_UNSET || o[3] <= o[2])
        return 0;
    *first = (Py_ssize_t)o[2];
    *len = (Py_ssize_t)(o[3] - o[2]);
    if (native_append_new(starts, PyLong_FromSsize_t(*first)) < 0 ||
        native_append_new(ends, PyLong_FromSsize_t(*first + *len)) < 0)
        return -1;
    return rc;
}

static PyObject *DateCut_cuts(DateCutObject *self, PyObject *args)
{
    PyObject *chunk;
    int fraction;
    if (!PyArg_ParseTuple(args, "Ui", &chunk, &fraction))
        return NULL;
    const char *data;
    Py_ssize_t size;
    uint32_t groups;
    int usable = native_chunk_groups(self, chunk, fraction, &data, &size, &groups);
    if (usable <= 0)
        return usable < 0 ? NULL : Py_NewRef(Py_None);
    pcre2_match_data *md = pcre2_match_data_create(groups + 1, NULL);
    PyObject *starts = PyList_New(0), *ends = PyList_New(0), *texts = PyList_New(0);
    PyObject *fs = fraction >= 0 ? PyList_New(0) : NULL, *fe = fraction >= 0 ? PyList_New(0) : NULL;
    PyObject *result = NULL;
    Prefetched prefetched;
    const Prefetched *pre = NULL;
    if (md == NULL || starts == NULL || ends == NULL || texts == NULL ||
        (fraction >= 0 && (fs == NULL || fe == NULL))) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *previous = NULL; /* borrowed from texts */
    const char *prev_at = NULL;
    Py_ssize_t prev_len = -1;
    int shifted = 0; /* whether some line's date does not start it */
    pre = native_prefetched(self, chunk, -1, &prefetched);
    for (Py_ssize_t at = 0, line = 0; at < size; line++) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data, first, len;
        const PCRE2_SIZE *ov;
        int rc = native_line_date_at(self, pre, line, data + at, end - at, md, starts, ends, &first, &len, &ov);
        if (rc <= 0)
            goto none_or_error;
        shifted |= first != 0;
        const char *text = data + at + first;
        if (previous != NULL && len == prev_len && memcmp(prev_at, text, (size_t)len) == 0) {
            if (PyList_Append(texts, previous) < 0)
                goto done;
        } else {
            if (native_append_new(texts, PyUnicode_DecodeASCII(text, len, NULL)) < 0)
                goto done;
            previous = PyList_GET_ITEM(texts, PyList_GET_SIZE(texts) - 1);
            prev_at = text;
            prev_len = len;
        }
        if (fraction >= 0) {
            int set = fraction < rc && ov[2 * fraction] != PCRE2_UNSET;
            Py_ssize_t s = set ? (Py_ssize_t)ov[2 * fraction] - first : -1;
            Py_ssize_t e = set ? (Py_ssize_t)ov[2 * fraction + 1] - first : -1;
            if (native_append_new(fs, PyLong_FromSsize_t(s)) < 0 || native_append_new(fe, PyLong_FromSsize_t(e)) < 0)
                goto done;
        }
        at = end + 1;
    }
    result = PyTuple_Pack(5, shifted ? starts : Py_None, ends, texts, fraction >= 0 ? fs : Py_None,
                          fraction >= 0 ? fe : Py_None);
    goto done;
none_or_error:
    if (!PyErr_Occurred())
        result = Py_NewRef(Py_None);
done:
    if (pre != NULL)
        native_prefetch_done(self);
    if (md != NULL)
        pcre2_match_data_free(md);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(texts);
    Py_XDECREF(fs);
    Py_XDECREF(fe);
    return result;
}

/* Offset `i` of `list` as an index into a line of `len` characters, or -1 with a ValueError. */
static Py_ssize_t offset_in(PyObject *list, Py_ssize_t i, Py_ssize_t len)
{
    Py_ssize_t at = PyLong_AsSsize_t(PyList_GET_ITEM(list, i));
    if (at < 0 || at > len) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "an offset beyond its line");
        return -1;
    }
    return at;
}

static PyObject *DateCut_without(DateCutObject *self, PyObject *args)
{
    (void)self;
    PyObject *chunk, *starts, *ends;
    if (!PyArg_ParseTuple(args, "UO!O!", &chunk, &PyList_Type, &starts, &PyList_Type, &ends))
        return NULL;
    Py_ssize_t size;
    const char *data = chunk_data(chunk, &size);
    if (data == NULL) {
        PyErr_SetString(PyExc_ValueError, "without takes ASCII lines, each ending with a newline");
        return NULL;
    }
    Py_ssize_t lines = PyList_GET_SIZE(starts);
    if (PyList_GET_SIZE(ends) != lines) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must hold one offset per line");
        return NULL;
    }
    char *out = PyMem_Malloc((size_t)size);
    if (out == NULL)
        return PyErr_NoMemory();
    Py_ssize_t used = 0, line = 0;
    for (Py_ssize_t at = 0; at < size; line++) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        if (line >= lines) {
            PyErr_SetString(PyExc_ValueError, "starts and ends must hold one offset per line");
            goto fail;
        }
        Py_ssize_t s = offset_in(starts, line, end - at), e = offset_in(ends, line, end - at);
        if (s < 0 || e < 0)
            goto fail;
        if (e < s) {
            PyErr_SetString(PyExc_ValueError, "a cut that ends before it starts");
            goto fail;
        }
        memcpy(out + used, data + at, (size_t)s); /* a line adds at most its own length: used <= size */
        used += s;
        memcpy(out + used, data + at + e, (size_t)(end + 1 - at - e));
        used += end + 1 - at - e;
        at = end + 1;
    }
    if (line != lines) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must hold one offset per line");
        goto fail;
    }
    PyObject *result = PyUnicode_DecodeASCII(out, used, NULL);
    PyMem_Free(out);
    return result;
fail:
    PyMem_Free(out);
    return NULL;
}

static PyObject *DateCut_count(DateCutObject *self, PyObject *args)
{
    PyObject *chunk;
    if (!PyArg_ParseTuple(args, "U", &chunk))
        return NULL;
    if (self->code == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DateCut not initialised");
        return NULL;
    }
    Py_ssize_t size;
    const char *data = chunk_data(chunk, &size);
    if (data == NULL) {
        PyErr_SetString(PyExc_ValueError, "count takes ASCII lines, each ending with a newline");
        return NULL;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(self->code, NULL);
    if (md == NULL)
        return PyErr_NoMemory();
    Py_ssize_t found = 0;
    int last = 0;
    for (Py_ssize_t at = 0; at < size;) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        int rc = native_match(self->code, self->jit, data + at, end + 1 - at, md, self->mctx);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) { /* a match limit: Python decides */
            pcre2_match_data_free(md);
            Py_RETURN_NONE;
        }
        last = rc >= 0;
        found += last;
        at = end + 1;
    }
    pcre2_match_data_free(md);
    return Py_BuildValue("(nO)", found, last ? Py_True : Py_False);
}

static PyMethodDef DateCut_methods[] = {
    {"cuts", (PyCFunction)DateCut_cuts, METH_VARARGS,
     "cuts(chunk, fraction group or -1) -> (starts or None, ends, texts, fraction starts, fraction ends) or None"},
    {"prefetch", (PyCFunction)native_datecut_prefetch, METH_VARARGS,
     "prefetch(chunk) -> bool: match the dates of the chunk that comes next on a thread of its own (whether it took it)"},
    {"runs", (PyCFunction)native_datecut_runs, METH_VARARGS,
     "runs(chunk, seconds group, fraction group or -1) -> (starts or None, ends, heads, seconds) or None"},
    {"without", (PyCFunction)DateCut_without, METH_VARARGS,
     "without(chunk, starts, ends) -> the chunk with [starts[i], ends[i]) taken out of each line i"},
    {"count", (PyCFunction)DateCut_count, METH_VARARGS,
     "count(chunk) -> (lines whose search (with the newline) finds the regex, whether the last did) or None"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DateCutType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "banjail.filter._native.DateCut",
    .tp_basicsize = sizeof(DateCutObject),
    .tp_dealloc = (destructor)DateCut_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A date template's (or another) regex compiled by PCRE2 (see the file's documentation).",
    .tp_methods = DateCut_methods,
    .tp_init = (initproc)DateCut_init,
    .tp_new = PyType_GenericNew,
};

int native_add_dates(PyObject *module)
{
    if (PyType_Ready(&DateCutType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "DateCut", (PyObject *)&DateCutType);
}
