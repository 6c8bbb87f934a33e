/*
 * serve.h - `ggufembed serve`: the pieces shared by the HTTP layer (serve.c) and the
 * endpoint handlers (serve_api.c). Batching lives in serve_queue.h, JSON in json.h.
 */
#ifndef GGUFEMBED_SERVE_H
#define GGUFEMBED_SERVE_H

#include "../core/ggufembed.h"
#include "json.h"
#include "serve_queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct sv_options {
    const char *host;        /* 127.0.0.1                                         */
    int port;                /* 8080; 0 = any free port (printed at start)          */
    int threads;             /* compute threads per model; 0 = one per core          */
    const char *api_key;     /* NULL = no authentication                             */
    size_t max_batch_tokens; /* tokens one shared forward call may hold              */
    size_t max_queue;        /* requests queued or running, over every model          */
    size_t max_body;         /* request body bytes                                   */
    size_t max_inputs;       /* texts (or documents) in one request                  */
    int timeout;             /* seconds from arrival to response; idle connections   */
    int max_connections;
    unsigned open_flags;     /* GGUFEMBED_OPEN_*                                     */
} sv_options;

typedef struct sv_model {
    char name[128];               /* the request's "model"                              */
    const char *path;
    ggufembed_model *model;
    ggufembed_model_info info;
    sv_queue *queue;              /* embeddings and rerank: the batching worker          */
    ggufembed_context *tok_ctx;   /* token counting and /tokenize (single-threaded)      */
    pthread_mutex_t tok_mu;       /* guards tok_ctx                                      */
    int tok_mu_ready;
} sv_model;

typedef struct sv_server {
    sv_options opt;
    sv_model *models;
    int n_models;
    long long started; /* unix time */
    atomic_int draining;
    atomic_size_t queued; /* requests submitted to a queue and not yet answered */
    atomic_size_t active; /* requests being handled (draining waits for 0)      */
} sv_server;

/* The response being built for one request. */
typedef struct sv_reply {
    int status;             /* HTTP status; 0 = the client is gone, send nothing      */
    sj_buf body;            /* JSON (or Prometheus text for /metrics)                 */
    const char *content_type;
    int retry_after;        /* seconds, for 429/503; 0 = no header                    */
    size_t prompt_tokens;   /* for the metrics                                        */
} sv_reply;

/* One request as an endpoint handler sees it. */
typedef struct sv_call {
    sv_server *srv;
    const sj_value *body; /* the parsed JSON object                                  */
    sv_reply *reply;
    int (*abandon)(void *user); /* the client went away or the deadline passed       */
    void *abandon_user;
    int (*timed_out)(void *user);
} sv_call;

/* An OpenAI-shaped error: {"error":{"message","type","param","code"}}. */
void sv_error(sv_reply *r, int status, const char *type, const char *code, const char *param, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

void sv_embeddings(sv_call *c); /* POST /v1/embeddings */
void sv_rerank(sv_call *c);     /* POST /v1/rerank     */
void sv_tokenize(sv_call *c);   /* POST /tokenize      */
void sv_models(sv_server *srv, sv_reply *r); /* GET /v1/models */

/* Opens arg ("PATH" or "NAME=PATH") into m (the name: NAME, else the file name without
 * .gguf), with its token-counting context and its batching worker (hook: per batch);
 * 0 = failed, the message on stderr (m is then safe to close). */
int sv_model_open(sv_server *s, sv_model *m, const char *arg, sv_batch_hook hook, void *hook_user);
/* Stops every worker and frees the models (s->models itself included). */
void sv_models_close(sv_server *s);

/* serve.c: the entry point of `ggufembed serve` (argv[0] is "serve"). */
int ge_serve_main(int argc, char **argv);

#endif
