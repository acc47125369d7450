#!/usr/bin/env bash
# Regenerates the fuzz seed corpora and dictionaries under corpora/ (docs/fuzzing.md, "Corpora"):
#   corpora/<target>/seed-*        the target's built-in seeds (generated packets, sealed packets, SA files, captures)
#   corpora/<target>/real-*        real packets: every packet of corpora/captures/*.pcap, cut at each layer
#   corpora/<target>/doc-*         the examples of docs/sa-files.md, for the SA file formats
#   corpora/dictionaries/<t>.dict  libFuzzer/AFL dictionaries
# Regression reproducers (corpora/regressions/) are never touched. Needs a built ipsec-lab (IPSECLAB_BIN overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${IPSECLAB_BIN:-}
if [[ -z "$BIN" ]]; then
    swift build --product ipsec-lab >/dev/null
    BIN=$(swift build --show-bin-path)/ipsec-lab
fi
mkdir -p corpora/dictionaries
for target in $("$BIN" fuzz --list | awk '{print $1}'); do
    rm -rf "corpora/$target"
    "$BIN" fuzz --target "$target" --write-seeds "corpora/$target" --write-dictionary "corpora/dictionaries/$target.dict"
done

# Real packets from the committed captures, and the captures themselves for the capture target.
python3 - corpora <<'PY'
import glob, hashlib, os, struct, sys
out = sys.argv[1]

def save(target, data, prefix="real"):
    if not data:
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "%s-%s" % (prefix, hashlib.sha1(data).hexdigest()[:16])), "wb") as f:
        f.write(data)

def frames(path):
    raw = open(path, "rb").read()
    magic = raw[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", raw[20:24])[0]
    p = 24
    while p + 16 <= len(raw):
        caplen = struct.unpack(endian + "I", raw[p + 8:p + 12])[0]
        yield linktype, raw[p + 16:p + 16 + caplen]
        p += 16 + caplen

def upper(proto, b, v6):
    """Cuts the packet at each layer after the IP header chain, for the header targets."""
    if proto == 6: save("tcp", b)
    elif proto == 17:
        save("udp", b)
        if len(b) >= 8 and 4500 in struct.unpack(">HH", b[:4]): save("esp-in-udp", b[8:])
    elif proto in (1, 58): save("icmp", b)
    elif proto == 50: save("esp", b)
    elif proto == 51 and len(b) >= 12:
        save("ah", b)
        n = (b[1] + 2) * 4
        upper(b[0], b[n:], v6)
    elif proto == 108: save("ipcomp", b)

for path in sorted(glob.glob("corpora/captures/*.pcap")):
    save("capture", open(path, "rb").read(), "capture")
    for linktype, frame in frames(path):
        packet = frame[14:] if linktype == 1 else frame
        if not packet:
            continue
        save("dissector", packet)
        if packet[0] >> 4 == 4:
            save("ipv4", packet)
            ihl = (packet[0] & 15) * 4
            upper(packet[9], packet[ihl:], False)
        elif packet[0] >> 4 == 6:
            save("ipv6", packet)
            nh, off = packet[6], 40
            while nh in (0, 43, 44, 60) and off + 8 <= len(packet):
                nh, off = packet[off], off + (8 if nh == 44 else (packet[off + 1] + 1) * 8)
            upper(nh, packet[off:], True)
PY

# The documented examples of each SA file format.
python3 - docs/sa-files.md corpora <<'PY'
import hashlib, os, re, sys
text = open(sys.argv[1]).read()
for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S):
    body = body.replace("0x…", "0x" + "00" * 32)
    first = body.lstrip().split("\n", 1)[0]
    if lang == "json" and body.lstrip().startswith("{"): target = "sa-json"
    elif lang == "sh" or first.startswith("ip ") or first.startswith("#!/bin/sh"): target = "ip-xfrm"
    elif first.startswith("src "): target = "ip-xfrm-listing"
    elif "setkey" in first or first.startswith("add ") or first.startswith("spdadd"): target = "setkey"
    elif first.startswith("#") and '"IPv4"' in body: target = "wireshark-esp-sa"
    else: continue
    d = os.path.join(sys.argv[2], target)
    os.makedirs(d, exist_ok=True)
    data = body.encode()
    with open(os.path.join(d, "doc-" + hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)
PY
for d in corpora/*/; do
    case "$d" in corpora/captures/|corpora/regressions/|corpora/dictionaries/) continue ;; esac
    printf '%-28s %4d files %7d bytes\n' "$(basename "$d")" "$(ls "$d" | wc -l)" "$(cat "$d"/* | wc -c)"
done
