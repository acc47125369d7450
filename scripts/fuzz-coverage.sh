#!/usr/bin/env bash
# Line coverage reached by each fuzz target's corpus (docs/fuzzing.md, "Measuring").
#
#   scripts/fuzz-coverage.sh [TARGET…]        (default: every target)
#
# Builds ipsec-lab with -profile-generate -profile-coverage-mapping (scratch path .build-cov), replays each target's
# corpus in process (its built-in seeds plus corpora/<target>/; RUNS=N adds N mutants of a seeded campaign), merges
# the profile with llvm-profdata and prints:
#   - an llvm-cov report summary over the sources the target exercises (per file: lines and line coverage);
#   - for the inbound targets, the execution count of the lines after the ICV check — padding, next header, inner
#     packet, decapsulation, decompression — found by their text, so the table survives edits of the files.
# Reports go to $COVERAGE_DIR (default .build-cov/fuzz-coverage/<target>.txt); llvm-cov show output is kept there too.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${TOOLS:-$(dirname "$(command -v swift)")}
RUNS=${RUNS:-0}
SCRATCH=${SCRATCH:-.build-cov}
COVERAGE_DIR=${COVERAGE_DIR:-$SCRATCH/fuzz-coverage}
mkdir -p "$COVERAGE_DIR"

swift build --product ipsec-lab --scratch-path "$SCRATCH" \
    -Xswiftc -profile-generate -Xswiftc -profile-coverage-mapping >/dev/null
BIN=$(swift build --product ipsec-lab --scratch-path "$SCRATCH" --show-bin-path)/ipsec-lab

targets=("$@")
if ((${#targets[@]} == 0)); then targets=($("$BIN" fuzz --list | awk '{print $1}')); fi

# Which sources a target's report covers.
sources_for() {
    case "$1" in
        inbound-*|encap-decap) echo Sources/IPsecCore Sources/IPsecCrypto/ESPTransform.swift Sources/IPsecCrypto/AHTransform.swift ;;
        capture) echo Sources/IPsecCapture Sources/IPsecWire ;;
        sa-json|ip-xfrm|ip-xfrm-listing|setkey|wireshark-esp-sa) echo Sources/IPsecConfig ;;
        *) echo Sources/IPsecWire ;;
    esac
}

# Lines after the ICV check, by the text they end with: "file|label|text".
probes=(
    "ESPCodec.swift|ESP ICV verified|guard verified else { return .failure(.integrity) }"
    "ESPCodec.swift|ESP pad length checked|guard let (payload, trailer) = try? ESPTrailer.split(plaintext) else { return .failure(.padding) }"
    "ESPCodec.swift|ESP padding bytes checked|guard trailer.hasDefaultPadding else { return .failure(.padding) }"
    "ESPCodec.swift|ESP opened|sequence: sequence))"
    "AHCodec.swift|AH ICV verified|return ok ? .success(view) : .failure(.integrity)"
    "Processor.swift|next header 59: dummy|return .dropped(.dummy)"
    "Processor.swift|HC decompression|guard HeaderCompression.decompress(payload, innerProtocol: opened.nextHeader, fields: fields,"
    "Processor.swift|transport: header rebuilt|out[layout.nextHeaderOffset] = nextHeader.rawValue"
    "Processor.swift|NAT-T transport checksum|fixTransportChecksum(&out)"
    "Processor.swift|tunnel: next header checked|guard nextHeader == .ipv4 || nextHeader == .ipv6 else { return .dropped(.nextHeader) }"
    "Processor.swift|tunnel: inner packet parsed|let inner = try? PacketLayout.inbound(payload), inner.packetLength <= payload.count else {"
    "Processor.swift|tunnel: inner packet out|out.append(contentsOf: payload.prefix(inner.packetLength))"
    "Processor.swift|selector checked|if let selector = sa.configuration.selector, !selector.matches(out[...]) {"
    "HeaderCompression.swift|HC residual (IPv4)|guard let tosByte = r.readUInt8() else { return false }"
)

for t in "${targets[@]}"; do
    rm -f "$COVERAGE_DIR/$t"-*.profraw
    corpus=()
    [[ -d "corpora/$t" ]] && corpus=(--corpus "corpora/$t")
    scratch_corpus=$(mktemp -d)
    if ((${#corpus[@]})); then cp -r "corpora/$t/." "$scratch_corpus/"; corpus=(--corpus "$scratch_corpus"); fi
    LLVM_PROFILE_FILE="$COVERAGE_DIR/$t-%p.profraw" "$BIN" fuzz --target "$t" --in-process --runs "$RUNS" --seed 1 \
        "${corpus[@]}" --crashes "$COVERAGE_DIR/crashes" --json > "$COVERAGE_DIR/$t.json"
    rm -rf "$scratch_corpus"
    "$TOOLS/llvm-profdata" merge -sparse "$COVERAGE_DIR/$t"-*.profraw -o "$COVERAGE_DIR/$t.profdata"
    read -r -a srcs <<< "$(sources_for "$t")"
    {
        echo "== $t: $(cat "$COVERAGE_DIR/$t.json")"
        "$TOOLS/llvm-cov" report "$BIN" -instr-profile="$COVERAGE_DIR/$t.profdata" "${srcs[@]}" \
            | awk 'NR == 1 { printf "%-40s %8s %8s %8s\n", "file", "lines", "missed", "cover"; next }
                   !/^-/ && NF >= 10 { printf "%-40s %8s %8s %8s\n", $1, $8, $9, $10 }'
        if [[ "$t" == inbound-* ]]; then
            "$TOOLS/llvm-cov" show "$BIN" -instr-profile="$COVERAGE_DIR/$t.profdata" Sources/IPsecCore \
                -show-line-counts > "$COVERAGE_DIR/$t.show.txt"
            echo "-- lines after the ICV check (executions)"
            for p in "${probes[@]}"; do
                IFS='|' read -r file label text <<< "$p"
                count=$(awk -v f="/$file:" -v t="$text" '
                    /^\/.*\.swift:$/ { infile = index($0, f) > 0; next }
                    infile && length($0) >= length(t) && substr($0, length($0) - length(t) + 1) == t {
                        split($0, a, "|"); gsub(/ /, "", a[2]); print (a[2] == "" ? "0" : a[2]); exit }
                ' "$COVERAGE_DIR/$t.show.txt")
                printf '   %-34s %10s\n' "$label" "${count:-n/a}"
            done
        fi
        echo
    } | tee "$COVERAGE_DIR/$t.txt"
done
