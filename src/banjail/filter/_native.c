/* banjail.filter._native: the matching half of the native engine (banjail.filter.native).
 *
 * A Program holds one filter's prefregex and failregexes compiled by PCRE2 (8-bit, JIT when available) from the
 * patterns banjail.filter.translate produced, with the first-character dispatch of the Python engine. scan()
 * takes a chunk of ASCII lines, each ending with "\n", and the offset in each line where its date-cut text
 * starts, and does per line what banjail.filter.singleline does with regexes: the prefregex on the text plus
 * "\n", its content group as the searched buffer, then the failregexes the buffer's first character
 * dispatches to. It returns, in line order, only the lines where some failregex matched: (index, prefregex
 * groups, one dict or None per failregex), or (index, None, None) when PCRE2 could not decide (a match limit):
 * the caller runs that line on Python. No global state: everything lives in the Program object; every buffer
 * is sized from the line it holds. This file holds the Program's making (compile, init, dealloc, jitted) and
 * the module's table; scan itself is in _native_scan.c, the object both share in _native_program.h.
 */
#include "_native_program.h"
#include "_native_dates.h"

pcre2_code *native_compile(PyObject *pattern, int *jit)
{
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(pattern, &size);
    if (text == NULL)
        return NULL;
    int err;
    PCRE2_SIZE at;
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (cctx == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
    pcre2_set_bsr(cctx, PCRE2_BSR_ANYCRLF);
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)text, (PCRE2_SIZE)size, 0, &err, &at, cctx);
    pcre2_compile_context_free(cctx);
    if (code == NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(err, message, sizeof message);
        PyErr_Format(PyExc_ValueError, "PCRE2 refuses the pattern at %zu: %s", (size_t)at, message);
        return NULL;
    }
    *jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0; /* without JIT the interpreter runs */
    return code;
}

static int compile_one(Regex *out, PyObject *pattern, PyObject *names)
{
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    out->numbers = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *out->numbers);
    if (out->numbers == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *pair = PyTuple_GET_ITEM(names, k);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(pair, 0)) ||
            !PyLong_Check(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_TypeError, "names: (str, int) pairs");
            return -1;
        }
        out->numbers[k] = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
        if (out->numbers[k] == -1 && PyErr_Occurred())
            return -1;
    }
    if ((out->blank = PyDict_New()) == NULL)
        return -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        if (PyDict_SetItem(out->blank, PyTuple_GET_ITEM(PyTuple_GET_ITEM(names, k), 0), Py_None) < 0)
            return -1;
    }
    out->code = native_compile(pattern, &out->jit);
    if (out->code == NULL)
        return -1;
    Py_INCREF(names);
    out->names = names;
    return 0;
}

static uint32_t capture_count(const Regex *r)
{
    uint32_t n = 0;
    pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &n);
    return n;
}

static void Program_dealloc(ProgramObject *self)
{
    native_crew_free(self);
    if (self->pref.code != NULL)
        pcre2_code_free(self->pref.code);
    Py_XDECREF(self->pref.names);
    PyMem_Free(self->pref.numbers);
    Py_XDECREF(self->pref.blank);
    if (self->candidates.code != NULL)
        pcre2_code_free(self->candidates.code);
    Py_XDECREF(self->candidates.names);
    PyMem_Free(self->candidates.numbers);
    Py_XDECREF(self->candidates.blank);
    for (Py_ssize_t i = 0; i < self->nfail; i++) {
        if (self->fail[i].code != NULL)
            pcre2_code_free(self->fail[i].code);
        Py_XDECREF(self->fail[i].names);
        PyMem_Free(self->fail[i].numbers);
        Py_XDECREF(self->fail[i].blank);
    }
    PyMem_Free(self->fail);
    PyMem_Free(self->orders);
    PyMem_Free(self->order_items);
    if (self->mctx != NULL)
        pcre2_match_context_free(self->mctx);
    if (self->jstack != NULL)
        pcre2_jit_stack_free(self->jstack);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Program(pref, pref_names, content, fails, fail_names, table, orders, candidates=None)
 * pref: str or None; fails: list of str; *_names: tuples of (name, number); table: bytes of 128 indexes into
 * orders; orders: tuple of tuples of failregex indexes; candidates: a pattern that finds something in every
 * date-cut text a failregex can match (banjail.filter.prefilter), or None. */
static int Program_init(ProgramObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *pref, *pref_names, *fails, *fail_names, *orders, *candidates = Py_None;
    int content;
    Py_buffer table;
    static char *kwlist[] = {"pref", "pref_names", "content", "fails", "fail_names", "table", "orders",
                             "candidates", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!iO!O!y*O!|O", kwlist, &pref, &PyTuple_Type, &pref_names,
                                     &content, &PyList_Type, &fails, &PyList_Type, &fail_names, &table,
                                     &PyTuple_Type, &orders, &candidates))
        return -1;
    int result = -1;
    if (self->fail != NULL || self->pref.code != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Program is initialised once");
        goto done;
    }
    if (table.len != 128 || PyList_GET_SIZE(fails) != PyList_GET_SIZE(fail_names)) {
        PyErr_SetString(PyExc_ValueError, "table must hold 128 bytes, fail_names one tuple per failregex");
        goto done;
    }
    self->content = content;
    if (pref != Py_None) {
        if (!PyUnicode_Check(pref) || compile_one(&self->pref, pref, pref_names) < 0)
            goto done;
        self->groups = capture_count(&self->pref);
    }
    if (candidates != Py_None) {
        PyObject *none = PyTuple_New(0);
        int bad = none == NULL || !PyUnicode_Check(candidates) || compile_one(&self->candidates, candidates, none) < 0;
        Py_XDECREF(none);
        if (bad) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "candidates: str or None");
            goto done;
        }
    }
    self->nfail = PyList_GET_SIZE(fails);
    self->fail = PyMem_Calloc((size_t)(self->nfail ? self->nfail : 1), sizeof(Regex));
    if (self->fail == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < self->nfail; i++) {
        PyObject *p = PyList_GET_ITEM(fails, i), *n = PyList_GET_ITEM(fail_names, i);
        if (!PyUnicode_Check(p) || !PyTuple_Check(n)) {
            PyErr_SetString(PyExc_TypeError, "fails: str patterns, fail_names: tuples");
            goto done;
        }
        if (compile_one(&self->fail[i], p, n) < 0)
            goto done;
        uint32_t g = capture_count(&self->fail[i]);
        if (g > self->groups)
            self->groups = g;
    }
    self->norders = PyTuple_GET_SIZE(orders);
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < self->norders; k++) {
        PyObject *o = PyTuple_GET_ITEM(orders, k);
        if (!PyTuple_Check(o)) {
            PyErr_SetString(PyExc_TypeError, "orders: tuples of indexes");
            goto done;
        }
        total += PyTuple_GET_SIZE(o);
    }
    self->orders = PyMem_Calloc((size_t)(self->norders ? self->norders : 1), sizeof *self->orders);
    self->order_items = PyMem_Calloc((size_t)(total ? total : 1), sizeof(Py_ssize_t));
    if (self->orders == NULL || self->order_items == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < self->norders; k++) {
        PyObject *o = PyTuple_GET_ITEM(orders, k);
        self->orders[k][0] = at;
        self->orders[k][1] = PyTuple_GET_SIZE(o);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(o); j++) {
            Py_ssize_t v = PyLong_AsSsize_t(PyTuple_GET_ITEM(o, j));
            if (v < 0 || v >= self->nfail) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "orders: index out of range");
                goto done;
            }
            self->order_items[at++] = v;
        }
    }
    const unsigned char *t = table.buf;
    for (int b = 0; b < 128; b++) {
        if (t[b] >= self->norders) {
            PyErr_SetString(PyExc_ValueError, "table: index out of range");
            goto done;
        }
        self->table[b] = t[b];
    }
    self->mctx = pcre2_match_context_create(NULL);
    self->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (self->mctx == NULL || self->jstack == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    pcre2_jit_stack_assign(self->mctx, NULL, self->jstack);
    /* a runaway pattern stops here and its line goes to Python, which decides it */
    pcre2_set_match_limit(self->mctx, 10000000);
    result = 0;
done:
    PyBuffer_Release(&table);
    return result;
}

/* jitted() -> how many of the program's patterns run JIT-compiled, and how many there are */
static PyObject *Program_jitted(ProgramObject *self, PyObject *unused)
{
    (void)unused;
    Py_ssize_t jit = 0, all = 0;
    const Regex *extra[2] = {&self->pref, &self->candidates};
    for (int k = 0; k < 2; k++) {
        if (extra[k]->code != NULL) {
            all++;
            jit += extra[k]->jit;
        }
    }
    for (Py_ssize_t i = 0; i < self->nfail; i++) {
        all++;
        jit += self->fail[i].jit;
    }
    return Py_BuildValue("(nn)", jit, all);
}

static PyMethodDef Program_methods[] = {
    {"jitted", (PyCFunction)Program_jitted, METH_NOARGS, "(patterns JIT-compiled, patterns)"},
    {"scan", (PyCFunction)native_program_scan, METH_VARARGS,
     "scan(chunk, cuts) -> [(line, prefregex groups, failregex groups or None each)] for the matched lines"},
    {"start", (PyCFunction)native_program_start, METH_VARARGS,
     "start(chunk, cuts, worker=True, patience=200000, batch=32, stall=0) -> Matches: scan's matching shared with a "
     "thread of its own; Step.run takes it as its hits"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "banjail.filter._native.Program",
    .tp_basicsize = sizeof(ProgramObject),
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One filter's regexes compiled by PCRE2 (see the module's documentation).",
    .tp_methods = Program_methods,
    .tp_init = (initproc)Program_init,
    .tp_new = PyType_GenericNew,
};

static PyObject *version(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    char text[64];
    int jit = 0;
    pcre2_config(PCRE2_CONFIG_VERSION, text);
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    return Py_BuildValue("(si)", text, jit);
}

static PyMethodDef module_methods[] = {
    {"version", version, METH_NOARGS, "(PCRE2 version, whether its JIT is available)"},
    {"run_epochs", native_run_epochs, METH_VARARGS,
     "run_epochs(dates, base, seconds, head, end) -> whether every second of the run is 0-59; then "
     "dates.extend(base + s for s in seconds[head + 1:end])"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "banjail.filter._native", "PCRE2 matching for banjail's native engine.", -1,
    module_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void)
{
    if (PyType_Ready(&ProgramType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Program", (PyObject *)&ProgramType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    if (native_add_dates(m) < 0 || native_add_step(m) < 0 || native_add_rows(m) < 0 ||
        native_add_matches(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
