#!/usr/bin/env bash
# make bench: signet against openssl (and cosign, when the local-stack cache
# has it) on the same file, in one run. Reports wall time and peak RSS.
#
#   SIZE_MIB=1024 RUNS=5 hack/bench.sh
#
# Timing is only meaningful on a quiet machine; the script warms the page
# cache and takes the median of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-5}
WORK=${BENCH_DIR:-.bench}
SIGNET=${SIGNET:-bin/signet}
COSIGN=${COSIGN:-$(ls -1d "${SIGNET_STACK_CACHE:-$HOME/.cache/signet-stack}"/bin/cosign@v3*/cosign 2>/dev/null | tail -1 || true)}

command -v openssl >/dev/null || { echo "bench: openssl is required" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: GNU time (/usr/bin/time) is required: apt-get install time" >&2; exit 1; }
[ -x "$SIGNET" ] || { echo "bench: $SIGNET not built (make build)" >&2; exit 1; }

mkdir -p "$WORK"
blob="$WORK/blob-${SIZE_MIB}m"
if [ ! -f "$blob" ] || [ "$(stat -c %s "$blob")" != "$((SIZE_MIB * 1024 * 1024))" ]; then
  echo "creating $blob ($SIZE_MIB MiB)…" >&2
  head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$blob.tmp" && mv "$blob.tmp" "$blob"
fi
if [ ! -f "$WORK/key.pem" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem"
  openssl ec -in "$WORK/key.pem" -pubout -out "$WORK/key.pub" 2>/dev/null
fi
if [ ! -f "$blob.sig" ] || [ "$blob.sig" -ot "$blob" ]; then
  openssl dgst -sha256 -sign "$WORK/key.pem" "$blob" | base64 -w0 >"$blob.sig"
fi
cat "$blob" >/dev/null # warm the page cache

# measure NAME CMD...: median wall seconds and max peak RSS (KiB) of RUNS runs.
measure() {
  local name=$1; shift
  local times=() rss=0 t m
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >/dev/null 2>&1 || { echo "bench: $name failed" >&2; exit 1; }
    read -r t m <"$WORK/time.out"
    times+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-34s %8.2f s %10.1f MiB\n' "$name" "$med" "$(echo "$rss/1024" | bc -l)"
  eval "${name//[^a-zA-Z0-9]/_}_t=$med; ${name//[^a-zA-Z0-9]/_}_rss=$rss"
}

# Each command must succeed once before it is timed.
"$SIGNET" verify-blob --key "$WORK/key.pub" --signature "$blob.sig" --insecure-ignore-tlog "$blob" 2>/dev/null \
  || { echo "bench: signet verify-blob failed" >&2; exit 1; }

echo "file: $blob ($SIZE_MIB MiB), median of $RUNS runs, peak RSS is the max"
printf '%-34s %10s %14s\n' "command" "time" "peak RSS"
measure "openssl dgst -sha256" openssl dgst -sha256 "$blob"
measure "signet verify-blob --key" "$SIGNET" verify-blob --key "$WORK/key.pub" --signature "$blob.sig" --insecure-ignore-tlog "$blob"
if [ -n "$COSIGN" ] && [ -x "$COSIGN" ]; then
  measure "cosign verify-blob --key" "$COSIGN" verify-blob --key "$WORK/key.pub" --signature "$blob.sig" --insecure-ignore-tlog=true --private-infrastructure "$blob"
else
  echo "(cosign not found: run hack/local-stack install, or set COSIGN=path, to compare)"
fi

ratio=$(echo "$signet_verify_blob___key_t / $openssl_dgst__sha256_t" | bc -l)
rss_mib=$(echo "$signet_verify_blob___key_rss / 1024" | bc -l)
printf '\nsignet/openssl time: %.2fx (target ≤ 1.15x); signet peak RSS %.1f MiB (target < 32 MiB)\n' "$ratio" "$rss_mib"
if [ "${BENCH_CHECK:-0}" = 1 ]; then
  awk -v r="$ratio" -v m="$rss_mib" 'BEGIN { exit !(r <= 1.15 && m < 32) }' || { echo "bench: target missed" >&2; exit 1; }
fi
