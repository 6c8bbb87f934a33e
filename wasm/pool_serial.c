/*
 * pool_serial.c - core/platform.h for single-threaded hosts (wasm without
 * threads, WASI): a "pool" of one worker, the caller.
 */
#include "../core/alloc.h"
#include "../core/platform.h"

struct ge_pool {
    int n;
};

ge_pool *ge_pool_create(int n_threads) {
    (void)n_threads;
    ge_pool *p = ge_calloc(1, sizeof *p);
    if (p) p->n = 1;
    return p;
}

void ge_pool_run(ge_pool *pool, ge_task_fn fn, void *arg) {
    (void)pool;
    fn(arg, 0, 1);
}

int ge_pool_size(const ge_pool *pool) { return pool ? pool->n : 1; }

void ge_pool_free(ge_pool *pool) { ge_free(pool); }
