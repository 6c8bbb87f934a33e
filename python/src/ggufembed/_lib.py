"""ctypes declarations of the C API (core/ggufembed.h), loaded from the wheel's
libggufembed.so (or $GGUFEMBED_LIBRARY). ctypes releases the GIL during every call."""
import ctypes as C
import os
from typing import Any

_here = os.path.dirname(os.path.abspath(__file__))


def _load() -> C.CDLL:
    path = os.environ.get("GGUFEMBED_LIBRARY") or os.path.join(_here, "libggufembed.so")
    return C.CDLL(path)


lib = _load()

c_size_p = C.POINTER(C.c_size_t)


class ModelInfo(C.Structure):
    """ggufembed_model_info; the library fills as much as struct_size says"""
    _fields_ = [
        ("struct_size", C.c_size_t), ("architecture", C.c_char_p), ("name", C.c_char_p),
        ("dimension", C.c_int32), ("hidden_size", C.c_int32), ("context_length", C.c_int32),
        ("vocab_size", C.c_int32), ("n_layers", C.c_int32), ("n_heads", C.c_int32), ("n_kv_heads", C.c_int32),
        ("head_dim", C.c_int32), ("ffn_size", C.c_int32), ("sliding_window", C.c_int32), ("has_dense", C.c_int32),
        ("missing_dense", C.c_int32), ("warning", C.c_char_p), ("n_tensors", C.c_int32),
        ("weight_types", C.c_char_p), ("n_params", C.c_uint64), ("file_size", C.c_uint64),
        ("bos_id", C.c_int32), ("eos_id", C.c_int32), ("add_bos", C.c_int32), ("add_eos", C.c_int32),
        ("prompts", C.c_char_p), ("tasks", C.c_char_p), ("tokenizer", C.c_char_p), ("vocab_only", C.c_int32),
        ("reranker", C.c_int32), ("pooling", C.c_char_p),
    ]


class ContextParams(C.Structure):
    _fields_ = [("struct_size", C.c_size_t), ("n_threads", C.c_int32)]


PROGRESS = C.CFUNCTYPE(C.c_int, C.c_void_p, C.c_size_t, C.c_size_t)


class EmbedOptions(C.Structure):
    _fields_ = [
        ("struct_size", C.c_size_t), ("task", C.c_int), ("title", C.c_char_p), ("dimensions", C.c_int32),
        ("normalize", C.c_int32), ("truncation", C.c_int), ("whitespace", C.c_int), ("progress", PROGRESS),
        ("progress_user", C.c_void_p), ("prefix", C.c_char_p), ("instruction", C.c_char_p),
    ]


def _fn(name: str, res: Any, *args: Any) -> Any:
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


vp = C.c_void_p
version_string = _fn("ggufembed_version_string", C.c_char_p)
status_string = _fn("ggufembed_status_string", C.c_char_p, C.c_int)
kernels = _fn("ggufembed_kernels", C.c_char_p)
model_open_file_v2 = _fn("ggufembed_model_open_file_v2", C.c_int, C.c_char_p, C.c_uint, C.POINTER(vp), C.c_char_p, C.c_size_t)
model_open_memory_v2 = _fn("ggufembed_model_open_memory_v2", C.c_int, vp, C.c_size_t, C.c_uint, C.POINTER(vp), C.c_char_p,
                           C.c_size_t)
model_free = _fn("ggufembed_model_free", None, vp)
model_get_info = _fn("ggufembed_model_get_info", C.c_int, vp, C.POINTER(ModelInfo), C.c_size_t)
context_params_init = _fn("ggufembed_context_params_init", None, C.POINTER(ContextParams))
context_new = _fn("ggufembed_context_new", C.c_int, vp, C.POINTER(ContextParams), C.POINTER(vp))
context_free = _fn("ggufembed_context_free", None, vp)
context_last_error = _fn("ggufembed_context_last_error", C.c_char_p, vp)
task_from_name = _fn("ggufembed_task_from_name", C.c_int, C.c_char_p, C.POINTER(C.c_int))
embed_options_init = _fn("ggufembed_embed_options_init", None, C.POINTER(EmbedOptions))
output_dimension = _fn("ggufembed_output_dimension", C.c_int32, vp, C.POINTER(EmbedOptions))
embed_batch = _fn("ggufembed_embed_batch", C.c_int, vp, C.POINTER(C.c_char_p), c_size_p, C.c_size_t,
                  C.POINTER(EmbedOptions), C.POINTER(C.c_float), C.c_size_t)
rerank = _fn("ggufembed_rerank", C.c_int, vp, C.c_char_p, C.c_size_t, C.POINTER(C.c_char_p), c_size_p, C.c_size_t,
             C.POINTER(C.c_float))
tokenize = _fn("ggufembed_tokenize", C.c_int, vp, C.c_char_p, C.c_size_t, C.c_uint, C.POINTER(C.c_int32), C.c_size_t,
               c_size_p)

OPEN_REPACK = 1
TOKENIZE_DEFAULT = 3
STATUS_NAMES = ["OK", "INVALID_ARGUMENT", "IO", "OUT_OF_MEMORY", "FORMAT", "UNSUPPORTED", "TOO_LONG",
                "BUFFER_TOO_SMALL", "CANCELLED", "INTERNAL"]
