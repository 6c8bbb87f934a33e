/*
 * gguf.h - a bounds-checked GGUF (v2, v3) reader over one byte span.
 *
 * gguf_parse() walks the whole header once, checks every count, length, offset
 * and size against the span, and records zero-copy views: strings, array data
 * and tensor data all point into the caller's bytes. After a successful parse
 * any access through these structs stays inside the span.
 *
 * File layout (little-endian):
 *   "GGUF" u32 version, u64 n_tensors, u64 n_kv,
 *   n_kv   x { str key, u32 type, value }
 *   n_tensors x { str name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   padding to general.alignment (default 32), then the tensor data.
 *   str = u64 length + bytes (no NUL); array = u32 elem type, u64 n, n elems.
 */
#ifndef GE_GGUF_H
#define GE_GGUF_H

#include <stddef.h>
#include <stdint.h>

typedef enum gguf_type {
    GGUF_TYPE_UINT8 = 0, GGUF_TYPE_INT8 = 1, GGUF_TYPE_UINT16 = 2, GGUF_TYPE_INT16 = 3,
    GGUF_TYPE_UINT32 = 4, GGUF_TYPE_INT32 = 5, GGUF_TYPE_FLOAT32 = 6, GGUF_TYPE_BOOL = 7,
    GGUF_TYPE_STRING = 8, GGUF_TYPE_ARRAY = 9, GGUF_TYPE_UINT64 = 10, GGUF_TYPE_INT64 = 11,
    GGUF_TYPE_FLOAT64 = 12, GGUF_TYPE_COUNT_
} gguf_type;

/* ggml tensor types this reader knows the block layout of (ggml.h numbering). */
typedef enum ggml_type_id {
    GGML_TYPE_F32 = 0, GGML_TYPE_F16 = 1, GGML_TYPE_Q4_0 = 2, GGML_TYPE_Q4_1 = 3,
    GGML_TYPE_Q5_0 = 6, GGML_TYPE_Q5_1 = 7, GGML_TYPE_Q8_0 = 8, GGML_TYPE_Q8_1 = 9,
    GGML_TYPE_Q2_K = 10, GGML_TYPE_Q3_K = 11, GGML_TYPE_Q4_K = 12, GGML_TYPE_Q5_K = 13,
    GGML_TYPE_Q6_K = 14, GGML_TYPE_Q8_K = 15, GGML_TYPE_IQ2_XXS = 16, GGML_TYPE_IQ2_XS = 17,
    GGML_TYPE_IQ3_XXS = 18, GGML_TYPE_IQ1_S = 19, GGML_TYPE_IQ4_NL = 20, GGML_TYPE_IQ3_S = 21,
    GGML_TYPE_IQ2_S = 22, GGML_TYPE_IQ4_XS = 23, GGML_TYPE_I8 = 24, GGML_TYPE_I16 = 25,
    GGML_TYPE_I32 = 26, GGML_TYPE_I64 = 27, GGML_TYPE_F64 = 28, GGML_TYPE_IQ1_M = 29,
    GGML_TYPE_BF16 = 30, GGML_TYPE_TQ1_0 = 34, GGML_TYPE_TQ2_0 = 35, GGML_TYPE_MXFP4 = 39,
    GGML_TYPE_MAX_ = 40
} ggml_type_id;

/* "Q8_0", ... or NULL for an id this reader does not know. */
const char *ggml_type_name(uint32_t type);

typedef struct gguf_str {
    const char *ptr; /* not NUL-terminated */
    uint64_t len;
} gguf_str;

typedef struct gguf_kv {
    gguf_str key;
    uint32_t type;            /* gguf_type */
    union {
        uint64_t u64;         /* all unsigned integer types and bool */
        int64_t i64;          /* all signed integer types */
        double f64;           /* FLOAT32, FLOAT64 */
        gguf_str str;         /* STRING */
    } v;
    /* ARRAY only: element type, count and the first element's bytes. Elements of
     * fixed-size types are packed; STRING elements are length-prefixed (walk with
     * gguf_str_array_next). */
    uint32_t arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;
    size_t arr_bytes;
} gguf_kv;

typedef struct gguf_tensor {
    gguf_str name;
    uint32_t n_dims;
    uint64_t ne[4];      /* ne[0] = innermost (row length); unused dims are 1 */
    uint32_t type;       /* ggml_type_id */
    uint64_t offset;     /* from the start of the data section */
    uint64_t nbytes;
    const void *data;    /* view into the span */
} gguf_tensor;

typedef struct gguf_file {
    const uint8_t *base;
    size_t size;
    uint32_t version;
    uint64_t alignment;
    size_t data_offset;  /* start of the tensor data section */
    uint64_t n_kv;
    gguf_kv *kv;         /* owned (ge_malloc) */
    uint64_t n_tensors;
    gguf_tensor *tensors;/* owned (ge_malloc) */
} gguf_file;

/* Returns 0 on success. On failure returns a ggufembed_status value and writes a
 * message to err; *f is left empty (nothing to release). */
int gguf_parse(gguf_file *f, const void *data, size_t size, char *err, size_t err_size);
void gguf_release(gguf_file *f);

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Typed getters: return 1 and set *out when the key exists with a compatible
 * scalar type (any integer type for ints; FLOAT32/FLOAT64 for floats). */
int gguf_get_int(const gguf_file *f, const char *key, int64_t *out);
int gguf_get_float(const gguf_file *f, const char *key, double *out);
int gguf_get_bool(const gguf_file *f, const char *key, int *out);
int gguf_get_str(const gguf_file *f, const char *key, gguf_str *out);

/* Walk a STRING array: *cursor starts at kv->arr_data; each call returns the next
 * string and advances. Only valid for arrays gguf_parse accepted (already checked). */
gguf_str gguf_str_array_next(const uint8_t **cursor);

/* Size in bytes of one element of a fixed-size gguf_type, 0 for STRING/ARRAY/unknown. */
size_t gguf_type_size(uint32_t type);
const char *gguf_type_name(uint32_t type);

int gguf_str_eq(gguf_str s, const char *cstr);

#endif
