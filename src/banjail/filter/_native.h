/* Shared between the files of banjail.filter._native. */
#ifndef BANJAIL_NATIVE_H
#define BANJAIL_NATIVE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* `pattern` (str) compiled by PCRE2 (8-bit, newline LF) and JIT-compiled when it can be (*jit says whether);
 * NULL with a ValueError naming PCRE2's complaint. */
pcre2_code *native_compile(PyObject *pattern, int *jit);

/* Adds the DateCut type (_native_dates.c) to the module; -1 with a Python error. */
int native_add_dates(PyObject *module);

/* Adds the Step type (_native_step.c) to the module; -1 with a Python error. */
int native_add_step(PyObject *module);

/* longest(chunk) and after(chunk, ends) (_native_lines.c): per-line counts of a chunk. */
PyObject *native_longest(PyObject *module, PyObject *chunk);
PyObject *native_after(PyObject *module, PyObject *args);
#endif
