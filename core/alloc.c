/* alloc.c - allocation wrappers with a fault-injection hook (see alloc.h). */
#include "alloc.h"

#include "ggufembed.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Atomic so that contexts on several threads may allocate at once; relaxed
 * order is enough for a counter only tests read. */
static atomic_long g_alloc_count; /* allocations since the last ge_alloc_fail_after() */
static atomic_long g_fail_at;     /* 0 = never fail */

/* The caller's allocator (ggufembed_set_allocator), or NULL for the C library's. */
static ggufembed_allocator g_user;
static int g_have_user;
/* Blocks handed out and not yet freed: the allocator may only change at zero. */
static atomic_long g_live;

ggufembed_status ggufembed_set_allocator(const ggufembed_allocator *a) {
    if (a && (a->struct_size < offsetof(ggufembed_allocator, user) + sizeof(void *) || !a->malloc_fn || !a->free_fn))
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    if (atomic_load(&g_live) != 0) return GGUFEMBED_ERR_INVALID_ARGUMENT;
    if (a) memcpy(&g_user, a, sizeof g_user);
    g_have_user = a != NULL;
    return GGUFEMBED_OK;
}

static void *raw_malloc(size_t size) {
    void *p = g_have_user ? g_user.malloc_fn(g_user.user, size) : malloc(size);
    if (p) atomic_fetch_add_explicit(&g_live, 1, memory_order_relaxed);
    return p;
}

static int should_fail(void) {
    long n = atomic_fetch_add_explicit(&g_alloc_count, 1, memory_order_relaxed) + 1;
    long at = atomic_load_explicit(&g_fail_at, memory_order_relaxed);
    return at > 0 && n >= at;
}

long ge_alloc_fail_after(long n) {
    long made = atomic_exchange(&g_alloc_count, 0);
    atomic_store(&g_fail_at, n > 0 ? n : 0);
    return made;
}

void *ge_malloc(size_t size) {
    if (should_fail()) return NULL;
    return raw_malloc(size ? size : 1);
}

void *ge_calloc(size_t n, size_t size) {
    if (should_fail()) return NULL;
    if (n == 0 || size == 0) n = size = 1;
    if (n > SIZE_MAX / size) return NULL;
    if (!g_have_user) { /* calloc: large blocks come as untouched zero pages */
        void *p = calloc(n, size);
        if (p) atomic_fetch_add_explicit(&g_live, 1, memory_order_relaxed);
        return p;
    }
    void *p = raw_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void ge_free(void *p) {
    if (!p) return;
    atomic_fetch_sub_explicit(&g_live, 1, memory_order_relaxed);
    if (g_have_user) g_user.free_fn(g_user.user, p);
    else free(p);
}

/* Over-allocate and store the original pointer just below the aligned block, so
 * this works with any C library (aligned_alloc is missing or picky on some). */
void *ge_aligned_alloc(size_t alignment, size_t size) {
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    if (size > SIZE_MAX - alignment - sizeof(void *)) return NULL;
    void *raw = ge_malloc(size + alignment + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t p = (uintptr_t)raw + sizeof(void *);
    p = (p + alignment - 1) & ~(uintptr_t)(alignment - 1);
    memcpy((void *)(p - sizeof(void *)), &raw, sizeof(void *));
    return (void *)p;
}

void ge_aligned_free(void *p) {
    if (!p) return;
    void *raw;
    memcpy(&raw, (char *)p - sizeof(void *), sizeof(void *));
    ge_free(raw);
}
