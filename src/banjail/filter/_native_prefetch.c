/* DateCut.prefetch(chunk): a DateCut's date matching of the chunk that comes next, on a thread of its own, while
 * the caller still works on the one before (fail2ban-regex reads one chunk ahead: banjail.cli.regex). cuts and
 * runs of that same chunk object then take each line's match from it instead of matching the line themselves;
 * everything they build from the match is unchanged, so their results are the same with or without it.
 *
 * Why a chunk ahead: a thread woken for the chunk being dated was woken too late to share the work (a per-chunk
 * DateCut thread, reverted in 3ccafed); the chunk ahead is matched during the whole step of the one before.
 *
 * Nobody waits for the worker: cuts and runs take line i's match from it when the worker has published it
 * (`done` > i, an acquire load pairing with the worker's release store after writing line i), and match the
 * line themselves otherwise; a reader that ends while the worker is still on the chunk tells it to stop
 * (`abandon`). On a loaded machine the worker may be stopped by the system for milliseconds in the middle of
 * a chunk: waiting for it cost more than the matching it saves.
 *
 * Nor for its lock: the caller only tries it (a worker stopped by the system while it holds the lock would
 * stop the caller too), and goes without the prefetch when it is taken.
 *
 * Invariants: `state`, `stop` and the job's fields change under `lock`; `done` and `abandon` are atomics; `reading`
 * is read and written by the caller alone (holding the GIL), the worker never looks at it. The job (data, size,
 * lines, the result arrays) is written by the caller only while the state is IDLE and no reader is on it; the
 * worker writes line i's entries before it publishes done = i + 1 and never again; a reader reads only lines below
 * the done it loaded. The chunk's reference is taken and dropped by the caller alone, holding the GIL; the worker
 * reads its bytes only (a str's bytes never change). The worker's match data, context (a copy of the DateCut's: the
 * same limits) and JIT stack are its own. The DateCut ends the worker when it goes. No global state: the Prefetch
 * lives in its DateCut; the result arrays are sized from the chunk's lines, and a chunk above PREFETCH_MAX bytes is
 * not prefetched.
 */
#include "_native_dates.h"
#include <pthread.h>

#define PREFETCH_MAX (8 << 20)

enum { IDLE, QUEUED, BUSY, DONE };

struct Prefetch {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int state, stop;            /* under lock */
    int reading;                /* the caller's: cuts or runs reads the job; it is neither dropped nor replaced */
    Py_ssize_t done;            /* atomic: the job's lines whose entries are written (release by the worker) */
    int abandon;                /* atomic: the reader is gone, the worker may stop */
    PyObject *chunk;            /* the job's chunk (held), NULL when IDLE */
    const char *data;           /* its bytes */
    Py_ssize_t size, lines;
    Py_ssize_t pairs;           /* ovector pairs per line: the regex's groups + 1 */
    int *rc;                    /* per line: line_match's result */
    PCRE2_SIZE *ov;             /* per line: its ovector (pairs pairs), when rc > 0 */
    Py_ssize_t cap;             /* lines the arrays hold */
    const pcre2_code *code;
    int jit;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
};

/* each line's match into p->rc and p->ov, as native_line_match makes it (no GIL needed) */
static void prefetch_work(Prefetch *p)
{
    Py_ssize_t line = 0;
    for (Py_ssize_t at = 0; at < p->size && line < p->lines; line++) {
        if (__atomic_load_n(&p->abandon, __ATOMIC_RELAXED))
            break;
        const char *nl = memchr(p->data + at, '\n', (size_t)(p->size - at));
        Py_ssize_t end = nl - p->data;
        int rc = native_match(p->code, p->jit, p->data + at, end - at, p->md, p->mctx);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
        if (rc >= 0 && ov[0] != 0)
            rc = PCRE2_ERROR_NOMATCH;
        p->rc[line] = rc;
        if (rc > 0)
            memcpy(p->ov + line * 2 * p->pairs, ov, sizeof *ov * 2 * (size_t)p->pairs);
        __atomic_store_n(&p->done, line + 1, __ATOMIC_RELEASE);
        at = end + 1;
    }
}

static void *prefetch_main(void *arg)
{
    Prefetch *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->state != QUEUED && !p->stop)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->stop)
            break;
        p->state = BUSY;
        pthread_mutex_unlock(&p->lock);
        prefetch_work(p);
        pthread_mutex_lock(&p->lock);
        p->state = DONE;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void prefetch_release(Prefetch *p)
{
    if (p->md != NULL)
        pcre2_match_data_free(p->md);
    if (p->mctx != NULL)
        pcre2_match_context_free(p->mctx);
    if (p->jstack != NULL)
        pcre2_jit_stack_free(p->jstack);
    PyMem_RawFree(p->rc);
    PyMem_RawFree(p->ov);
    PyMem_RawFree(p);
}

/* the DateCut's Prefetch, started on first use; NULL when it cannot be (then never, for this DateCut) */
static Prefetch *prefetch_of(DateCutObject *self, uint32_t groups)
{
    if (self->prefetch != NULL || self->prefetchless)
        return self->prefetch;
    self->prefetchless = 1;
    Prefetch *p = PyMem_RawCalloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->code = self->code;
    p->jit = self->jit;
    p->pairs = (Py_ssize_t)groups + 1;
    p->md = pcre2_match_data_create(groups + 1, NULL);
    p->mctx = pcre2_match_context_copy(self->mctx);
    p->jstack = pcre2_jit_stack_create(32 * 1024, 256 * 1024, NULL);
    if (p->md == NULL || p->mctx == NULL || p->jstack == NULL) {
        prefetch_release(p);
        return NULL;
    }
    pcre2_jit_stack_assign(p->mctx, NULL, p->jstack);
    if (native_thread_start(&p->thread, &p->lock, &p->cond, prefetch_main, p) != 0) {
        prefetch_release(p);
        return NULL;
    }
    self->prefetch = p;
    self->prefetchless = 0;
    return p;
}

/* drops a job neither the worker nor a reader is on (QUEUED or DONE); 0 when one is. Under lock. */
static int drop_job(Prefetch *p)
{
    if (p->state == BUSY || p->reading)
        return 0;
    p->state = IDLE;
    Py_CLEAR(p->chunk); /* the GIL is held: a str's dealloc runs no Python code */
    return 1;
}

/* DateCut.prefetch(chunk) -> bool: whether the worker took the chunk (it does when it is idle) */
PyObject *native_datecut_prefetch(DateCutObject *self, PyObject *args)
{
    PyObject *chunk;
    if (!PyArg_ParseTuple(args, "U", &chunk))
        return NULL;
    const char *data;
    Py_ssize_t size;
    uint32_t groups;
    int usable = native_chunk_groups(self, chunk, -1, &data, &size, &groups);
    if (usable <= 0)
        return usable < 0 ? NULL : Py_NewRef(Py_False);
    if (size > PREFETCH_MAX)
        Py_RETURN_FALSE;
    Prefetch *p = prefetch_of(self, groups);
    if (p == NULL)
        Py_RETURN_FALSE;
    Py_ssize_t lines = 0;
    for (Py_ssize_t at = 0; at < size; lines++)
        at = (const char *)memchr(data + at, '\n', (size_t)(size - at)) - data + 1;
    int taken = 0;
    if (pthread_mutex_trylock(&p->lock) != 0)
        Py_RETURN_FALSE;
    if (drop_job(p)) { /* idle now: the arrays are the caller's until the job is queued */
        if (p->cap < lines) {
            int *rc = PyMem_RawRealloc(p->rc, sizeof *rc * (size_t)lines);
            if (rc != NULL)
                p->rc = rc;
            PCRE2_SIZE *ov = rc == NULL ? NULL
                                        : PyMem_RawRealloc(p->ov, sizeof *ov * 2 * (size_t)p->pairs * (size_t)lines);
            if (ov != NULL) {
                p->ov = ov;
                p->cap = lines;
            }
        }
        if (p->cap >= lines) {
            p->chunk = Py_NewRef(chunk);
            p->data = data;
            p->size = size;
            p->lines = lines;
            __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED); /* the worker reads both after taking the lock */
            __atomic_store_n(&p->abandon, 0, __ATOMIC_RELAXED);
            p->state = QUEUED;
            pthread_cond_broadcast(&p->cond);
            taken = 1;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return Py_NewRef(taken ? Py_True : Py_False);
}

const Prefetched *native_prefetched(DateCutObject *self, PyObject *chunk, Py_ssize_t lines, Prefetched *out)
{
    Prefetch *p = self->prefetch;
    if (p == NULL || p->reading) /* none, or a reader already (re-entered): this one matches alone */
        return NULL;
    if (pthread_mutex_trylock(&p->lock) != 0)
        return NULL;
    if (p->chunk != chunk || (lines >= 0 && p->lines != lines) || p->state == QUEUED) {
        /* another chunk came (its matches are not these lines'), or the worker has not started (a loaded
         * machine): the caller matches the lines itself */
        if (!drop_job(p))
            __atomic_store_n(&p->abandon, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&p->lock);
        return NULL;
    }
    p->reading = 1; /* BUSY or DONE: the lines published so far are read, the others matched */
    pthread_mutex_unlock(&p->lock);
    out->lines = p->lines;
    out->pairs = p->pairs;
    out->rc = p->rc;
    out->ov = p->ov;
    out->done = &p->done;
    return out;
}

void native_prefetch_done(DateCutObject *self)
{
    Prefetch *p = self->prefetch;
    if (p == NULL)
        return;
    /* without the lock: the job is dropped by the next prefetch; a worker still on it may stop, no one reads
     * the rest */
    p->reading = 0;
    __atomic_store_n(&p->abandon, 1, __ATOMIC_RELAXED);
}

void native_prefetch_free(DateCutObject *self)
{
    Prefetch *p = self->prefetch;
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    __atomic_store_n(&p->abandon, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    Py_CLEAR(p->chunk);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    prefetch_release(p);
    self->prefetch = NULL;
}
