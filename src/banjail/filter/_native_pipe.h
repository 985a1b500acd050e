/* Shared between _native_pipe.c (the Matches type: Program.start's matching shared with a thread of its own) and
 * _native_batch.c (the records one batch of lines is matched into, and the rows made from them). */
#ifndef BANJAIL_NATIVE_PIPE_H
#define BANJAIL_NATIVE_PIPE_H
#include "_native_program.h"

enum { REC_UNDECIDED = 1, REC_HIT = 2 };

/* The lines a Matches matches: chunk bytes `data`, line i matched from starts[i] (its start + its cut) to
 * ends[i] (one past its newline). Read by both threads, written by neither after start. */
typedef struct {
    const ProgramObject *program;
    const char *data;
    Py_ssize_t lines;
    Py_ssize_t *starts;
    Py_ssize_t *ends;
} Lines;

/* One batch of lines' records, written by the one thread that matches it (PyMem_Raw*: no GIL needed). A record
 * is [line, REC_UNDECIDED] or [line, REC_HIT, content start or -1, content length, the prefregex's pairs (with
 * a prefregex), matches, then per match: failregex index, its pairs]; a pair is a named group's (start, end),
 * (-1, -1) for one that did not take part. */
typedef struct {
    Py_ssize_t *recs;
    Py_ssize_t used, cap;
    int nomem;
} Batch;

/* what one thread matches with: its match data, match context and scratch line */
typedef struct {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    char *scratch;
} Context;

/* Program.start's worker thread (_native_crew.c). give: hands job to the Program's worker when that is idle
 * (1), else 0 (the caller matches alone); scratch: the bytes the job's longest line needs. withdraw: takes a
 * job back that the worker has not taken yet (1), else 0. queued: whether the job waits, not taken. */
int native_crew_give(ProgramObject *p, void *job, size_t scratch);
int native_crew_withdraw(ProgramObject *p, void *job);
int native_crew_queued(ProgramObject *p, void *job);
/* the worker's work on a job, a Matches (_native_pipe.c) */
void native_matches_work(void *job, const Context *c);

/* lines [first, end) matched into b, one record per line where a failregex matched; -1: out of memory. No GIL
 * needed (_native_batch.c) */
int native_match_batch(const Lines *v, const Context *c, Py_ssize_t first, Py_ssize_t end, Batch *b);
/* how many words the complete record at rec takes */
Py_ssize_t native_record_size(const ProgramObject *p, const Py_ssize_t *rec);
/* the row (line, prefregex groups, failregex groups) a record stands for, as Program.scan makes it; scratch:
 * the longest line's length + 2 bytes */
PyObject *native_record_row(const Lines *v, char *scratch, const Py_ssize_t *rec);
/* the Hit (_native.h) a complete record at rec stands for; at: room for the Program's nfail pointers;
 * pre_count: native_pre_count's, the prefregex's named groups other than "content" */
void native_hit_read(const Lines *v, char *scratch, const Py_ssize_t *rec, const Py_ssize_t **at,
                     Py_ssize_t pre_count, Hit *h);
Py_ssize_t native_pre_count(const ProgramObject *p);
#endif
