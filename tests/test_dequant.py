#!/usr/bin/env python3
"""Every quantized type's dequantization (core/quant.c ge_row_to_float) against gguf-py's
(llama.cpp's Python package, numpy: written independently of ggml's C and of ours), bit for
bit, on random blocks: every byte random, so every field takes every bit pattern (fp16
scales included: subnormals, infinities and NaNs too; NaN == NaN here).

    test_dequant.py TEST_QUANT_BIN GGUF_PY_DIR
GGUF_PY_DIR: llama.cpp's gguf-py (the vendored tree tests/reference/build-llamacpp.sh and
scripts/fetch-model.sh unpack). Needs numpy (the cache venv's python runs it).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, sys.argv[2])
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf.constants import GGML_QUANT_SIZES  # noqa: E402
from gguf.quants import dequantize  # noqa: E402

TYPES = [T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.IQ4_NL, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_XS,
         T.F16, T.BF16]
np.seterr(all="ignore")  # random fp16 scales include inf and NaN: their products are meant
rng = np.random.default_rng(20261201)
fails = 0
with tempfile.TemporaryDirectory() as tmp:
    for t in TYPES:
        blck, nbytes = GGML_QUANT_SIZES[t]
        n = 1024 if blck == 256 or blck == 1 else 512  # values per row
        rows = 300
        raw = rng.integers(0, 256, size=rows * (n // blck) * nbytes, dtype=np.uint8)
        inp, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        raw.tofile(inp)
        subprocess.run([sys.argv[1], "--dequant", str(int(t)), str(n), inp, out], check=True)
        ours = np.fromfile(out, dtype=np.float32).reshape(rows, n)
        ref = dequantize(raw.reshape(rows, -1), t).astype(np.float32).reshape(rows, n)
        a, b = ours.view(np.uint32), ref.view(np.uint32)
        bad = (a != b) & ~(np.isnan(ours) & np.isnan(ref))
        print("%-7s %7d values: %d differ" % (t.name, ours.size, int(bad.sum())))
        if bad.any():
            i = np.argwhere(bad)[0]
            print("   first at row %d value %d: ours %r gguf-py %r" % (i[0], i[1], ours[tuple(i)], ref[tuple(i)]))
            fails += 1
print("test_dequant: %d of %d types differ" % (fails, len(TYPES)))
sys.exit(1 if fails else 0)
