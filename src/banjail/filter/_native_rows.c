/* banjail.filter._native.Rows: the lines of a chunk as a read-only sequence of str, each made when asked for.
 *
 * The native engine (banjail.filter.native) hands a chunk's lines to the date readers, the C step and the book
 * keeping. Splitting the chunk into a list made one str per line, and freed it, although only the hit lines'
 * text is ever looked at (callgrind: about 4% of a fail2ban-regex run on the bench's auth.log). Rows keeps the
 * chunk and where each line starts; rows[i] is chunk[start:end] without its "\n", as chunk.split("\n")[i] is;
 * the C step reads a line's span straight from the chunk and makes no line str unless an outcome keeps it, and
 * `longest` and `after` come from the same line starts (no further pass over the chunk).
 * Invariant: the chunk is ASCII, non-empty and ends with "\n"; starts[i] < starts[i + 1], starts[n] = its
 * length. No global state. */
#include "_native.h"

typedef struct {
    PyObject_HEAD
    PyObject *chunk;      /* the str the lines are cut from */
    Py_ssize_t n;         /* how many lines */
    Py_ssize_t *starts;   /* n + 1 offsets: line i is [starts[i], starts[i + 1] - 1) */
    Py_ssize_t longest;   /* the longest line's length, without its "\n" */
} RowsObject;

static PyTypeObject RowsType;

static int Rows_init(RowsObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"chunk", NULL};
    PyObject *chunk;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U", kwlist, &chunk))
        return -1;
    if (self->chunk != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Rows is initialised once");
        return -1;
    }
    Py_ssize_t size = PyUnicode_GET_LENGTH(chunk);
    const char *data = (const char *)PyUnicode_1BYTE_DATA(chunk);
    if (!PyUnicode_IS_ASCII(chunk) || size == 0 || data[size - 1] != '\n') {
        PyErr_SetString(PyExc_ValueError, "Rows takes ASCII lines, each ending with a newline");
        return -1;
    }
    /* one pass: the starts array grows by doubling (a first guess of one line per 64 characters) */
    Py_ssize_t cap = size / 64 + 2, n = 0, longest = 0;
    Py_ssize_t *starts = PyMem_Malloc((size_t)cap * sizeof *starts);
    if (starts == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t at = 0; at < size; n++) {
        if (n + 1 >= cap) { /* room for this line's start and the final one */
            Py_ssize_t *more = PyMem_Realloc(starts, (size_t)(cap * 2) * sizeof *starts);
            if (more == NULL) {
                PyMem_Free(starts);
                PyErr_NoMemory();
                return -1;
            }
            starts = more;
            cap *= 2;
        }
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        starts[n] = at;
        if (end - at > longest)
            longest = end - at;
        at = end + 1;
    }
    starts[n] = size;
    self->chunk = Py_NewRef(chunk);
    self->n = n;
    self->starts = starts;
    self->longest = longest;
    return 0;
}

static void Rows_dealloc(RowsObject *self)
{
    Py_XDECREF(self->chunk);
    PyMem_Free(self->starts);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t Rows_len(RowsObject *self)
{
    return self->n;
}

static PyObject *Rows_item(RowsObject *self, Py_ssize_t i)
{
    if (i < 0 || i >= self->n) { /* a negative index arrives already adjusted by the sequence protocol */
        PyErr_SetString(PyExc_IndexError, "Rows index out of range");
        return NULL;
    }
    return PyUnicode_Substring(self->chunk, self->starts[i], self->starts[i + 1] - 1);
}

static PyObject *Rows_get_longest(RowsObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(self->longest);
}

/* after(ends) -> how many lines i are longer than ends[i] (text follows the date): uniform.book's
 * sum(map(operator.lt, ends, map(len, rows))), from the line starts already taken */
static PyObject *Rows_after(RowsObject *self, PyObject *ends)
{
    if (self->chunk == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Rows not initialised");
        return NULL;
    }
    if (!PyList_Check(ends) || PyList_GET_SIZE(ends) != self->n) {
        PyErr_SetString(PyExc_ValueError, "ends: a list, one per line");
        return NULL;
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < self->n; i++) {
        Py_ssize_t e = PyLong_AsSsize_t(PyList_GET_ITEM(ends, i));
        if (e == -1 && PyErr_Occurred())
            return NULL;
        count += e < self->starts[i + 1] - 1 - self->starts[i];
    }
    return PyLong_FromSsize_t(count);
}

static PyMethodDef Rows_methods[] = {
    {"after", (PyCFunction)Rows_after, METH_O, "after(ends) -> how many lines i are longer than ends[i]"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods Rows_as_sequence = {
    .sq_length = (lenfunc)Rows_len,
    .sq_item = (ssizeargfunc)Rows_item,
};

static PyGetSetDef Rows_getset[] = {
    {"longest", (getter)Rows_get_longest, NULL, "the longest line's length, without its newline", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject RowsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "banjail.filter._native.Rows",
    .tp_basicsize = sizeof(RowsObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Rows(chunk): the lines of an ASCII chunk (each ending with a newline) as a read-only sequence of "
              "str; rows[i] == chunk.split('\\n')[i], made when asked for",
    .tp_init = (initproc)Rows_init,
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Rows_dealloc,
    .tp_as_sequence = &Rows_as_sequence,
    .tp_getset = Rows_getset,
    .tp_methods = Rows_methods,
};

int native_add_rows(PyObject *module)
{
    if (PyType_Ready(&RowsType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "Rows", (PyObject *)&RowsType);
}

Py_ssize_t native_rows_len(PyObject *rows)
{
    if (Py_IS_TYPE(rows, &RowsType) && ((RowsObject *)rows)->chunk != NULL)
        return ((RowsObject *)rows)->n;
    PyErr_SetString(PyExc_TypeError, "rows: a Rows");
    return -1;
}

const char *native_rows_span(PyObject *rows, Py_ssize_t i, PyObject **chunk, Py_ssize_t *start, Py_ssize_t *size)
{
    RowsObject *self = (RowsObject *)rows; /* native_rows_len checked the type */
    *chunk = self->chunk;
    *start = self->starts[i];
    *size = self->starts[i + 1] - 1 - self->starts[i];
    return (const char *)PyUnicode_1BYTE_DATA(self->chunk) + *start;
}

PyObject *native_rows_item(PyObject *rows, Py_ssize_t i)
{
    return Rows_item((RowsObject *)rows, i);
}
