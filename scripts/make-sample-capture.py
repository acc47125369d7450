#!/usr/bin/env python3
"""Builds corpora/captures/sample.pcap: one packet of each kind IPsecLab dissects, deterministic byte for byte.

The two RFC 3602 packets are the published ones (reference/published-vectors.txt, [A] and [B]); the rest are made
with scapy 2.8.0 (ESP and AH through scapy's SecurityAssociation with fixed keys and IVs), so later `inspect --sa`
can decrypt them with the keys printed in docs/samples.md.
Run: .venv/bin/python scripts/make-sample-capture.py corpora/captures/sample.pcap
"""
import sys
from scapy.all import (Ether, IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, IPv6ExtHdrHopByHop, RouterAlert,
                       IPv6ExtHdrDestOpt, PadN, IPv6ExtHdrRouting, IPv6ExtHdrFragment, IPv6ExtHdrSegmentRouting,
                       IPOption_RR, IPOption_Router_Alert, IPOption_NOP, IPOption_EOL, DNS, DNSQR, Raw, wrpcap, raw)
from scapy.layers.ipsec import SecurityAssociation, ESP, AH
from scapy.layers.inet import IPOption

MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"


def eth(pkt):
    return Ether(src=MAC_A, dst=MAC_B) / pkt


def from_hex(h):
    return bytes.fromhex("".join(h.split()))


packets = []

# [A] RFC 3602 §4 case 5: transport-mode ESP, AES-128-CBC, no ICV.
rfc3602_5 = from_hex("""
4500007c08f200004032f9a5c0a87b03c0a87b64 0000432100000001 e96e8c08ab465763fd098d45dd3ff893
f663c25d325c18c6a9453e194e120849a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52
775b07d1db34ed9c538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6""")
packets.append(eth(IP(rfc3602_5)))

# [B] RFC 3602 §4 case 7: tunnel-mode ESP, AES-128-CBC, no ICV.
rfc3602_7 = from_hex("""
4500008c090500004032f91ec0a87b03c0a87bc8
0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5
ed611b0c237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c6
47752e94a859352b8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1
e4dfe9d5a100b842f1c22f0d""")
packets.append(eth(IP(rfc3602_7)))

# IPv4 with options: record route and router alert, ICMP echo.
packets.append(eth(IP(src="10.0.0.1", dst="10.0.0.2", id=1, options=[
    IPOption_RR(routers=["0.0.0.0", "0.0.0.0"]), IPOption_Router_Alert(), IPOption_NOP(), IPOption_EOL()]) /
    ICMP(type=8, id=0x1234, seq=1) / Raw(b"ping")))

# TCP SYN with the usual options.
packets.append(eth(IP(src="10.0.0.1", dst="10.0.0.2", id=2, flags="DF") /
                   TCP(sport=40000, dport=443, seq=1000, flags="S", window=64240,
                       options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None),
                                ("WScale", 7)])))

# UDP: a DNS query.
packets.append(eth(IP(src="10.0.0.1", dst="10.0.0.53", id=3) / UDP(sport=5353, dport=53) /
                   DNS(id=7, rd=1, qd=DNSQR(qname="ipsec.example."))))

# Transport-mode AH, HMAC-SHA1-96, over IPv4.
ah4 = SecurityAssociation(AH, spi=0x1001, auth_algo="HMAC-SHA1-96", auth_key=b"\x0b" * 20)
packets.append(eth(ah4.encrypt(IP(src="10.0.0.1", dst="10.0.0.2", id=4) / ICMP(type=8, id=1, seq=1) / Raw(b"ah"),
                               seq_num=1)))

# Transport-mode ESP, AES-128-CBC + HMAC-SHA1-96, over IPv4, fixed IV.
esp4 = SecurityAssociation(ESP, spi=0x2001, crypt_algo="AES-CBC", crypt_key=bytes(range(16)),
                           auth_algo="HMAC-SHA1-96", auth_key=bytes(range(20)))
packets.append(eth(esp4.encrypt(IP(src="10.0.0.1", dst="10.0.0.2", id=5) / UDP(sport=1000, dport=2000) /
                                Raw(b"hello"), seq_num=1, iv=bytes(16))))

# IPv6 with Hop-by-Hop (router alert), Destination Options, a type 2 Routing header and ICMPv6 echo.
packets.append(eth(IPv6(src="2001:db8::1", dst="2001:db8::2", hlim=64) /
                   IPv6ExtHdrHopByHop(options=[RouterAlert()]) /
                   IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00\x00\x00")]) /
                   IPv6ExtHdrRouting(type=2, segleft=1, addresses=["2001:db8::99"]) /
                   ICMPv6EchoRequest(id=7, seq=1, data=b"v6")))

# IPv6 Segment Routing header (type 4) with two segments, then UDP.
packets.append(eth(IPv6(src="2001:db8::1", dst="2001:db8::a") /
                   IPv6ExtHdrSegmentRouting(addresses=["2001:db8::b", "2001:db8::a"], segleft=1) /
                   UDP(sport=1111, dport=2222) / Raw(b"srv6")))

# IPv6 first fragment.
packets.append(eth(IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=0xabcd, m=1, offset=0) /
                   UDP(sport=3333, dport=4444) / Raw(b"frag")))

# Tunnel-mode ESP over IPv6, AES-GCM (ICV 16), fixed IV.
esp6 = SecurityAssociation(ESP, spi=0x3001, crypt_algo="AES-GCM", crypt_key=bytes(range(16)) + b"\x01\x02\x03\x04",
                           tunnel_header=IPv6(src="2001:db8:1::1", dst="2001:db8:2::1"))
packets.append(eth(esp6.encrypt(IPv6(src="2001:db8:a::1", dst="2001:db8:b::1") / UDP(sport=7, dport=7) /
                                Raw(b"tunnel"), seq_num=1, iv=b"\x00" * 7 + b"\x01")))

# Transport-mode AH over IPv6 with a Destination Options header before it.
ah6 = SecurityAssociation(AH, spi=0x4001, auth_algo="HMAC-SHA1-96", auth_key=b"\x0c" * 20)
packets.append(eth(ah6.encrypt(IPv6(src="2001:db8::1", dst="2001:db8::2") / ICMPv6EchoRequest(id=1, seq=2),
                               seq_num=1)))

# NAT traversal (RFC 3948): ESP in UDP, a NAT-keepalive, and an IKE message behind the non-ESP marker.
natt = SecurityAssociation(ESP, spi=0x5001, crypt_algo="AES-CBC", crypt_key=bytes(range(16)),
                           auth_algo="HMAC-SHA1-96", auth_key=bytes(range(20)),
                           nat_t_header=UDP(sport=4500, dport=4500))
packets.append(eth(natt.encrypt(IP(src="192.0.2.1", dst="198.51.100.1", id=6) / TCP(sport=1, dport=2, flags="A"),
                                seq_num=1, iv=bytes(16))))
packets.append(eth(IP(src="192.0.2.1", dst="198.51.100.1", id=7) / UDP(sport=4500, dport=4500) / Raw(b"\xff")))
packets.append(eth(IP(src="192.0.2.1", dst="198.51.100.1", id=8) / UDP(sport=4500, dport=4500) /
                   Raw(b"\x00\x00\x00\x00" + bytes(range(28)))))

# IPComp (RFC 3173) with the DEFLATE CPI: a UDP datagram compressed as raw DEFLATE (RFC 2394, no zlib header).
import zlib
datagram = raw(UDP(sport=6000, dport=6001) / Raw(b"IPComp compresses repetitive payloads. " * 8))
compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
packets.append(eth(IP(src="10.0.0.1", dst="10.0.0.2", id=9, proto=108) /
                   Raw(bytes([17, 0, 0, 2]) + compressor.compress(datagram) + compressor.flush())))

for i, p in enumerate(packets):
    p.time = 1700000000 + i
wrpcap(sys.argv[1], packets)
print(f"wrote {len(packets)} packets to {sys.argv[1]}")
