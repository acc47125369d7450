#!/usr/bin/env bash
# Builds IPsecLab's libFuzzer targets the way OSS-Fuzz and ClusterFuzzLite expect (their build.sh contract):
#   $OUT/<target>                   one fuzzer binary per target (the same binary, named after the target it runs)
#   $OUT/<target>_seed_corpus.zip   corpora/<target>/ plus the kept reproducers of corpora/regressions/<target>/
#   $OUT/<target>.dict              corpora/dictionaries/<target>.dict
#   $OUT/<target>.options           libFuzzer options: max_len and dict
# Environment: OUT (default Fuzz/out), WORK (scratch, default Fuzz/.build), SANITIZER (address | undefined | thread
# | none; default none here, OSS-Fuzz sets it), SWIFT (default swift). Run from anywhere.
set -euo pipefail
FUZZ_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$FUZZ_DIR/.." && pwd)
OUT=${OUT:-$FUZZ_DIR/out}
WORK=${WORK:-$FUZZ_DIR/.build}
SWIFT=${SWIFT:-swift}
SANITIZER=${SANITIZER:-none}

flags=(-c release --sanitize fuzzer -Xswiftc -parse-as-library --scratch-path "$WORK")
case "$SANITIZER" in
    # swiftc keeps only its last -sanitize=, so a second --sanitize would drop the fuzzer's coverage instrumentation;
    # one list keeps both, and --sanitize fuzzer still tells SwiftPM that libFuzzer provides main.
    address|undefined|thread) flags+=(-Xswiftc "-sanitize=fuzzer,$SANITIZER") ;;
    none|"") ;;
    *) echo "build.sh: sanitizer '$SANITIZER' is not supported by swift build; building without it" >&2 ;;
esac

cd "$FUZZ_DIR"
"$SWIFT" build "${flags[@]}"
BIN=$("$SWIFT" build "${flags[@]}" --show-bin-path)/ipsec-lab-fuzzer

mkdir -p "$OUT"
IPSECLAB_FUZZ_TARGET=list "$BIN" | while read -r target max_len; do
    cp "$BIN" "$OUT/$target"
    rm -f "$OUT/${target}_seed_corpus.zip"
    files=()
    [[ -d "$ROOT/corpora/$target" ]] && files+=("$ROOT/corpora/$target"/*)
    # Every reproducer (each is committed with its fix); not the logs or notes beside them.
    if [[ -d "$ROOT/corpora/regressions/$target" ]]; then
        for f in "$ROOT/corpora/regressions/$target"/*; do
            case "$f" in *.log|*.md) ;; *) files+=("$f") ;; esac
        done
    fi
    if ((${#files[@]})); then zip -q -j "$OUT/${target}_seed_corpus.zip" "${files[@]}"; fi
    options="[libfuzzer]\nmax_len = $max_len\n"
    if [[ -f "$ROOT/corpora/dictionaries/$target.dict" ]]; then
        cp "$ROOT/corpora/dictionaries/$target.dict" "$OUT/$target.dict"
        options+="dict = $target.dict\n"
    fi
    printf "$options" > "$OUT/$target.options"
    echo "built $OUT/$target"
done
