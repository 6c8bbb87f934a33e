/*
 * platform.h - the few services core/ needs from its host, implemented once per
 * build: native/pool_pthread.c (native, Emscripten with threads) or
 * wasm/pool_serial.c (single-threaded wasm, WASI). core/ itself makes no OS calls.
 */
#ifndef GE_PLATFORM_H
#define GE_PLATFORM_H

typedef struct ge_pool ge_pool;

/* fn(arg, ith, nth) is run once for every ith in [0, nth). */
typedef void (*ge_task_fn)(void *arg, int ith, int nth);

/* A pool of n_threads workers (the calling thread counts as one of them).
 * n_threads <= 0 means one per available core. NULL when out of memory or threads. */
ge_pool *ge_pool_create(int n_threads);

/* Runs fn on every worker (caller included) and returns when all are done. */
void ge_pool_run(ge_pool *pool, ge_task_fn fn, void *arg);

int ge_pool_size(const ge_pool *pool);

/* Accepts NULL. */
void ge_pool_free(ge_pool *pool);

#endif
