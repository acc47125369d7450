import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

// Listings written as iproute2 prints them (ip/ipxfrm.c, xfrm_state_info_print), in the shapes seen from several
// versions: tab or space indentation, the non-ESN and ESN replay contexts, the compact ESN context of outbound SAs,
// `ip -s`'s annotations, lifetimes and statistics, and older versions' hex flag for ESN.
@Suite("ip xfrm state listings")
struct IPXfrmListingTests {
    @Test("The ESN replay context: its replay_window is the window, its seq/oseq the state")
    func esnContext() throws {
        let text = """
            src 192.168.1.1 dst 192.168.1.2
            \tproto esp spi 0x00001000 reqid 1 mode tunnel
            \treplay-window 32 flag af-unspec esn
            \taead rfc4106(gcm(aes)) 0x0102030405060708090a0b0c0d0e0f1011121314 128
            \tanti-replay esn context:
            \t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0
            \t replay_window 32, bitmap-length 1
            \t 00000000
            \tsel src 0.0.0.0/0 dst 0.0.0.0/0
            """
        let sa = try #require(try parse(text, origin: "state.txt").associations.first)
        #expect(sa == SAConfiguration(
            protocol: .esp, spi: 0x1000, mode: .tunnel, source: address("192.168.1.1"),
            destination: address("192.168.1.2"), algorithm: try esp("aes128gcm16"),
            encryptionKey: Array(1...20), reqid: 1, extendedSequenceNumbers: true, replayWindow: 32))
    }

    @Test("The non-ESN replay context, AH, and transport mode")
    func plainContext() throws {
        let text = """
            src 10.0.0.1 dst 10.0.0.2
                proto ah spi 0x00000201 reqid 9 mode transport
                replay-window 16
                auth-trunc hmac(sha256) 0x\(keyHex(32)) 96
                anti-replay context: seq 0x3, oseq 0x5, bitmap 0x00000007
                sel src 10.0.0.1/32 dst 10.0.0.2/32 proto udp sport 500 dport 500
            """
        let sa = try parse(text).associations[0]
        #expect(sa.algorithm == (try ah("sha256_96")))
        #expect(sa.replayWindow == 16)
        #expect(sa.replaySequence == 3)
        #expect(sa.outboundSequence == 5)
        #expect(sa.selector == TrafficSelector(source: prefix("10.0.0.1/32"), destination: prefix("10.0.0.2/32"),
                                               protocol: .udp, sourcePort: 500, destinationPort: 500))
    }

    @Test("strongSwan's NAT-T SAs (two in one listing, eight-space indentation)")
    func strongSwanNATT() throws {
        let inbound = keyHex(36, seed: 5)
        let outbound = keyHex(36, seed: 6)
        let text = """
            src 3.85.251.173 dst 10.88.100.246
                    proto esp spi 0xb9e564dc reqid 16389 mode tunnel
                    replay-window 0 flag af-unspec esn
                    aead rfc4106(gcm(aes)) 0x\(inbound) 128
                    encap type espinudp sport 4500 dport 4500 addr 0.0.0.0
                    anti-replay esn context:
                     seq-hi 0x0, seq 0x1d, oseq-hi 0x0, oseq 0x0
                     replay_window 128, bitmap-length 4
                     00000000 00000000 00000000 1fffffff
            src 10.88.100.246 dst 3.85.251.173
                    proto esp spi 0x0b81df6e reqid 16389 mode tunnel
                    replay-window 0 flag af-unspec esn
                    aead rfc4106(gcm(aes)) 0x\(outbound) 128
                    encap type espinudp sport 4500 dport 4500 addr 0.0.0.0
                    anti-replay esn context:
                     seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x18
                     replay_window 128, bitmap-length 4
                     00000000 00000000 00000000 00000000
            """
        let file = try parse(text)
        #expect(file.format == .ipXfrmListing)
        #expect(file.associations.count == 2)
        let (a, b) = (file.associations[0], file.associations[1])
        #expect(a.algorithm == (try esp("aes256gcm16")))
        #expect(a.spi == 0xb9e5_64dc && b.spi == 0x0b81_df6e)
        #expect(a.replayWindow == 128 && a.replaySequence == 0x1d && a.extendedSequenceNumbers)
        #expect(b.outboundSequence == 0x18)
        #expect(a.encapsulation == UDPEncapsulationConfig() && b.encapsulation == UDPEncapsulationConfig())
        #expect(a.encryptionKey == keyBytes(36, seed: 5))
    }

    @Test("ip -s: annotations, lifetimes and statistics are skipped; the stats' replay-window is not the window")
    func statistics() throws {
        let text = """
            src 198.51.100.1 dst 192.0.2.1
            \tproto esp spi 0xc0123456(3222418518) reqid 12(0x0000000c) mode tunnel
            \treplay-window 24 seq 0x00000000 flag af-unspec (0x00100000)
            \tauth-trunc hmac(sha1) 0x\(keyHex(20)) (160 bits) 96
            \tenc cbc(aes) 0x\(keyHex(16)) (128 bits)
            \tanti-replay context: seq 0x0, oseq 0x2a, bitmap 0x00000000
            \tif_id 0x64
            \tmark 1/0xffffffff
            \tlastused 2024-08-29 09:30:00
            \tlifetime config:
            \t  limit: soft (INF)(bytes), hard (INF)(bytes)
            \t  limit: soft (INF)(packets), hard (INF)(packets)
            \t  expire add: soft 0(sec), hard 0(sec)
            \t  expire use: soft 0(sec), hard 0(sec)
            \tlifetime current:
            \t  9000(bytes), 100(packets)
            \t  add 2026-01-01 10:00:00 use 2026-01-01 10:05:00
            \tstats:
            \t  replay-window 10 replay 0 failed 0
            \tcrypto offload parameters: dev eth2 dir out mode packet
            """
        let sa = try parse(text).associations[0]
        #expect(sa.spi == 0xc012_3456)
        #expect(sa.reqid == 12)
        #expect(sa.replayWindow == 24)
        #expect(sa.outboundSequence == 0x2a)
        #expect(sa.algorithm == (try esp("aes128-sha1")))
        #expect(!sa.extendedSequenceNumbers)
    }

    @Test("Outbound SAs of newer iproute2: no replay-window line, the ESN context on one line")
    func compactOutbound() throws {
        let text = """
            src 2001:db8:1:2::45 dst 2001:db8:1:2::23
            \tproto esp spi 0x64b502a7 reqid 16393 mode tunnel
            \tflag af-unspec esn
            \taead rfc4106(gcm(aes)) 0x\(keyHex(36)) 128
            \tlastused 2024-08-29 09:30:00
            \tanti-replay esn context:\t oseq-hi 0x1, oseq 0xa
            \tdir out
            """
        let sa = try parse(text).associations[0]
        #expect(sa.extendedSequenceNumbers)
        #expect(sa.replayWindow == 0)
        #expect(sa.outboundSequence == 0x1_0000_000a)
    }

    @Test("Older iproute2 prints ESN as the hex flag 80")
    func hexFlag() throws {
        let text = """
            src 10.0.0.1 dst 10.0.0.2
            \tproto esp spi 0x00000100 reqid 0 mode transport
            \treplay-window 0 flag af-unspec 80
            \tauth-trunc hmac(sha512) 0x\(keyHex(64)) 256
            \tenc cbc(des3_ede) 0x\(keyHex(24))
            \tanti-replay esn context:
            \t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0
            \t replay_window 64, bitmap-length 2
            \t 00000000 00000000
            """
        let sa = try parse(text).associations[0]
        #expect(sa.extendedSequenceNumbers)
        #expect(sa.replayWindow == 64)
        #expect(sa.algorithm == (try esp("3des-sha512")))
    }

    @Test("NULL encryption lists its empty key as 0x")
    func nullKey() throws {
        let text = """
            src 10.0.0.1 dst 10.0.0.2
            \tproto esp spi 0x00000100 reqid 0 mode tunnel
            \treplay-window 0
            \tauth-trunc xcbc(aes) 0x\(keyHex(16)) 96
            \tenc ecb(cipher_null) 0x
            """
        let sa = try parse(text).associations[0]
        #expect(sa.algorithm == (try esp("null-aesxcbc")))
        #expect(sa.modeName == "tunnel-esp-null")
    }

    @Test("Every Linux AEAD and cipher in a listing", arguments: [
        ("aead rfc4309(ccm(aes)) 0x\(keyHex(19)) 96", "aes128ccm12"),
        ("aead rfc4543(gcm(aes)) 0x\(keyHex(28)) 128", "aes192gmac"),
        ("aead rfc7539esp(chacha20,poly1305) 0x\(keyHex(36)) 128", "chacha20poly1305"),
        ("enc rfc3686(ctr(aes)) 0x\(keyHex(36))\n\tauth-trunc cmac(aes) 0x\(keyHex(16)) 96", "aes256ctr-aescmac"),
        ("auth-trunc hmac(md5) 0x\(keyHex(16)) 96\n\tenc cbc(aes) 0x\(keyHex(24))", "aes192-md5"),
    ])
    func algorithms(_ lines: String, _ keyword: String) throws {
        let text = "src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 0x00000100 reqid 0 mode tunnel\n\treplay-window 0\n\t"
            + lines + "\n"
        #expect(try parse(text).associations[0].algorithm == (try esp(keyword)))
    }
}
