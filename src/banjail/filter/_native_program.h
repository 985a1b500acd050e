/* The Program type's object (Regex and ProgramObject), shared by _native.c (its making: compile, init, dealloc,
 * jitted) and _native_scan.c (its matching: scan). */
#ifndef BANJAIL_NATIVE_PROGRAM_H
#define BANJAIL_NATIVE_PROGRAM_H
#include "_native.h"

typedef struct {
    pcre2_code *code;
    PyObject *names; /* tuple of (name, group number) */
    Py_ssize_t *numbers; /* the group numbers of `names`, in its order (read once, not per match) */
    PyObject *blank;     /* {name: None} in `names` order: a match's dict is a copy with its groups set */
    int jit;         /* whether PCRE2's JIT compiled it */
} Regex;

typedef struct {
    PyObject_HEAD
    Regex pref;          /* code NULL: no prefregex */
    Regex candidates;    /* code NULL: no literal prefilter (every line runs the regexes) */
    int content;         /* the prefregex's content group number, -1 if none */
    Regex *fail;
    Py_ssize_t nfail;
    unsigned char table[128]; /* first character -> index into orders */
    Py_ssize_t (*orders)[2];  /* [start, count] into order_items */
    Py_ssize_t norders;
    Py_ssize_t *order_items;
    uint32_t groups;     /* the largest capture count, for the match data */
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    struct Crew *crew;   /* Program.start's worker thread (_native_crew.c); NULL until its first use */
    int crewless;        /* the worker could not be started (no memory, no thread): not tried again */
} ProgramObject;

/* Program.scan(chunk, cuts) (_native_scan.c) */
PyObject *native_program_scan(ProgramObject *self, PyObject *args);
/* scan's checks of (chunk, cuts), shared with start: the chunk's bytes, *lines and *longest, and with starts
 * and ends (room for len(cuts)) each line's match start and end; NULL with an error */
const char *native_scan_lines(ProgramObject *self, PyObject *chunk, PyObject *cuts, Py_ssize_t *lines,
                              Py_ssize_t *longest, Py_ssize_t *starts, Py_ssize_t *ends);
/* a match's groupdict from its groups' (start, end) pairs in subject, as a batch record holds them */
PyObject *native_groupdict(const Regex *r, const char *subject, const Py_ssize_t *pairs);
/* Program.start(chunk, cuts) -> Matches (_native_pipe.c) */
PyObject *native_program_start(ProgramObject *self, PyObject *args);
/* ends and frees the Program's worker thread, if it has one (_native_crew.c) */
void native_crew_free(ProgramObject *self);
#endif
