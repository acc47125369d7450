#!/usr/bin/env python3
"""Writes a large pcap of raw-IPv4 UDP packets, for measuring `ipsec-lab encap`/`decap` at scale (docs/performance.md).

    python3 analysis/make_large_capture.py OUT.pcap [--packets 1450000] [--size 1400]

The default is 1,450,000 packets of 1400 bytes (2.05 GB) between 203.0.113.10 and 203.0.113.20, link type 228 (raw
IPv4). Write it outside the repository (/tmp), and delete it afterwards.
"""
import argparse
import struct
import sys


def checksum(header):
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--packets", type=int, default=1_450_000)
    parser.add_argument("--size", type=int, default=1400)
    args = parser.parse_args()
    if not 28 <= args.size <= 65535 or args.packets < 0:
        sys.exit("make_large_capture.py: error: --size takes 28...65535 and --packets a count")
    payload = bytes((i * 31 + 7) & 0xFF for i in range(args.size - 28))
    udp = struct.pack("!HHHH", 4000, 5000, args.size - 20, 0)
    with open(args.output, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 228))
        for i in range(args.packets):
            header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, args.size, i & 0xFFFF, 0x4000, 64, 17, 0,
                                           bytes([203, 0, 113, 10]), bytes([203, 0, 113, 20])))
            struct.pack_into("!H", header, 10, checksum(bytes(header)))
            f.write(struct.pack("<IIII", 1_700_000_000 + i // 1000, (i % 1000) * 1000, args.size, args.size))
            f.write(header)
            f.write(udp)
            f.write(payload)


if __name__ == "__main__":
    main()
