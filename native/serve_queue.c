/*
 * serve_queue.c - the per-model batching queue and its worker (serve_queue.h).
 *
 * Locking: one mutex per queue guards the job list and every job's queue-owned fields;
 * the worker drops it while computing. A job's own condition variable wakes its waiter.
 */
#define _POSIX_C_SOURCE 200809L
#include "serve_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct seg {
    sv_job *job;
    size_t first, count; /* texts first .. first+count of job, at offset `at` of the batch */
    size_t at;
} seg;

struct sv_queue {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    sv_job *head, *tail;
    size_t depth;
    int stopping;
    pthread_t thread;
    const ggufembed_model *model;
    ggufembed_context *ctx;
    size_t max_tokens;
    sv_batch_hook hook;
    void *hook_user;
    /* the worker's batch scratch, grown as needed, freed at stop */
    seg *segs;
    size_t n_segs, segs_cap;
    const char **texts;
    size_t *lens;
    const int32_t **ids;
    size_t *n_ids;
    size_t items_cap;
    float *out;
    size_t out_cap;
};

static void unlink_job(sv_queue *q, sv_job *job) {
    sv_job **pp = &q->head, *prev = NULL;
    while (*pp && *pp != job) prev = *pp, pp = &(*pp)->next;
    if (!*pp) return;
    *pp = job->next;
    if (q->tail == job) q->tail = prev;
    job->next = NULL;
    q->depth--;
}

static void finish(sv_queue *q, sv_job *job, ggufembed_status st, const char *err) {
    if (job->finished) return;
    job->status = st;
    job->err[0] = 0;
    if (err) {
        strncpy(job->err, err, sizeof job->err - 1);
        job->err[sizeof job->err - 1] = 0;
    }
    job->finished = 1;
    unlink_job(q, job);
    pthread_cond_signal(&job->cv);
}

static int str_eq(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Two jobs can share one call when every option that shapes a vector is the same. */
static int compatible(const sv_job *a, const sv_job *b) {
    const ggufembed_embed_options *x = &a->opts, *y = &b->opts;
    return a->kind == b->kind && a->kind != SV_RERANK && x->task == y->task && x->dimensions == y->dimensions &&
           x->normalize == y->normalize && x->truncation == y->truncation && x->whitespace == y->whitespace &&
           str_eq(x->title, y->title) && str_eq(x->prefix, y->prefix) && str_eq(x->instruction, y->instruction);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *n = realloc(*p, c * elem);
    if (!n) return 0;
    *p = n, *cap = c;
    return 1;
}

/* Under the lock: the segments of the next batch, starting at the oldest job. Returns
 * the number of texts (0 when out of memory: the head job then fails). */
static size_t take_batch(sv_queue *q, size_t *tokens) {
    sv_job *h = q->head;
    size_t n = 0;
    *tokens = 0;
    q->n_segs = 0;
    if (h->kind == SV_RERANK) { /* one call scores all of a query's documents */
        if (!grow((void **)&q->segs, &q->segs_cap, 1, sizeof *q->segs)) return 0;
        q->segs[q->n_segs++] = (seg){h, 0, h->n, 0};
        h->next_text = h->n;
        h->running = 1;
        return h->n;
    }
    for (sv_job *j = h; j; j = j->next) {
        if (j != h && !compatible(h, j)) continue;
        if (atomic_load(&j->cancelled)) continue;
        size_t first = j->next_text, count = 0;
        while (first + count < j->n) {
            size_t t = j->n_tokens ? j->n_tokens[first + count] : 1;
            if (n + count > 0 && *tokens + t > q->max_tokens) break;
            *tokens += t;
            count++;
        }
        if (count == 0) break; /* the budget is full */
        if (!grow((void **)&q->segs, &q->segs_cap, q->n_segs + 1, sizeof *q->segs)) break;
        q->segs[q->n_segs++] = (seg){j, first, count, n};
        j->next_text += count;
        j->running = 1;
        n += count;
        if (first + count < j->n) break;
    }
    return n;
}

/* The four per-text arrays share one capacity. */
static int grow_items(sv_queue *q, size_t need) {
    if (need <= q->items_cap) return 1;
    size_t c = q->items_cap ? q->items_cap : 64;
    while (c < need) c *= 2;
    void *t = realloc((void *)q->texts, c * sizeof *q->texts);
    if (t) q->texts = t;
    void *l = realloc(q->lens, c * sizeof *q->lens);
    if (l) q->lens = l;
    void *i = realloc((void *)q->ids, c * sizeof *q->ids);
    if (i) q->ids = i;
    void *n = realloc(q->n_ids, c * sizeof *q->n_ids);
    if (n) q->n_ids = n;
    if (!t || !l || !i || !n) return 0;
    q->items_cap = c;
    return 1;
}

static int all_cancelled(void *user, size_t done, size_t total) {
    (void)done, (void)total;
    const sv_queue *q = user;
    for (size_t i = 0; i < q->n_segs; i++)
        if (!atomic_load(&q->segs[i].job->cancelled)) return 0;
    return 1;
}

/* Without the lock: runs segments s0 .. s1 of the batch as one call into q->out. */
static ggufembed_status compute(sv_queue *q, size_t s0, size_t s1, size_t *out_dim) {
    const sv_job *h = q->segs[s0].job;
    size_t base = q->segs[s0].at, n = q->segs[s1 - 1].at + q->segs[s1 - 1].count - base;
    ggufembed_embed_options o = h->opts;
    o.progress = all_cancelled;
    o.progress_user = q;
    if (h->kind == SV_RERANK) {
        *out_dim = 1;
        if (!grow((void **)&q->out, &q->out_cap, n, sizeof *q->out)) return GGUFEMBED_ERR_OUT_OF_MEMORY;
        return ggufembed_rerank(q->ctx, h->query, h->query_len, h->texts, h->lens, h->n, q->out);
    }
    size_t dim = (size_t)ggufembed_output_dimension(q->model, &o);
    *out_dim = dim;
    if (!grow((void **)&q->out, &q->out_cap, n * dim, sizeof *q->out) || !grow_items(q, n))
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    for (size_t s = s0; s < s1; s++) {
        const seg *g = &q->segs[s];
        for (size_t i = 0; i < g->count; i++) {
            size_t k = g->at - base + i, t = g->first + i;
            if (h->kind == SV_EMBED_TEXTS) q->texts[k] = g->job->texts[t], q->lens[k] = g->job->lens[t];
            else q->ids[k] = g->job->ids[t], q->n_ids[k] = g->job->n_ids[t];
        }
    }
    if (h->kind == SV_EMBED_TEXTS)
        return ggufembed_embed_batch(q->ctx, q->texts, q->lens, n, &o, q->out, n * dim);
    return ggufembed_embed_tokens(q->ctx, q->ids, q->n_ids, n, &o, q->out, n * dim);
}

/* Under the lock: hands segments s0 .. s1 their vectors (or the call's error). */
static void deliver(sv_queue *q, size_t s0, size_t s1, ggufembed_status st, size_t dim) {
    size_t base = q->segs[s0].at;
    for (size_t s = s0; s < s1; s++) {
        seg *g = &q->segs[s];
        sv_job *j = g->job;
        j->running = 0;
        pthread_cond_signal(&j->cv); /* a cancelled waiter waits for running to drop */
        if (j->finished) continue;
        if (atomic_load(&j->cancelled)) {
            finish(q, j, GGUFEMBED_ERR_CANCELLED, "cancelled");
            continue;
        }
        if (st != GGUFEMBED_OK) {
            finish(q, j, st, ggufembed_context_last_error(q->ctx));
            continue;
        }
        memcpy(j->out + g->first * dim, q->out + (g->at - base) * dim, g->count * dim * sizeof(float));
        j->done_texts += g->count;
        if (j->done_texts == j->n) finish(q, j, GGUFEMBED_OK, NULL);
    }
}

static void *worker(void *arg) {
    sv_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping) pthread_cond_wait(&q->wake, &q->mu);
        if (!q->head) break;
        size_t tokens, texts = take_batch(q, &tokens);
        if (texts == 0) { /* out of memory for the batch's bookkeeping */
            finish(q, q->head, GGUFEMBED_ERR_OUT_OF_MEMORY, "out of memory");
            continue;
        }
        pthread_mutex_unlock(&q->mu);
        size_t dim = 0;
        ggufembed_status st = compute(q, 0, q->n_segs, &dim);
        pthread_mutex_lock(&q->mu);
        if (st != GGUFEMBED_OK && st != GGUFEMBED_ERR_CANCELLED && q->n_segs > 1) {
            /* one request's text failed the shared call (a non-finite output, say): run
             * each request alone so that only it fails */
            for (size_t s = 0; s < q->n_segs; s++) {
                pthread_mutex_unlock(&q->mu);
                ggufembed_status one = compute(q, s, s + 1, &dim);
                pthread_mutex_lock(&q->mu);
                deliver(q, s, s + 1, one, dim);
            }
        } else {
            deliver(q, 0, q->n_segs, st, dim);
        }
        q->n_segs = 0;
        if (q->hook) q->hook(q->hook_user, texts, tokens);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

ggufembed_status sv_queue_start(const ggufembed_model *model, int n_threads, size_t max_batch_tokens,
                                sv_batch_hook hook, void *hook_user, sv_queue **out) {
    *out = NULL;
    sv_queue *q = calloc(1, sizeof *q);
    if (!q) return GGUFEMBED_ERR_OUT_OF_MEMORY;
    ggufembed_context_params p;
    ggufembed_context_params_init(&p);
    p.n_threads = n_threads;
    ggufembed_status st = ggufembed_context_new(model, &p, &q->ctx);
    if (st) {
        free(q);
        return st;
    }
    q->model = model;
    q->max_tokens = max_batch_tokens;
    q->hook = hook, q->hook_user = hook_user;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake, NULL);
    if (pthread_create(&q->thread, NULL, worker, q)) {
        ggufembed_context_free(q->ctx);
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->wake);
        free(q);
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    *out = q;
    return GGUFEMBED_OK;
}

void sv_queue_stop(sv_queue *q) {
    if (!q) return;
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    pthread_cond_broadcast(&q->wake);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    ggufembed_context_free(q->ctx);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->wake);
    free(q->segs), free(q->texts), free(q->lens), free(q->ids), free(q->n_ids), free(q->out);
    free(q);
}

size_t sv_queue_depth(sv_queue *q) {
    pthread_mutex_lock(&q->mu);
    size_t d = q->depth;
    pthread_mutex_unlock(&q->mu);
    return d;
}

int sv_queue_run(sv_queue *q, sv_job *job, int (*abandon)(void *user), void *user) {
    pthread_cond_init(&job->cv, NULL);
    job->next = NULL;
    job->finished = job->running = 0;
    job->next_text = job->done_texts = 0;
    atomic_store(&job->cancelled, 0);
    pthread_mutex_lock(&q->mu);
    if (q->tail) q->tail->next = job;
    else q->head = job;
    q->tail = job;
    q->depth++;
    pthread_cond_signal(&q->wake);
    int done = 1;
    while (!job->finished) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        int rc = pthread_cond_timedwait(&job->cv, &q->mu, &ts);
        if (job->finished || rc != ETIMEDOUT) continue;
        pthread_mutex_unlock(&q->mu);
        int give_up = abandon && abandon(user);
        pthread_mutex_lock(&q->mu);
        if (!give_up || job->finished) continue;
        atomic_store(&job->cancelled, 1);
        while (job->running) pthread_cond_wait(&job->cv, &q->mu); /* the worker still reads it */
        if (!job->finished) {
            job->finished = 1;
            job->status = GGUFEMBED_ERR_CANCELLED;
            unlink_job(q, job);
        }
        done = 0;
        break;
    }
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&job->cv);
    return done;
}
