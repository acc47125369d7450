#!/usr/bin/env python3
"""scapy on the workload of `ipsec-lab bench`: tunnel ESP over IPv4, the same inner packets, one core.

Runs scapy's IPsec layer (the .venv one that scripts/setup.sh installs, scapy 2.8.0) on inner IPv4/UDP packets of the
bench's sizes, encapsulating (SecurityAssociation.encrypt) and decapsulating (decrypt) in a timed loop, and prints one
JSON object per row with the fields of `ipsec-lab bench --json` that apply: mode, algorithm, size, direction,
packets_per_second, bytes_per_second (inner-packet bytes, as the bench counts them). docs/performance.md divides the
bench's rates by these.

    .venv/bin/python analysis/scapy_bench.py [--seconds S] [--sizes 64,512,1400,9000] [--algorithms ...]

Algorithms use the bench's keywords: aes128gcm16, chacha20poly1305, aes128-sha256. The keys are the bench's kind
(fixed, for measurement only). Time is wall-clock over each window (time.perf_counter); run it on a quiet machine.
"""
import argparse
import json
import sys
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation

SUITES = {
    # keyword: (crypt_algo, crypt_key_length incl. salt, auth_algo, auth_key_length)
    "aes128gcm16": ("AES-GCM", 16 + 4, None, 0),
    "chacha20poly1305": ("CHACHA20-POLY1305", 32 + 4, None, 0),
    "aes128-sha256": ("AES-CBC", 16, "SHA2-256-128", 32),
}


def inner_packet(size):
    """An IPv4/UDP packet of exactly `size` bytes between the tunnel's hosts."""
    data = bytes((i * 31 + 7) & 0xFF for i in range(size - 28))
    return IP(src="203.0.113.10", dst="203.0.113.20", id=0x1234, flags="DF") / UDP(sport=4000, dport=5000) / data


def security_association(keyword):
    crypt, crypt_len, auth, auth_len = SUITES[keyword]
    kwargs = dict(crypt_algo=crypt, crypt_key=bytes(range(1, crypt_len + 1)),
                  tunnel_header=IP(src="192.0.2.1", dst="198.51.100.2"))
    if auth:
        kwargs.update(auth_algo=auth, auth_key=bytes(range(101, 101 + auth_len)))
    return SecurityAssociation(ESP, spi=0x1000, **kwargs)


def rate(body, seconds):
    """Packets per second of `body` over a window of `seconds` (after a short warm-up)."""
    for _ in range(5):
        body()
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(10):
            body()
        count += 10
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement (default 1)")
    parser.add_argument("--sizes", default="64,512,1400,9000", help="inner packet sizes in bytes")
    parser.add_argument("--algorithms", default="aes128gcm16,chacha20poly1305,aes128-sha256")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        sys.exit("scapy_bench.py: error: --sizes takes comma-separated numbers")
    for keyword in args.algorithms.split(","):
        if keyword not in SUITES:
            sys.exit(f"scapy_bench.py: error: unknown algorithm {keyword!r} (use {', '.join(SUITES)})")
        for size in sizes:
            if size < 28:
                sys.exit(f"scapy_bench.py: error: size {size} is below an IPv4/UDP header")
            sender, receiver = security_association(keyword), security_association(keyword)
            packet = inner_packet(size)
            # Both directions from and to wire bytes, as the bench's are (scapy's decrypt consumes its argument).
            wire = bytes(sender.encrypt(packet))
            assert bytes(receiver.decrypt(IP(wire))) == bytes(packet), "scapy did not round-trip its own packet"
            for direction, body in (("encap", lambda: bytes(sender.encrypt(packet))),
                                    ("decap", lambda: bytes(receiver.decrypt(IP(wire))))):
                pps = rate(body, args.seconds)
                print(json.dumps({"mode": "tunnel-esp", "algorithm": keyword, "size": size, "direction": direction,
                                  "packets_per_second": round(pps), "bytes_per_second": round(pps * size),
                                  "implementation": "scapy"}), flush=True)


if __name__ == "__main__":
    main()
