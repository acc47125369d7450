#!/usr/bin/env python3
"""`ipsec-lab encap` checked by tshark (Wireshark 4.0): decryption and ICV verification, packet by packet.

For every ESP algorithm tshark 4.0 can decrypt or verify (NULL, AES-CBC 128/192/256, AES-CTR 128/192/256, 3DES-CBC,
AES-GCM 128/192/256 with 8-, 12- and 16-byte ICVs; HMAC-SHA-1-96, HMAC-MD5-96, HMAC-SHA-256-128, -384-192, -512-256,
Linux's HMAC-SHA-256-96, and none) in transport and tunnel mode over IPv4 and IPv6 (tunnels also carry the other
family), plaintext packets with payloads of 0, 1, 15, 16, 17, 100 and 1400 bytes are protected by
`ipsec-lab encap --seed`, all SAs' output is put in one capture, every SA goes into tshark's `esp_sa` UAT, and
tshark must, for every packet:

  - show the SPI and the sequence number IPsecLab should have used;
  - report the ICV as correct (`esp.icv_good` 1, `esp.icv_bad` 0), whenever the SA has integrity;
  - decrypt to the original: `esp.contained_data` byte for byte (the transport payload, or the whole inner packet),
    the next header, and the inner source/destination and UDP ports it dissects from the plaintext;
  - find RFC 4303 §2.4 padding: the fewest bytes that align the payload to the cipher block and to 4 bytes, with the
    default contents 1, 2, 3, … (`esp.pad`, `esp.pad_len`).

tshark 4.0 has no ESN, ChaCha20-Poly1305, AES-CCM, AES-GMAC, AES-XCBC or AES-CMAC, and never verifies AH: those are
left to scapy_ipsec_interop.py. Prints one line per disagreement, then
`summary: cases N, agreements A, disagreements D, oracle_bugs B; ...` (a case is one packet). Exits 1 on any
disagreement, or when fewer than --min-cases cases ran.

Usage: tshark_esp_check.py --ipsec-lab BIN --workdir DIR [--profile quick|full] [--seed N] [--min-cases N]
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")

from scapy.all import IP, IPv6, UDP, ICMP, Raw, raw  # noqa: E402

PAYLOAD_SIZES = [0, 1, 15, 16, 17, 100, 1400]

# IPsecLab encryption keyword prefix: (tshark's esp_sa name, key bytes incl. salt/nonce, block size, ICV or None)
CIPHERS = [
    ("null", "NULL", 0, 4),
    ("aes128", "AES-CBC [RFC3602]", 16, 16),
    ("aes192", "AES-CBC [RFC3602]", 24, 16),
    ("aes256", "AES-CBC [RFC3602]", 32, 16),
    ("aes128ctr", "AES-CTR [RFC3686]", 20, 4),  # key ‖ 4-byte nonce, in both tools
    ("aes192ctr", "AES-CTR [RFC3686]", 28, 4),
    ("aes256ctr", "AES-CTR [RFC3686]", 36, 4),
    ("3des", "TripleDES-CBC [RFC2451]", 24, 8),
]
# IPsecLab integrity keyword: (tshark's name, key bytes)
INTEGRITY = [
    ("sha1", "HMAC-SHA-1-96 [RFC2404]", 20),
    ("md5", "HMAC-MD5-96 [RFC2403]", 16),
    ("sha256", "HMAC-SHA-256-128 [RFC4868]", 32),
    ("sha384", "HMAC-SHA-384-192 [RFC4868]", 48),
    ("sha512", "HMAC-SHA-512-256 [RFC4868]", 64),
    ("sha256_96", "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]", 32),  # Linux's `auth hmac(sha256)`
]


class Algo:
    def __init__(self, keyword, enc_name, enc_key_len, block, auth_name, auth_key_len, aead):
        self.keyword, self.enc_name, self.enc_key_len, self.block = keyword, enc_name, enc_key_len, block
        self.auth_name, self.auth_key_len, self.aead = auth_name, auth_key_len, aead

    @property
    def has_integrity(self):
        return self.aead or self.auth_name != "NULL"


def algorithms():
    out = []
    for kw, name, key_len, block in CIPHERS:
        for ikw, iname, ikey in INTEGRITY:
            out.append(Algo("%s-%s" % (kw, ikw), name, key_len, block, iname, ikey, False))
        if kw != "null":
            out.append(Algo(kw, name, key_len, block, "NULL", 0, False))  # confidentiality only
    for bits in (128, 192, 256):
        for icv in (8, 12, 16):
            out.append(Algo("aes%dgcm%d" % (bits, icv), "AES-GCM with %d octet ICV [RFC4106]" % icv,
                            bits // 8 + 4, 4, "NULL", 0, True))
    return out


class SACase:
    def __init__(self, idx, mode, outer, algo, rng):
        self.idx, self.mode, self.outer, self.algo = idx, mode, outer, algo
        self.spi = 0x20000 + idx
        self.enc_key = bytes(rng.getrandbits(8) for _ in range(algo.enc_key_len))
        self.auth_key = bytes(rng.getrandbits(8) for _ in range(algo.auth_key_len))
        self.first_seq = rng.choice([1, rng.randint(2, 0xFFFF0000)])
        self.rng = random.Random(rng.getrandbits(64))
        hi, lo = idx // 250 + 1, idx % 250 + 1
        if outer == 4:
            self.src, self.dst = "10.%d.%d.1" % (hi, lo), "10.%d.%d.2" % (hi, lo)
        else:
            self.src, self.dst = "2001:db8:%x:%x::1" % (hi, lo), "2001:db8:%x:%x::2" % (hi, lo)
        self.name = "esp/%s/v%d/%s" % (mode, outer, algo.keyword)

    def json_sa(self):
        sa = {"protocol": "esp", "spi": "0x%x" % self.spi, "mode": self.mode, "source": self.src,
              "destination": self.dst, "algorithm": self.algo.keyword}
        if self.enc_key:
            sa["encryption_key"] = self.enc_key.hex()
        if self.auth_key:
            sa["integrity_key"] = self.auth_key.hex()
        if self.first_seq > 1:
            sa["outbound_sequence"] = self.first_seq - 1
        return {"associations": [sa]}

    def uat(self):
        """One esp_sa record: protocol, source, destination, SPI, encryption, key, integrity, key."""
        key = lambda k: "0x" + k.hex() if k else ""  # noqa: E731
        return '"%s","%s","%s","0x%08x","%s","%s","%s","%s"' % (
            "IPv4" if self.outer == 4 else "IPv6", self.src, self.dst, self.spi, self.algo.enc_name,
            key(self.enc_key), self.algo.auth_name, key(self.auth_key))

    busy_ports = set()

    def port(self):
        while True:
            p = self.rng.randint(1024, 65535)
            if p not in self.busy_ports:
                return p

    def plaintexts(self):
        r = self.rng
        out = []
        for i, size in enumerate(PAYLOAD_SIZES):
            family = self.outer if self.mode == "transport" or i not in (2, 5) else 10 - self.outer
            data = bytes(r.getrandbits(8) for _ in range(size))
            if self.mode == "transport":
                src, dst = self.src, self.dst
            elif family == 4:
                src, dst = "10.200.%d.%d" % (r.randint(0, 255), r.randint(1, 254)), "10.201.0.%d" % r.randint(1, 254)
            else:
                src, dst = "2001:db8:aa::%x" % r.randint(1, 0xFFFF), "2001:db8:bb::%x" % r.randint(1, 0xFFFF)
            l3 = (IP(src=src, dst=dst, id=r.randint(0, 65535), ttl=r.randint(2, 255)) if family == 4 else
                  IPv6(src=src, dst=dst, hlim=r.randint(2, 255), fl=r.getrandbits(20)))
            if i == 4:
                l4 = ICMP(type=8, id=r.randint(0, 65535), seq=i) / Raw(data) if family == 4 else \
                    UDP(sport=self.port(), dport=self.port()) / Raw(data)
            else:
                l4 = UDP(sport=self.port(), dport=self.port()) / Raw(data)
            out.append(raw(l3 / l4))
        return out


# ---- pcap --------------------------------------------------------------------------------------------------------------

def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))  # LINKTYPE_RAW
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)))
            f.write(p)


def read_pcap(path):
    data = open(path, "rb").read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    skip = {101: 0, 228: 0, 229: 0, 1: 14, 0: 4, 113: 16}[linktype]
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16 + skip:off + 16 + incl])
        off += 16 + incl
    return out


# ---- expectations --------------------------------------------------------------------------------------------------------

def split_transport(p):
    """(next header, payload) of a plaintext IP packet without extension headers."""
    if p[0] >> 4 == 4:
        return p[9], p[(p[0] & 15) * 4:]
    return p[6], p[40:]


def expected_fields(case, plain):
    if case.mode == "transport":
        nh, protected = split_transport(plain)
    else:
        nh, protected = (4 if plain[0] >> 4 == 4 else 41), plain
    align = math.lcm(case.algo.block, 4)
    pad = -(len(protected) + 2) % align
    return nh, protected, pad


FIELDS = ["frame.number", "esp.spi", "esp.sequence", "esp.icv_good", "esp.icv_bad", "esp.protocol", "esp.pad_len",
          "esp.pad", "esp.contained_data", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "udp.srcport", "udp.dstport",
          "icmp.type", "_ws.malformed"]


def check_packet(case, i, plain, seq, row):
    f = dict(zip(FIELDS, row))
    problems = []
    nh, protected, pad = expected_fields(case, plain)
    if f["esp.spi"] == "" or int(f["esp.spi"], 16) != case.spi or f["esp.sequence"] != str(seq):
        problems.append("spi %s seq %s, expected 0x%08x seq %d" % (f["esp.spi"], f["esp.sequence"], case.spi, seq))
    if case.algo.has_integrity:
        if f["esp.icv_good"] not in ("1", "True") or f["esp.icv_bad"] not in ("0", "False"):
            problems.append("ICV not reported correct (good=%r bad=%r)" % (f["esp.icv_good"], f["esp.icv_bad"]))
    elif f["esp.icv_good"] or f["esp.icv_bad"]:
        problems.append("tshark checked an ICV on an SA without integrity")
    if f["esp.contained_data"] != protected.hex():
        got = f["esp.contained_data"]
        problems.append("decrypted data differs (%d bytes, expected %d)%s" % (
            len(got) // 2, len(protected), "" if got else ": nothing decrypted"))
    if f["esp.protocol"] == "" or int(f["esp.protocol"], 16) != nh:
        problems.append("next header %s, expected %d" % (f["esp.protocol"], nh))
    if f["esp.pad_len"] != str(pad):
        problems.append("pad length %s, expected %d (RFC 4303 §2.4: the fewest bytes that align to %d)" % (
            f["esp.pad_len"], pad, math.lcm(case.algo.block, 4)))
    elif f["esp.pad"].replace(":", "") != bytes(range(1, pad + 1)).hex():
        problems.append("padding %s is not 1, 2, 3, … (RFC 4303 §2.4)" % f["esp.pad"])
    # The inner header as tshark dissects it from the plaintext: the last address of the packet's family.
    inner = IP(plain) if plain[0] >> 4 == 4 else IPv6(plain)
    srcs = (f["ip.src"] if plain[0] >> 4 == 4 else f["ipv6.src"]).split(",")
    dsts = (f["ip.dst"] if plain[0] >> 4 == 4 else f["ipv6.dst"]).split(",")
    if srcs[-1] != inner.src or dsts[-1] != inner.dst:
        problems.append("inner addresses %s -> %s, expected %s -> %s" % (srcs[-1], dsts[-1], inner.src, inner.dst))
    if UDP in inner and (f["udp.srcport"] != str(inner[UDP].sport) or f["udp.dstport"] != str(inner[UDP].dport)):
        problems.append("UDP ports %s -> %s, expected %d -> %d" % (f["udp.srcport"], f["udp.dstport"],
                                                                 inner[UDP].sport, inner[UDP].dport))
    if ICMP in inner and f["icmp.type"] != str(inner[ICMP].type):
        problems.append("ICMP type %s, expected %d" % (f["icmp.type"], inner[ICMP].type))
    if f["_ws.malformed"]:
        problems.append("tshark reports the packet malformed")
    return problems


COMBOS = [(m, v) for m in ("transport", "tunnel") for v in (4, 6)]


def build_matrix(profile, rng):
    cases = []
    for i, algo in enumerate(algorithms()):
        combos = COMBOS if profile == "full" else [COMBOS[i % len(COMBOS)]]
        for mode, outer in combos:
            cases.append(SACase(len(cases), mode, outer, algo, rng))
    return cases


def tshark_table(tshark, table, first):
    """The second column of `tshark -G TABLE` rows whose first column is `first`."""
    out = subprocess.run([tshark, "-G", table], capture_output=True, text=True).stdout
    return [row.split("\t")[1] for row in out.splitlines() if row.split("\t")[0] == first]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsec-lab", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--tshark", default=shutil.which("tshark") or "/usr/bin/tshark")
    ap.add_argument("--profile", choices=["quick", "full"], default="full")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-cases", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()

    SACase.busy_ports = {int(p) for p in tshark_table(a.tshark, "decodes", "udp.port")}
    cases = build_matrix(a.profile, random.Random(a.seed))
    plains = {}
    for c in cases:
        d = os.path.join(a.workdir, "sa%04d" % c.idx)
        os.makedirs(d, exist_ok=True)
        plains[c.idx] = c.plaintexts()
        write_pcap(d + "/plain.pcap", plains[c.idx])
        with open(d + "/sa.json", "w") as f:
            json.dump(c.json_sa(), f)

    def encap(c):
        d = os.path.join(a.workdir, "sa%04d" % c.idx)
        return subprocess.run([a.ipsec_lab, "encap", "--sa", d + "/sa.json", "--in", d + "/plain.pcap",
                               "--out", d + "/encap.pcap", "--seed", str(c.idx + 1)], capture_output=True, text=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        results = list(pool.map(encap, cases))

    disagreements = 0
    by_mode = {}
    frames = []  # (case, index, plaintext, sequence) per frame of the combined capture
    combined = []
    for c, r in zip(cases, results):
        ours = read_pcap(os.path.join(a.workdir, "sa%04d" % c.idx, "encap.pcap")) if r.returncode == 0 else []
        if r.returncode != 0 or len(ours) != len(plains[c.idx]):
            for i in range(len(plains[c.idx])):
                disagreements += 1
                print("DISAGREE %s pkt %d: encap failed (%d, %d packets): %s" % (
                    c.name, i, r.returncode, len(ours), r.stderr.strip()[:300]))
            continue
        for i, (o, p) in enumerate(zip(ours, plains[c.idx])):
            frames.append((c, i, p, c.first_seq + i))
            combined.append(o)
    capture = os.path.join(a.workdir, "all.pcap")
    write_pcap(capture, combined)
    # The esp_sa UAT, written as Wireshark keeps it (one record a line) for reference, and passed record by record.
    with open(os.path.join(a.workdir, "esp_sa"), "w") as f:
        f.write("# This file is automatically generated, DO NOT MODIFY.\n")
        for c in cases:
            f.write(c.uat() + "\n")
    # Random UDP payloads must reach no application dissector (a malformed IAX2 message would cut the ESP trailer
    # out of the dissection): the protocols with UDP heuristics are disabled, and the ports are ones no dissector
    # registers (chosen in plaintexts()).
    cmd = [a.tshark, "-n", "-r", capture, "-o", "esp.enable_encryption_decode:TRUE",
           "-o", "esp.enable_authentication_check:TRUE", "-o", "esp.do_esp_sequence_analysis:FALSE"]
    for c in cases:
        cmd += ["-o", "uat:esp_sa:" + c.uat()]
    for heuristic in sorted(set(tshark_table(a.tshark, "heuristic-decodes", "udp"))):
        cmd += ["--disable-protocol", heuristic]
    cmd += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for field in FIELDS:
        cmd += ["-e", field]
    t = subprocess.run(cmd, capture_output=True, text=True)
    rows = [line.split("|") for line in t.stdout.splitlines() if line.strip()]
    if t.returncode != 0 or len(rows) != len(frames):
        print("tshark failed (%d) or printed %d rows for %d frames: %s" % (t.returncode, len(rows), len(frames),
                                                                          t.stderr.strip()[:500]))
        return 1
    agreements = 0
    for (c, i, p, seq), row in zip(frames, rows):
        key = "esp-%s" % c.mode
        by_mode[key] = by_mode.get(key, 0) + 1
        problems = check_packet(c, i, p, seq, row)
        if problems:
            disagreements += 1
            print("DISAGREE %s pkt %d (payload %d, frame %s): %s" % (c.name, i, PAYLOAD_SIZES[i], row[0],
                                                                     "; ".join(problems)))
        else:
            agreements += 1
    total = agreements + disagreements
    modes_text = ", ".join("%s %d" % kv for kv in sorted(by_mode.items()))
    print("summary: cases %d, agreements %d, disagreements %d, oracle_bugs 0; SAs %d; algorithms %d; by mode: %s"
          % (total, agreements, disagreements, len(cases), len({c.algo.keyword for c in cases}), modes_text))
    if total < a.min_cases:
        print("too few cases ran (%d < %d)" % (total, a.min_cases))
        return 1
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
