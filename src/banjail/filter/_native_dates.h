/* The DateCut type's object and the helpers its methods share: _native_dates.c (the type, cuts, without, count)
 * and _native_runs.c (runs). */
#ifndef BANJAIL_NATIVE_DATES_H
#define BANJAIL_NATIVE_DATES_H
#include "_native.h"
#include <stdatomic.h>

typedef struct DateCrew DateCrew; /* _native_datecrew.c */

typedef struct {
    PyObject_HEAD
    pcre2_code *code;
    int jit; /* whether PCRE2's JIT compiled it */
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    DateCrew *crew; /* the helper thread of runs, started on the first chunk that shares its matching */
    int crewless;   /* the crew could not be made: not tried again */
} DateCutObject;

/* runs' date match on every line of a chunk (_native_datecrew.c): line i is data[line_at[i], line_at[i + 1] - 1)
 * (without its "\n"); its record is rc[i] (pcre2_match's result, line_match's rule applied; 0 when group 1 is
 * unset or empty) and, when rc[i] >= 2, its ovector at ov[i * 2 * (groups + 1)]. Once a line has no date,
 * `failed` is set and records after it may be left unmatched (rc 0 as they were made): runs is None then. */
typedef struct {
    const pcre2_code *code;
    int jit;
    uint32_t groups;
    const char *data;
    const Py_ssize_t *line_at;
    Py_ssize_t lines;
    int *rc;
    PCRE2_SIZE *ov;
    atomic_size_t next; /* the next batch to claim */
    atomic_int failed;
} DateJob;

/* Matches `job`'s records with `md` and `mctx`, claiming batches until none is left (or a line had no date). */
void native_date_records(DateJob *job, pcre2_match_data *md, pcre2_match_context *mctx);
/* Matches every record of `job`, on the caller's thread (with `md` and the DateCut's context) and, when
 * `shared`, the DateCut's crew together. Returns when every record is matched (or a line had no date). */
void native_datecrew_match(DateCutObject *self, DateJob *job, pcre2_match_data *md, int shared);
/* Ends the DateCut's crew (at its dealloc). */
void native_datecrew_free(DateCutObject *self);

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
