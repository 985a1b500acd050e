/* The DateCut type's object and the helpers its methods share: _native_dates.c (the type, cuts, without, count)
 * and _native_runs.c (runs). */
#ifndef BANJAIL_NATIVE_DATES_H
#define BANJAIL_NATIVE_DATES_H
#include "_native.h"

typedef struct {
    PyObject_HEAD
    pcre2_code *code;
    int jit; /* whether PCRE2's JIT compiled it */
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
} DateCutObject;

/* defined in _native_dates.c, which says what each does: append a new reference (stolen), check a chunk and
 * count the regex's groups, match the date at a line's start */
int native_append_new(PyObject *list, PyObject *item);
int native_chunk_groups(DateCutObject *self, PyObject *chunk, int group, const char **data, Py_ssize_t *size,
                        uint32_t *groups);
int native_line_date(DateCutObject *self, const char *line, Py_ssize_t size, pcre2_match_data *md, PyObject *starts,
                     PyObject *ends, Py_ssize_t *first, Py_ssize_t *len);

/* DateCut.runs(chunk, seconds, fraction) (_native_runs.c) */
PyObject *native_datecut_runs(DateCutObject *self, PyObject *args);
/* the module's run_epochs(dates, base, seconds, head, end) (_native_runs.c) */
PyObject *native_run_epochs(PyObject *module, PyObject *args);
#endif
