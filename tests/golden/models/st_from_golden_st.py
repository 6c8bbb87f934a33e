#!/usr/bin/env python3
"""EmbeddingGemma's sentence-transformers outputs in test_model.c's layout, from the truth
tests/golden/st/ already holds (st_reference.py's "full" section: every text, no prompt,
768 values): writes embeddinggemma-300m-dense/st.f16 (count x 768 float16, row i = corpus
text i, a NaN row where sentence-transformers has no vector) and st-tokens.jsonl (its ids).

    python3 tests/golden/models/st_from_golden_st.py
"""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ST = os.path.join(os.path.dirname(HERE), "st")
OUT = os.path.join(HERE, "embeddinggemma-300m-dense")
n = sum(1 for _ in open(os.path.join(ST, "tokens.jsonl"), encoding="utf-8"))
full = next(json.loads(l) for l in open(os.path.join(ST, "sections.jsonl")) if json.loads(l)["section"] == "full")
dim, off = full["dim"], full["offset"]
with open(os.path.join(ST, "vectors.f16"), "rb") as f:
    vals = f.read()
nan_row = struct.pack("<H", 0x7E00) * dim
rows = [nan_row] * n
for k, i in enumerate(full["texts"]):
    start = 2 * (off + k * dim)
    rows[i] = vals[start:start + 2 * dim]
os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "st.f16"), "wb") as f:
    f.write(b"".join(rows))
shutil.copyfile(os.path.join(ST, "tokens.jsonl"), os.path.join(OUT, "st-tokens.jsonl"))
print("%d rows (%d with a vector) -> %s" % (n, len(full["texts"]), OUT))
