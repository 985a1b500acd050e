/* banjail.filter._native.Program.start(chunk, cuts) -> Matches: Program.scan's matching, shared with a thread of
 * its own while the caller's thread steps through the hits found so far (Step.run takes a Matches as its hits).
 *
 * Why: in fail2ban-regex, matching (PCRE2's JIT passes) is about a third of the per-line work, and everything
 * after it (groupdicts, sessions, failures) needs the GIL. The chunk's lines are cut into batches (BATCH_LINES),
 * claimed in order by whichever thread comes first: the worker claims the next one whenever it is free, and the
 * caller, when the batch it has to read next is still unclaimed, matches that one itself. When the worker holds
 * that batch, the caller spins for it (a sleep and a wake-up would each be a trip through the scheduler) for at
 * most `patience`; a worker that late has been stopped by the system (a loaded machine), so the caller matches
 * the batch again, into a copy of its own. Either way the caller is never much slower than Program.scan. The
 * worker never touches a Python object: it reads the chunk's bytes and the Program's compiled codes, both kept
 * alive by the Matches, and writes plain records (_native_batch.c); the caller makes the rows from them in line
 * order, so the rows are Program.scan's exactly.
 *
 * Invariants: batches [0, next_batch) are claimed, each by one thread, which alone writes its records; the
 * caller reads a worker's batch only after it loaded its `ready` flag as 1 (acquire; the worker stores it with
 * release after its last write), or its own. The worker (one thread per Program, kept from its first Matches
 * on: the Crew, _native_crew.c) has its own match data, match context (a copy of the Program's: the same limits) and JIT
 * stack, since a JIT stack is not shared between threads; the caller matches with the Program's context,
 * holding the GIL as Program.scan does. Dealloc stops the worker's work on the Matches (it claims nothing after
 * `cancel`) and waits until it left it (`finished`) before freeing anything it reads; the property `finished`
 * tells the caller whether that can wait. No global state: the worker lives in its Program.
 */
#include "_native_pipe.h"

#include <time.h>

#define BATCH_LINES 32 /* start's default: one claim and one hand-over per 32 lines, not per line */
/* start's default patience: a batch takes some 50 us here, so a worker 200 us late has been stopped */
#define PATIENCE_NS 200000L

typedef struct {
    PyObject_HEAD
    ProgramObject *program;
    PyObject *chunk;
    Lines lines;
    Batch *batches;
    int *ready;              /* per batch: 1 once the worker handed it over (atomic) */
    Py_ssize_t nbatches, batch; /* batch: lines per batch */
    Py_ssize_t next_batch;   /* atomic: batches [0, next_batch) are claimed */
    int cancel, finished;    /* atomic: the worker is to claim no more; it has stopped working on this */
    Context mine;            /* the caller's, with the Program's match context */
    char *row_scratch;       /* the caller's, for a row's failregex subject */
    Py_ssize_t read_batch, read_at;
    const Batch *cur;        /* the batch being read (batches[read_batch] or taken); NULL: not yet chosen */
    Batch taken;             /* the caller's copy of a batch it took over from a late worker */
    Py_ssize_t takeovers, own; /* batches the caller matched again (the worker late), or first */
    long patience;           /* ns */
    long stall;              /* ns the worker sleeps before each batch it claims (for tests; 0 in use) */
    int running;             /* the Program's worker was given this Matches (it sets finished when done) */
    const Py_ssize_t **at;   /* the current hit's failregex pairs (nfail) */
    Py_ssize_t pre_count;    /* native_pre_count of the Program */
    Hit hit;                 /* the current hit (native_matches_hit) */
} MatchesObject;



static void batch_span(const MatchesObject *m, Py_ssize_t i, Py_ssize_t *first, Py_ssize_t *end)
{
    *first = i * m->batch;
    *end = *first + m->batch < m->lines.lines ? *first + m->batch : m->lines.lines;
}

/* the worker's work on one Matches (the Crew's job, _native_crew.c): claims the next unclaimed batch, matches
 * it, hands it over; until none is left or a cancel */
void native_matches_work(void *job, const Context *c)
{
    MatchesObject *m = job;
    while (!__atomic_load_n(&m->cancel, __ATOMIC_ACQUIRE)) {
        Py_ssize_t i = __atomic_fetch_add(&m->next_batch, 1, __ATOMIC_ACQ_REL), first, end;
        if (i >= m->nbatches)
            break;
        batch_span(m, i, &first, &end);
        if (m->stall > 0) { /* a worker the system stops, as a test makes it */
            struct timespec pause = {0, m->stall};
            nanosleep(&pause, NULL);
        }
        m->batches[i].nomem = native_match_batch(&m->lines, c, first, end, &m->batches[i]);
        __atomic_store_n(&m->ready[i], 1, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&m->finished, 1, __ATOMIC_RELEASE); /* the last it touches of m */
}

static long elapsed_ns(const struct timespec *since)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - since->tv_sec) * 1000000000L + (t.tv_nsec - since->tv_nsec);
}

/* chooses the batch to read next (m->cur, see the file's note); -1: no memory */
static int take_batch(MatchesObject *m)
{
    Py_ssize_t i = m->read_batch, first, end, expected = i;
    Batch *b = &m->batches[i];
    batch_span(m, i, &first, &end);
    if (__atomic_compare_exchange_n(&m->next_batch, &expected, i + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        b->nomem = native_match_batch(&m->lines, &m->mine, first, end, b); /* unclaimed: the caller's */
        m->own++;
    } else if (!__atomic_load_n(&m->ready[i], __ATOMIC_ACQUIRE)) {
        struct timespec since;
        clock_gettime(CLOCK_MONOTONIC, &since);
        for (unsigned spins = 1; !__atomic_load_n(&m->ready[i], __ATOMIC_ACQUIRE); spins++) {
            if (spins % 64 == 0 && elapsed_ns(&since) >= m->patience) {
                m->taken.used = 0; /* the worker goes on writing b: the caller reads its own copy */
                m->taken.nomem = native_match_batch(&m->lines, &m->mine, first, end, &m->taken);
                m->takeovers++;
                b = &m->taken;
                break;
            }
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
    m->cur = b;
    m->read_at = 0;
    return b->nomem ? -1 : 0;
}

/* the next record, waiting for the matching thread when it has none yet: 1 with *rec, 0 after the last, -1 no
 * memory */
static int next_record(MatchesObject *m, const Py_ssize_t **rec)
{
    while (m->read_batch < m->nbatches) {
        if (m->cur == NULL && take_batch(m) < 0)
            return -1;
        if (m->read_at < m->cur->used) {
            *rec = m->cur->recs + m->read_at;
            m->read_at += native_record_size(m->program, *rec);
            return 1;
        }
        m->read_batch++;
        m->cur = NULL;
    }
    return 0;
}

PyObject *native_matches_next(PyObject *obj)
{
    MatchesObject *m = (MatchesObject *)obj;
    const Py_ssize_t *rec;
    int got = next_record(m, &rec);
    if (got <= 0)
        return got < 0 ? PyErr_NoMemory() : NULL;
    return native_record_row(&m->lines, m->row_scratch, rec);
}

int native_matches_hit(PyObject *obj, const Hit **hit)
{
    MatchesObject *m = (MatchesObject *)obj;
    const Py_ssize_t *rec;
    int got = next_record(m, &rec);
    if (got <= 0) {
        if (got < 0)
            PyErr_NoMemory();
        return got;
    }
    native_hit_read(&m->lines, m->row_scratch, rec, m->at, m->pre_count, &m->hit);
    *hit = &m->hit;
    return 1;
}

static void Matches_dealloc(MatchesObject *m)
{
    if (m->running && !native_crew_withdraw(m->program, m)) {
        /* taken: it claims nothing more and ends its batch; it never takes the GIL, so the GIL is held meanwhile */
        __atomic_store_n(&m->cancel, 1, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&m->finished, __ATOMIC_ACQUIRE)) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
        }
    }
    for (Py_ssize_t i = 0; m->batches != NULL && i < m->nbatches; i++)
        PyMem_RawFree(m->batches[i].recs);
    PyMem_RawFree(m->batches);
    PyMem_RawFree(m->ready);
    PyMem_RawFree(m->taken.recs);
    if (m->mine.md != NULL)
        pcre2_match_data_free(m->mine.md);
    PyMem_RawFree(m->lines.starts);
    PyMem_RawFree(m->lines.ends);
    PyMem_RawFree(m->mine.scratch);
    PyMem_RawFree(m->row_scratch);
    PyMem_RawFree(m->at);
    Py_XDECREF(m->program);
    Py_XDECREF(m->chunk);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

static PyObject *Matches_takeovers(MatchesObject *m, void *unused)
{
    (void)unused;
    return PyLong_FromSsize_t(m->takeovers);
}

static PyObject *Matches_own(MatchesObject *m, void *unused)
{
    (void)unused;
    return PyLong_FromSsize_t(m->own);
}

static PyObject *Matches_finished(MatchesObject *m, void *unused)
{
    (void)unused;
    /* given but not taken yet: dropping it does not wait either */
    return PyBool_FromLong(!m->running || __atomic_load_n(&m->finished, __ATOMIC_ACQUIRE) ||
                           native_crew_queued(m->program, m));
}

static PyGetSetDef Matches_getset[] = {
    {"takeovers", (getter)Matches_takeovers, NULL, "how many batches the caller matched again, the worker late", NULL},
    {"own", (getter)Matches_own, NULL, "how many batches the caller matched first (no thread had claimed them)", NULL},
    {"finished", (getter)Matches_finished, NULL, "whether no worker runs any more (dropping it then cannot wait)",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject MatchesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "banjail.filter._native.Matches",
    .tp_basicsize = sizeof(MatchesObject),
    .tp_dealloc = (destructor)Matches_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Program.start's matching of one chunk, shared with a thread of its own; Step.run takes it as its hits.",
    .tp_getset = Matches_getset,
    .tp_iter = PyObject_SelfIter, /* its rows, as Program.scan's list holds them */
    .tp_iternext = native_matches_next,
};

int native_is_matches(PyObject *obj)
{
    return Py_IS_TYPE(obj, &MatchesType);
}

/* start(chunk, cuts, worker=True, patience=PATIENCE_NS, batch=BATCH_LINES, stall=0) -> Matches (see the file's
 * note); the same checks and errors as scan. worker False: no thread (the caller matches every batch);
 * patience: how long the caller waits for a batch the worker has claimed before it matches that batch itself
 * (0: never waits); batch: lines per batch; stall: how long the worker sleeps before each batch it claimed.
 * batch 1 and a stall are for tests: the threads then meet at every line, and the worker is late. */
PyObject *native_program_start(ProgramObject *self, PyObject *args)
{
    PyObject *chunk, *cuts;
    int worker = 1;
    long patience = PATIENCE_NS, stall = 0;
    Py_ssize_t batch = BATCH_LINES;
    if (!PyArg_ParseTuple(args, "UO!|plnl", &chunk, &PyList_Type, &cuts, &worker, &patience, &batch, &stall))
        return NULL;
    if (patience < 0 || patience >= 1000000000L || stall < 0 || stall >= 1000000000L) {
        PyErr_SetString(PyExc_ValueError, "patience, stall: 0 to 999999999 ns");
        return NULL;
    }
    if (batch < 1 || batch > 1000000) {
        PyErr_SetString(PyExc_ValueError, "batch: 1 to 1000000 lines");
        return NULL;
    }
    size_t room = (size_t)(PyList_GET_SIZE(cuts) ? PyList_GET_SIZE(cuts) : 1);
    Py_ssize_t *starts = PyMem_RawMalloc(room * sizeof *starts), *ends = PyMem_RawMalloc(room * sizeof *ends);
    if (starts == NULL || ends == NULL) {
        PyMem_RawFree(starts);
        PyMem_RawFree(ends);
        return PyErr_NoMemory();
    }
    Py_ssize_t lines = 0, longest = 0;
    const char *data = native_scan_lines(self, chunk, cuts, &lines, &longest, starts, ends);
    MatchesObject *m = data == NULL ? NULL : (MatchesObject *)MatchesType.tp_alloc(&MatchesType, 0); /* zeroed */
    if (m == NULL) {
        PyMem_RawFree(starts);
        PyMem_RawFree(ends);
        return NULL;
    }
    m->program = (ProgramObject *)Py_NewRef(self);
    m->chunk = Py_NewRef(chunk);
    m->lines.program = self;
    m->lines.data = data;
    m->lines.lines = lines;
    m->lines.starts = starts;
    m->lines.ends = ends;
    m->patience = patience;
    m->stall = stall;
    m->batch = batch;
    m->nbatches = (lines + batch - 1) / batch;
    m->batches = PyMem_RawCalloc((size_t)(m->nbatches ? m->nbatches : 1), sizeof *m->batches);
    m->ready = PyMem_RawCalloc((size_t)(m->nbatches ? m->nbatches : 1), sizeof *m->ready);
    m->mine.scratch = PyMem_RawMalloc((size_t)longest + 2);
    m->row_scratch = PyMem_RawMalloc((size_t)longest + 2);
    m->mine.md = pcre2_match_data_create(self->groups + 1, NULL);
    m->mine.mctx = self->mctx;
    m->at = PyMem_RawMalloc((size_t)(self->nfail ? self->nfail : 1) * sizeof *m->at);
    m->pre_count = native_pre_count(self);
    if (m->lines.starts == NULL || m->lines.ends == NULL || m->batches == NULL || m->ready == NULL ||
        m->mine.scratch == NULL || m->row_scratch == NULL || m->mine.md == NULL || m->at == NULL) {
        Py_DECREF(m);
        return PyErr_NoMemory();
    }
    /* without the worker (worker False, none to be had, or still on an earlier Matches) the caller matches every
     * batch itself as it reads */
    m->running = worker && m->nbatches > 1 && native_crew_give(self, m, (size_t)longest + 2);
    return (PyObject *)m;
}

int native_add_matches(PyObject *module)
{
    if (PyType_Ready(&MatchesType) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "Matches", (PyObject *)&MatchesType);
}
