import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire

/// Three SAs written in each of the three formats: ESP AES-GCM tunnel with ESN and NAT-T, ESP AES-CBC + HMAC-SHA-256
/// transport over IPv6 with a selector, and AH HMAC-SHA-1 tunnel. Every format must load them identically.
enum Fixtures {
    static let gcmKey = keyHex(20, seed: 1)
    static let cbcKey = keyHex(32, seed: 2)
    static let sha256Key = keyHex(32, seed: 3)
    static let sha1Key = keyHex(20, seed: 4)
    static let secrets = [gcmKey, cbcKey, sha256Key, sha1Key]

    static func expected() throws -> [SAConfiguration] {
        [
            SAConfiguration(
                protocol: .esp, spi: 0xc0ff_ee01, mode: .tunnel, source: address("192.0.2.1"),
                destination: address("198.51.100.2"), algorithm: try esp("aes128gcm16"),
                encryptionKey: keyBytes(20, seed: 1), reqid: 1, extendedSequenceNumbers: true, replayWindow: 32,
                replaySequence: 0x1_0000_0005, outboundSequence: 7, encapsulation: UDPEncapsulationConfig()),
            SAConfiguration(
                protocol: .esp, spi: 0x1000, mode: .transport, source: address("2001:db8::1"),
                destination: address("2001:db8::2"), algorithm: try esp("aes256-sha256"),
                encryptionKey: keyBytes(32, seed: 2), integrityKey: keyBytes(32, seed: 3), replayWindow: 64,
                replaySequence: 0x10, outboundSequence: 0x20,
                selector: TrafficSelector(source: prefix("2001:db8:1::/64"), destination: prefix("2001:db8:2::/64"),
                                          protocol: .tcp, destinationPort: 443)),
            SAConfiguration(
                protocol: .ah, spi: 0x300, mode: .tunnel, source: address("10.0.0.1"), destination: address("10.0.0.2"),
                algorithm: try ah("sha1"), integrityKey: keyBytes(20, seed: 4), reqid: 3, replayWindow: 32,
                selector: TrafficSelector(source: prefix("10.1.0.0/16"), destination: prefix("10.2.0.0/16"))),
        ]
    }

    static let json = """
        {
          "associations": [
            {
              "protocol": "esp",
              "spi": "0xc0ffee01",
              "mode": "tunnel",
              "source": "192.0.2.1",
              "destination": "198.51.100.2",
              "algorithm": "aes128gcm16",
              "encryption_key": "0x\(gcmKey)",
              "reqid": 1,
              "esn": true,
              "replay_window": 32,
              "replay_sequence": 4294967301,
              "outbound_sequence": 7,
              "encapsulation": {"source_port": 4500, "destination_port": 4500}
            },
            {
              "protocol": "esp",
              "spi": 4096,
              "mode": "transport",
              "source": "2001:db8::1",
              "destination": "2001:db8::2",
              "algorithm": "aes256-sha256",
              "encryption_key": "\(cbcKey.uppercased())",
              "integrity_key": "\(sha256Key)",
              "replay_sequence": 16,
              "outbound_sequence": 32,
              "selector": {"source": "2001:db8:1::/64", "destination": "2001:db8:2::/64", "protocol": "tcp",
                           "destination_port": 443}
            },
            {
              "protocol": "ah", "spi": "768", "mode": "tunnel", "source": "10.0.0.1", "destination": "10.0.0.2",
              "algorithm": "sha1", "integrity_key": "\(sha1Key)", "reqid": 3, "replay_window": 32,
              "selector": {"source": "10.1.0.0/16", "destination": "10.2.0.0/16"}
            }
          ]
        }
        """

    static let commands = """
        #!/bin/sh
        # Three SAs between test hosts.
        ip xfrm state flush
        ip xfrm policy flush

        ip xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0xc0ffee01 reqid 1 mode tunnel \\
            replay-window 32 flag af-unspec esn replay-seq 5 replay-seq-hi 1 replay-oseq 7 \\
            aead 'rfc4106(gcm(aes))' 0x\(gcmKey) 128 \\
            encap espinudp 4500 4500 0.0.0.0
        sudo ip -6 xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 4096 mode transport \\
            replay-window 64 replay-seq 0x10 replay-oseq 040 \\
            enc "cbc(aes)" 0X\(cbcKey.uppercased()) auth-trunc "hmac(sha256)" 0x\(sha256Key) 128 \\
            sel src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443   # the web server
        /sbin/ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x300 reqid 3 mode tunnel \\
            replay-window 32 auth sha1 0x\(sha1Key) sel src 10.1.0.0/16 dst 10.2.0.0/16 limit time-hard 3600; ip xfrm policy flush
        """

    /// `ip xfrm state` as iproute2 6.x prints these SAs (ESN and windows over 32 bits use the ESN replay state).
    static let listing = """
        src 192.0.2.1 dst 198.51.100.2
        \tproto esp spi 0xc0ffee01 reqid 1 mode tunnel
        \treplay-window 0 flag af-unspec esn
        \taead rfc4106(gcm(aes)) 0x\(gcmKey) 128
        \tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0
        \tanti-replay esn context:
        \t seq-hi 0x1, seq 0x5, oseq-hi 0x0, oseq 0x7
        \t replay_window 32, bitmap-length 1
        \t 0000001f
        \tsel src 0.0.0.0/0 dst 0.0.0.0/0
        src 2001:db8::1 dst 2001:db8::2
        \tproto esp spi 0x00001000 reqid 0 mode transport
        \treplay-window 0
        \tauth-trunc hmac(sha256) 0x\(sha256Key) 128
        \tenc cbc(aes) 0x\(cbcKey)
        \tanti-replay esn context:
        \t seq-hi 0x0, seq 0x10, oseq-hi 0x0, oseq 0x20
        \t replay_window 64, bitmap-length 2
        \t 00000000 0000ffff
        \tsel src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443
        src 10.0.0.1 dst 10.0.0.2
        \tproto ah spi 0x00000300 reqid 3 mode tunnel
        \treplay-window 32
        \tauth-trunc hmac(sha1) 0x\(sha1Key) 96
        \tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
        \tsel src 10.1.0.0/16 dst 10.2.0.0/16

        """
}
