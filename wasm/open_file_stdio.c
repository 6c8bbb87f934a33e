/*
 * open_file_stdio.c - ggufembed_model_open_file for hosts without mmap (WASI):
 * read the whole file into one aligned allocation that the model then owns.
 */
#include "../core/alloc.h"
#include "../core/model.h"
#include "../core/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void release_buffer(void *p) { ge_aligned_free(p); }

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
    FILE *f = fopen(path, "rb");
    if (!f) {
        ge_errorf(err, es, "cannot open '%s': %s", path, strerror(errno));
        return GGUFEMBED_ERR_IO;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        ge_errorf(err, es, "'%s' is not a regular file", path);
        fclose(f);
        return GGUFEMBED_ERR_IO;
    }
    if (size == 0) {
        ge_errorf(err, es, "'%s' is empty, not a GGUF file", path);
        fclose(f);
        return GGUFEMBED_ERR_FORMAT;
    }
    void *buf = ge_aligned_alloc(64, (size_t)size);
    if (!buf) {
        ge_errorf(err, es, "out of memory reading '%s' (%ld bytes)", path, size);
        fclose(f);
        return GGUFEMBED_ERR_OUT_OF_MEMORY;
    }
    size_t got = 0;
    while (got < (size_t)size) {
        size_t n = fread((char *)buf + got, 1, (size_t)size - got, f);
        if (n == 0) break;
        got += n;
    }
    int bad = ferror(f) || got != (size_t)size;
    fclose(f);
    if (bad) {
        ge_errorf(err, es, "cannot read '%s'", path);
        ge_aligned_free(buf);
        return GGUFEMBED_ERR_IO;
    }
    const ge_bytes_owner owner = {release_buffer, NULL, buf};
    ggufembed_status s = ge_model_open_bytes(buf, (size_t)size, flags, &owner, out, err, es);
    if (s != GGUFEMBED_OK) ge_aligned_free(buf);
    return s;
}
