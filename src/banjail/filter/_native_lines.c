/* banjail.filter._native.after: a per-line count of a chunk that banjail.filter.uniform otherwise takes in
 * Python, one element at a time (sum(map(operator.lt, ends, map(len, rows)))). The longest line's length,
 * max(map(len, rows)), is Rows.longest (_native_rows.c), taken as the chunk is cut into lines.
 * A chunk is ASCII lines each ending with "\n" (as Program.scan takes them). No global state. */
#include "_native.h"

static const char *ascii_chunk(PyObject *chunk, Py_ssize_t *size)
{
    if (!PyUnicode_Check(chunk) || !PyUnicode_IS_ASCII(chunk)) {
        PyErr_SetString(PyExc_TypeError, "an ASCII str");
        return NULL;
    }
    *size = PyUnicode_GET_LENGTH(chunk);
    const char *data = (const char *)PyUnicode_1BYTE_DATA(chunk);
    if (*size == 0 || data[*size - 1] != '\n') {
        PyErr_SetString(PyExc_ValueError, "complete lines, each ending with a newline");
        return NULL;
    }
    return data;
}

/* after(chunk, ends) -> how many lines i are longer than ends[i] (text follows the date) */
PyObject *native_after(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *chunk, *ends;
    if (!PyArg_ParseTuple(args, "OO!", &chunk, &PyList_Type, &ends))
        return NULL;
    Py_ssize_t size, line = 0, count = 0, lines = PyList_GET_SIZE(ends);
    const char *data = ascii_chunk(chunk, &size);
    if (data == NULL)
        return NULL;
    for (Py_ssize_t at = 0; at < size; line++) {
        const char *nl = memchr(data + at, '\n', (size_t)(size - at));
        Py_ssize_t end = nl - data;
        if (line >= lines) {
            PyErr_SetString(PyExc_ValueError, "ends: one per line");
            return NULL;
        }
        Py_ssize_t e = PyLong_AsSsize_t(PyList_GET_ITEM(ends, line));
        if (e == -1 && PyErr_Occurred())
            return NULL;
        count += e < end - at;
        at = end + 1;
    }
    if (line != lines) {
        PyErr_SetString(PyExc_ValueError, "ends: one per line");
        return NULL;
    }
    return PyLong_FromSsize_t(count);
}
