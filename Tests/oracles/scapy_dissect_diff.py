#!/usr/bin/env python3
"""Differential dissection: scapy (pinned 2.8.0) against `ipsec-lab inspect --json`.

Builds a capture of random packets that IPsecLab has never seen (seeded: IPv4 options, every IPv6 extension header,
TCP options, ICMP, ICMPv6, UDP, ESP and AH in both IP versions, ESP-in-UDP, NAT-keepalives, non-ESP markers, IPComp,
first and later fragments, tunnels), runs `inspect --json` on it, and compares every field both tools report, layer by
layer. Prints one line per mismatch, then a summary line; exits 1 on any mismatch or if too little was compared.

Usage: scapy_dissect_diff.py --ipsec-lab BIN --seed N --count N --workdir DIR
"""
import argparse
import json
import random
import subprocess
import sys

from scapy.all import (Ether, IP, IPv6, UDP, TCP, ICMP, Raw, wrpcap, raw, IPOption_RR, IPOption_LSRR,
                       IPOption_SSRR, IPOption_Router_Alert, IPOption_NOP, IPOption_EOL, IPOption_Timestamp,
                       IPOption, ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6DestUnreach, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, IPv6ExtHdrFragment, IPv6ExtHdrSegmentRouting,
                       RouterAlert, PadN, Pad1, HBHOptUnknown)
from scapy.layers.ipsec import SecurityAssociation, ESP, AH
import scapy.layers.inet6 as inet6


def rand_v4(r):
    return "%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255), r.randint(1, 254))


def rand_v6(r):
    return "2001:db8:%x:%x::%x" % (r.randint(0, 0xffff), r.randint(0, 0xffff), r.randint(1, 0xffff))


def rand_payload(r, hi=64):
    return Raw(bytes(r.getrandbits(8) for _ in range(r.randint(1, hi))))


def ipv4_options(r):
    # Record route, timestamp and source routes appear at most once (RFC 791; Linux's ip_options_compile rejects
    # repeats), and at most one source route of either kind.
    opts, room, used = [], 40, set()
    for _ in range(r.randint(0, 4)):
        kind = r.choice(["rr", "lsrr", "ssrr", "ra", "nop", "ts", "unknown"])
        group = "sr" if kind in ("lsrr", "ssrr") else kind
        if group in ("rr", "sr", "ts") and group in used:
            continue
        used.add(group)
        if kind in ("rr", "lsrr", "ssrr"):
            n = r.randint(1, 3)
            cls = {"rr": IPOption_RR, "lsrr": IPOption_LSRR, "ssrr": IPOption_SSRR}[kind]
            o = cls(routers=[rand_v4(r) for _ in range(n)], pointer=4 + 4 * r.randint(0, n))
        elif kind == "ra":
            o = IPOption_Router_Alert()
        elif kind == "nop":
            o = IPOption_NOP()
        elif kind == "ts":
            o = IPOption_Timestamp(flg=0, pointer=5, timestamp=r.getrandbits(32))
        else:
            o = IPOption(copy_flag=0, optclass=2, option=30, length=4, value=b"\x01\x02")
        size = len(raw(o))
        if size > room:
            break
        room -= size
        opts.append(o)
    return opts


def tcp(r):
    choices = [("MSS", r.randint(500, 9000)), ("SAckOK", b""), ("Timestamp", (r.getrandbits(32), r.getrandbits(32))),
               ("NOP", None), ("WScale", r.randint(0, 14)), ("SAck", (r.getrandbits(32), r.getrandbits(32)))]
    opts = r.sample(choices, r.randint(0, 4))
    flags = r.choice(["S", "SA", "A", "PA", "FA", "R", "RA", "U", "SE", "AC"])
    return TCP(sport=r.randint(1, 65535), dport=r.randint(1, 65535), seq=r.getrandbits(32), ack=r.getrandbits(32),
               flags=flags, window=r.randint(0, 65535), urgptr=r.randint(0, 100) if "U" in flags else 0,
               options=opts)


def upper4(r):
    k = r.choice(["udp", "tcp", "icmp"])
    if k == "udp":
        return UDP(sport=r.randint(1, 65535), dport=r.choice([53, 123, r.randint(1024, 65535)])) / rand_payload(r)
    if k == "tcp":
        return tcp(r) / (rand_payload(r) if r.random() < 0.5 else b"")
    return ICMP(type=r.choice([0, 8, 3, 11]), code=0, id=r.randint(0, 65535), seq=r.randint(0, 65535)) / rand_payload(r)


def upper6(r):
    k = r.choice(["udp", "tcp", "icmpv6"])
    if k == "udp":
        return UDP(sport=r.randint(1, 65535), dport=r.randint(1, 65535)) / rand_payload(r)
    if k == "tcp":
        return tcp(r)
    return r.choice([ICMPv6EchoRequest, ICMPv6EchoReply])(id=r.randint(0, 65535), seq=r.randint(0, 65535),
                                                          data=bytes(r.getrandbits(8) for _ in range(r.randint(0, 20))))


def ext_headers(r, dst):
    """A random, valid chain (RFC 8200 §4.1 order), and the address the packet is really sent to."""
    layers = []
    if r.random() < 0.5:
        opts = [RouterAlert()] if r.random() < 0.5 else []
        # scapy pads each options header to 8 octets itself; explicit padding on top would make runs of padding
        # longer than the 7 bytes RFC 4942 §2.1.9.5 (and Linux's ip6_parse_tlv) allow.
        layers.append(IPv6ExtHdrHopByHop(options=opts))
    if r.random() < 0.4:
        layers.append(IPv6ExtHdrDestOpt(options=[RouterAlert()] if r.random() < 0.3 else []))
    if r.random() < 0.5:
        t = r.choice([0, 2, 4])
        if t == 0:
            addrs = [rand_v6(r) for _ in range(r.randint(1, 3))]
            layers.append(IPv6ExtHdrRouting(type=0, addresses=addrs, segleft=r.randint(0, len(addrs))))
        elif t == 2:
            layers.append(IPv6ExtHdrRouting(type=2, addresses=[rand_v6(r)], segleft=1))
        else:
            addrs = [rand_v6(r) for _ in range(r.randint(1, 3))] + [dst]
            layers.append(IPv6ExtHdrSegmentRouting(addresses=addrs, segleft=r.randint(0, len(addrs) - 1)))
    if r.random() < 0.3:
        layers.append(IPv6ExtHdrFragment(id=r.getrandbits(32), m=r.randint(0, 1), offset=0))
    return layers


def build(r):
    k = r.choice(["v4", "v4", "v6", "v6", "esp4", "esp6", "ah4", "ah6", "natt", "keepalive", "ike", "ipcomp",
                  "frag4", "frag6", "tunnel"])
    if k == "v4":
        return IP(src=rand_v4(r), dst=rand_v4(r), id=r.randint(0, 65535), ttl=r.randint(1, 255),
                  tos=r.randint(0, 255), flags=r.choice(["", "DF"]), options=ipv4_options(r)) / upper4(r)
    if k == "v6":
        dst = rand_v6(r)
        p = IPv6(src=rand_v6(r), dst=dst, tc=r.randint(0, 255), fl=r.getrandbits(20), hlim=r.randint(1, 255))
        for h in ext_headers(r, dst):
            p = p / h
        return p / upper6(r)
    if k in ("esp4", "esp6", "natt"):
        v6 = k == "esp6"
        alg = r.choice([("AES-CBC", 16, "HMAC-SHA1-96", 20), ("AES-CBC", 32, "SHA2-256-128", 32),
                        ("AES-GCM", 20, None, 0), ("AES-CTR", 20, "HMAC-SHA1-96", 20), ("NULL", 0, "SHA2-256-128", 32)])
        kwargs = dict(spi=r.randint(256, 0xffffffff), crypt_algo=alg[0], crypt_key=bytes(r.getrandbits(8) for _ in range(alg[1])))
        if alg[2]:
            kwargs.update(auth_algo=alg[2], auth_key=bytes(r.getrandbits(8) for _ in range(alg[3])))
        if k == "natt":
            kwargs["nat_t_header"] = UDP(sport=4500, dport=4500)
        if r.random() < 0.5:
            kwargs["tunnel_header"] = IPv6(src=rand_v6(r), dst=rand_v6(r)) if v6 else IP(src=rand_v4(r), dst=rand_v4(r))
        sa = SecurityAssociation(ESP, **kwargs)
        inner = (IPv6(src=rand_v6(r), dst=rand_v6(r)) / upper6(r)) if v6 else (IP(src=rand_v4(r), dst=rand_v4(r)) / upper4(r))
        return sa.encrypt(inner, seq_num=r.randint(1, 0xffffffff))
    if k in ("ah4", "ah6"):
        v6 = k == "ah6"
        alg = r.choice([("HMAC-SHA1-96", 20), ("SHA2-256-128", 32), ("HMAC-MD5-96", 16)])
        kwargs = dict(spi=r.randint(256, 0xffffffff), auth_algo=alg[0], auth_key=bytes(r.getrandbits(8) for _ in range(alg[1])))
        if r.random() < 0.3:
            kwargs["tunnel_header"] = IPv6(src=rand_v6(r), dst=rand_v6(r)) if v6 else IP(src=rand_v4(r), dst=rand_v4(r))
        sa = SecurityAssociation(AH, **kwargs)
        if v6:
            inner = IPv6(src=rand_v6(r), dst=rand_v6(r)) / upper6(r)
        else:
            inner = IP(src=rand_v4(r), dst=rand_v4(r), options=ipv4_options(r) if r.random() < 0.3 else []) / upper4(r)
        return sa.encrypt(inner, seq_num=r.randint(1, 0xffffffff))
    if k == "keepalive":
        return IP(src=rand_v4(r), dst=rand_v4(r)) / UDP(sport=4500, dport=4500) / Raw(b"\xff")
    if k == "ike":
        return IP(src=rand_v4(r), dst=rand_v4(r)) / UDP(sport=4500, dport=4500) / Raw(b"\x00" * 4) / rand_payload(r)
    if k == "ipcomp":
        return IP(src=rand_v4(r), dst=rand_v4(r), proto=108) / Raw(bytes([r.choice([4, 6, 17]), 0, 0, 2])) / rand_payload(r)
    if k == "frag4":
        return IP(src=rand_v4(r), dst=rand_v4(r), flags="MF", frag=r.randint(1, 100), proto=17) / rand_payload(r)
    if k == "frag6":
        return (IPv6(src=rand_v6(r), dst=rand_v6(r)) / IPv6ExtHdrFragment(id=r.getrandbits(32), offset=r.randint(1, 100), m=0, nh=17)
                / rand_payload(r))
    # IP-in-IP tunnel without IPsec.
    if r.random() < 0.5:
        return IP(src=rand_v4(r), dst=rand_v4(r)) / IPv6(src=rand_v6(r), dst=rand_v6(r)) / upper6(r)
    return IPv6(src=rand_v6(r), dst=rand_v6(r)) / IP(src=rand_v4(r), dst=rand_v4(r)) / upper4(r)


# ---- scapy's view, normalised to IPsecLab's JSON names -------------------------------------------------------------

def scapy_layers(pkt):
    """[(layer name, {field: value})] in IPsecLab's vocabulary, from scapy's dissection of the wire bytes."""
    out = []
    p = Ether(raw(pkt)).payload
    while p is not None and p.name != "NoPayload":
        name = p.__class__.__name__
        f = {}
        if name == "IP":
            f = dict(version=p.version, header_length=p.ihl * 4, dscp=p.tos >> 2, ecn=p.tos & 3, total_length=p.len,
                     identification=p.id, reserved_flag=bool(int(p.flags) & 4), dont_fragment=bool(int(p.flags) & 2),
                     more_fragments=bool(int(p.flags) & 1), fragment_offset=p.frag, ttl=p.ttl, protocol=p.proto,
                     checksum=p.chksum, source=p.src, destination=p.dst)
            opts = []
            for o in p.options:
                d = {"type": int(o.copy_flag) << 7 | int(o.optclass) << 5 | int(o.option)}
                # scapy lists each zero byte after End of Option List as another EOL; IPsecLab keeps them as the
                # EOL's padding. Same bytes, one option.
                if d["type"] == 0 and opts and opts[-1]["type"] == 0:
                    continue
                if d["type"] in (7, 131, 137):
                    d.update(pointer=o.pointer, route=list(o.routers))
                elif d["type"] == 148:
                    d.update(value=o.alert)
                elif d["type"] == 68:
                    d.update(pointer=o.pointer, overflow=o.oflw, flag=int(o.flg))
                opts.append(d)
            f["options"] = opts
            out.append(("ipv4", f))
            if p.frag != 0:
                out.append(("payload", {"length": len(p.payload)}))
                break
        elif name == "IPv6":
            f = dict(version=p.version, traffic_class=p.tc, flow_label=p.fl, payload_length=p.plen,
                     next_header=p.nh, hop_limit=p.hlim, source=p.src, destination=p.dst)
            out.append(("ipv6", f))
        elif name in ("IPv6ExtHdrHopByHop", "IPv6ExtHdrDestOpt"):
            f = dict(next_header=p.nh, header_length=(p.len + 1) * 8,
                     options=[{"type": o.otype} for o in p.options])
            out.append(("ipv6_hop_by_hop" if name == "IPv6ExtHdrHopByHop" else "ipv6_destination_options", f))
        elif name == "IPv6ExtHdrRouting":
            f = dict(next_header=p.nh, header_length=(p.len + 1) * 8, routing_type=p.type, segments_left=p.segleft,
                     addresses=list(p.addresses))
            out.append(("ipv6_routing", f))
        elif name == "IPv6ExtHdrSegmentRouting":
            f = dict(next_header=p.nh, header_length=(p.len + 1) * 8, routing_type=4, segments_left=p.segleft,
                     addresses=list(p.addresses), last_entry=p.lastentry)
            out.append(("ipv6_routing", f))
        elif name == "IPv6ExtHdrFragment":
            f = dict(next_header=p.nh, fragment_offset=p.offset, more_fragments=bool(p.m), identification=p.id)
            out.append(("ipv6_fragment", f))
            if p.offset != 0:
                out.append(("payload", {"length": len(p.payload)}))
                break
        elif name == "UDP":
            f = dict(source_port=p.sport, destination_port=p.dport, length=p.len, checksum=p.chksum)
            out.append(("udp", f))
            if 4500 in (p.sport, p.dport):
                body = bytes(p.payload)
                if body == b"\xff":
                    out.append(("nat_keepalive", {}))
                elif body[:4] == b"\x00\x00\x00\x00":
                    out.append(("non_esp_marker", {"ike_length": len(body) - 4}))
                else:
                    out.append(("esp", {"spi": int.from_bytes(body[0:4], "big"),
                                        "sequence_number": int.from_bytes(body[4:8], "big"),
                                        "protected_length": len(body) - 8}))
                break
        elif name == "TCP":
            f = dict(source_port=p.sport, destination_port=p.dport, sequence_number=p.seq,
                     acknowledgment_number=p.ack, data_offset=p.dataofs, flags=int(p.flags), window=p.window,
                     checksum=p.chksum, urgent_pointer=p.urgptr)
            kinds = {"EOL": 0, "NOP": 1, "MSS": 2, "WScale": 3, "SAckOK": 4, "SAck": 5, "Timestamp": 8}
            opts = []
            for o in p.options:
                d = {"kind": kinds.get(o[0], o[0] if isinstance(o[0], int) else -1)}
                if o[0] == "MSS":
                    d["value"] = o[1]
                elif o[0] == "WScale":
                    d["shift"] = o[1]
                elif o[0] == "Timestamp":
                    d.update(value=o[1][0], echo_reply=o[1][1])
                opts.append(d)
            f["options"] = opts
            out.append(("tcp", f))
        elif name.startswith("ICMPv6"):
            b = bytes(p)
            f = dict(type=p.type, code=p.code, checksum=p.cksum, rest_of_header=int.from_bytes(b[4:8], "big"))
            out.append(("icmpv6", f))
            break
        elif name == "ICMP":
            b = bytes(p)
            f = dict(type=p.type, code=p.code, checksum=p.chksum, rest_of_header=int.from_bytes(b[4:8], "big"))
            out.append(("icmpv4", f))
            break
        elif name == "ESP":
            out.append(("esp", {"spi": p.spi, "sequence_number": p.seq, "protected_length": len(bytes(p)) - 8}))
            break
        elif name == "AH":
            f = dict(next_header=p.nh, payload_length=p.payloadlen, spi=p.spi, sequence_number=p.seq,
                     icv=(bytes(p.icv) + bytes(p.padding or b"")).hex())
            out.append(("ah", f))
        elif name == "Raw" and out and out[-1][0] == "ipv4" and out[-1][1]["protocol"] == 108:
            b = bytes(p)
            out.append(("ipcomp", {"next_header": b[0], "flags": b[1], "cpi": int.from_bytes(b[2:4], "big"),
                                   "compressed_length": len(b) - 4}))
            break
        else:
            break
        p = p.payload
    return out


def ours_layers(obj):
    out = []
    for layer in obj["layers"]:
        name = layer["layer"]
        if name in ("payload",) and out and out[-1][0] not in ("ipv4", "ipv6_fragment"):
            continue
        out.append((name, layer))
    return out


def compare(i, theirs, ours, stats):
    ok = True
    ours = [l for l in ours if l[0] != "payload" or any(t[0] == "payload" for t in theirs)]
    names_t = [n for n, _ in theirs]
    names_o = [n for n, _ in ours][:len(names_t)]
    if names_t != names_o:
        print(f"packet {i}: layers differ: scapy {names_t}, ipsec-lab {[n for n, _ in ours]}")
        return False
    for (name, tf), (_, of) in zip(theirs, ours):
        for key, tv in tf.items():
            if key not in of:
                print(f"packet {i}: {name}.{key} missing from ipsec-lab's output (scapy: {tv!r})")
                ok = False
                continue
            ov = of[key]
            if key == "options":
                if len(ov) != len(tv):
                    print(f"packet {i}: {name}.options: scapy has {len(tv)}, ipsec-lab {len(ov)}: {tv} / {ov}")
                    ok = False
                    continue
                for j, (to, oo) in enumerate(zip(tv, ov)):
                    for k2, v2 in to.items():
                        stats["fields"] += 1
                        if oo.get(k2) != v2:
                            print(f"packet {i}: {name}.options[{j}].{k2}: scapy {v2!r}, ipsec-lab {oo.get(k2)!r}")
                            ok = False
                continue
            stats["fields"] += 1
            if ov != tv:
                print(f"packet {i}: {name}.{key}: scapy {tv!r}, ipsec-lab {ov!r}")
                ok = False
        stats["layers"][name] = stats["layers"].get(name, 0) + 1
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ipsec-lab", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--min-fields", type=int, default=1000)
    a = ap.parse_args()
    r = random.Random(a.seed)
    pkts = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / build(r) for _ in range(a.count)]
    path = f"{a.workdir}/scapy-{a.seed}.pcap"
    wrpcap(path, pkts)
    res = subprocess.run([a.ipsec_lab, "inspect", path, "--json"], capture_output=True, text=True)
    if res.returncode != 0:
        print(f"ipsec-lab inspect failed ({res.returncode}): {res.stderr.strip()}")
        return 1
    lines = [json.loads(l) for l in res.stdout.splitlines() if l.strip()]
    if len(lines) != len(pkts):
        print(f"ipsec-lab printed {len(lines)} packets, the capture has {len(pkts)}")
        return 1
    stats = {"fields": 0, "layers": {}}
    bad = 0
    for i, (pkt, obj) in enumerate(zip(pkts, lines), start=1):
        if obj.get("error"):
            print(f"packet {i}: ipsec-lab reports an error on a valid packet: {obj['error']}")
            bad += 1
            continue
        if not compare(i, scapy_layers(pkt), ours_layers(obj), stats):
            bad += 1
    layers = ", ".join(f"{k} {v}" for k, v in sorted(stats["layers"].items()))
    print(f"summary: packets {len(pkts)}, fields compared {stats['fields']}, packets disagreeing {bad}; layers: {layers}")
    if stats["fields"] < a.min_fields:
        print(f"too few fields compared ({stats['fields']} < {a.min_fields})")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
