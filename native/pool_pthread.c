#define _POSIX_C_SOURCE 200809L
/*
 * pool_pthread.c - the persistent worker pool behind core/platform.h.
 *
 * One forward pass hands out a few hundred small jobs, so waking the workers
 * must be cheap: after a job a worker spins briefly on the generation counter
 * (the next job usually follows within microseconds) and only then sleeps on a
 * condition variable. The caller runs share 0 itself and spins until the
 * others are done.
 */
#include "../core/alloc.h"
#include "../core/platform.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define SPIN_ROUNDS 20000 /* ~50-100 us of pause instructions before sleeping */

struct ge_pool {
    int n;                    /* workers including the caller */
    pthread_t *threads;       /* [n-1] */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;          /* bumped once per job (under mu) */
    atomic_int pending;       /* workers still running the current job */
    atomic_int stop;
    int sleeping;             /* workers waiting on cv (under mu) */
    ge_task_fn fn;
    void *arg;
};

typedef struct worker_arg {
    ge_pool *pool;
    int ith;
} worker_arg;

static void *worker_main(void *p) {
    ge_pool *pool = ((worker_arg *)p)->pool;
    const int ith = ((worker_arg *)p)->ith;
    ge_free(p);
    unsigned seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->gen, memory_order_acquire) == seen && spins < SPIN_ROUNDS &&
               !atomic_load(&pool->stop)) {
            CPU_RELAX();
            spins++;
        }
        if (atomic_load_explicit(&pool->gen, memory_order_acquire) == seen && !atomic_load(&pool->stop)) {
            pthread_mutex_lock(&pool->mu);
            pool->sleeping++;
            while (atomic_load(&pool->gen) == seen && !atomic_load(&pool->stop)) pthread_cond_wait(&pool->cv, &pool->mu);
            pool->sleeping--;
            pthread_mutex_unlock(&pool->mu);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = atomic_load_explicit(&pool->gen, memory_order_acquire);
        pool->fn(pool->arg, ith, pool->n);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
}

static int cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

ge_pool *ge_pool_create(int n_threads) {
    ge_pool *pool = ge_calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n = n_threads > 0 ? n_threads : cpu_count();
    if (pthread_mutex_init(&pool->mu, NULL) != 0) {
        ge_free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->cv, NULL) != 0) {
        pthread_mutex_destroy(&pool->mu);
        ge_free(pool);
        return NULL;
    }
    if (pool->n > 1) {
        pool->threads = ge_calloc((size_t)pool->n - 1, sizeof(pthread_t));
        if (!pool->threads) {
            pool->n = 1;
            ge_pool_free(pool);
            return NULL;
        }
        for (int i = 1; i < pool->n; i++) {
            worker_arg *wa = ge_malloc(sizeof *wa);
            if (wa) {
                wa->pool = pool;
                wa->ith = i;
            }
            if (!wa || pthread_create(&pool->threads[i - 1], NULL, worker_main, wa) != 0) {
                ge_free(wa);
                pool->n = i; /* stop and join the workers that did start */
                ge_pool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void ge_pool_run(ge_pool *pool, ge_task_fn fn, void *arg) {
    if (pool->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->pending, pool->n - 1);
    pthread_mutex_lock(&pool->mu);
    atomic_fetch_add_explicit(&pool->gen, 1, memory_order_release);
    if (pool->sleeping) pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    fn(arg, 0, pool->n);
    /* spin for the stragglers; when they take long (a worker preempted on a busy
     * machine), give the core away instead of burning the time slice it needs */
    for (int spins = 0; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; spins++) {
        if (spins < SPIN_ROUNDS) CPU_RELAX();
        else sched_yield();
    }
}

int ge_pool_size(const ge_pool *pool) { return pool ? pool->n : 1; }

void ge_pool_free(ge_pool *pool) {
    if (!pool) return;
    if (pool->threads) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->stop, 1);
        pthread_cond_broadcast(&pool->cv);
        pthread_mutex_unlock(&pool->mu);
        for (int i = 1; i < pool->n; i++) pthread_join(pool->threads[i - 1], NULL);
        ge_free(pool->threads);
    }
    pthread_cond_destroy(&pool->cv);
    pthread_mutex_destroy(&pool->mu);
    ge_free(pool);
}
