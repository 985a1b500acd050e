/* The date match of DateCut.runs on every line of a chunk, as records (native_date_records), and the DateCut's
 * helper thread that matches part of them (the date crew) while the caller matches the rest.
 *
 * Why: fail2ban-regex's thread bounds its run (the Matches worker, _native_crew.c, matches the filter's regexes
 * on the other core only after the dates are known), and the date template's PCRE2 match on each line was a
 * tenth of that thread's work. The records are matched first, on both threads, without touching a Python
 * object; _native_runs.c then builds runs' lists from them on the caller's thread alone, in line order. Who
 * matched a record cannot change it: each record is the one line's match, in its own slot.
 *
 * Invariants: `job`, `busy` and `stop` change under `lock`. A job is given only to an idle helper; the caller
 * matches batches of BATCH lines claimed through the job's atomic counter, as the helper does, so either may
 * do all of them (a helper a loaded machine does not run soon is not waited for: a job it never took is
 * withdrawn, one it took is waited for, at most its batch in hand). The caller holds the GIL throughout, so
 * one DateCut runs one job at a time. The helper's match data, match context (a copy of the DateCut's: the
 * same limits) and JIT stack are its own. No global state: the crew lives in its DateCut.
 */
#include "_native_dates.h"
#include <pthread.h>

#define BATCH 64

struct DateCrew {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    DateJob *job; /* under lock: the job given and not yet taken; NULL: none */
    int busy, stop;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
};

void native_date_records(DateJob *job, pcre2_match_data *md, pcre2_match_context *mctx)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t pairs = 2 * ((size_t)job->groups + 1);
    for (;;) {
        if (atomic_load_explicit(&job->failed, memory_order_relaxed))
            return; /* some line has no date: runs answers None whatever the others hold */
        size_t from = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed) * BATCH;
        if (from >= (size_t)job->lines)
            return;
        size_t to = from + BATCH < (size_t)job->lines ? from + BATCH : (size_t)job->lines;
        for (size_t i = from; i < to; i++) {
            const char *line = job->data + job->line_at[i];
            Py_ssize_t len = job->line_at[i + 1] - 1 - job->line_at[i];
            int rc = native_match(job->code, job->jit, line, len, md, mctx);
            if (rc >= 0 && ov[0] != 0) /* as line_match: a match that does not start the line is none */
                rc = PCRE2_ERROR_NOMATCH;
            job->rc[i] = rc;
            if (rc < 2 || ov[2] == PCRE2_UNSET || ov[3] == PCRE2_UNSET || ov[3] <= ov[2]) {
                atomic_store_explicit(&job->failed, 1, memory_order_relaxed);
                job->rc[i] = 0; /* native_line_date's "none": group 1 unset or empty counts as no date */
                return;
            }
            memcpy(job->ov + i * pairs, ov, sizeof(PCRE2_SIZE) * pairs);
        }
    }
}

static void *crew_main(void *arg)
{
    DateCrew *crew = arg;
    pthread_mutex_lock(&crew->lock);
    for (;;) {
        while (crew->job == NULL && !crew->stop)
            pthread_cond_wait(&crew->wake, &crew->lock);
        if (crew->stop)
            break;
        DateJob *job = crew->job;
        crew->job = NULL;
        crew->busy = 1;
        pthread_mutex_unlock(&crew->lock);
        native_date_records(job, crew->md, crew->mctx);
        pthread_mutex_lock(&crew->lock);
        crew->busy = 0;
        pthread_cond_signal(&crew->done);
    }
    pthread_mutex_unlock(&crew->lock);
    return NULL;
}

static void crew_release(DateCrew *crew)
{
    if (crew->md != NULL)
        pcre2_match_data_free(crew->md);
    if (crew->mctx != NULL)
        pcre2_match_context_free(crew->mctx);
    if (crew->jstack != NULL)
        pcre2_jit_stack_free(crew->jstack);
    PyMem_RawFree(crew);
}

/* the DateCut's crew, started on first use; NULL when it cannot be (no memory, no thread): the caller matches
 * every record then, and later calls do not try again */
static DateCrew *crew_of(DateCutObject *self, uint32_t groups)
{
    if (self->crew != NULL || self->crewless)
        return self->crew;
    self->crewless = 1;
    DateCrew *crew = PyMem_RawCalloc(1, sizeof *crew);
    if (crew == NULL)
        return NULL;
    crew->md = pcre2_match_data_create(groups + 1, NULL);
    crew->mctx = pcre2_match_context_copy(self->mctx);
    crew->jstack = pcre2_jit_stack_create(32 * 1024, 256 * 1024, NULL);
    if (crew->md == NULL || crew->mctx == NULL || crew->jstack == NULL) {
        crew_release(crew);
        return NULL;
    }
    pcre2_jit_stack_assign(crew->mctx, NULL, crew->jstack);
    if (pthread_mutex_init(&crew->lock, NULL) != 0) {
        crew_release(crew);
        return NULL;
    }
    int made = 0; /* what is initialised: 1 wake, 2 done too, 3 the thread too */
    if (pthread_cond_init(&crew->wake, NULL) == 0 && ++made && pthread_cond_init(&crew->done, NULL) == 0 &&
        ++made && pthread_create(&crew->thread, NULL, crew_main, crew) == 0)
        ++made;
    if (made < 3) {
        if (made >= 2)
            pthread_cond_destroy(&crew->done);
        if (made >= 1)
            pthread_cond_destroy(&crew->wake);
        pthread_mutex_destroy(&crew->lock);
        crew_release(crew);
        return NULL;
    }
    self->crew = crew;
    self->crewless = 0;
    return crew;
}

void native_datecrew_match(DateCutObject *self, DateJob *job, pcre2_match_data *md, int shared)
{
    DateCrew *crew = shared && job->lines >= 2 * BATCH ? crew_of(self, job->groups) : NULL;
    int given = 0;
    if (crew != NULL) {
        pthread_mutex_lock(&crew->lock);
        if (!crew->busy && crew->job == NULL) {
            crew->job = job;
            given = 1;
            pthread_cond_signal(&crew->wake);
        }
        pthread_mutex_unlock(&crew->lock);
    }
    native_date_records(job, md, self->mctx);
    if (!given)
        return;
    pthread_mutex_lock(&crew->lock);
    if (crew->job == job)
        crew->job = NULL; /* never taken: the caller did every batch */
    else
        while (crew->busy)
            pthread_cond_wait(&crew->done, &crew->lock);
    pthread_mutex_unlock(&crew->lock);
}

void native_datecrew_free(DateCutObject *self)
{
    DateCrew *crew = self->crew;
    if (crew == NULL)
        return;
    pthread_mutex_lock(&crew->lock);
    crew->stop = 1;
    pthread_cond_signal(&crew->wake);
    pthread_mutex_unlock(&crew->lock);
    pthread_join(crew->thread, NULL);
    pthread_cond_destroy(&crew->wake);
    pthread_cond_destroy(&crew->done);
    pthread_mutex_destroy(&crew->lock);
    crew_release(crew);
    self->crew = NULL;
}
