#!/usr/bin/env python3
"""Interoperability of `ipsec-lab encap`/`decap` with scapy's IPsec layer (pinned 2.8.0), in both directions.

For every SA of the matrix (ESP and AH; transport and tunnel; IPv4 and IPv6 outer headers, with cross-family inner
packets in tunnel mode; every algorithm scapy implements that IPsecLab has a keyword for; ESN off and on, including
a wrap of the low 32 bits; IPv4 options, IPv6 extension headers with a Routing header still to be processed, NAT-T,
DF, and mutable fields changed in transit) a handful of plaintext packets (payloads of 0, 1, 15, 16, 17, 100 and
1400 bytes; UDP, TCP and ICMP) is

  (a) protected by scapy (`SecurityAssociation.encrypt`, fixed sequence numbers and IVs) and opened by
      `ipsec-lab decap`: every packet must be accepted with its sequence number and give back the plaintext, byte
      for byte;
  (b) protected by `ipsec-lab encap --seed` and opened by scapy with verification (`sa.decrypt`, which checks the
      ICV): every packet must carry the expected SPI, sequence number and (ESP) the RFC 4303 §2.4 default padding,
      and must give back the plaintext, byte for byte.

One case is one packet in one direction. Known scapy bugs are counted apart as oracle bugs, and for each such case
IPsecLab is checked against the RFC instead (an independent computation with the `cryptography` package, and
IPsecLab's own round trip); a failed RFC check counts as a disagreement:

  - scapy#4903: AES-GCM always emits and expects a 16-byte ICV, even when 8 or 12 is asked for;
  - scapy-rh0-rotation: for AH, scapy predicts a type-0 Routing header's final form by rotating the whole address
    list, which is right only while Segments Left equals the number of addresses (RFC 2460 §4.4;
    RFC 4302 Appendix A.2: the ICV covers the Routing header as it will appear at the receiver).

Not a difference here, documented: scapy's AH leaves the IPv4 fragment offset in the ICV (RFC 4302 §3.3.3.1.1.1
zeroes it), but AH is only applied to whole datagrams, whose offset is 0, so both sides hash the same bytes; the
"df" and "transit" cases (DF set by the sender, and by a router after protection) agree because both zero all flags.

Prints one line per disagreement and per oracle-bug SA, then
`summary: cases N, agreements A, disagreements D, oracle_bugs B; ...`. Exits 1 on any disagreement, or when fewer
than --min-cases cases ran.

Usage: scapy_ipsec_interop.py --ipsec-lab BIN --workdir DIR [--profile quick|full] [--variants LIST] [--seed N]
                              [--min-cases N]
       scapy_ipsec_interop.py --xfrm-commands FILE --plain-out P.pcap --protected-out Q.pcap
         (scapy protects packets with the SAs of a file of `ip xfrm state add` commands, read on its own)
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from scapy.all import (IP, IPv6, UDP, TCP, ICMP, Raw, raw, IPOption_RR, IPOption_Router_Alert,  # noqa: E402
                       IPOption_NOP, IPOption_EOL, ICMPv6EchoRequest, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                       IPv6ExtHdrRouting, RouterAlert, HBHOptUnknown)
from scapy.layers.ipsec import (SecurityAssociation, ESP, AH, IPSecIntegrityError, zero_mutable_fields,  # noqa: E402
                                CRYPT_ALGOS)

PAYLOAD_SIZES = [0, 1, 15, 16, 17, 100, 1400]

# scapy integrity name: (IPsecLab / strongSwan keyword, key bytes, ICV bytes)
AUTHS = {
    "HMAC-SHA1-96": ("sha1", 20, 12),
    "SHA2-256-128": ("sha256", 32, 16),
    "SHA2-384-192": ("sha384", 48, 24),
    "SHA2-512-256": ("sha512", 64, 32),
    "HMAC-MD5-96": ("md5", 16, 12),
    "AES-CMAC-96": ("aescmac", 16, 12),
}


class Algo:
    """One ESP or AH algorithm choice, in scapy's names and IPsecLab's keyword."""

    def __init__(self, crypt, enc_keyword, key_len, salt_len, icv, auth):
        self.crypt, self.key_len, self.salt_len, self.icv, self.auth = crypt, key_len, salt_len, icv, auth
        if crypt is None:  # AH
            self.keyword = AUTHS[auth][0]
        else:
            self.keyword = enc_keyword + ("-" + AUTHS[auth][0] if auth else "")

    @property
    def aead(self):
        return self.icv is not None

    @property
    def scapy_bug_4903(self):
        return self.crypt == "AES-GCM" and self.icv != 16


def esp_algorithms():
    out = []
    ciphers = [("NULL", "null", 0, 0)]
    ciphers += [("AES-CBC", "aes%d" % b, b // 8, 0) for b in (128, 192, 256)]
    ciphers += [("AES-CTR", "aes%dctr" % b, b // 8, 4) for b in (128, 192, 256)]  # RFC 3686: key ‖ 4-byte nonce
    ciphers += [("3DES", "3des", 24, 0)]
    for crypt, kw, key_len, salt in ciphers:
        for auth in AUTHS:
            out.append(Algo(crypt, kw, key_len, salt, None, auth))
        if crypt != "NULL":  # confidentiality only (RFC 4303 §3.2 allows it; NULL-NULL is refused)
            out.append(Algo(crypt, kw, key_len, salt, None, None))
    for b in (128, 192, 256):
        for icv in (8, 12, 16):
            out.append(Algo("AES-GCM", "aes%dgcm%d" % (b, icv), b // 8, 4, icv, None))  # RFC 4106: 4-byte salt
        for icv in (8, 12, 16):
            out.append(Algo("AES-CCM", "aes%dccm%d" % (b, icv), b // 8, 3, icv, None))  # RFC 4309: 3-byte salt
        out.append(Algo("AES-NULL-GMAC", "aes%dgmac" % b, b // 8, 4, 16, None))  # RFC 4543
    out.append(Algo("CHACHA20-POLY1305", "chacha20poly1305", 32, 4, 16, None))  # RFC 7634
    return out


def ah_algorithms():
    return [Algo(None, None, 0, 0, None, auth) for auth in AUTHS]


class SACase:
    def __init__(self, idx, proto, mode, outer, algo, esn, variant, rng):
        self.idx, self.proto, self.mode, self.outer, self.algo = idx, proto, mode, outer, algo
        self.esn, self.variant = esn, variant
        self.spi = 0x10000 + idx
        self.crypt_key = bytes(rng.getrandbits(8) for _ in range(algo.key_len + algo.salt_len)) if algo.crypt else b""
        self.auth_key = bytes(rng.getrandbits(8) for _ in range(AUTHS[algo.auth][1])) if algo.auth else b""
        self.rng = random.Random(rng.getrandbits(64))
        hi = idx // 250 + 1
        lo = idx % 250 + 1
        if mode == "transport":
            self.src, self.dst = (("10.%d.%d.1" % (hi, lo), "10.%d.%d.2" % (hi, lo)) if outer == 4 else
                                  ("2001:db8:%x:%x::1" % (hi, lo), "2001:db8:%x:%x::2" % (hi, lo)))
        else:
            self.src, self.dst = (("172.16.%d.%d" % (hi, lo), "172.17.%d.%d" % (hi, lo)) if outer == 4 else
                                  ("2001:db8:ff%02x:%x::1" % (hi, lo), "2001:db8:fe%02x:%x::1" % (hi, lo)))
        # Sequence numbers: 64-bit values; scapy gets the low 32 bits and the high 32 bits (ESN) separately.
        if esn:
            high = self.rng.randint(1, 0xFFFF)
            low = 0xFFFFFFFD if idx % 2 == 0 else self.rng.randint(1, 1 << 31)  # every other ESN SA wraps
            self.first_seq = (high << 32) + low
        else:
            self.first_seq = self.rng.randint(1, 5000)
        self.name = "%s/%s/v%d/%s/%s/%s" % (proto, mode, outer, algo.keyword, "esn" if esn else "noesn", variant)

    @property
    def mode_key(self):
        return "%s-%s" % (self.proto, self.mode)

    # -- SA descriptions -------------------------------------------------------------------------------------------

    def json_sa(self, direction):
        sa = {"protocol": self.proto, "spi": "0x%x" % self.spi, "mode": self.mode, "source": self.src,
              "destination": self.dst, "algorithm": self.algo.keyword}
        if self.algo.crypt and self.crypt_key:
            sa["encryption_key"] = self.crypt_key.hex()
        if self.algo.auth:
            sa["integrity_key"] = self.auth_key.hex()
        if self.esn:
            sa["esn"] = True
        if self.variant == "natt":
            sa["encapsulation"] = {"source_port": 4500, "destination_port": 4500}
        if direction == "decap":
            if self.first_seq > 1:
                sa["replay_sequence"] = self.first_seq - 1
        else:
            if self.first_seq > 1:
                sa["outbound_sequence"] = self.first_seq - 1
        return {"associations": [sa]}

    def scapy_sa(self):
        kw = dict(spi=self.spi)
        if self.proto == "esp":
            kw["crypt_algo"] = self.algo.crypt
            kw["crypt_key"] = self.crypt_key if self.crypt_key else None
            if self.algo.aead:
                kw["crypt_icv_size"] = self.algo.icv
        if self.algo.auth:
            kw.update(auth_algo=self.algo.auth, auth_key=self.auth_key)
        if self.mode == "tunnel":
            kw["tunnel_header"] = self.tunnel_header()
        if self.variant == "natt":
            kw["nat_t_header"] = UDP(sport=4500, dport=4500)
        if self.esn:
            kw.update(esn_en=True, esn=self.first_seq >> 32)
        return SecurityAssociation(ESP if self.proto == "esp" else AH, **kw)

    def tunnel_header(self):
        ext = self.variant in ("ext", "transit")
        if self.outer == 4:
            opts = [IPOption_Router_Alert(), IPOption_RR(routers=["0.0.0.0"] * 2, pointer=4), IPOption_NOP(),
                    IPOption_EOL()] if ext else []
            return IP(src=self.src, dst=self.dst, flags="DF" if self.variant == "df" else 0, options=opts)
        h = IPv6(src=self.src, dst=self.dst)
        if ext:
            h = h / IPv6ExtHdrHopByHop(options=[RouterAlert(), HBHOptUnknown(otype=0x3E, optdata=b"\x11" * 6)]) \
                / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"\x22" * 4)])
        return h

    # -- plaintext ---------------------------------------------------------------------------------------------------

    def plaintexts(self):
        r = self.rng
        out = []
        for i, size in enumerate(PAYLOAD_SIZES):
            family = self.outer
            if self.mode == "tunnel" and i in (2, 5):
                family = 10 - self.outer  # IPv6 in IPv4, IPv4 in IPv6
            data = bytes(r.getrandbits(8) for _ in range(size))
            kind = i % 3
            if self.mode == "transport":
                src, dst = self.src, self.dst
            elif family == 4:
                src, dst = "10.200.%d.%d" % (r.randint(0, 255), r.randint(1, 254)), "10.201.0.%d" % r.randint(1, 254)
            else:
                src, dst = "2001:db8:aa::%x" % r.randint(1, 0xFFFF), "2001:db8:bb::%x" % r.randint(1, 0xFFFF)
            ext = self.variant in ("ext", "transit", "natt", "rh0partial")
            if family == 4:
                opts = []
                if ext and self.variant != "natt":
                    opts = [IPOption_RR(routers=["0.0.0.0"] * 2, pointer=4), IPOption_Router_Alert(), IPOption_NOP(),
                            IPOption_EOL()]
                df = self.variant == "df" or (ext and i % 2 == 0)
                l3 = IP(src=src, dst=dst, id=r.randint(0, 65535), ttl=r.randint(2, 255), tos=r.randint(0, 255),
                        flags="DF" if df else 0, options=opts)
                l4 = (UDP(sport=r.randint(1024, 65535), dport=r.randint(1, 65535)) / Raw(data) if kind == 0 else
                      TCP(sport=r.randint(1024, 65535), dport=443, seq=r.getrandbits(32), flags="PA") / Raw(data)
                      if kind == 1 else ICMP(type=8, id=r.randint(0, 65535), seq=i) / Raw(data))
                pkt = l3 / l4
            else:
                l3 = IPv6(src=src, dst=dst, tc=r.randint(0, 255), fl=r.getrandbits(20), hlim=r.randint(2, 255))
                if ext and self.variant != "natt" and self.mode == "transport":
                    l3 = l3 / IPv6ExtHdrHopByHop(options=[RouterAlert(), HBHOptUnknown(otype=0x3E, optdata=b"\x33" * 6)])
                    l3 = l3 / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1E, optdata=b"\x44" * 4)])
                    # A Routing header still to be processed, so the ICV is over the final-destination form
                    # (RFC 4302 Appendix A.2). The packet is addressed to the next hop; SA destination = final.
                    hop = "2001:db8:cc::%x" % r.randint(1, 0xFFFF)
                    if self.variant == "rh0partial":
                        visited = "2001:db8:dd::%x" % r.randint(1, 0xFFFF)
                        l3.dst = hop
                        l3 = l3 / IPv6ExtHdrRouting(type=0, addresses=[visited, dst], segleft=1)
                    elif self.idx % 2 == 0:
                        hop2 = "2001:db8:cd::%x" % r.randint(1, 0xFFFF)
                        l3.dst = hop
                        l3 = l3 / IPv6ExtHdrRouting(type=0, addresses=[hop2, dst], segleft=2)
                    else:
                        l3.dst = hop  # care-of address; the home address (the SA's destination) is in the header
                        l3 = l3 / IPv6ExtHdrRouting(type=2, addresses=[dst], segleft=1)
                    l3 = l3 / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x3E, optdata=b"\x55" * 6)])
                elif ext and self.variant != "natt":
                    l3 = l3 / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / IPv6ExtHdrDestOpt(
                        options=[HBHOptUnknown(otype=0x3E, optdata=b"\x66" * 6)])
                l4 = (UDP(sport=r.randint(1024, 65535), dport=r.randint(1, 65535)) / Raw(data) if kind == 0 else
                      TCP(sport=r.randint(1024, 65535), dport=443, seq=r.getrandbits(32), flags="PA") / Raw(data)
                      if kind == 1 else ICMPv6EchoRequest(id=r.randint(0, 65535), seq=i, data=data))
                pkt = l3 / l4
            out.append(raw(pkt))
        return out

    def seqs(self, n):
        return [self.first_seq + k for k in range(n)]


# ---- byte-level helpers ----------------------------------------------------------------------------------------------

def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))  # LINKTYPE_RAW
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)))
            f.write(p)


def read_pcap(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s is not a pcap file" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off, out = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    skip = {101: 0, 228: 0, 229: 0, 1: 14, 0: 4, 113: 16}[linktype]
    return [p[skip:] for p in out]


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def fix_ipv4_checksum(b):
    ihl = (b[0] & 15) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", checksum(bytes(b[:ihl])))


def ipsec_offset(b):
    """(offset of the ESP/AH header or of the UDP header carrying ESP, protocol number) in an IP packet."""
    if b[0] >> 4 == 4:
        return (b[0] & 15) * 4, b[9]
    nh, off = b[6], 40
    while nh in (0, 43, 60):
        nh, off = b[off], off + (b[off + 1] + 1) * 8
    return off, nh


def set_ip_length(b, total):
    if b[0] >> 4 == 4:
        b[2:4] = struct.pack("!H", total)
        fix_ipv4_checksum(b)
    else:
        b[4:6] = struct.pack("!H", total - 40)


def transit(pkt, mutate=True):
    """What the path does to a packet on its way to the final destination: routers rewrite DSCP/ECN, set DF,
    decrement TTL/hop limit, relabel the flow, fill Record Route and rewrite the options whose change bit is set in
    the Hop-by-Hop and pre-routing Destination Options headers (only with `mutate`); the nodes of a Routing header
    process it (RFC 2460 §4.4; type 2: RFC 6275 §6.4), always. Stops at the first header that is not an IPv6 option
    or routing header, so a protected packet and its plaintext change alike."""
    b = bytearray(pkt)
    if b[0] >> 4 == 4:
        if not mutate:
            return bytes(b)
        ihl = (b[0] & 15) * 4
        b[1] = 0xB9
        b[6] |= 0x40
        b[8] = max(1, b[8] - 3)
        i = 20
        while i < ihl:
            t = b[i]
            if t == 0:
                break
            if t == 1:
                i += 1
                continue
            length = b[i + 1]
            if t == 7:  # Record Route: write our address, advance the pointer
                ptr = b[i + 2]
                if ptr + 3 <= length:
                    b[i + ptr - 1:i + ptr + 3] = bytes([192, 0, 2, 254])
                    b[i + 2] = ptr + 4
            i += length
        fix_ipv4_checksum(b)
        return bytes(b)
    if mutate:
        b[0:4] = struct.pack("!I", 6 << 28 | 0xB8 << 20 | 0x12345)
        b[7] = max(1, b[7] - 3)
    nh, off, routed = b[6], 40, False
    while nh in (0, 43, 60):
        hlen = (b[off + 1] + 1) * 8
        if mutate and (nh == 0 or (nh == 60 and not routed)):
            j = off + 2
            while j < off + hlen:
                if b[j] == 0:
                    j += 1
                    continue
                length = b[j + 1]
                if b[j] & 0x20:
                    b[j + 2:j + 2 + length] = bytes(x ^ 0x5A for x in b[j + 2:j + 2 + length])
                j += 2 + length
        elif nh == 43:
            routed = True
            n, left = b[off + 1] // 2, b[off + 3]
            if b[off + 2] in (0, 2):
                while left > 0:
                    left -= 1
                    k = off + 8 + 16 * (n - left - 1)
                    b[24:40], b[k:k + 16] = b[k:k + 16], b[24:40]
                b[off + 3] = 0
        nh, off = b[off], off + hlen
    return bytes(b)


# ---- protection by scapy (direction a) --------------------------------------------------------------------------------

def scapy_protect(case, plain):
    out = []
    sa = case.scapy_sa()
    crypt = CRYPT_ALGOS[case.algo.crypt] if case.proto == "esp" else None
    for p, seq in zip(plain, case.seqs(len(plain))):
        pkt = IP(p) if p[0] >> 4 == 4 else IPv6(p)
        # scapy replaces a sequence number of 0 by its counter (`seq_num or self.seq_num`): pass it through the
        # counter instead, so that low 32 bits of 0 (after an ESN wrap) are sent as 0.
        sa.seq_num = seq & 0xFFFFFFFF
        sa.esn = seq >> 32
        if case.proto == "esp":
            iv = bytes(case.rng.getrandbits(8) for _ in range(crypt.iv_size)) if crypt.iv_size else None
            e = sa.encrypt(pkt, iv=iv)
        else:
            e = sa.encrypt(pkt)
        out.append(raw(e))
    return out


def truncate_gcm_icv(pkt, icv):
    """scapy's AES-GCM packet (16-byte ICV) with the ICV cut to its first `icv` bytes: the truncated GCM tag
    (NIST SP 800-38D §5.2.1.2, RFC 4106 §6)."""
    b = bytearray(pkt[:len(pkt) - (16 - icv)])
    set_ip_length(b, len(b))
    return bytes(b)


def ah_icv_offset(pkt):
    off, nh = ipsec_offset(pkt)
    assert nh == 51
    return off + 12


def resign_ah_final_form(case, sent, seq64):
    """An AH packet as sent, with the ICV computed over the correct final-destination form (our transit(), then
    scapy's receive-side zeroing), not scapy's rotation: the RFC 4302 Appendix A.2 check of the rh0partial cases."""
    arrived = transit(sent, mutate=False)
    pkt = IPv6(arrived)
    algo = case.scapy_sa().auth_algo
    zeroed = zero_mutable_fields(pkt.copy(), sending=False)
    mac = algo.new_mac(case.auth_key)
    mac.update(bytes(zeroed))
    if case.esn:
        mac.update(struct.pack("!L", seq64 >> 32))  # RFC 4302 §2.5.1, §3.3.3.2: the high bits follow the packet
    icv = mac.finalize()[:algo.icv_size]
    b = bytearray(sent)
    o = ah_icv_offset(sent)
    b[o:o + len(icv)] = icv
    return bytes(b)


# ---- checks -----------------------------------------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.cases = self.agree = self.disagree = self.oracle = 0
        self.by_mode = {}
        self.by_dir = {"a": 0, "b": 0}
        self.oracle_kinds = {}
        self.disagreements = []

    def count(self, case, direction, outcome, detail=None, kind=None):
        self.cases += 1
        self.by_mode[case.mode_key] = self.by_mode.get(case.mode_key, 0) + 1
        self.by_dir[direction] += 1
        if outcome == "agree":
            self.agree += 1
        elif outcome == "oracle":
            self.oracle += 1
            self.oracle_kinds[kind] = self.oracle_kinds.get(kind, 0) + 1
        else:
            self.disagree += 1
            line = "DISAGREE %s %s: %s" % (case.name, "scapy->ipsec-lab" if direction == "a" else
                                          "ipsec-lab->scapy", detail)
            self.disagreements.append(line)
            print(line)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def ipsec_lab_jobs(binary, case, d):
    """Runs decap on scapy's packets, encap on the plaintext, and decap on our own output (round trip)."""
    res = {}
    res["decap"] = run([binary, "decap", "--sa", d + "/sa-decap.json", "--in", d + "/scapy.pcap",
                        "--out", d + "/decap.pcap", "--json"])
    res["encap"] = run([binary, "encap", "--sa", d + "/sa-encap.json", "--in", d + "/plain.pcap",
                        "--out", d + "/encap.pcap", "--seed", str(case.idx + 1), "--json"])
    if os.path.exists(d + "/fixed.pcap"):
        res["decap-fixed"] = run([binary, "decap", "--sa", d + "/sa-decap.json", "--in", d + "/fixed.pcap",
                                  "--out", d + "/decap-fixed.pcap", "--json"])
    if res["encap"][0] == 0 and case.algo.scapy_bug_4903:
        res["roundtrip"] = run([binary, "decap", "--sa", d + "/sa-decap.json", "--in", d + "/encap.pcap",
                                "--out", d + "/roundtrip.pcap", "--json"])
    return res


def parse_decap(result, path, n):
    """(verdicts, output packets aligned with the input, or None) or an error string."""
    code, out, err = result
    if code != 0:
        return "decap failed (%d): %s" % (code, err.strip()[:300])
    try:
        summary = json.loads(out)
    except ValueError:
        return "decap printed no JSON: %r" % out[:200]
    verdicts = summary.get("packets", [])
    if len(verdicts) != n:
        return "decap reported %d packets, %d went in" % (len(verdicts), n)
    outputs = read_pcap(path)
    aligned, k = [], 0
    for v in verdicts:
        if v.get("verdict") == "accepted" and k < len(outputs):
            aligned.append(outputs[k])
            k += 1
        else:
            aligned.append(None)
    return verdicts, aligned


def diff_bytes(a, b):
    if len(a) != len(b):
        return "length %d, expected %d" % (len(a), len(b))
    i = next(i for i in range(len(a)) if a[i] != b[i])
    return "first difference at byte %d: %s vs expected %s" % (i, a[i:i + 8].hex(), b[i:i + 8].hex())


def check_a(case, plain, res, d, stats):
    """scapy protected, ipsec-lab opened."""
    seqs = case.seqs(len(plain))
    expected = [transit(p) if case.variant == "transit" and case.mode == "transport" else p for p in plain]
    parsed = parse_decap(res["decap"], d + "/decap.pcap", len(plain))
    if case.algo.scapy_bug_4903 or case.variant == "rh0partial":
        kind = "scapy#4903" if case.algo.scapy_bug_4903 else "scapy-rh0-rotation"
        # scapy's packet is wrong; IPsecLab must refuse it (integrity), and must accept the RFC-correct packet.
        fixed = parse_decap(res.get("decap-fixed", (1, "", "no fixed capture")), d + "/decap-fixed.pcap", len(plain))
        for i in range(len(plain)):
            problems = []
            if isinstance(parsed, str):
                problems.append(parsed)
            elif parsed[0][i].get("verdict") != "dropped" or parsed[0][i].get("reason") != "integrity":
                problems.append("accepted scapy's non-conforming packet (%s)" % parsed[0][i])
            if isinstance(fixed, str):
                problems.append("RFC-conforming packet: " + fixed)
            elif fixed[1][i] is None:
                problems.append("RFC-conforming packet dropped: %s" % fixed[0][i])
            elif fixed[1][i] != expected[i]:
                problems.append("RFC-conforming packet opened wrong: " + diff_bytes(fixed[1][i], expected[i]))
            if problems:
                stats.count(case, "a", "disagree", "pkt %d (payload %d): %s" % (i, PAYLOAD_SIZES[i], "; ".join(problems)))
            else:
                stats.count(case, "a", "oracle", kind=kind)
        if not any(line.startswith("DISAGREE %s scapy" % case.name) for line in stats.disagreements):
            print("ORACLE-BUG %s %s scapy->ipsec-lab: scapy's packets refused (integrity), the RFC-conforming "
                  "ones accepted and byte-exact" % (kind, case.name))
        return
    if isinstance(parsed, str):
        for i in range(len(plain)):
            stats.count(case, "a", "disagree", parsed)
        return
    verdicts, outs = parsed
    for i, (v, o) in enumerate(zip(verdicts, outs)):
        label = "pkt %d (payload %d, seq 0x%x)" % (i, PAYLOAD_SIZES[i], seqs[i])
        if v.get("verdict") != "accepted":
            stats.count(case, "a", "disagree", "%s dropped: %s" % (label, v.get("reason")))
        # decap names the mode-matrix cell (tunnel-esp, transport-ah, ...); its first word is the SA's mode.
        elif v.get("sequence_number") != seqs[i] or v.get("spi") != case.spi \
                or (v.get("mode") or "").split("-")[0] != case.mode:
            stats.count(case, "a", "disagree", "%s reported spi %s seq %s mode %s" % (
                label, v.get("spi"), v.get("sequence_number"), v.get("mode")))
        elif o != expected[i]:
            stats.count(case, "a", "disagree", "%s plaintext differs: %s" % (label, diff_bytes(o, expected[i])))
        else:
            stats.count(case, "a", "agree")


def esp_fields(pkt):
    off, nh = ipsec_offset(pkt)
    if nh == 17:
        off += 8
    spi, seq = struct.unpack("!II", pkt[off:off + 8])
    return off, spi, seq


def check_padding(case, sa, pkt, seq64):
    """The ESP trailer of our packet, decrypted by scapy's transform: RFC 4303 §2.4 default padding 1, 2, 3, …, no
    more than needed, and the payload aligned to the block size and to 4 bytes."""
    crypt = sa.crypt_algo
    esp = pkt[ESP]
    icv = sa.crypt_icv_size or crypt.icv_size or sa.auth_algo.icv_size
    plain = crypt.decrypt(sa, esp, sa.crypt_key, icv, esn_en=case.esn, esn=seq64 >> 32)
    pad = bytes(plain.padding)
    if pad != bytes(range(1, len(pad) + 1)):
        return "padding bytes %s are not 1, 2, 3, … (RFC 4303 §2.4)" % pad.hex()
    align = math.lcm(crypt.block_size, 4)
    needed = -(len(raw(plain.data)) + 2) % align
    if len(pad) != needed:
        return "%d padding bytes where the minimal %d align the payload to %d (scapy and Linux pad minimally)" % (
            len(pad), needed, align)
    return None


def gcm_rfc_check(case, ours, original, seq64):
    off, spi, seq = esp_fields(ours)
    esp = ours[off:]
    icv = case.algo.icv
    iv, body = esp[8:16], esp[16:]
    ct, tag = body[:-icv], body[-icv:]
    key, salt = case.crypt_key[:-4], case.crypt_key[-4:]
    aad = struct.pack("!III", spi, seq64 >> 32, seq) if case.esn else struct.pack("!II", spi, seq)
    dec = Cipher(algorithms.AES(key), modes.GCM(salt + iv, tag, min_tag_length=icv)).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        pt = dec.update(ct) + dec.finalize()
    except Exception:
        return "ICV does not verify as a %d-byte truncated GCM tag (RFC 4106 §5, §6)" % icv
    padlen, nh = pt[-2], pt[-1]
    data = pt[:len(pt) - 2 - padlen]
    if pt[len(pt) - 2 - padlen:-2] != bytes(range(1, padlen + 1)) or (len(data) + 2 + padlen) % 4 or padlen > 3:
        return "padding %s wrong (RFC 4303 §2.4)" % pt[len(pt) - 2 - padlen:-2].hex()
    if case.mode == "tunnel":
        want_data, want_nh = original, (4 if original[0] >> 4 == 4 else 41)
    else:
        # The original's payload after the headers that stay in front of ESP, and the next header they announce.
        want_nh, pos = (original[9], off) if original[0] >> 4 == 4 else (original[6], 40)
        while pos < off:
            want_nh, pos = original[pos], pos + (original[pos + 1] + 1) * 8
        want_data = original[off:]
    if data != want_data or nh != want_nh:
        return "decrypted payload (%d bytes, next header %d) is not the original's (%d bytes, next header %d)" % (
            len(data), nh, len(want_data), want_nh)
    if len(esp) != 8 + 8 + len(ct) + icv or len(ct) % 4:
        return "ESP length %d is not header + IV + ciphertext + %d-byte ICV" % (len(esp), icv)
    return None


def check_b(case, plain, res, d, stats):
    """ipsec-lab protected, scapy opened (with ICV verification)."""
    seqs = case.seqs(len(plain))
    code, out, err = res["encap"]
    if code != 0:
        for i in range(len(plain)):
            stats.count(case, "b", "disagree", "encap failed (%d): %s" % (code, err.strip()[:300]))
        return
    ours = read_pcap(d + "/encap.pcap")
    if len(ours) != len(plain):
        for i in range(len(plain)):
            stats.count(case, "b", "disagree", "encap wrote %d packets for %d (%s)" % (len(ours), len(plain), out.strip()))
        return
    if case.algo.scapy_bug_4903:
        rt = parse_decap(res.get("roundtrip", (1, "", "not run")), d + "/roundtrip.pcap", len(plain))
    for i, (o, p, seq) in enumerate(zip(ours, plain, seqs)):
        label = "pkt %d (payload %d, seq 0x%x)" % (i, PAYLOAD_SIZES[i], seq)
        pkt = IP(o) if o[0] >> 4 == 4 else IPv6(o)
        layer = pkt[ESP] if case.proto == "esp" and ESP in pkt else (pkt[AH] if AH in pkt else None)
        if layer is None:
            stats.count(case, "b", "disagree", "%s: no %s header in %s" % (label, case.proto.upper(), o[:60].hex()))
            continue
        if layer.spi != case.spi or layer.seq != seq & 0xFFFFFFFF:
            stats.count(case, "b", "disagree", "%s: spi 0x%x seq 0x%x" % (label, layer.spi, layer.seq))
            continue
        if case.mode == "tunnel" and (pkt.src != case.src or pkt.dst != case.dst):
            stats.count(case, "b", "disagree", "%s: outer %s -> %s" % (label, pkt.src, pkt.dst))
            continue
        if case.variant == "natt" and not (UDP in pkt and pkt[UDP].sport == 4500 and pkt[UDP].dport == 4500
                                           and pkt[UDP].payload.name == "ESP"):
            stats.count(case, "b", "disagree", "%s: the SA has UDP encapsulation (RFC 3948) but the packet is "
                        "not ESP in UDP 4500->4500: %s" % (label, pkt.summary()))
            continue
        if case.algo.scapy_bug_4903:
            problems = []
            sa = case.scapy_sa()
            try:
                sa.decrypt(IP(o) if o[0] >> 4 == 4 else IPv6(o), esn_en=case.esn, esn=seq >> 32)
                problems.append("scapy accepted an AES-GCM packet with a %d-byte ICV (expected #4903)" % case.algo.icv)
            except IPSecIntegrityError:
                pass
            problem = gcm_rfc_check(case, o, p, seq)
            if problem:
                problems.append(problem)
            if isinstance(rt, str):
                problems.append("round trip: " + rt)
            elif rt[1][i] != p:
                problems.append("round trip: " + (diff_bytes(rt[1][i], p) if rt[1][i] else "dropped %s" % rt[0][i]))
            if problems:
                stats.count(case, "b", "disagree", "%s: %s" % (label, "; ".join(problems)))
            else:
                stats.count(case, "b", "oracle", kind="scapy#4903")
            continue
        expected = p
        arrived = o
        if case.variant in ("transit", "rh0partial"):
            arrived = transit(o)
            if case.mode == "transport":
                expected = transit(p)
        elif case.proto == "ah" and case.mode == "transport":
            # scapy verifies the packet as it arrives: Routing header processed (its own sender-side prediction is
            # not applied on receipt). The final form is what the ICV covers (RFC 4302 Appendix A.2).
            arrived, expected = transit(o, mutate=False), transit(p, mutate=False)
        sa = case.scapy_sa()
        try:
            got = sa.decrypt(IP(arrived) if arrived[0] >> 4 == 4 else IPv6(arrived), esn_en=case.esn, esn=seq >> 32)
        except IPSecIntegrityError as e:
            stats.count(case, "b", "disagree", "%s: scapy rejects the ICV (%s)" % (label, str(e)[:160]))
            continue
        except Exception as e:  # scapy could not parse or open it
            stats.count(case, "b", "disagree", "%s: scapy fails on it: %r" % (label, e))
            continue
        got = raw(got)
        if got != expected:
            stats.count(case, "b", "disagree", "%s: scapy's plaintext differs: %s" % (label, diff_bytes(got, expected)))
            continue
        if case.proto == "esp":
            problem = check_padding(case, sa, IP(o) if o[0] >> 4 == 4 else IPv6(o), seq)
            if problem:
                stats.count(case, "b", "disagree", "%s: %s" % (label, problem))
                continue
        stats.count(case, "b", "agree")
    if case.algo.scapy_bug_4903 and not any(l.startswith("DISAGREE %s ipsec-lab" % case.name)
                                            for l in stats.disagreements):
        print("ORACLE-BUG scapy#4903 %s ipsec-lab->scapy: scapy cannot verify a %d-byte GCM ICV; the packets verify "
              "with cryptography's truncated-tag GCM (RFC 4106), lengths right, IPsecLab's round trip exact"
              % (case.name, case.algo.icv))


# ---- the matrix -------------------------------------------------------------------------------------------------------

COMBOS = [(m, v, e) for m in ("transport", "tunnel") for v in (4, 6) for e in (False, True)]
# plain: no options or extension headers. ext: IPv4 options (Record Route, Router Alert, NOP, EOL) and DF, IPv6
# Hop-by-Hop (Router Alert, a mutable option), Destination Options before and after a type 0 or 2 Routing header
# with Segments Left > 0 (transport; in tunnel mode the outer header carries options for scapy's packets). transit:
# ext, captured at the receiver after routers changed every mutable field (AH). df: DF set by the sender (AH, IPv4).
# rh0partial: a type 0 Routing header with Segments Left 1 of 2 (AH, IPv6 transport). natt: ESP in UDP (RFC 3948).
VARIANTS = ["plain", "ext", "transit", "df", "rh0partial", "natt"]
REPRESENTATIVE = ("aes128-sha1", "aes128gcm16", "chacha20poly1305", "null-sha256", "aes256ctr-sha512",
                  "aes192ccm8", "aes128gmac", "3des-md5")


def build_matrix(profile, rng):
    specs = []  # (proto, mode, outer, algo, esn, variant)
    esp = esp_algorithms()
    ah = ah_algorithms()
    full = profile == "full"
    for i, algo in enumerate(esp):
        combos = COMBOS if full else [COMBOS[i % len(COMBOS)]]
        for mode, outer, esn in combos:
            specs.append(("esp", mode, outer, algo, esn, "plain"))
    reps = [a for a in esp if a.keyword in REPRESENTATIVE]
    for i, algo in enumerate(reps):
        for j, (mode, outer, esn) in enumerate(COMBOS):
            if full or (i + j) % 4 == 0:
                specs.append(("esp", mode, outer, algo, esn, "ext"))
            if full or (i + j) % 4 == 1:
                specs.append(("esp", mode, outer, algo, esn, "natt"))
    for i, algo in enumerate(ah):
        for j, (mode, outer, esn) in enumerate(COMBOS):
            pick = full or (i + j) % len(ah) == 0
            if pick or (i + j) % 3 == 0:
                specs.append(("ah", mode, outer, algo, esn, "plain"))
            if pick or (i + j) % 3 == 1:
                specs.append(("ah", mode, outer, algo, esn, "ext"))
            if pick or (i + j) % 3 == 2:
                specs.append(("ah", mode, outer, algo, esn, "transit"))
            if outer == 4 and (full or (i + j) % 4 == 0):
                specs.append(("ah", mode, outer, algo, esn, "df"))
            if mode == "transport" and outer == 6 and (full or (i + j) % 6 == 1):
                specs.append(("ah", mode, outer, algo, esn, "rh0partial"))
    return [SACase(idx, *s, rng=rng) for idx, s in enumerate(specs)]


# ---- scapy keyed by `ip xfrm state add` commands ---------------------------------------------------------------------

XFRM_ENC = {"cbc(aes)": "AES-CBC", "aes": "AES-CBC", "rfc3686(ctr(aes))": "AES-CTR", "cbc(des3_ede)": "3DES",
            "des3_ede": "3DES", "ecb(cipher_null)": "NULL", "cipher_null": "NULL"}
XFRM_AEAD = {"rfc4106(gcm(aes))": "AES-GCM", "rfc4309(ccm(aes))": "AES-CCM", "rfc4543(gcm(aes))": "AES-NULL-GMAC",
             "rfc7539esp(chacha20,poly1305)": "CHACHA20-POLY1305"}
XFRM_AUTH = {("hmac(md5)", 96): "HMAC-MD5-96", ("hmac(sha1)", 96): "HMAC-SHA1-96",
             ("hmac(sha256)", 128): "SHA2-256-128", ("hmac(sha384)", 192): "SHA2-384-192",
             ("hmac(sha512)", 256): "SHA2-512-256", ("cmac(aes)", 96): "AES-CMAC-96"}
XFRM_DEFAULT_TRUNCATION = {"hmac(md5)": 96, "md5": 96, "hmac(sha1)": 96, "sha1": 96, "cmac(aes)": 96,
                           "hmac(sha384)": 192, "hmac(sha512)": 256}


def xfrm_states(path):
    """The SAs of a file of `ip xfrm state add` commands, read independently of IPsecLab (shell words by shlex,
    Linux algorithm names mapped to scapy's), as scapy SecurityAssociations with their addresses and mode."""
    import shlex
    text = open(path).read().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        while words and words[0] in ("sudo", "ip", "-4", "-6"):
            words = words[1:]
        if words[:3] != ["xfrm", "state", "add"]:
            continue
        w, i, st = words[3:], 0, {"mode": "transport"}
        while i < len(w):
            k = w[i]
            if k in ("src", "dst", "proto", "spi", "mode", "reqid", "replay-window", "flag"):
                st[k] = w[i + 1]
                i += 2
            elif k == "enc":
                st["crypt_algo"], st["crypt_key"] = XFRM_ENC[w[i + 1].lower()], w[i + 2]
                i += 3
            elif k == "auth":
                name = w[i + 1].lower()
                st["auth_algo"], st["auth_key"] = XFRM_AUTH[(name, XFRM_DEFAULT_TRUNCATION[name])], w[i + 2]
                i += 3
            elif k == "auth-trunc":
                st["auth_algo"], st["auth_key"] = XFRM_AUTH[(w[i + 1].lower(), int(w[i + 3]))], w[i + 2]
                i += 4
            elif k == "aead":
                st["crypt_algo"], st["crypt_key"], st["icv"] = XFRM_AEAD[w[i + 1].lower()], w[i + 2], int(w[i + 3]) // 8
                i += 4
            else:
                raise ValueError("%s: this reader does not know '%s'" % (path, k))
        key = lambda t: bytes.fromhex(t[2:]) if t.lower().startswith("0x") else t.encode()  # noqa: E731
        kw = dict(spi=int(st["spi"], 0))
        if "crypt_algo" in st:
            kw.update(crypt_algo=st["crypt_algo"], crypt_key=key(st["crypt_key"]) or None)
            if "icv" in st:
                kw["crypt_icv_size"] = st["icv"]
        if "auth_algo" in st:
            kw.update(auth_algo=st["auth_algo"], auth_key=key(st["auth_key"]))
        v6 = ":" in st["src"]
        if st["mode"] == "tunnel":
            kw["tunnel_header"] = IPv6(src=st["src"], dst=st["dst"]) if v6 else IP(src=st["src"], dst=st["dst"])
        out.append((SecurityAssociation(ESP if st["proto"] == "esp" else AH, **kw), st))
    return out


def protect_from_xfrm(path, plain_out, protected_out, seed):
    """Plaintext packets for every SA of an `ip xfrm` commands file, and scapy's protection of them (sequence
    numbers 1, 2, 3 per SA), as two captures whose packets correspond one to one."""
    r = random.Random(seed)
    plain, protected = [], []
    for sa, st in xfrm_states(path):
        v6 = ":" in st["src"]
        for seq, size in enumerate([0, 17, 1400], start=1):
            data = bytes(r.getrandbits(8) for _ in range(size))
            if st["mode"] == "tunnel":
                src, dst = ("2001:db8:a::%x" % seq, "2001:db8:b::%x" % seq) if v6 else ("192.168.1.%d" % seq,
                                                                                      "192.168.2.%d" % seq)
            else:
                src, dst = st["src"], st["dst"]
            l3 = IPv6(src=src, dst=dst, hlim=64) if v6 else IP(src=src, dst=dst, id=r.randint(0, 65535))
            p = raw(l3 / UDP(sport=r.randint(1024, 65535), dport=r.randint(1024, 65535)) / Raw(data))
            sa.seq_num = seq
            plain.append(p)
            protected.append(raw(sa.encrypt(IPv6(p) if v6 else IP(p))))
    write_pcap(plain_out, plain)
    write_pcap(protected_out, protected)
    print("protected %d packets with %d SAs" % (len(protected), len(protected) // 3))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsec-lab")
    ap.add_argument("--workdir")
    ap.add_argument("--xfrm-commands", help="instead of the matrix: protect packets with the SAs of this file of "
                    "`ip xfrm state add` commands, writing --plain-out and --protected-out")
    ap.add_argument("--plain-out")
    ap.add_argument("--protected-out")
    ap.add_argument("--profile", choices=["quick", "full"], default="full")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--min-cases", type=int, default=100)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated subset of: %s" % ", ".join(VARIANTS))
    ap.add_argument("--only", help="regular expression on case names (debugging)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = ap.parse_args()
    if a.xfrm_commands:
        return protect_from_xfrm(a.xfrm_commands, a.plain_out, a.protected_out, a.seed)
    if not a.ipsec_lab or not a.workdir:
        ap.error("--ipsec-lab and --workdir are required")

    rng = random.Random(a.seed)
    cases = build_matrix(a.profile, rng)
    wanted = set(a.variants.split(","))
    if not wanted <= set(VARIANTS):
        ap.error("unknown variants: %s" % ", ".join(sorted(wanted - set(VARIANTS))))
    cases = [c for c in cases if c.variant in wanted]
    if a.only:
        cases = [c for c in cases if re.search(a.only, c.name)]
    plains, dirs = {}, {}
    for c in cases:
        d = os.path.join(a.workdir, "sa%04d" % c.idx)
        os.makedirs(d, exist_ok=True)
        dirs[c.idx] = d
        plain = c.plaintexts()
        plains[c.idx] = plain
        protected = scapy_protect(c, plain)
        write_pcap(d + "/plain.pcap", plain)
        if c.algo.scapy_bug_4903:
            write_pcap(d + "/fixed.pcap", [truncate_gcm_icv(p, c.algo.icv) for p in protected])
        if c.variant == "rh0partial":
            write_pcap(d + "/fixed.pcap", [resign_ah_final_form(c, p, s) for p, s in zip(protected, c.seqs(len(plain)))])
        if c.variant == "transit":
            protected = [transit(p) for p in protected]  # captured at the receiver, after the routers
        write_pcap(d + "/scapy.pcap", protected)
        for direction in ("decap", "encap"):
            with open(d + "/sa-%s.json" % direction, "w") as f:
                json.dump(c.json_sa(direction), f)

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {c.idx: pool.submit(ipsec_lab_jobs, a.ipsec_lab, c, dirs[c.idx]) for c in cases}
        results = {k: f.result() for k, f in futures.items()}

    stats = Stats()
    for c in cases:
        check_a(c, plains[c.idx], results[c.idx], dirs[c.idx], stats)
        check_b(c, plains[c.idx], results[c.idx], dirs[c.idx], stats)

    modes_text = ", ".join("%s %d" % kv for kv in sorted(stats.by_mode.items()))
    kinds = ", ".join("%s %d" % kv for kv in sorted(stats.oracle_kinds.items())) or "none"
    variants = {}
    for c in cases:
        variants[c.variant] = variants.get(c.variant, 0) + 1
    variants_text = ", ".join("%s %d" % (v, variants[v]) for v in VARIANTS if v in variants)
    print("summary: cases %d, agreements %d, disagreements %d, oracle_bugs %d; SAs %d (%s); by mode: %s; "
          "scapy->ipsec-lab %d, ipsec-lab->scapy %d; oracle bugs: %s"
          % (stats.cases, stats.agree, stats.disagree, stats.oracle, len(cases), variants_text, modes_text,
             stats.by_dir["a"], stats.by_dir["b"], kinds))
    if stats.cases < a.min_cases:
        print("too few cases ran (%d < %d)" % (stats.cases, a.min_cases))
        return 1
    return 1 if stats.disagree else 0


if __name__ == "__main__":
    sys.exit(main())
