#!/usr/bin/env bash
# bench/serve.sh - HTTP embeddings servers side by side: `ggufembed serve` vs llama.cpp's
# llama-server, the same GGUF, 2 threads each, loopback, OpenAI POST /v1/embeddings.
#
#   bench/serve.sh            full run: clients 1, 8, 64 x text sets short, long, both servers
#                             alternating (A B, then B A), --rounds rounds; prints a Markdown table
#                             and writes bench/results/serve-<UTC date>.md
#   bench/serve.sh --smoke    tiny counts (~1 minute): the same matrix on the short set,
#                             1 round, results in a temp dir; fails when a server does not start,
#                             does not answer or answers wrongly. llama-server only when its build
#                             is cached (it says so loudly otherwise: the build takes ~15 min).
#   bench/serve.sh --tune     llama-server alone under each configuration of LLAMA_TUNE_CONFIGS
#                             (8 and 64 clients, both text sets); writes serve-tune-<date>.md
#
# Load: bench/serve_bench.py (stdlib only): C client threads, one keep-alive connection each,
# one text per request (--per-request K: K texts), round-robin over the texts file; texts/s =
# texts / wall time of the timed phase, P50/P99 = request latency; warm-up requests first.
# Table cells: the median over rounds of each figure.
#
# Options: --model FILE (default: scripts/fetch-model.sh, EmbeddingGemma-300M Q8_0),
#          --rounds N (default 3; smoke 1), --clients 1,8,64, --sets short,long,
#          --per-request K (default 1), --out FILE.md, --no-llamacpp, --no-ggufembed,
#          --no-build (use the binaries as they are; fail if missing), --smoke, --tune
# Environment:
#   GGUFEMBED_BIN     ggufembed CLI (default <repo>/build/bin/ggufembed; built with the
#                     project's cmake command when it is missing or has no `serve`)
#   LLAMA_SERVER_ARGS llama-server's tuning flags (default: the best of bench/serve.sh --tune
#                     on the 2-core machines, see LLAMA_DEFAULT below); -m, --port, --host,
#                     --embeddings, --pooling, -t/-tb, --alias are always set by this script
#   LLAMA_TUNE_CONFIGS  ';'-separated flag sets for --tune
#   SERVE_THREADS     threads per server (default 2)
#   SERVE_QUIET_WAIT  seconds each run first waits for the machine to be idle (default 120;
#                     smoke 0); every run records the CPU other processes used meanwhile
#   SERVE_RETRIES     repeat a run disturbed by other processes (> SERVE_MAX_OTHERS cores, default
#                     0.25) at most this many times (default 3; smoke 0); the last attempt counts
#   GGUFEMBED_CACHE   cache root (model, llama.cpp build; default ~/.cache/ggufembed)
#   GGUFEMBED_MODEL_PATH  the GGUF to use when --model is not given (instead of fetch-model.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CMDLINE="bench/serve.sh${*:+ $*}"
SMOKE=0 TUNE=0 ROUNDS="" CLIENTS="" SETS="" K=1 OUT="" MODEL="" NO_LLAMA=0 NO_GE=0 NO_BUILD=0
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 ;;
        --tune) TUNE=1 ;;
        --rounds) ROUNDS=$2; shift ;;
        --clients) CLIENTS=$2; shift ;;
        --sets) SETS=$2; shift ;;
        --per-request) K=$2; shift ;;
        --out) OUT=$2; shift ;;
        --model) MODEL=$2; shift ;;
        --no-llamacpp) NO_LLAMA=1 ;;
        --no-ggufembed) NO_GE=1 ;;
        --no-build) NO_BUILD=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -n 's/^# \{0,1\}//p'; exit 0 ;;
        *) echo "bench/serve.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

log() { printf '[serve-bench] %s\n' "$*" >&2; }
die() { printf '[serve-bench] *** FAILED: %s ***\n' "$*" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || die "python3 is required"
THREADS="${SERVE_THREADS:-2}"
# before each run wait up to this many seconds for the machine to be idle (other jobs using
# < 0.15 cores over 1 s); the runs record what else ran meanwhile ("other_cores")
QUIET_WAIT="${SERVE_QUIET_WAIT:-120}"
RETRIES="${SERVE_RETRIES:-3}" MAX_OTHERS="${SERVE_MAX_OTHERS:-0.25}"
CACHE="${GGUFEMBED_CACHE:-$HOME/.cache/ggufembed}"
# llama-server's best configuration here (bench/serve.sh --tune, results/serve-tune-*.md)
LLAMA_DEFAULT="-np 8 -c 8192 -b 2048 -ub 2048"
LLAMA_ARGS="${LLAMA_SERVER_ARGS:-$LLAMA_DEFAULT}"
LLAMA_TUNE_CONFIGS="${LLAMA_TUNE_CONFIGS:--np 1 -c 2048 -b 2048 -ub 2048;-np 4 -c 4096 -b 2048 -ub 2048;-np 8 -c 8192 -b 2048 -ub 2048;-np 16 -c 8192 -b 2048 -ub 2048;-np 16 -c 16384 -b 4096 -ub 4096;-np 8 -c 8192 -b 2048 -ub 2048 -fa off}"
[ "$TUNE" = 1 ] && NO_GE=1
if [ "$SMOKE" = 1 ]; then
    ROUNDS=${ROUNDS:-1} CLIENTS=${CLIENTS:-1,8,64} SETS=${SETS:-short} QUIET_WAIT=${SERVE_QUIET_WAIT:-0} RETRIES=${SERVE_RETRIES:-0}
elif [ "$TUNE" = 1 ]; then
    ROUNDS=${ROUNDS:-1} CLIENTS=${CLIENTS:-8,64} SETS=${SETS:-short,long}
else
    ROUNDS=${ROUNDS:-3} CLIENTS=${CLIENTS:-1,8,64} SETS=${SETS:-short,long}
fi
T_START=$(date +%s)
DATE=$(date -u +%Y-%m-%d)
TMP=$(mktemp -d /tmp/serve-bench.XXXXXX)
if [ -z "$OUT" ]; then
    if [ "$SMOKE" = 1 ]; then OUT="$TMP/serve-smoke.md"
    elif [ "$TUNE" = 1 ]; then OUT="$HERE/results/serve-tune-$DATE.md"
    else OUT="$HERE/results/serve-$DATE.md"; fi
fi
JSONL="$TMP/runs.jsonl"  # every run; the report lists them all too

# requests per (server, clients, set) run and warm-up requests per client
requests_for() {  # set clients
    local c=$2
    if [ "$SMOKE" = 1 ]; then echo $(( c > 8 ? c : 8 )); return; fi
    case "$1" in
        short) echo $(( c * 4 > 256 ? c * 4 : 256 )) ;;
        *)     echo $(( c * 2 > 128 ? c * 2 : 128 )) ;;
    esac
}
warmup_for() { if [ "$SMOKE" = 1 ] || [ "$2" -ge 64 ]; then echo 1; else echo 2; fi; }
texts_of() { case "$1" in short) echo "$HERE/texts/batch-short.txt" ;; long) echo "$HERE/texts/batch-long.txt" ;; *) echo "$1" ;; esac; }

# ---- servers: started here, always stopped on exit ----
PIDS=()
stop_servers() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() { local rc=$?; stop_servers; [ "$SMOKE" = 1 ] || [ "$rc" != 0 ] || rm -rf "$TMP"; exit "$rc"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

http_status() {  # URL -> HTTP status code (000 when no answer)
    python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# ---- 1. the model ----
if [ -n "$MODEL" ]; then
    [ -f "$MODEL" ] || die "--model $MODEL: no such file"
    MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")
elif [ -n "${GGUFEMBED_MODEL_PATH:-}" ]; then
    MODEL=$GGUFEMBED_MODEL_PATH
else
    MODEL=$(bash "$ROOT/scripts/fetch-model.sh" 2> >(sed 's/^/  /' >&2)) || die "scripts/fetch-model.sh failed"
fi
[ -f "$MODEL" ] || die "no model ($MODEL)"
MODEL_NAME=$(basename "$MODEL" .gguf)
log "model: $MODEL (name $MODEL_NAME)"

# ---- 2. binaries ----
LLAMA_SERVER="" LLAMA_SKIP=""
if [ "$NO_LLAMA" = 1 ]; then
    LLAMA_SKIP="--no-llamacpp given"
else
    set +e
    if [ "$NO_BUILD" = 1 ] || [ "$SMOKE" = 1 ]; then
        LLAMA_SERVER=$(bash "$HERE/build-llamacpp.sh" --server --if-cached)
    else
        log "building llama-server (bench/build-llamacpp.sh --server; ~15 min the first time)"
        LLAMA_SERVER=$(bash "$HERE/build-llamacpp.sh" --server)
    fi
    rc=$?
    set -e
    if [ $rc = 3 ]; then
        LLAMA_SERVER=""
        LLAMA_SKIP="no cached llama-server build in $CACHE/bench-llamacpp-0.3.36 (bench/build-llamacpp.sh --server builds it)"
        [ "$SMOKE" = 1 ] || die "$LLAMA_SKIP"
    elif [ $rc != 0 ]; then
        die "llama-server build failed"
    fi
fi
[ -n "$LLAMA_SKIP" ] && log "*** llama-server SKIPPED: $LLAMA_SKIP ***"

GE_BIN="${GGUFEMBED_BIN:-$ROOT/build/bin/ggufembed}"
has_serve() { [ -x "$GE_BIN" ] && "$GE_BIN" serve --help >/dev/null 2>&1; }
if [ "$NO_GE" = 0 ] && ! has_serve; then
    [ "$NO_BUILD" = 1 ] && die "$GE_BIN is missing or has no 'serve' command (--no-build)"
    [ -n "${GGUFEMBED_BIN:-}" ] && die "GGUFEMBED_BIN=$GE_BIN is missing or has no 'serve' command"
    log "building ggufembed (Release) in $ROOT/build"
    cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$ROOT/build" -j "${BENCH_JOBS:-$(nproc)}" >/dev/null
    has_serve || die "$GE_BIN has no 'serve' command after the build"
fi
[ "$NO_GE" = 1 ] && [ -z "$LLAMA_SERVER" ] && die "nothing to benchmark"

# ---- 3. start the servers ----
GE_URL="" GE_PID="" LL_URL="" LL_PID=""
start_ggufembed() {
    local log_file="$TMP/ggufembed-serve.log"
    "$GE_BIN" serve -m "$MODEL" --host 127.0.0.1 --port 0 --threads "$THREADS" 2>"$log_file" >"$TMP/ggufembed-serve.out" &
    GE_PID=$!
    PIDS+=("$GE_PID")
    local port="" i
    for i in $(seq 1 600); do
        port=$(sed -n 's|^ggufembed serve: listening on http://[^:]*:\([0-9]*\).*|\1|p' "$log_file" | head -n1)
        [ -n "$port" ] && break
        kill -0 "$GE_PID" 2>/dev/null || { tail -n 20 "$log_file" >&2; die "ggufembed serve exited before listening"; }
        sleep 0.2
    done
    [ -n "$port" ] || { tail -n 20 "$log_file" >&2; die "ggufembed serve did not listen within 120 s"; }
    GE_URL="http://127.0.0.1:$port"
    [ "$(http_status "$GE_URL/health")" = 200 ] || die "ggufembed serve: GET /health is not 200"
    log "ggufembed serve: $GE_URL (pid $GE_PID): $(head -n1 "$log_file")"
}
start_llama() {  # flags...
    local log_file="$TMP/llama-server.log" port i st
    port=$(free_port)
    # shellcheck disable=SC2086
    "$LLAMA_SERVER" -m "$MODEL" --host 127.0.0.1 --port "$port" --embeddings --pooling mean \
        -t "$THREADS" -tb "$THREADS" --alias "$MODEL_NAME" --no-webui $* >"$log_file" 2>&1 &
    LL_PID=$!
    PIDS+=("$LL_PID")
    LL_URL="http://127.0.0.1:$port"
    for i in $(seq 1 600); do
        st=$(http_status "$LL_URL/health")
        [ "$st" = 200 ] && break
        kill -0 "$LL_PID" 2>/dev/null || { tail -n 30 "$log_file" >&2; die "llama-server exited before it was ready ($*)"; }
        sleep 0.2
    done
    [ "$st" = 200 ] || { tail -n 30 "$log_file" >&2; die "llama-server not ready within ~3 min"; }
    log "llama-server: $LL_URL (pid $LL_PID), flags: $*"
}
stop_llama() {
    local keep=() pid
    kill -TERM "$LL_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$LL_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$LL_PID" 2>/dev/null || true
    wait "$LL_PID" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do [ "$pid" = "$LL_PID" ] || keep+=("$pid"); done
    PIDS=("${keep[@]}")
    LL_PID="" LL_URL=""
}

# one load run -> one JSON line appended to $JSONL (fails the script when a request failed).
# A run during which other processes used more than $MAX_OTHERS cores is repeated (at most
# $RETRIES times; each attempt first waits for the machine to be idle); the last one counts.
bench_one() {  # server url pid set clients round config
    local server=$1 url=$2 pid=$3 set=$4 c=$5 round=$6 config=$7 n w line attempt oth
    n=$(requests_for "$set" "$c")
    w=$(warmup_for "$set" "$c")
    for attempt in $(seq 1 $((RETRIES + 1))); do
        sleep 1  # let the other server's threads go idle (spinning OpenMP workers)
        line=$(python3 "$HERE/serve_bench.py" --url "$url" --model "$MODEL_NAME" --texts "$(texts_of "$set")" \
               --clients "$c" --requests "$n" --per-request "$K" --warmup "$w" --pid "$pid" --label "$server" \
               --quiet-wait "$QUIET_WAIT") \
            || die "$server: the load run failed (set $set, $c clients): see above"
        python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("  %-12s %-5s c=%-3d %8.2f texts/s  P50 %8.1f ms  P99 %8.1f ms  (CPU-s server %.1f, client %.1f; others %s cores)" % (sys.argv[2], sys.argv[3], r["clients"], r["texts_per_s"], r["p50_ms"], r["p99_ms"], r["server_cpu_s"] or 0, r["client_cpu_s"], r["other_cores"]))' "$line" "$server" "$set" >&2
        oth=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); o=r.get("other_cores"); print(1 if o is not None and o > float(sys.argv[2]) else 0)' "$line" "$MAX_OTHERS")
        [ "$oth" = 1 ] || break
        if [ "$attempt" -le "$RETRIES" ]; then
            log "  ^ disturbed (other processes above $MAX_OTHERS cores): once more (attempt $((attempt + 1)) of $((RETRIES + 1)))"
        fi
    done
    python3 - "$line" "$server" "$set" "$round" "$config" "$attempt" "$oth" >>"$JSONL" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
r.update(server=sys.argv[2], set=sys.argv[3], round=int(sys.argv[4]), config=sys.argv[5], attempts=int(sys.argv[6]), disturbed=sys.argv[7] == "1")
print(json.dumps(r))
EOF
}

: >"$JSONL"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
IFS=, read -r -a SET_LIST <<<"$SETS"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

if [ "$TUNE" = 1 ]; then
    IFS=';' read -r -a CONFIGS <<<"$LLAMA_TUNE_CONFIGS"
    for round in $(seq 1 "$ROUNDS"); do
        for cfg in "${CONFIGS[@]}"; do
            start_llama $cfg
            for set in "${SET_LIST[@]}"; do
                for c in "${CLIENT_LIST[@]}"; do
                    bench_one llama-server "$LL_URL" "$LL_PID" "$set" "$c" "$round" "$cfg"
                done
            done
            stop_llama
        done
    done
else
    [ "$NO_GE" = 0 ] && start_ggufembed
    [ -n "$LLAMA_SERVER" ] && start_llama $LLAMA_ARGS
    # sanity: the two servers' vectors for the same texts (cosine), before any timing
    if [ -n "$GE_URL" ] && [ -n "$LL_URL" ]; then
        for set in "${SET_LIST[@]}"; do
            cmp=$(python3 "$HERE/serve_bench.py" --url "$GE_URL" --model "$MODEL_NAME" --compare "$LL_URL" \
                  --texts "$(texts_of "$set")" --compare-texts 8) || die "the two servers' vectors disagree ($set): $cmp"
            log "vectors ggufembed vs llama-server ($set): $cmp"
            echo "{\"sanity\": $cmp, \"set\": \"$set\"}" >>"$JSONL"
        done
    fi
    for round in $(seq 1 "$ROUNDS"); do
        i=0
        for set in "${SET_LIST[@]}"; do
            for c in "${CLIENT_LIST[@]}"; do
                order=(ggufembed llama-server)
                [ $(( (round + i) % 2 )) = 0 ] && order=(llama-server ggufembed)
                i=$((i + 1))
                for server in "${order[@]}"; do
                    if [ "$server" = ggufembed ] && [ -n "$GE_URL" ]; then
                        bench_one ggufembed "$GE_URL" "$GE_PID" "$set" "$c" "$round" "threads=$THREADS"
                    elif [ "$server" = llama-server ] && [ -n "$LL_URL" ]; then
                        bench_one llama-server "$LL_URL" "$LL_PID" "$set" "$c" "$round" "$LLAMA_ARGS"
                    fi
                done
            done
        done
    done
    # the servers must still be alive and healthy after the load
    [ -z "$GE_URL" ] || [ "$(http_status "$GE_URL/health")" = 200 ] || die "ggufembed serve unhealthy after the runs"
    [ -z "$LL_URL" ] || [ "$(http_status "$LL_URL/health")" = 200 ] || die "llama-server unhealthy after the runs"
fi
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)
stop_servers

# ---- 4. the report ----
LLAMA_VERSION="" LLAMA_BUILD=""
if [ -n "$LLAMA_SERVER" ]; then
    LLAMA_VERSION=$("$LLAMA_SERVER" --version 2>&1 | grep -i 'version' | head -n1 || true)
    LLAMA_BUILD=$(paste -sd' ' "$(dirname "$(dirname "$LLAMA_SERVER")")/BUILD_OK" 2>/dev/null || true)
fi
GE_VERSION=""
if [ "$NO_GE" = 0 ]; then
    GE_REAL=$(readlink -f "$GE_BIN")
    GE_VERSION="$( ("$GE_BIN" --version 2>&1 || true) | head -n1); tree $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'); binary $GE_BIN, built $(date -u -r "$GE_REAL" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$GE_REAL" | cut -c1-16)"
fi
CPU_MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512bw|avx512_vnni|avx512_bf16|avx_vnni|amx_tile|amx_int8|amx_bf16)$' | paste -sd' ' -)
HAS_AMX=no; grep -qwE 'amx_tile|amx_int8' /proc/cpuinfo && HAS_AMX=yes
HAS_512=no; grep -qw avx512f /proc/cpuinfo && HAS_512=yes
export CMDLINE MODEL MODEL_NAME THREADS LLAMA_ARGS LLAMA_VERSION LLAMA_BUILD GE_VERSION CPU_MODEL FLAGS HAS_AMX HAS_512 \
       LOAD_START LOAD_END T_START SMOKE TUNE K ROUNDS LLAMA_SKIP QUIET_WAIT MAX_OTHERS RETRIES
python3 - "$JSONL" "$OUT" <<'EOF'
import json, os, statistics, sys, time, platform
jsonl, out = sys.argv[1], sys.argv[2]
E = os.environ
runs, sanity = [], []
for ln in open(jsonl):
    r = json.loads(ln)
    (sanity if "sanity" in r else runs).append(r)
med = lambda xs: statistics.median(xs) if xs else float("nan")
def cells(key_fn):
    g = {}
    for r in runs:
        g.setdefault(key_fn(r), []).append(r)
    return g
setname = {"short": "short (batch-short.txt, 96 texts, ~11 tokens)", "long": "long (batch-long.txt, 96 texts, ~56 tokens)"}
fmt = lambda v: ("%.1f" % v) if v >= 10 else ("%.2f" % v)
def others(rs):
    xs = [r["other_cores"] for r in rs if r.get("other_cores") is not None]
    return ("%.2f" % max(xs) if xs else "?") + (" (disturbed)" if any(r.get("disturbed") for r in rs) else "")
L = []
tune = E.get("TUNE") == "1"
L.append(("# llama-server tuning (bench/serve.sh --tune)" if tune else "# HTTP embeddings: ggufembed serve vs llama-server") + (" (smoke)" if E.get("SMOKE") == "1" else ""))
L.append("")
L.append("Command: `%s`  " % E["CMDLINE"])
L.append("Run: %s UTC, %.1f min; load average (1 min) %s at the start, %s at the end (2 cores: above ~1 means other jobs competed)  "
         % (time.strftime("%Y-%m-%d %H:%M", time.gmtime(int(E["T_START"]))), (time.time() - int(E["T_START"])) / 60, E["LOAD_START"], E["LOAD_END"]))
L.append("Machine: %s, %d cores, %s; AVX-512: %s, AMX: %s (flags: %s)  " % (E["CPU_MODEL"], os.cpu_count(), platform.platform(), E["HAS_512"], E["HAS_AMX"], E["FLAGS"]))
L.append("Model: `%s` (%d bytes), request `model` = `%s`  " % (os.path.basename(E["MODEL"]), os.path.getsize(E["MODEL"]), E["MODEL_NAME"]))
if E.get("GE_VERSION"):
    L.append("ggufembed: `ggufembed serve -m MODEL --host 127.0.0.1 --port 0 --threads %s` (%s)  " % (E["THREADS"], E["GE_VERSION"]))
if E.get("LLAMA_VERSION") or E.get("LLAMA_BUILD"):
    L.append("llama-server: `llama-server -m MODEL --host 127.0.0.1 --port P --embeddings --pooling mean -t %s -tb %s --alias NAME --no-webui %s` (%s; %s)  "
             % (E["THREADS"], E["THREADS"], "<config>" if tune else E["LLAMA_ARGS"], E.get("LLAMA_VERSION", ""), E.get("LLAMA_BUILD", "")))
if E.get("LLAMA_SKIP"):
    L.append("**llama-server SKIPPED: %s**  " % E["LLAMA_SKIP"])
L.append("Load: `bench/serve_bench.py`, C client threads with one keep-alive connection each, %s text(s) per request, round-robin over the set, "
         "POST /v1/embeddings (float JSON); warm-up requests per client first; %s round(s), %s; each cell is the median over rounds. "
         "Each run first waits (at most %s s) for the machine to be idle, and a run during which other processes used more than %s cores is repeated (at most %s times)."
         % (E["K"], E["ROUNDS"], "one llama-server per configuration" if tune else "the two servers alternate per cell (A B, then B A)",
            E["QUIET_WAIT"], E["MAX_OTHERS"], E["RETRIES"]))
if not tune and E.get("LLAMA_VERSION"):
    L.append("llama-server's flags: the best of `bench/serve.sh --tune` here (results/serve-tune-*.md); all of -np 4/8/16 were within noise of each other, -np 1 and -fa off slower.")
L.append("")
for s in sanity:
    x = s["sanity"]
    L.append("Sanity (%s, first %d texts): cosine ggufembed vs llama-server min %.6f, mean %.6f; prompt_tokens %s.  " % (s["set"], x["texts"], x["cos_min"], x["cos_mean"], x["prompt_tokens"]))
if sanity:
    L.append("")
if tune:
    g = cells(lambda r: (r["config"], r["set"], r["clients"]))
    L.append("## Median over rounds")
    L.append("")
    L.append("| llama-server flags | set | clients | texts/s | P50 ms | P99 ms | server CPU-s per text | others (cores) |")
    L.append("|---|---|---|---|---|---|---|---|")
    for (cfg, st, c), rs in g.items():
        L.append("| `%s` | %s | %d | %s | %s | %s | %.3f | %s |" % (cfg, st, c, fmt(med([r["texts_per_s"] for r in rs])), fmt(med([r["p50_ms"] for r in rs])),
                 fmt(med([r["p99_ms"] for r in rs])), med([(r["server_cpu_s"] or 0) / r["texts"] for r in rs]), others(rs)))
    L.append("")
else:
    L.append("## Results (median over rounds)")
    L.append("")
    g = cells(lambda r: (r["set"], r["clients"], r["server"]))
    sets = list(dict.fromkeys(r["set"] for r in runs))
    clients = sorted(set(r["clients"] for r in runs))
    for st in sets:
        L.append("### %s" % setname.get(st, st))
        L.append("")
        L.append("| server | clients | texts/s | P50 ms | P99 ms | texts/s ratio ggufembed/llama-server | P50 ratio | P99 ratio | others (cores, max) |")
        L.append("|---|---|---|---|---|---|---|---|---|")
        for c in clients:
            m = {}
            for sv in ("ggufembed", "llama-server"):
                rs = g.get((st, c, sv))
                if rs:
                    m[sv] = (med([r["texts_per_s"] for r in rs]), med([r["p50_ms"] for r in rs]), med([r["p99_ms"] for r in rs]), others(rs))
            for sv, (tps, p50, p99, oth) in m.items():
                ratio = ["", "", ""]
                if sv == "ggufembed" and "llama-server" in m:
                    o = m["llama-server"]
                    ratio = ["**%.2f**" % (tps / o[0]), "%.2f" % (p50 / o[1]), "%.2f" % (p99 / o[2])]
                L.append("| %s | %d | %s | %s | %s | %s | %s |" % (sv, c, fmt(tps), fmt(p50), fmt(p99), " | ".join(ratio), oth))
        L.append("")
    L.append("others = CPU other processes used during a run, in cores on average (the most of the rounds; /proc/stat minus the server's and the load generator's CPU time): above ~0.2 the figure is disturbed.")
    L.append("")
L.append("## Every run")
L.append("")
L.append("reconnects: keep-alive connections the server closed (the client reconnected); attempts: a run disturbed by other processes is repeated (the last attempt counts); CPU-s = CPU seconds during the timed phase.")
L.append("")
L.append("| round | set | clients | server | config | requests | texts/s | P50 ms | P99 ms | max ms | reconnects | attempts | others (cores) | server CPU-s | client CPU-s |")
L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    L.append("| %d | %s | %d | %s | `%s` | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (r["round"], r["set"], r["clients"], r["server"], r["config"], r["requests"],
             fmt(r["texts_per_s"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r["max_ms"]), r.get("reconnects"), r.get("attempts", 1),
             r.get("other_cores"), r.get("server_cpu_s"), r.get("client_cpu_s")))
md = "\n".join(L).rstrip() + "\n"
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
open(out, "w").write(md)
print(md.split("## Every run")[0].rstrip())
EOF
log "wrote $OUT ($(( $(date +%s) - T_START )) s)"
