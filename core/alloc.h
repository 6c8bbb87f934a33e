/*
 * alloc.h - the one place core/ allocates memory.
 *
 * Every allocation in the library goes through these wrappers so that tests can
 * fail the Nth allocation (SQLite-style fault injection) and check that each
 * entry point then returns GGUFEMBED_ERR_OUT_OF_MEMORY cleanly, leaking nothing.
 */
#ifndef GE_ALLOC_H
#define GE_ALLOC_H

#include <stddef.h>

void *ge_malloc(size_t size);
void *ge_calloc(size_t n, size_t size);
void *ge_aligned_alloc(size_t alignment, size_t size); /* free with ge_aligned_free */
void ge_free(void *p);
void ge_aligned_free(void *p);

/* Test hook: after this call the allocation numbered n (1 = the next one) and every
 * later one fails; n <= 0 disables the failure. Returns the number of allocations
 * made since the previous call. Not thread-safe: tests only. */
long ge_alloc_fail_after(long n);

#endif
