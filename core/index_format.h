/*
 * index_format.h - the ggufembed index file (version 1), and the seam between the index
 * (index.c) and its reader/writer (index_io.c).
 *
 * All integers little-endian, floats IEEE-754 binary32 little-endian. Layout:
 *
 *   offset size  field
 *        0    4  magic "GEIX"
 *        4    4  u32 version (1)
 *        8    4  u32 type: 0 f32, 1 int8, 2 binary          (ggufembed_index_type)
 *       12    4  u32 metric: 0 cosine, 1 dot                 (ggufembed_metric)
 *       16    4  u32 dimension, 1..65536
 *       20    4  u32 flags: bit 0 = f32 vectors kept beside the codes; other bits 0
 *       24    8  u64 count n
 *       32    8  u64 FNV-1a 64 of every byte from offset 48 to the end
 *       40    8  u64 reserved, 0
 *       48       ids        u64[n]                 (distinct)
 *                scales     f32[n]                 (int8 only; finite, >= 0)
 *                codes      i8[n * dim], then zero bytes up to a multiple of 8 (int8 only;
 *                           each in -127..127)
 *                bits       u64[n * ceil(dim/64)]  (binary only; bits past dim are 0)
 *                vectors    f32[n * dim]           (f32, or flag bit 0; finite)
 *
 * The file is exactly that long. A loader refuses anything else with GGUFEMBED_ERR_FORMAT
 * and a message naming the field: wrong magic, a newer version, unknown type/metric/flags,
 * a size that does not match, a checksum mismatch, out-of-range values, duplicate ids.
 */
#ifndef GE_INDEX_FORMAT_H
#define GE_INDEX_FORMAT_H

#include "ggufembed.h"

#include <stddef.h>
#include <stdint.h>

#define GE_INDEX_MAGIC "GEIX"
#define GE_INDEX_VERSION 1u
#define GE_INDEX_HEADER 48u
#define GE_INDEX_MAX_DIM 65536
#define GE_INDEX_FLAG_F32 1u

/* the arrays of an index, as index_io.c reads and fills them */
typedef struct ge_index_arrays {
    int32_t dim, type, metric, keep_f32, words;
    size_t n;
    uint64_t *ids;
    float *f32;    /* NULL unless f32 type or keep_f32 */
    int8_t *q8;    /* int8 */
    float *scale;  /* int8 */
    uint64_t *bits; /* binary */
} ge_index_arrays;

void ge_index_view(const ggufembed_index *ix, ge_index_arrays *a);
ggufembed_index *ge_index_create(int32_t dim, int32_t type, int32_t metric, int32_t keep_f32, size_t n,
                                 ge_index_arrays *a);
int ge_index_finish(ggufembed_index *ix);

#endif
