#!/usr/bin/env bash
# Runs every libFuzzer target built by Fuzz/build.sh for a while, from its seed corpus, and prints a table:
# target, executions per second, coverage (libFuzzer's cov/ft), and the crash if one was found (libFuzzer stops at
# the first). Crash files go to $ARTIFACTS/<target>/.
#   scripts/fuzz-libfuzzer.sh [SECONDS [TARGET…]]     (OUT: where build.sh put the binaries, default Fuzz/out)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-10}
shift || true
OUT=${OUT:-Fuzz/out}
ARTIFACTS=${ARTIFACTS:-fuzz-crashes/libfuzzer}
targets=("$@")
if ((${#targets[@]} == 0)); then
    for f in "$OUT"/*.options; do targets+=("$(basename "$f" .options)"); done
fi
printf '%-28s %10s %8s %8s  %s\n' target exec/s cov ft crash
for t in "${targets[@]}"; do
    work=$(mktemp -d)
    mkdir -p "$work/corpus" "$ARTIFACTS/$t"
    [[ -f "$OUT/${t}_seed_corpus.zip" ]] && unzip -q -o "$OUT/${t}_seed_corpus.zip" -d "$work/corpus"
    args=(-max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -seed=1 -artifact_prefix="$ARTIFACTS/$t/")
    max_len=$(sed -n 's/^max_len = //p' "$OUT/$t.options")
    [[ -n "$max_len" ]] && args+=(-max_len="$max_len")
    [[ -f "$OUT/$t.dict" ]] && args+=(-dict="$OUT/$t.dict")
    "$OUT/$t" "${args[@]}" "$work/corpus" > "$work/log" 2>&1 || true
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$work/log" | tail -1 | awk '{print $2}')
    ft=$(grep -oE 'ft: [0-9]+' "$work/log" | tail -1 | awk '{print $2}')
    crash=$(grep -m1 -E 'Fatal error|ERROR: libFuzzer|ERROR: AddressSanitizer' "$work/log" | cut -c1-110 || true)
    printf '%-28s %10s %8s %8s  %s\n' "$t" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${crash:-}"
    rm -rf "$work"
done
