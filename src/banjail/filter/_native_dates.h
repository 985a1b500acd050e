/* The DateCut type's object and the helpers its methods share: _native_dates.c (the type, cuts, without, count)
 * and _native_runs.c (runs). */
#ifndef BANJAIL_NATIVE_DATES_H
#define BANJAIL_NATIVE_DATES_H
#include "_native.h"

typedef struct Prefetch Prefetch; /* _native_prefetch.c */

typedef struct {
    PyObject_HEAD
    pcre2_code *code;
    int jit; /* whether PCRE2's JIT compiled it */
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    Prefetch *prefetch; /* the thread of prefetch(), NULL until its first call */
    int prefetchless;   /* it could not be started: not tried again */
} DateCutObject;

/* A prefetched chunk's matches, one per line: rc as the line's match returned it, and when rc > 0 its ovector
 * (`pairs` pairs from ov + 2 * pairs * line); only the lines below *done (an acquire load) are written. */
typedef struct {
    Py_ssize_t lines, pairs;
    const int *rc;
    const PCRE2_SIZE *ov;
    const Py_ssize_t *done;
} Prefetched;

/* defined in _native_dates.c, which says what each does: append a new reference (stolen), check a chunk and
 * count the regex's groups, match the date at a line's start */
int native_append_new(PyObject *list, PyObject *item);
int native_chunk_groups(DateCutObject *self, PyObject *chunk, int group, const char **data, Py_ssize_t *size,
                        uint32_t *groups);
int native_line_date(DateCutObject *self, const char *line, Py_ssize_t size, pcre2_match_data *md, PyObject *starts,
                     PyObject *ends, Py_ssize_t *first, Py_ssize_t *len);

/* native_line_date for line `index` of a chunk, from `pre` when not NULL (the prefetched matches of that
 * chunk) instead of matching it; *ov: the match's ovector (valid until the next line) */
int native_line_date_at(DateCutObject *self, const Prefetched *pre, Py_ssize_t index, const char *line,
                        Py_ssize_t size, pcre2_match_data *md, PyObject *starts, PyObject *ends, Py_ssize_t *first,
                        Py_ssize_t *len, const PCRE2_SIZE **ov);

/* _native_prefetch.c: DateCut.prefetch(chunk); the prefetched matches of `chunk` (into *out; NULL when there are
 * none for it: the caller matches), to be ended by native_prefetch_done once read; the thread's end */
PyObject *native_datecut_prefetch(DateCutObject *self, PyObject *args);
const Prefetched *native_prefetched(DateCutObject *self, PyObject *chunk, Py_ssize_t lines, Prefetched *out);
void native_prefetch_done(DateCutObject *self);
void native_prefetch_free(DateCutObject *self);

/* DateCut.runs(chunk, seconds, fraction) (_native_runs.c) */
PyObject *native_datecut_runs(DateCutObject *self, PyObject *args);
/* the module's run_epochs(dates, base, seconds, head, end) (_native_runs.c) */
PyObject *native_run_epochs(PyObject *module, PyObject *args);
#endif
