#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
/* open_file.c - ggufembed_model_open_file: memory-map the file read-only and use
 * the weights in place. Pages of the 262k-row embedding table that no text
 * touches are never read, so resident memory stays near the layer weights. */
#include "../core/model.h"
#include "../core/util.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/alloc.h"

typedef struct mapping {
    void *addr;
    size_t size;
} mapping;

static void unmap(void *user) {
    mapping *mp = user;
    if (mp->addr) munmap(mp->addr, mp->size);
    ge_free(mp);
}

/* The pages of [p, p+n) that lie wholly inside it: dropped from this process
 * (a private read-only file mapping refaults them from the page cache if they
 * are ever read again). */
static void discard(void *user, const void *p, size_t n) {
    (void)user;
    const long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0) return;
    const uintptr_t lo = ((uintptr_t)p + (uintptr_t)ps - 1) & ~((uintptr_t)ps - 1);
    const uintptr_t hi = ((uintptr_t)p + n) & ~((uintptr_t)ps - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

ggufembed_status ggufembed_model_open_file(const char *path, ggufembed_model **out, char *err, size_t es) {
    return ggufembed_model_open_file_v2(path, 0, out, err, es);
}

ggufembed_status ggufembed_model_open_file_v2(const char *path, unsigned flags, ggufembed_model **out, char *err,
                                              size_t es) {
    if (!out) {
        ge_errorf(err, es, "out_model is NULL");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    if (!path) {
        ge_errorf(err, es, "path is NULL");
        return GGUFEMBED_ERR_INVALID_ARGUMENT;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ge_errorf(err, es, "cannot open '%s': %s", path, strerror(errno));
        return GGUFEMBED_ERR_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ge_errorf(err, es, "'%s' is not a regular file", path);
        close(fd);
        return GGUFEMBED_ERR_IO;
    }
    if (st.st_size == 0) {
        ge_errorf(err, es, "'%s' is empty, not a GGUF file", path);
        close(fd);
        return GGUFEMBED_ERR_FORMAT;
    }
    mapping *mp = ge_calloc(1, sizeof *mp);
    if (!mp) {
        close(fd);
        ge_errorf(err, es, "out of memory");
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    mp->size = (size_t)st.st_size;
    mp->addr = mmap(NULL, mp->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mp->addr == MAP_FAILED) {
        mp->addr = NULL;
        ge_errorf(err, es, "cannot map '%s': %s", path, strerror(errno));
        unmap(mp);
        return GGUFEMBED_ERR_IO;
    }
    const ge_bytes_owner owner = {unmap, discard, mp};
    ggufembed_status s = ge_model_open_bytes(mp->addr, mp->size, flags, &owner, out, err, es);
    if (s != GGUFEMBED_OK) unmap(mp);
    return s;
}
