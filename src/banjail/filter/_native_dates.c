/* banjail.filter._native.DateCut: where each line's date text ends, for the uniform path's dates
 * (banjail.filter.uniform.read_dates).
 *
 * A DateCut holds one date template's regex translated by banjail.filter.translate (same matches and group
 * numbers as Python's re on ASCII text). cuts(chunk, fraction) matches it, anchored, at the start of every line
 * of an ASCII chunk (each line without its "\n", as re.match on the line) and returns, when for every line it
 * matches with group 1 starting the line and not empty: (ends, texts, fraction starts, fraction ends): group 1's
 * end and text per line (a text equal to the previous line's is the same object), and the span of group
 * `fraction` (-1, -1 when unset; both None when fraction < 0). Otherwise, or when PCRE2 cannot decide (a match
 * limit), None: the caller then does the same with Python's re, which decides. No global state.
 */
#include "_native.h"

typedef struct {
    PyObject_HEAD
    pcre2_code *code;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
} DateCutObject;

static void DateCut_dealloc(DateCutObject *self)
{
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
    int jit;
    self->code = native_compile(pattern, &jit);
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
static int append_new(PyObject *list, PyObject *item)
{
    if (item == NULL)
        return -1;
    int bad = PyList_Append(list, item);
    Py_DECREF(item);
    return bad;
}

static PyObject *DateCut_cuts(DateCutObject *self, PyObject *args)
{
    PyObject *chunk;
    int fraction;
    if (!PyArg_ParseTuple(args, "Ui", &chunk, &fraction))
        return NULL;
    if (self->code == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "DateCut not initialised");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(chunk))
        Py_RETURN_NONE;
    const char *data = (const char *)PyUnicode_1BYTE_DATA(chunk);
    Py_ssize_t size = PyUnicode_GET_LENGTH(chunk);
    if (size == 0 || data[size - 1] != '\n')
        Py_RETURN_NONE;
    uint32_t groups = 0;
    pcre2_pattern_info(self->code, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (groups < 1 || (fraction >= 0 && (uint32_t)fraction > groups))
        Py_RETURN_NONE;
    pcre2_match_data *md = pcre2_match_data_create(groups + 1, NULL);
    PyObject *ends = PyList_New(0), *texts = PyList_New(0);
    PyObject *fs = fraction >= 0 ? PyList_New(0) : NULL, *fe = fraction >= 0 ? PyList_New(0) : NULL;
    PyObject *result = NULL;
    if (md == NULL || ends == NULL || texts == NULL || (fraction >= 0 && (fs == NULL || fe == NULL))) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject *previous = NULL; /* borrowed from texts */
    const char *prev_at = NULL;
    Py_ssize_t prev_len = -1;
    for (Py_ssize_t at = 0; at < size;) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        int rc = pcre2_match(self->code, (PCRE2_SPTR)(data + at), (PCRE2_SIZE)(end - at), 0, PCRE2_ANCHORED, md,
                             self->mctx);
        if (rc < 2) /* no match, an error, or group 1 unset: Python decides */
            goto none;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (ov[2] != 0 || ov[3] == PCRE2_UNSET || ov[3] == 0)
            goto none;
        Py_ssize_t len = (Py_ssize_t)ov[3];
        if (append_new(ends, PyLong_FromSsize_t(len)) < 0)
            goto done;
        if (previous != NULL && len == prev_len && memcmp(prev_at, data + at, (size_t)len) == 0) {
            if (PyList_Append(texts, previous) < 0)
                goto done;
        } else {
            if (append_new(texts, PyUnicode_DecodeASCII(data + at, len, NULL)) < 0)
                goto done;
            previous = PyList_GET_ITEM(texts, PyList_GET_SIZE(texts) - 1);
            prev_at = data + at;
            prev_len = len;
        }
        if (fraction >= 0) {
            int set = fraction < rc && ov[2 * fraction] != PCRE2_UNSET;
            Py_ssize_t s = set ? (Py_ssize_t)ov[2 * fraction] : -1, e = set ? (Py_ssize_t)ov[2 * fraction + 1] : -1;
            if (append_new(fs, PyLong_FromSsize_t(s)) < 0 || append_new(fe, PyLong_FromSsize_t(e)) < 0)
                goto done;
        }
        at = end + 1;
    }
    if (fraction >= 0)
        result = PyTuple_Pack(4, ends, texts, fs, fe);
    else
        result = PyTuple_Pack(4, ends, texts, Py_None, Py_None);
    goto done;
none:
    result = Py_None;
    Py_INCREF(result);
done:
    if (md != NULL)
        pcre2_match_data_free(md);
    Py_XDECREF(ends);
    Py_XDECREF(texts);
    Py_XDECREF(fs);
    Py_XDECREF(fe);
    return result;
}

static PyMethodDef DateCut_methods[] = {
    {"cuts", (PyCFunction)DateCut_cuts, METH_VARARGS,
     "cuts(chunk, fraction group or -1) -> (ends, texts, fraction starts, fraction ends) or None"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject DateCutType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "banjail.filter._native.DateCut",
    .tp_basicsize = sizeof(DateCutObject),
    .tp_dealloc = (destructor)DateCut_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A line-start date template's regex compiled by PCRE2 (see the file's documentation).",
    .tp_methods = DateCut_methods,
    .tp_init = (initproc)DateCut_init,
    .tp_new = PyType_GenericNew,
};

int native_add_dates(PyObject *module)
{
    if (PyType_Ready(&DateCutType) < 0)
        return -1;
    Py_INCREF(&DateCutType);
    if (PyModule_AddObject(module, "DateCut", (PyObject *)&DateCutType) < 0) {
        Py_DECREF(&DateCutType);
        return -1;
    }
    return 0;
}
