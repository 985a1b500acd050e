/* banjail.cli._logtext: whether a chunk of log text is one run of testable lines, in C.
 *
 * plain(text) returns True when `text` (a str) holds no "\r", does not start with "#" or "\n", and holds no
 * "\n\n" nor "\n#": banjail.cli.logfile.segments then hands the chunk over whole. False when it holds one of
 * them, None when the str is not of the one-byte kind (the caller then asks Python's re, as it does without
 * this module). Reads the str's own bytes; no global state.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static PyObject *plain(PyObject *module, PyObject *text)
{
    (void)module;
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "plain(text): text must be a str");
        return NULL;
    }
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    const char *data = (const char *)PyUnicode_1BYTE_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (n == 0)
        Py_RETURN_TRUE;
    if (data[0] == '#' || data[0] == '\n' || memchr(data, '\r', (size_t)n) != NULL)
        Py_RETURN_FALSE;
    const char *end = data + n;
    const char *at = memchr(data, '\n', (size_t)n);
    while (at != NULL && at + 1 < end) {
        if (at[1] == '\n' || at[1] == '#')
            Py_RETURN_FALSE;
        at = memchr(at + 1, '\n', (size_t)(end - at - 1));
    }
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"plain", plain, METH_O,
     "plain(text) -> bool | None: no \\r, no empty or comment line (None: not a one-byte str)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "banjail.cli._logtext",
    "fail2ban-regex's check that a chunk needs no cutting, in C (banjail.cli.logfile.segments is the reference).",
    0, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__logtext(void) { return PyModule_Create(&module_def); }
