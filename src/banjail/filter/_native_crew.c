/* A Program's worker thread for Program.start (the Crew): started with the Program's first Matches and kept
 * until the Program goes, since a thread per chunk cost some 45 us of the caller's time per chunk. It waits
 * for a job (a Matches), works on it (native_matches_work, _native_pipe.c), waits again.
 *
 * Invariants: `job`, `busy` and `stop` change under `lock`. A job is given only to an idle worker (none taken,
 * none queued): a worker still on an earlier Matches (late, on a loaded machine) is not waited for, the caller
 * matches that chunk alone. The worker's match data, context (a copy of the Program's: the same limits), JIT
 * stack and scratch line are its own, reused for every job; the scratch grows only while the worker is idle.
 * The Program ends the worker when it goes: the worker is idle then, since every Matches holds its Program
 * and waits for the worker to leave it before it goes. No global state: the Crew lives in its Program.
 */
#include "_native_pipe.h"
#include <pthread.h>

typedef struct Crew {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void *job;          /* under lock: the next job (a Matches), taken by the worker; NULL: none */
    int busy, stop;     /* under lock: on a job; to end */
    Context worker;
    pcre2_jit_stack *jstack;
    size_t scratch_size;
} Crew;

static void *crew_main(void *arg)
{
    Crew *crew = arg;
    pthread_mutex_lock(&crew->lock);
    for (;;) {
        while (crew->job == NULL && !crew->stop)
            pthread_cond_wait(&crew->cond, &crew->lock);
        if (crew->stop)
            break;
        void *job = crew->job;
        crew->job = NULL;
        crew->busy = 1;
        pthread_mutex_unlock(&crew->lock);
        native_matches_work(job, &crew->worker);
        pthread_mutex_lock(&crew->lock);
        crew->busy = 0;
    }
    pthread_mutex_unlock(&crew->lock);
    return NULL;
}

static void crew_release(Crew *crew)
{
    if (crew->worker.md != NULL)
        pcre2_match_data_free(crew->worker.md);
    if (crew->worker.mctx != NULL)
        pcre2_match_context_free(crew->worker.mctx);
    if (crew->jstack != NULL)
        pcre2_jit_stack_free(crew->jstack);
    PyMem_RawFree(crew->worker.scratch);
    PyMem_RawFree(crew);
}

int native_thread_start(pthread_t *thread, pthread_mutex_t *lock, pthread_cond_t *cond, void *(*main)(void *),
                        void *arg)
{
    if (pthread_mutex_init(lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(cond, NULL) != 0) {
        pthread_mutex_destroy(lock);
        return -1;
    }
    if (pthread_create(thread, NULL, main, arg) != 0) {
        pthread_cond_destroy(cond);
        pthread_mutex_destroy(lock);
        return -1;
    }
    return 0;
}

/* the Program's crew, started on first use; NULL when it cannot be (no memory, no thread): no worker then, and
 * none later for this Program */
static Crew *crew_of(ProgramObject *p)
{
    if (p->crew != NULL || p->crewless)
        return p->crew;
    p->crewless = 1; /* until the crew is made: a failure below is not retried at every chunk */
    Crew *crew = PyMem_RawCalloc(1, sizeof *crew);
    if (crew == NULL)
        return NULL;
    crew->worker.md = pcre2_match_data_create(p->groups + 1, NULL);
    crew->worker.mctx = pcre2_match_context_copy(p->mctx);
    crew->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    if (crew->worker.md == NULL || crew->worker.mctx == NULL || crew->jstack == NULL) {
        crew_release(crew);
        return NULL;
    }
    pcre2_jit_stack_assign(crew->worker.mctx, NULL, crew->jstack);
    if (native_thread_start(&crew->thread, &crew->lock, &crew->cond, crew_main, crew) != 0) {
        crew_release(crew);
        return NULL;
    }
    p->crew = crew;
    p->crewless = 0;
    return crew;
}

int native_crew_give(ProgramObject *p, void *job, size_t scratch)
{
    Crew *crew = crew_of(p);
    if (crew == NULL)
        return 0;
    int given = 0;
    pthread_mutex_lock(&crew->lock);
    if (!crew->busy && crew->job == NULL) {
        size_t need = scratch;
        if (crew->scratch_size < need) { /* idle: the worker does not read it now */
            char *more = PyMem_RawRealloc(crew->worker.scratch, need);
            if (more != NULL) {
                crew->worker.scratch = more;
                crew->scratch_size = need;
            }
        }
        if (crew->scratch_size >= need) {
            crew->job = job;
            given = 1;
            pthread_cond_signal(&crew->cond);
        }
    }
    pthread_mutex_unlock(&crew->lock);
    return given;
}

void native_crew_free(ProgramObject *p)
{
    Crew *crew = p->crew;
    if (crew == NULL)
        return;
    pthread_mutex_lock(&crew->lock);
    crew->stop = 1;
    pthread_cond_signal(&crew->cond);
    pthread_mutex_unlock(&crew->lock);
    pthread_join(crew->thread, NULL);
    pthread_cond_destroy(&crew->cond);
    pthread_mutex_destroy(&crew->lock);
    crew_release(crew);
    p->crew = NULL;
}

int native_crew_withdraw(ProgramObject *p, void *job)
{
    Crew *crew = p->crew;
    pthread_mutex_lock(&crew->lock);
    int queued = crew->job == job;
    if (queued)
        crew->job = NULL;
    pthread_mutex_unlock(&crew->lock);
    return queued;
}

int native_crew_queued(ProgramObject *p, void *job)
{
    Crew *crew = p->crew;
    pthread_mutex_lock(&crew->lock);
    int queued = crew->job == job;
    pthread_mutex_unlock(&crew->lock);
    return queued;
}
