/*
 * serve_queue.h - dynamic batching for the HTTP server: one queue and one worker
 * thread per model.
 *
 * A request becomes one sv_job (its texts or token lists, its options). HTTP threads
 * submit jobs and wait; the worker takes the oldest job and, behind it in arrival
 * order, every job with the same options, and embeds their texts (in order, a job's
 * texts possibly spread over several passes) in one ggufembed_embed_batch call of at
 * most max_batch_tokens tokens. Vectors do not depend on what they were batched with
 * (each text's forward pass is its own), so a text gets the same bits alone or packed.
 * A waiter whose client went away or whose deadline passed cancels its job: a queued
 * job is removed at once, a running one is abandoned after the batch (and the batch
 * stops early when every job in it is cancelled).
 */
#ifndef GGUFEMBED_SERVE_QUEUE_H
#define GGUFEMBED_SERVE_QUEUE_H

#include "../core/ggufembed.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef enum sv_kind { SV_EMBED_TEXTS, SV_EMBED_TOKENS, SV_RERANK } sv_kind;

typedef struct sv_job sv_job;
struct sv_job {
    /* --- set by the submitter, read-only afterwards */
    sv_kind kind;
    ggufembed_embed_options opts; /* strings it points to live as long as the job   */
    size_t n;                     /* texts, token lists, or rerank documents          */
    const char *const *texts;     /* SV_EMBED_TEXTS / SV_RERANK (documents): [n]      */
    const size_t *lens;           /* [n] bytes                                        */
    const int32_t *const *ids;    /* SV_EMBED_TOKENS: [n] lists                       */
    const size_t *n_ids;          /* [n]                                              */
    const size_t *n_tokens;       /* [n] tokens each text runs (the batch budget)     */
    const char *query;            /* SV_RERANK                                        */
    size_t query_len;
    float *out;                   /* [n * dim] vectors, or [n] rerank scores          */
    /* --- owned by the queue (under its mutex) */
    sv_job *next;
    size_t next_text;  /* texts before this are done or in the running batch      */
    size_t done_texts; /* texts whose vectors are in out                          */
    int running;       /* some of its texts are in the batch being computed       */
    int finished;      /* done or failed: status/err say which                    */
    atomic_int cancelled;
    ggufembed_status status;
    char err[256];
    pthread_cond_t cv;
};

typedef struct sv_queue_stats {
    unsigned long long batches, texts, tokens;
} sv_queue_stats;

/* called by the worker after each batch (texts, tokens in it), for metrics */
typedef void (*sv_batch_hook)(void *user, size_t texts, size_t tokens);

typedef struct sv_queue sv_queue;

/* Starts the worker with its own context (n_threads as ggufembed_context_params). */
ggufembed_status sv_queue_start(const ggufembed_model *model, int n_threads, size_t max_batch_tokens,
                                sv_batch_hook hook, void *hook_user, sv_queue **out);
/* Stops the worker once the queue is empty and frees it (accepts NULL). */
void sv_queue_stop(sv_queue *q);

/* Number of jobs queued or running. */
size_t sv_queue_depth(sv_queue *q);

/* Submits job (fields above set, the rest zeroed) and waits until it is finished, or
 * until abandon(user) returns non-zero (polled every ~50 ms: the client went away or
 * the deadline passed), in which case the job is cancelled and 0 is returned; 1 when
 * it finished (job->status, job->err). The job may be reused or freed after return. */
int sv_queue_run(sv_queue *q, sv_job *job, int (*abandon)(void *user), void *user);

#endif
