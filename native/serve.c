/*
 * serve.c - `ggufembed serve`: the HTTP layer (libmicrohttpd), routing, API keys,
 * Prometheus metrics, start-up and graceful shutdown.
 *
 * Threads: libmicrohttpd runs one thread per connection (bounded by --max-connections).
 * A request's thread reads and parses the body, counts its tokens, submits a job to
 * its model's queue and waits; meanwhile it polls its socket, so a client that went
 * away cancels its job. One worker thread per model computes (serve_queue.c). The main
 * thread only waits for SIGTERM/SIGINT, then drains: new requests get 503, the ones
 * already in flight finish, and the process exits 0.
 */
#define _GNU_SOURCE
#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* ---------------------------------------------------------------- metrics */

enum { EP_EMBEDDINGS, EP_RERANK, EP_TOKENIZE, EP_MODELS, EP_HEALTH, EP_METRICS, EP_OTHER, EP_N };
static const char *const k_ep_names[EP_N] = {"/v1/embeddings", "/v1/rerank", "/tokenize", "/v1/models",
                                             "/health",        "/metrics",   "other"};
static const int k_codes[] = {200, 204, 400, 401, 404, 405, 413, 429, 500, 503};
#define N_CODES ((int)(sizeof k_codes / sizeof *k_codes))
static const double k_dur_le[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define N_DUR ((int)(sizeof k_dur_le / sizeof *k_dur_le))
static const double k_btexts_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
#define N_BTEXTS ((int)(sizeof k_btexts_le / sizeof *k_btexts_le))
static const double k_btok_le[] = {16, 64, 256, 1024, 2048, 4096, 8192, 16384, 65536};
#define N_BTOK ((int)(sizeof k_btok_le / sizeof *k_btok_le))

typedef struct histogram {
    unsigned long long bucket[16]; /* cumulative counts are made when printing */
    unsigned long long count;
    double sum;
} histogram;

static struct {
    pthread_mutex_t mu;
    unsigned long long requests[EP_N][N_CODES + 1]; /* the last column: other codes */
    unsigned long long prompt_tokens, texts, batches;
    histogram duration, batch_texts, batch_tokens;
} g_m = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void observe(histogram *h, const double *le, int n, double v) {
    int i = 0;
    while (i < n && v > le[i]) i++;
    h->bucket[i]++; /* i == n: +Inf only */
    h->count++;
    h->sum += v;
}

static void on_batch(void *user, size_t texts, size_t tokens) {
    (void)user;
    pthread_mutex_lock(&g_m.mu);
    g_m.batches++;
    g_m.texts += texts;
    observe(&g_m.batch_texts, k_btexts_le, N_BTEXTS, (double)texts);
    observe(&g_m.batch_tokens, k_btok_le, N_BTOK, (double)tokens);
    pthread_mutex_unlock(&g_m.mu);
}

static void print_histogram(sj_buf *b, const char *name, const char *help, const histogram *h, const double *le, int n) {
    sj_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cum = 0;
    for (int i = 0; i < n; i++) {
        cum += h->bucket[i];
        sj_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], cum);
    }
    sj_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, h->count, name, h->sum, name, h->count);
}

static void render_metrics(sv_server *s, sv_reply *r) {
    size_t depth = atomic_load(&s->queued);
    sj_buf *b = &r->body;
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    pthread_mutex_lock(&g_m.mu);
    sj_puts(b, "# HELP ggufembed_requests_total HTTP requests answered, by endpoint and status.\n"
               "# TYPE ggufembed_requests_total counter\n");
    for (int e = 0; e < EP_N; e++)
        for (int k = 0; k <= N_CODES; k++)
            if (g_m.requests[e][k])
            {
                char code[16];
                snprintf(code, sizeof code, k < N_CODES ? "%d" : "other", k < N_CODES ? k_codes[k] : 0);
                sj_printf(b, "ggufembed_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n", k_ep_names[e], code,
                          g_m.requests[e][k]);
            }
    sj_printf(b,
              "# HELP ggufembed_prompt_tokens_total Tokens of answered requests (prompts and special tokens included).\n"
              "# TYPE ggufembed_prompt_tokens_total counter\nggufembed_prompt_tokens_total %llu\n"
              "# HELP ggufembed_texts_total Texts embedded or documents scored.\n"
              "# TYPE ggufembed_texts_total counter\nggufembed_texts_total %llu\n"
              "# HELP ggufembed_batches_total Shared forward calls run by the batching workers.\n"
              "# TYPE ggufembed_batches_total counter\nggufembed_batches_total %llu\n"
              "# HELP ggufembed_queue_depth Requests queued or running now.\n"
              "# TYPE ggufembed_queue_depth gauge\nggufembed_queue_depth %zu\n",
              g_m.prompt_tokens, g_m.texts, g_m.batches, depth);
    print_histogram(b, "ggufembed_batch_texts", "Texts per shared forward call.", &g_m.batch_texts, k_btexts_le, N_BTEXTS);
    print_histogram(b, "ggufembed_batch_tokens", "Tokens per shared forward call.", &g_m.batch_tokens, k_btok_le, N_BTOK);
    print_histogram(b, "ggufembed_request_duration_seconds", "Time from a request's arrival to its response.",
                    &g_m.duration, k_dur_le, N_DUR);
    pthread_mutex_unlock(&g_m.mu);
}

static void count_request(int ep, int status, double seconds, size_t tokens) {
    int k = 0;
    while (k < N_CODES && k_codes[k] != status) k++;
    pthread_mutex_lock(&g_m.mu);
    g_m.requests[ep][k]++;
    g_m.prompt_tokens += tokens;
    observe(&g_m.duration, k_dur_le, N_DUR, seconds);
    pthread_mutex_unlock(&g_m.mu);
}

/* ------------------------------------------------------------- requests */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct request {
    sj_buf body;
    size_t received;  /* body bytes, kept or not                                 */
    int too_large;    /* over --max-body: the rest is discarded, the answer is 413 */
    double t0, deadline;
    int fd;
    int timed_out;
} request;

/* sv_call.abandon: the deadline passed, or the peer closed its end (recv of 0). A
 * client pipelining its next request is not gone: MSG_PEEK leaves that data. */
static int abandon(void *user) {
    request *rq = user;
    if (now_s() > rq->deadline) return rq->timed_out = 1;
    if (rq->fd < 0) return 0;
    struct pollfd p = {rq->fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return 0;
    if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) return 1;
    char c;
    ssize_t n = recv(rq->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static int timed_out(void *user) { return ((request *)user)->timed_out; }

static int header_eq_ct(const char *a, const char *b) { /* constant time in the key's length */
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++) d |= (unsigned char)(a[i < la ? i : 0] ^ b[i]);
    return d == 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, request *rq, int ep, sv_reply *r, const char *allow) {
    if (r->status == 0) { /* the client went away: close without an answer */
        count_request(ep, 499, now_s() - rq->t0, 0);
        sj_buf_free(&r->body);
        return MHD_NO;
    }
    if (r->body.failed) sv_error(r, 500, "server_error", NULL, NULL, "out of memory building the response");
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->body.len, r->body.data ? r->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    sj_buf_free(&r->body);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    if (r->retry_after) {
        char v[16];
        snprintf(v, sizeof v, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (r->status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (allow) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (r->status == 204) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    }
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    count_request(ep, r->status, now_s() - rq->t0, r->prompt_tokens);
    return ok;
}

typedef struct route {
    const char *path;
    int ep;
    int post; /* 1 POST, 0 GET */
} route;

static const route k_routes[] = {
    {"/v1/embeddings", EP_EMBEDDINGS, 1}, {"/embeddings", EP_EMBEDDINGS, 1}, {"/v1/rerank", EP_RERANK, 1},
    {"/rerank", EP_RERANK, 1},           {"/v1/reranking", EP_RERANK, 1},   {"/tokenize", EP_TOKENIZE, 1},
    {"/v1/models", EP_MODELS, 0},        {"/models", EP_MODELS, 0},         {"/health", EP_HEALTH, 0},
    {"/metrics", EP_METRICS, 0},
};

/* The whole request is in: route it and answer. */
static enum MHD_Result handle(sv_server *s, struct MHD_Connection *conn, request *rq, const char *url,
                              const char *method) {
    sv_reply r = {0};
    const route *rt = NULL;
    for (size_t i = 0; i < sizeof k_routes / sizeof *k_routes; i++)
        if (!strcmp(url, k_routes[i].path)) rt = &k_routes[i];
    const int ep = rt ? rt->ep : EP_OTHER;
    if (!strcmp(method, "OPTIONS")) { /* CORS preflight */
        r.status = 204;
        return send_reply(conn, rq, ep, &r, "GET, POST, OPTIONS");
    }
    if (!rt) {
        sv_error(&r, 404, "not_found_error", "not_found", NULL, "no endpoint %.200s (POST /v1/embeddings, POST /v1/rerank, "
                 "POST /tokenize, GET /v1/models, GET /health, GET /metrics)", url);
        return send_reply(conn, rq, ep, &r, NULL);
    }
    if (strcmp(method, rt->post ? "POST" : "GET") && !(!rt->post && !strcmp(method, "HEAD"))) {
        sv_error(&r, 405, "invalid_request_error", "method_not_allowed", NULL, "%s takes %s, not %.16s", rt->path,
                 rt->post ? "POST" : "GET", method);
        return send_reply(conn, rq, ep, &r, rt->post ? "POST, OPTIONS" : "GET, HEAD, OPTIONS");
    }
    if (s->opt.api_key && ep != EP_HEALTH && ep != EP_METRICS) {
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!auth || strncmp(auth, "Bearer ", 7) || !header_eq_ct(auth + 7, s->opt.api_key)) {
            sv_error(&r, 401, "invalid_request_error", "invalid_api_key", NULL,
                     auth ? "the API key is not valid" : "an API key is needed: send \"Authorization: Bearer KEY\"");
            return send_reply(conn, rq, ep, &r, NULL);
        }
    }
    const int draining = atomic_load(&s->draining);
    if (ep == EP_HEALTH) {
        r.status = draining ? 503 : 200;
        r.content_type = "application/json";
        sj_puts(&r.body, draining ? "{\"status\":\"shutting down\"}" : "{\"status\":\"ok\"}");
        return send_reply(conn, rq, ep, &r, NULL);
    }
    if (ep == EP_METRICS) return render_metrics(s, &r), send_reply(conn, rq, ep, &r, NULL);
    if (ep == EP_MODELS) return sv_models(s, &r), send_reply(conn, rq, ep, &r, NULL);
    if (draining) {
        sv_error(&r, 503, "server_error", "shutting_down", NULL, "the server is shutting down");
        return send_reply(conn, rq, ep, &r, NULL);
    }
    if (rq->too_large) {
        sv_error(&r, 413, "invalid_request_error", "body_too_large", NULL,
                 "the request body is %zu bytes; this server takes at most %zu (--max-body)", rq->received, s->opt.max_body);
        return send_reply(conn, rq, ep, &r, NULL);
    }
    char err[160];
    sj_doc *doc = sj_parse(rq->body.data ? rq->body.data : "", rq->body.len, err, sizeof err);
    if (!doc) {
        if (!strcmp(err, "out of memory")) sv_error(&r, 500, "server_error", NULL, NULL, "out of memory parsing the body");
        else sv_error(&r, 400, "invalid_request_error", "invalid_json", NULL, "the body is not JSON: %s", err);
        return send_reply(conn, rq, ep, &r, NULL);
    }
    sj_buf_free(&rq->body); /* the document holds what is needed */
    const sj_value *root = sj_root(doc);
    if (root->type != SJ_OBJECT) {
        sv_error(&r, 400, "invalid_request_error", "invalid_json", NULL, "the body must be a JSON object, not %s",
                 sj_type_name(root->type));
    } else {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        rq->fd = ci ? ci->connect_fd : -1;
        sv_call c = {s, root, &r, abandon, rq, timed_out};
        if (ep == EP_EMBEDDINGS) sv_embeddings(&c);
        else if (ep == EP_RERANK) sv_rerank(&c);
        else sv_tokenize(&c);
    }
    sj_free(doc);
    return send_reply(conn, rq, ep, &r, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    sv_server *s = cls;
    request *rq = *con_cls;
    if (!rq) { /* the headers are in */
        rq = calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->t0 = now_s();
        rq->deadline = rq->t0 + s->opt.timeout;
        rq->fd = -1;
        *con_cls = rq;
        atomic_fetch_add(&s->active, 1);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || v > s->opt.max_body) { /* refuse before reading it */
                rq->too_large = 1;
                sv_reply r = {0};
                sv_error(&r, 413, "invalid_request_error", "body_too_large", NULL,
                         "the request body is %.32s bytes; this server takes at most %zu (--max-body)", cl, s->opt.max_body);
                return send_reply(conn, rq, EP_OTHER, &r, NULL);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        rq->received += *upload_size;
        if (!rq->too_large && rq->received > s->opt.max_body) {
            rq->too_large = 1; /* chunked, no Content-Length: discard the rest, answer 413 */
            sj_buf_free(&rq->body);
        }
        if (!rq->too_large) sj_put(&rq->body, upload, *upload_size);
        if (rq->too_large && rq->received > 4 * s->opt.max_body) return MHD_NO; /* not worth reading on */
        *upload_size = 0;
        return MHD_YES;
    }
    return handle(s, conn, rq, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    (void)conn, (void)toe;
    sv_server *s = cls;
    request *rq = *con_cls;
    if (!rq) return;
    sj_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&s->active, 1);
}

/* ------------------------------------------------------------- start-up */

static void usage(FILE *f) {
    fprintf(f,
            "usage: ggufembed serve -m [NAME=]MODEL [-m [NAME=]MODEL ...] [--host 127.0.0.1] [--port 8080]\n"
            "                       [--threads N] [--api-key KEY] [--max-batch-tokens 8192] [--max-queue 256]\n"
            "                       [--max-body 16777216] [--max-inputs 2048] [--timeout 60]\n"
            "                       [--max-connections 512] [--no-repack]\n"
            "  An OpenAI-compatible embeddings server: POST /v1/embeddings, POST /v1/rerank, POST /tokenize,\n"
            "  GET /v1/models, GET /health, GET /metrics. A request's \"model\" is NAME (default: the file name\n"
            "  without .gguf); without one, the first model. Concurrent requests are packed into shared forward\n"
            "  passes of up to --max-batch-tokens tokens. --port 0 picks a free port. --api-key (or\n"
            "  $GGUFEMBED_API_KEY) requires \"Authorization: Bearer KEY\" (not for /health and /metrics).\n"
            "  --timeout: seconds a request may take from arrival to answer, and idle connections live.\n"
            "  SIGTERM/SIGINT: finish the requests in flight, refuse new ones (503), exit 0.\n");
}

static int parse_size(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-' || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static struct MHD_Daemon *start_http(sv_server *s) {
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    const struct sockaddr *addr;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (inet_pton(AF_INET, s->opt.host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)s->opt.port);
        addr = (const struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, s->opt.host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)s->opt.port);
        addr = (const struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "ggufembed serve: --host '%s' is not an IPv4 or IPv6 address\n", s->opt.host);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)s->opt.port, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->opt.timeout, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)s->opt.max_connections, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_END);
    if (!d) fprintf(stderr, "ggufembed serve: cannot listen on %s:%d: %s\n", s->opt.host, s->opt.port, strerror(errno));
    return d;
}

int ge_serve_main(int argc, char **argv) {
    sv_server s = {0};
    s.opt = (sv_options){"127.0.0.1", 8080, 0, getenv("GGUFEMBED_API_KEY"), 8192, 256, 16u << 20, 2048, 60, 512,
                         GGUFEMBED_OPEN_REPACK};
    const char **paths = calloc((size_t)argc, sizeof *paths);
    int n_paths = 0;
    if (!paths) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long long x = 0;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            free(paths);
            return 0;
        }
        if (!strcmp(a, "--no-repack")) {
            s.opt.open_flags &= ~GGUFEMBED_OPEN_REPACK;
            continue;
        }
        if (!v) {
            fprintf(stderr, "ggufembed serve: %s needs a value (see --help)\n", a);
            free(paths);
            return 2;
        }
        i++;
        int ok = 1;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) paths[n_paths++] = v;
        else if (!strcmp(a, "--host")) s.opt.host = v;
        else if (!strcmp(a, "--api-key")) s.opt.api_key = v;
        else if (!strcmp(a, "--port")) ok = parse_size(v, 0, 65535, &x), s.opt.port = (int)x;
        else if (!strcmp(a, "--threads")) ok = parse_size(v, 0, 256, &x), s.opt.threads = (int)x;
        else if (!strcmp(a, "--max-batch-tokens")) ok = parse_size(v, 1, 1u << 24, &x), s.opt.max_batch_tokens = x;
        else if (!strcmp(a, "--max-queue")) ok = parse_size(v, 1, 1u << 20, &x), s.opt.max_queue = x;
        else if (!strcmp(a, "--max-body")) ok = parse_size(v, 64, 1ull << 32, &x), s.opt.max_body = x;
        else if (!strcmp(a, "--max-inputs")) ok = parse_size(v, 1, 1u << 20, &x), s.opt.max_inputs = x;
        else if (!strcmp(a, "--timeout")) ok = parse_size(v, 1, 86400, &x), s.opt.timeout = (int)x;
        else if (!strcmp(a, "--max-connections")) ok = parse_size(v, 1, 65536, &x), s.opt.max_connections = (int)x;
        else {
            fprintf(stderr, "ggufembed serve: unknown option '%s' (see --help)\n", a);
            free(paths);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "ggufembed serve: bad value '%s' for %s (see --help)\n", v, a);
            free(paths);
            return 2;
        }
    }
    if (n_paths == 0 && getenv("GGUFEMBED_MODEL")) paths[n_paths++] = getenv("GGUFEMBED_MODEL");
    if (n_paths == 0) {
        fprintf(stderr, "ggufembed serve: no model (-m MODEL; see --help)\n");
        free(paths);
        return 2;
    }
    if (s.opt.api_key && !s.opt.api_key[0]) s.opt.api_key = NULL;

    /* Signals go to the main thread's sigwait only: block them before any thread starts
     * (threads inherit the mask). A peer closing a socket must not kill us either. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    s.models = calloc((size_t)n_paths, sizeof *s.models);
    int rc = 1;
    struct MHD_Daemon *d = NULL;
    if (!s.models) goto out;
    for (; s.n_models < n_paths; s.n_models++)
        if (!sv_model_open(&s, &s.models[s.n_models], paths[s.n_models], on_batch, NULL)) {
            s.n_models++; /* so that sv_models_close frees what it opened */
            goto out;
        }
    s.started = (long long)time(NULL);
    if (!(d = start_http(&s))) goto out;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "ggufembed serve: listening on http://%s%s%s:%u (models: ", strchr(s.opt.host, ':') ? "[" : "",
            s.opt.host, strchr(s.opt.host, ':') ? "]" : "", di ? (unsigned)di->port : (unsigned)s.opt.port);
    for (int i = 0; i < s.n_models; i++) fprintf(stderr, "%s%s", i ? ", " : "", s.models[i].name);
    fprintf(stderr, ")\n");

    int sig = 0;
    while (sigwait(&stop, &sig) != 0) {
    }
    fprintf(stderr, "ggufembed serve: %s: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&s.draining, 1);
    /* wait for the requests in flight (bounded by their deadline); a second signal stops at once */
    const double until = now_s() + s.opt.timeout + 5;
    struct timespec tick = {0, 50 * 1000000L};
    while (atomic_load(&s.active) > 0 && now_s() < until)
        if (sigtimedwait(&stop, NULL, &tick) > 0) break;
    MHD_stop_daemon(d);
    d = NULL;
    rc = 0;
out:
    if (d) MHD_stop_daemon(d);
    sv_models_close(&s);
    free(paths);
    if (rc == 0) fprintf(stderr, "ggufembed serve: stopped\n");
    return rc;
}
