import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire

/// One configuration written five ways: setkey.conf in the style of the Linux Advanced Routing & Traffic Control
/// HOWTO §7 ("IPSEC: secure IP over the Internet": `flush; spdflush;`, AH and ESP between 10.0.0.11 and 10.0.0.216,
/// an `ah/transport` + `esp/transport` bundle, the 10.0.0.0/24 → 130.161.0.0/16 tunnel) and of setkey(8)'s own
/// examples (`icmp6 135,0 -P out none`, `esp-udp`, `unique:N`); the `ip xfrm` commands a Libreswan/strongSwan test
/// script would run for it; what `ip xfrm state` and `ip xfrm policy` list for it; and the native JSON. All must
/// load to the same SAs, IPComp SAs and policies.
enum Interop {
    static let ahKey = "lartc-md5-key-16"  // a string key, as the how-to writes them
    static let cbcKey = keyHex(16, seed: 11)
    static let sha1Key = keyHex(20, seed: 12)
    static let gcmKey = keyHex(20, seed: 13)
    static let ctrKey = keyHex(36, seed: 14)
    static let sha256Key = keyHex(32, seed: 15)
    static let nullSHA1Key = keyHex(20, seed: 16)
    static let natCBCKey = keyHex(32, seed: 17)
    static let sha512Key = keyHex(64, seed: 18)
    static let secrets = [cbcKey, sha1Key, gcmKey, ctrKey, sha256Key, nullSHA1Key, natCBCKey, sha512Key]

    /// ipsec-tools' default policy priority, which the kernel gets from setkey.
    static let setkeyPriority = 0x8000_0000

    static func associations() throws -> [SAConfiguration] {
        var gcm = SAConfiguration(
            protocol: .esp, spi: 34501, mode: .tunnel, source: address("10.0.0.216"), destination: address("10.0.0.11"),
            algorithm: try esp("aes128gcm16"), encryptionKey: keyBytes(20, seed: 13), replayWindow: 64)
        gcm.lifetime = SALifetime(softBytes: 1_000_000, hardBytes: 2_000_000)
        let ctr = SAConfiguration(
            protocol: .esp, spi: 0x1001, mode: .tunnel, source: address("2001:db8::1"),
            destination: address("2001:db8::2"), algorithm: try esp("aes256ctr-sha256_96"),
            encryptionKey: keyBytes(36, seed: 14), integrityKey: keyBytes(32, seed: 15), replayWindow: 0)
        return [
            SAConfiguration(protocol: .ah, spi: 15700, mode: .transport, source: address("10.0.0.11"),
                            destination: address("10.0.0.216"), algorithm: try ah("md5"),
                            integrityKey: Array(ahKey.utf8), replayWindow: 0),
            SAConfiguration(protocol: .esp, spi: 15701, mode: .transport, source: address("10.0.0.11"),
                            destination: address("10.0.0.216"), algorithm: try esp("aes128-sha1"),
                            encryptionKey: keyBytes(16, seed: 11), integrityKey: keyBytes(20, seed: 12), reqid: 5,
                            replayWindow: 32),
            gcm,
            ctr,
            SAConfiguration(protocol: .esp, spi: 0x2001, mode: .transport, source: address("10.0.0.216"),
                            destination: address("10.0.0.11"), algorithm: try esp("null-sha1"),
                            integrityKey: keyBytes(20, seed: 16), replayWindow: 0),
            SAConfiguration(protocol: .esp, spi: 0x3001, mode: .tunnel, source: address("192.0.2.1"),
                            destination: address("198.51.100.2"), algorithm: try esp("aes256-sha512"),
                            encryptionKey: keyBytes(32, seed: 17), integrityKey: keyBytes(64, seed: 18), replayWindow: 0,
                            encapsulation: UDPEncapsulationConfig()),
        ]
    }

    static let compressions = [
        IPCompAssociation(cpi: 0x4001, mode: .tunnel, source: address("10.0.0.216"), destination: address("10.0.0.11")),
    ]

    static func policies(priority: Int = setkeyPriority) -> [SecurityPolicy] {
        [
            SecurityPolicy(
                direction: .outbound,
                selector: PolicySelector(source: .prefix(prefix("10.0.0.216/32")), destination: .prefix(prefix("10.0.0.11/32"))),
                action: .protect([SATemplate(protocol: .esp, mode: .transport), SATemplate(protocol: .ah, mode: .transport)]),
                priority: priority),
            SecurityPolicy(
                direction: .outbound,
                selector: PolicySelector(source: .prefix(prefix("10.0.0.0/24")), destination: .prefix(prefix("130.161.0.0/16"))),
                action: .protect([
                    SATemplate(protocol: .ipcomp, mode: .tunnel, source: address("10.0.0.216"),
                               destination: address("10.0.0.11"), optional: true),
                    SATemplate(protocol: .esp, mode: .tunnel, source: address("10.0.0.216"),
                               destination: address("10.0.0.11"), reqid: 7),
                ]),
                priority: 100),
            SecurityPolicy(
                direction: .inbound,
                selector: PolicySelector(source: .prefix(prefix("2001:db8:1::/64")),
                                         destination: .prefix(prefix("2001:db8:2::/64")), protocol: .tcp,
                                         destinationPorts: 443...443),
                action: .protect([SATemplate(protocol: .esp, mode: .tunnel, source: address("2001:db8::2"),
                                             destination: address("2001:db8::1"))]),
                priority: priority),
            SecurityPolicy(
                direction: .outbound,
                selector: PolicySelector(source: .prefix(prefix("::/0")), destination: .prefix(prefix("::/0")),
                                         protocol: IPProtocol(58), icmpType: 135, icmpCode: 0),
                action: .bypass, priority: priority),
            SecurityPolicy(
                direction: .forward,
                selector: PolicySelector(source: .prefix(prefix("10.0.0.0/8")), destination: .prefix(prefix("10.0.0.0/8")),
                                         protocol: .udp),
                action: .discard, priority: priority),
        ]
    }

    static let setkey = """
        #!/usr/sbin/setkey -f
        # Host 10.0.0.216 and host 10.0.0.11, as in the LARTC HOWTO's IPsec chapter.
        flush;
        spdflush;

        # AH
        add 10.0.0.11 10.0.0.216 ah 15700 -A hmac-md5 "\(ahKey)";

        # ESP
        add 10.0.0.11 10.0.0.216 esp 15701 -m transport -r 32 -u 5
            -E rijndael-cbc 0x\(cbcKey)
            -A hmac-sha1 0x\(sha1Key) ;
        add 10.0.0.216 10.0.0.11 esp 34501 -m tunnel -r 64 -bs 1000000 -bh 2000000 -lh 3600 -ls 2880
            -E aes-gcm-16 0x\(gcmKey.uppercased());
        add -6 2001:db8::1 2001:db8::2 esp 0x1001 -m tunnel -f random-pad
            -E aes-ctr 0x\(ctrKey) -A hmac-sha256 0x\(sha256Key);
        add 10.0.0.216 10.0.0.11 esp 0x2001 -m any -E null -A hmac-sha1 0x\(nullSHA1Key);
        add 192.0.2.1[4500] 198.51.100.2[4500] esp-udp 0x3001 -m tunnel
            -E aes-cbc 0x\(natCBCKey) -A hmac-sha512 0x\(sha512Key);   # NAT traversal
        add 10.0.0.216 10.0.0.11 ipcomp 0x4001 -m tunnel -C deflate -R;

        spdadd 10.0.0.216 10.0.0.11 any -P out ipsec
            esp/transport//require
            ah/transport//require;
        spdadd 10.0.0.0/24 130.161.0.0/16 any -P out prio 100 ipsec
            ipcomp/tunnel/10.0.0.216-10.0.0.11/use esp/tunnel/10.0.0.216-10.0.0.11/unique:7;
        spdadd 2001:db8:1::/64[any] 2001:db8:2::/64[443] tcp -P in ipsec esp/tunnel/2001:db8::2-2001:db8::1/require;
        spdadd ::/0 ::/0 icmp6 135,0 -P out none;     # neighbour solicitations go in clear
        spdadd 10.0.0.0/8 10.0.0.0/8 udp -P fwd discard;
        """

    static let commands = """
        #!/bin/sh
        # The same, as a Libreswan test script sets it up by hand.
        ip xfrm state flush
        ip xfrm policy flush
        ip xfrm state add src 10.0.0.11 dst 10.0.0.216 proto ah spi 15700 auth md5 "\(ahKey)"
        ip xfrm state add src 10.0.0.11 dst 10.0.0.216 proto esp spi 15701 reqid 5 mode transport replay-window 32 \\
            enc 'cbc(aes)' 0x\(cbcKey) auth 'hmac(sha1)' 0x\(sha1Key)
        ip xfrm state add src 10.0.0.216 dst 10.0.0.11 proto esp spi 34501 mode tunnel replay-window 64 \\
            aead 'rfc4106(gcm(aes))' 0x\(gcmKey) 128 limit byte-soft 1000000 byte-hard 2000000 time-hard 3600
        ip -6 xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x1001 mode tunnel \\
            enc 'rfc3686(ctr(aes))' 0x\(ctrKey) auth 'hmac(sha256)' 0x\(sha256Key)
        ip xfrm state add src 10.0.0.216 dst 10.0.0.11 proto esp spi 0x2001 enc cipher_null "" \\
            auth-trunc 'hmac(sha1)' 0x\(nullSHA1Key) 96
        ip xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x3001 mode tunnel \\
            enc 'cbc(aes)' 0x\(natCBCKey) auth-trunc 'hmac(sha512)' 0x\(sha512Key) 256 encap espinudp 4500 4500 0.0.0.0
        ip xfrm state add src 10.0.0.216 dst 10.0.0.11 proto comp spi 0x4001 mode tunnel comp deflate

        ip xfrm policy add src 10.0.0.216/32 dst 10.0.0.11/32 dir out priority 2147483648 \\
            tmpl proto esp mode transport tmpl proto ah mode transport
        ip xfrm policy add src 10.0.0.0/24 dst 130.161.0.0/16 dir out priority 100 \\
            tmpl src 10.0.0.216 dst 10.0.0.11 proto comp mode tunnel level use \\
            tmpl src 10.0.0.216 dst 10.0.0.11 proto esp mode tunnel reqid 7 level required
        ip xfrm policy add src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443 dir in priority 2147483648 \\
            tmpl src 2001:db8::2 dst 2001:db8::1 proto esp mode tunnel
        ip xfrm policy add src ::/0 dst ::/0 proto ipv6-icmp type 135 code 0 dir out priority 2147483648 action allow
        ip xfrm policy add src 10.0.0.0/8 dst 10.0.0.0/8 proto udp dir fwd priority 2147483648 action block
        """

    /// `ip -s xfrm state; ip xfrm policy` on the host, as iproute2 6.1 prints them (with a per-socket policy of the
    /// IKE daemon, and the IPIP state Linux adds for the IPComp tunnel, both skipped).
    static let listing = """
        src 10.0.0.11 dst 10.0.0.216
        \tproto ah spi 0x00003d54(15700) reqid 0(0x00000000) mode transport
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        \tauth-trunc hmac(md5) 0x\(hex(Array(ahKey.utf8))) 96
        \tlifetime config:
        \t  limit: soft (INF)(bytes), hard (INF)(bytes)
        \t  limit: soft (INF)(packets), hard (INF)(packets)
        \t  expire add: soft 0(sec), hard 0(sec)
        \t  expire use: soft 0(sec), hard 0(sec)
        \tlifetime current:
        \t  0(bytes), 0(packets)
        \t  add 2024-05-01 10:00:00 use -
        \tstats:
        \t  replay-window 0 replay 0 failed 0
        src 10.0.0.11 dst 10.0.0.216
        \tproto esp spi 0x00003d55(15701) reqid 5(0x00000005) mode transport
        \treplay-window 32 seq 0x00000000 flag  (0x00000000)
        \tauth-trunc hmac(sha1) 0x\(sha1Key) 96
        \tenc cbc(aes) 0x\(cbcKey)
        \tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000
        src 10.0.0.216 dst 10.0.0.11
        \tproto esp spi 0x000086c5(34501) reqid 0(0x00000000) mode tunnel
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        \taead rfc4106(gcm(aes)) 0x\(gcmKey) 128
        \tanti-replay esn context:
        \t seq-hi 0x0, seq 0x0, oseq-hi 0x0, oseq 0x0
        \t replay_window 64, bitmap-length 2
        \t 00000000 00000000
        \tlifetime config:
        \t  limit: soft 1000000(bytes), hard 2000000(bytes)
        \t  limit: soft (INF)(packets), hard (INF)(packets)
        \t  expire add: soft 0(sec), hard 3600(sec)
        \t  expire use: soft 0(sec), hard 0(sec)
        src 2001:db8::1 dst 2001:db8::2
        \tproto esp spi 0x00001001(4097) reqid 0(0x00000000) mode tunnel
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        \tauth-trunc hmac(sha256) 0x\(sha256Key) 96
        \tenc rfc3686(ctr(aes)) 0x\(ctrKey)
        \tsel src ::/0 dst ::/0
        src 10.0.0.216 dst 10.0.0.11
        \tproto esp spi 0x00002001(8193) reqid 0(0x00000000) mode transport
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        \tauth-trunc hmac(sha1) 0x\(nullSHA1Key) 96
        \tenc ecb(cipher_null) 0x
        src 192.0.2.1 dst 198.51.100.2
        \tproto esp spi 0x00003001(12289) reqid 0(0x00000000) mode tunnel
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        \tauth-trunc hmac(sha512) 0x\(sha512Key) 256
        \tenc cbc(aes) 0x\(natCBCKey)
        \tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0
        src 10.0.0.216 dst 10.0.0.11
        \tproto comp spi 0x00004001(16385) reqid 0(0x00000000) mode tunnel
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        \tcomp deflate
        src 10.0.0.216 dst 10.0.0.11
        \tproto 4 spi 0x0a0000d8(167772376) reqid 0(0x00000000) mode tunnel
        \treplay-window 0 seq 0x00000000 flag  (0x00000000)
        src 10.0.0.216/32 dst 10.0.0.11/32
        \tdir out priority 2147483648 ptype main
        \ttmpl src 0.0.0.0 dst 0.0.0.0
        \t\tproto esp reqid 0 mode transport
        \ttmpl src 0.0.0.0 dst 0.0.0.0
        \t\tproto ah reqid 0 mode transport
        src 10.0.0.0/24 dst 130.161.0.0/16
        \tdir out priority 100 ptype main
        \ttmpl src 10.0.0.216 dst 10.0.0.11
        \t\tproto comp reqid 0 mode tunnel
        \t\tlevel use
        \ttmpl src 10.0.0.216 dst 10.0.0.11
        \t\tproto esp reqid 7 mode tunnel
        src 2001:db8:1::/64 dst 2001:db8:2::/64 proto tcp dport 443
        \tdir in priority 2147483648 ptype main
        \ttmpl src 2001:db8::2 dst 2001:db8::1
        \t\tproto esp reqid 0 mode tunnel
        src ::/0 dst ::/0 proto ipv6-icmp type 135 code 0
        \tdir out priority 2147483648 ptype main
        src 10.0.0.0/8 dst 10.0.0.0/8 proto udp
        \tdir fwd action block priority 2147483648 ptype main
        src 0.0.0.0/0 dst 0.0.0.0/0
        \tsocket in priority 0 ptype main

        """

    static let json = """
        {
          "associations": [
            {"protocol": "ah", "spi": 15700, "mode": "transport", "source": "10.0.0.11", "destination": "10.0.0.216",
             "algorithm": "md5", "integrity_key": "\(hex(Array(ahKey.utf8)))", "replay_window": 0},
            {"protocol": "esp", "spi": 15701, "mode": "transport", "source": "10.0.0.11", "destination": "10.0.0.216",
             "algorithm": "aes128-sha1", "encryption_key": "\(cbcKey)", "integrity_key": "\(sha1Key)", "reqid": 5,
             "replay_window": 32},
            {"protocol": "esp", "spi": 34501, "mode": "tunnel", "source": "10.0.0.216", "destination": "10.0.0.11",
             "algorithm": "aes128gcm16", "encryption_key": "\(gcmKey)",
             "lifetime": {"soft_bytes": 1000000, "hard_bytes": 2000000}},
            {"protocol": "esp", "spi": "0x1001", "mode": "tunnel", "source": "2001:db8::1", "destination": "2001:db8::2",
             "algorithm": "aes256ctr-sha256_96", "encryption_key": "\(ctrKey)", "integrity_key": "\(sha256Key)",
             "replay_window": 0},
            {"protocol": "esp", "spi": "0x2001", "mode": "transport", "source": "10.0.0.216", "destination": "10.0.0.11",
             "algorithm": "null-sha1", "integrity_key": "\(nullSHA1Key)", "replay_window": 0},
            {"protocol": "esp", "spi": "0x3001", "mode": "tunnel", "source": "192.0.2.1", "destination": "198.51.100.2",
             "algorithm": "aes256-sha512", "encryption_key": "\(natCBCKey)", "integrity_key": "\(sha512Key)",
             "replay_window": 0, "encapsulation": {}}
          ],
          "compressions": [
            {"cpi": "0x4001", "mode": "tunnel", "source": "10.0.0.216", "destination": "10.0.0.11", "algorithm": "deflate"}
          ],
          "policies": [
            {"direction": "out", "priority": 2147483648,
             "selector": {"source": "10.0.0.216/32", "destination": "10.0.0.11/32"},
             "action": "protect", "templates": [{"protocol": "esp", "mode": "transport"},
                                                {"protocol": "ah", "mode": "transport"}]},
            {"direction": "out", "priority": 100,
             "selector": {"source": "10.0.0.0/24", "destination": "130.161.0.0/16"},
             "action": "protect", "templates": [
               {"protocol": "ipcomp", "mode": "tunnel", "source": "10.0.0.216", "destination": "10.0.0.11",
                "optional": true},
               {"protocol": "esp", "mode": "tunnel", "source": "10.0.0.216", "destination": "10.0.0.11", "reqid": 7}]},
            {"direction": "in", "priority": 2147483648,
             "selector": {"source": "2001:db8:1::/64", "destination": "2001:db8:2::/64", "protocol": "tcp",
                          "destination_ports": 443},
             "action": "protect", "templates": [
               {"protocol": "esp", "mode": "tunnel", "source": "2001:db8::2", "destination": "2001:db8::1"}]},
            {"direction": "out", "priority": 2147483648,
             "selector": {"source": "::/0", "destination": "::/0", "protocol": "ipv6-icmp", "icmp_type": 135,
                          "icmp_code": 0},
             "action": "bypass"},
            {"direction": "fwd", "priority": 2147483648,
             "selector": {"source": "10.0.0.0/8", "destination": "10.0.0.0/8", "protocol": 17},
             "action": "discard"}
          ]
        }
        """
}
