/* Shared between the files of banjail.filter._native. */
#ifndef BANJAIL_NATIVE_H
#define BANJAIL_NATIVE_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>

/* `pattern` (str) compiled by PCRE2 (8-bit, newline LF) and JIT-compiled when it can be (*jit says whether);
 * NULL with a ValueError naming PCRE2's complaint. */
pcre2_code *native_compile(PyObject *pattern, int *jit);

/* Adds the DateCut type (_native_dates.c) to the module; -1 with a Python error. */
int native_add_dates(PyObject *module);

/* Adds the Step type (_native_step.c) to the module; -1 with a Python error. */
int native_add_step(PyObject *module);


/* Matches (_native_pipe.c): Program.start's matching of a chunk on a thread of its own. */
int native_add_matches(PyObject *module);
int native_is_matches(PyObject *obj);
/* the next row (line, prefregex groups, failregex groups), as Program.scan makes it, waiting for the matching
 * thread when it has none yet; NULL without an error after the last, NULL with an error */
PyObject *native_matches_next(PyObject *matches);

/* One hit line of a Matches as its batch record holds it: the row native_matches_next would make, read without
 * making its dicts (Step.run makes only the merged dict of each match from it). Read it through the native_hit_*
 * functions (_native_batch.c); `at` says which failregexes matched. Valid until the Matches' next hit. */
typedef struct {
    Py_ssize_t line;
    int undecided;              /* PCRE2 could not decide the line: the row's groups are None (Python's re decides) */
    int has_pref;               /* the Program has a prefregex */
    Py_ssize_t cstart;          /* the prefregex content's start in `text`; -1: no content group, unset or empty */
    const char *text;           /* the prefregex's subject: the line from its cut */
    Py_ssize_t pre_count;       /* the prefregex's named groups other than "content" (its dict's size without it) */
    Py_ssize_t nfail;
    const Py_ssize_t *const *at; /* per failregex: its group pairs in the record, NULL when it did not match */
    const void *lines;          /* the rest is _native_batch.c's: the Matches' lines, the record, its subject */
    const Py_ssize_t *rec;
    char *scratch;
    const char *buf;
} Hit;
/* the next hit line of a Matches (waiting for the matching thread as native_matches_next does): 1 with *hit
 * set, 0 after the last, -1 with an error */
int native_matches_hit(PyObject *matches, const Hit **hit);
/* the row native_matches_next would have made of it, a new reference */
PyObject *native_hit_row(const Hit *h);
/* the prefregex's groupdict ({} without a prefregex), or failregex i's (it matched), new references */
PyObject *native_hit_pre(const Hit *h);
PyObject *native_hit_groups(const Hit *h, Py_ssize_t i);
/* the prefregex's (i = -1) or failregex i's group names: a borrowed tuple of (name, group number) */
PyObject *native_hit_names(const Hit *h, Py_ssize_t i);
/* {**pre, **fail i} made straight from the record: a copy of `blank` (the merged keys, None) with the
 * prefregex's groups k where take[k] and failregex i's groups set, each only where it took part */
PyObject *native_hit_merged(const Hit *h, Py_ssize_t i, PyObject *blank, const char *take);

/* A worker thread with its lock and condition (_native_crew.c; the crew's and a DateCut's prefetch use it):
 * initialises *lock and *cond and starts *thread on main(arg); 0, or -1 with nothing left initialised. */
int native_thread_start(pthread_t *thread, pthread_mutex_t *lock, pthread_cond_t *cond, void *(*main)(void *),
                        void *arg);

/* Rows (_native_rows.c): a chunk's lines, each a str made when asked for. The three functions below take a
 * Rows (`rows`); i is in range (the caller checks it against native_rows_len). */
int native_add_rows(PyObject *module);
/* how many lines; -1 with a TypeError for anything but an initialised Rows */
Py_ssize_t native_rows_len(PyObject *rows);
/* line i (without its "\n") as chunk[start:start + size] (*chunk borrowed); returns the line's first byte */
const char *native_rows_span(PyObject *rows, Py_ssize_t i, PyObject **chunk, Py_ssize_t *start, Py_ssize_t *size);
/* line i's str, a new reference */
PyObject *native_rows_item(PyObject *rows, Py_ssize_t i);

/* pcre2_match(code, subject, length, 0, 0, md, mctx), through PCRE2's JIT fast path when the pattern is
 * JIT-compiled: pcre2_match itself calls pcre2_jit_match then (no options, 8-bit, no UTF: none of the checks it
 * makes first applies), after about 150 instructions of checks per call that pcre2_jit_match skips. */
static inline int native_match(const pcre2_code *code, int jit, const char *subject, Py_ssize_t length,
                               pcre2_match_data *md, pcre2_match_context *mctx)
{
    if (jit)
        return pcre2_jit_match(code, (PCRE2_SPTR)subject, (PCRE2_SIZE)length, 0, 0, md, mctx);
    return pcre2_match(code, (PCRE2_SPTR)subject, (PCRE2_SIZE)length, 0, 0, md, mctx);
}

/* A new str of the n bytes at p, which the caller knows are ASCII (they come from a chunk Program.scan checked
 * with PyUnicode_IS_ASCII): PyUnicode_DecodeASCII without its second pass over the bytes. */
static inline PyObject *native_ascii(const char *p, Py_ssize_t n)
{
    PyObject *text = PyUnicode_New(n, 127);
    if (text != NULL && n > 0)
        memcpy(PyUnicode_1BYTE_DATA(text), p, (size_t)n);
    return text;
}
#endif
