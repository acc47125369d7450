#!/usr/bin/env python3
"""The scapy oracle of `ipsec-lab diff` (docs/differential.md): a long-lived helper that answers JSON lines.

Each request on stdin is one line:

  {"op": "protect" | "open", "sa": SA, "packet": HEX, "seq": N, "iv": HEX}

SA: {"proto": "esp"|"ah", "mode": "transport"|"tunnel", "spi": N, "src": ADDR, "dst": ADDR, "crypt": scapy name or
null, "crypt_key": HEX, "icv": N or null (combined modes), "auth": scapy name or null, "auth_key": HEX, "esn": bool,
"natt": bool}. `seq` is the full (64-bit) sequence number; scapy takes the low and high 32 bits separately.

Each answer is one line, in order: {"ok": true, "packet": HEX} (protect: the protected packet; open: what scapy
delivers) or {"ok": false, "error": TEXT}, with "bug": REFERENCE when a known scapy bug had to be worked around:

  - scapy#4903: AES-GCM always emits and expects a 16-byte ICV. On protect the tag is cut to the SA's ICV length
    (the leftmost bytes are the truncated tag, NIST SP 800-38D §5.2.1.2, RFC 4106 §6); on open the truncated tag is
    verified with the `cryptography` package, and the packet, given its full tag, is opened by scapy.

  - scapy-natt-ipv6-exthdr: with `nat_t_header` on an IPv6 packet that keeps extension headers in front of ESP
    (transport mode), `_encrypt_esp` leaves the last extension header's Next Header at 50 although the UDP header
    follows it, and `_decrypt_esp` drops the extension headers (its NAT-T branch removes the whole IPv6 payload). On
    protect the Next Header is set to 17 (UDP, RFC 3948 §2.1); on open the extension headers are put back in front of
    what scapy decrypted, their last Next Header set to the one scapy read from the ESP trailer.

Nothing else is corrected. A line that cannot be parsed gets {"ok": false, "error": "bad request: ..."}.
"""
import json
import struct
import sys
import warnings

warnings.filterwarnings("ignore")

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from scapy.all import IP, IPv6, UDP, raw  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation, ESP, AH, IPSecIntegrityError  # noqa: E402


def make_sa(d):
    kw = dict(spi=d["spi"])
    if d["proto"] == "esp":
        kw["crypt_algo"] = d["crypt"]
        kw["crypt_key"] = bytes.fromhex(d["crypt_key"]) or None
        if d.get("icv"):
            kw["crypt_icv_size"] = d["icv"]
    if d.get("auth"):
        kw.update(auth_algo=d["auth"], auth_key=bytes.fromhex(d["auth_key"]))
    if d["mode"] == "tunnel":
        kw["tunnel_header"] = IP(src=d["src"], dst=d["dst"]) if ":" not in d["src"] else IPv6(src=d["src"], dst=d["dst"])
    if d.get("natt"):
        kw["nat_t_header"] = UDP(sport=4500, dport=4500)
    if d.get("esn"):
        kw.update(esn_en=True, esn=0)
    return SecurityAssociation(ESP if d["proto"] == "esp" else AH, **kw)


def parse(b):
    return IP(b) if b[0] >> 4 == 4 else IPv6(b)


def bug4903(d):
    return d["proto"] == "esp" and d["crypt"] == "AES-GCM" and d.get("icv") not in (None, 16)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def esp_offset(b):
    """Offset of the ESP header (after a UDP header for ESP in UDP) in an IP packet."""
    if b[0] >> 4 == 4:
        off, nh = (b[0] & 15) * 4, b[9]
    else:
        nh, off = b[6], 40
        while nh in (0, 43, 60):
            nh, off = b[off], off + (b[off + 1] + 1) * 8
    return off + 8 if nh == 17 else off, (off if nh == 17 else None)


def fix_lengths(b):
    """IP (and UDP) lengths and checksums after the packet's length changed."""
    b = bytearray(b)
    esp, udp = esp_offset(b)
    if b[0] >> 4 == 4:
        b[2:4] = struct.pack("!H", len(b))
        ihl = (b[0] & 15) * 4
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", checksum(bytes(b[:ihl])))
        if udp is not None:
            b[udp + 4:udp + 8] = struct.pack("!HH", len(b) - udp, 0)
    else:
        b[4:6] = struct.pack("!H", len(b) - 40)
        if udp is not None:
            n = len(b) - udp
            b[udp + 4:udp + 8] = struct.pack("!HH", n, 0)
            c = checksum(bytes(b[8:40]) + struct.pack("!II", n, 17) + bytes(b[udp:]))
            b[udp + 6:udp + 8] = struct.pack("!H", c or 0xFFFF)
    return bytes(b)


def ipv6_ext_before(b, stop):
    """Offset of the last IPv6 extension header in front of the first header that is not one, or None."""
    if b[0] >> 4 != 6:
        return None
    nh, off, last = b[6], 40, None
    while nh in (0, 43, 60) and off + 2 <= len(b):
        last = off
        nh, off = b[off], off + (b[off + 1] + 1) * 8
    return last


def natt_ext(d, packet):
    return d.get("natt") and d["mode"] == "transport" and packet[0] >> 4 == 6 and ipv6_ext_before(packet, None) is not None


def protect(d, packet, seq, iv):
    sa = make_sa(d)
    # scapy replaces a sequence number of 0 by its counter (`seq_num or self.seq_num`): set the counter instead, so
    # that low 32 bits of 0 (after an ESN wrap) are sent as 0.
    sa.seq_num = seq & 0xFFFFFFFF
    sa.esn = seq >> 32
    if d["proto"] == "esp":
        out = raw(sa.encrypt(parse(packet), iv=iv or None))
    else:
        out = raw(sa.encrypt(parse(packet)))
    bug = None
    if natt_ext(d, out):
        last = ipv6_ext_before(out, None)
        if out[last] == 50:
            out = out[:last] + b"\x11" + out[last + 1:]
            bug = "scapy-natt-ipv6-exthdr"
    if bug4903(d):
        return {"ok": True, "packet": fix_lengths(out[:len(out) - (16 - d["icv"])]).hex(), "bug": "scapy#4903"}
    r = {"ok": True, "packet": out.hex()}
    if bug:
        r["bug"] = bug
    return r


def gcm_full_tag(d, packet, seq):
    """The packet with its truncated AES-GCM tag checked (RFC 4106) and replaced by the full tag, or None."""
    icv = d["icv"]
    key = bytes.fromhex(d["crypt_key"])
    key, salt = key[:-4], key[-4:]
    off, _ = esp_offset(packet)
    spi, low = struct.unpack("!II", packet[off:off + 8])
    iv, body = packet[off + 8:off + 16], packet[off + 16:]
    if len(body) < icv:
        return None
    ct, tag = body[:-icv], body[-icv:]
    aad = struct.pack("!III", spi, seq >> 32, low) if d.get("esn") else struct.pack("!II", spi, low)
    dec = Cipher(algorithms.AES(key), modes.GCM(salt + iv, tag, min_tag_length=icv)).decryptor()
    dec.authenticate_additional_data(aad)
    try:
        pt = dec.update(ct) + dec.finalize()
    except Exception:
        return None
    enc = Cipher(algorithms.AES(key), modes.GCM(salt + iv)).encryptor()
    enc.authenticate_additional_data(aad)
    enc.update(pt)
    enc.finalize()
    return fix_lengths(packet[:off + 16] + ct + enc.tag)


def open_(d, packet, seq):
    sa = make_sa(d)
    bug = None
    if bug4903(d):
        bug = "scapy#4903"
        fixed = gcm_full_tag(d, packet, seq)
        if fixed is None:
            return {"ok": False, "error": "IPSecIntegrityError (truncated GCM tag checked with cryptography)",
                    "bug": bug}
        packet = fixed
    try:
        got = sa.decrypt(parse(packet), esn_en=bool(d.get("esn")), esn=seq >> 32)
    except IPSecIntegrityError as e:
        r = {"ok": False, "error": "IPSecIntegrityError: %s" % str(e)[:100]}
    except Exception as e:  # scapy could not parse or open it: a rejection too
        r = {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e)[:100])}
    else:
        got = raw(got)
        if natt_ext(d, packet):
            # Put back the extension headers scapy dropped, the last one naming what the ESP trailer named.
            bug = bug or "scapy-natt-ipv6-exthdr"
            _, udp = esp_offset(packet)
            last = ipv6_ext_before(packet, None)
            head = bytearray(packet[:udp])
            head[last] = got[6]
            data = got[40:]
            head[4:6] = struct.pack("!H", len(head) - 40 + len(data))
            got = bytes(head) + data
        r = {"ok": True, "packet": got.hex()}
    if bug:
        r["bug"] = bug
    return r


def answer(line):
    try:
        req = json.loads(line)
        d, packet, seq = req["sa"], bytes.fromhex(req["packet"]), int(req["seq"])
    except Exception as e:
        return {"ok": False, "error": "bad request: %r" % e}
    try:
        if req["op"] == "protect":
            return protect(d, packet, seq, bytes.fromhex(req.get("iv") or ""))
        if req["op"] == "open":
            return open_(d, packet, seq)
        return {"ok": False, "error": "bad request: unknown op %r" % req["op"]}
    except Exception as e:
        return {"ok": False, "error": "%s: %s" % (type(e).__name__, str(e)[:100])}


def main():
    out = sys.stdout
    out.write(json.dumps({"ready": True, "scapy": __import__("scapy").__version__}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        out.write(json.dumps(answer(line)) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
