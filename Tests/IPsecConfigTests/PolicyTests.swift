import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

/// `ip xfrm policy` commands and listings, IPComp states, lifetimes and TFC padding in `ip xfrm state`, and their
/// JSON forms.
@Suite("Policies, IPComp, lifetimes and TFC padding")
struct PolicyTests {
    static let k20 = keyHex(20)
    static func state(_ rest: String) -> String {
        "ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 mode tunnel aead rfc4106(gcm(aes)) "
            + "0x\(k20) 128 \(rest)\n"
    }

    @Test("Lifetimes and TFC padding from ip xfrm state")
    func lifetimes() throws {
        let file = try parse(Self.state("limit packet-soft 100 packet-hard 200 byte-hard 0x100000 time-soft 60 tfcpad 1024"))
        #expect(file.associations[0].lifetime == SALifetime(softPackets: 100, hardPackets: 200, hardBytes: 0x100000))
        #expect(file.associations[0].tfcPadding == 1024)
        let infinite = try parse(Self.state("limit packet-hard 18446744073709551615"))
        #expect(infinite.associations[0].lifetime == .unlimited)
        expectError(Self.state("limit packet-soft 300 packet-hard 200"), code: .inconsistent, line: 1,
                    mentions: ["soft limit in packets"], secrets: [Self.k20])
        expectError(Self.state("tfcpad 70000"), code: .invalidValue, line: 1, mentions: ["TFC padding"], secrets: [Self.k20])
        expectError(Self.state("tfcpad 64").replacingOccurrences("mode tunnel", "mode transport"), code: .inconsistent,
                    line: 1, mentions: ["tunnel mode"], secrets: [Self.k20])
        expectError(Self.state("comp deflate"), code: .inconsistent, line: 1, mentions: ["IPComp"], secrets: [Self.k20])
    }

    @Test("IPComp states")
    func compression() throws {
        let file = try parse("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x300 reqid 4 mode tunnel comp deflate\n")
        #expect(file.associations.isEmpty)
        #expect(file.compressions == [IPCompAssociation(cpi: 0x300, mode: .tunnel, source: address("10.0.0.1"),
                                                         destination: address("10.0.0.2"), reqid: 4)])
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x300 comp deflate\n"
                        + "ip xfrm state add src 10.0.0.9 dst 10.0.0.2 proto comp spi 0x300 comp deflate\n",
                    code: .duplicate, line: 2, mentions: ["CPI 0x300"])
        expectError("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x300 comp deflate enc aes 0x\(keyHex(16))\n",
                    code: .inconsistent, line: 1)
        let flushed = try parse("ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto comp spi 0x300 comp deflate\n"
            + "ip xfrm state flush proto comp\n" + Self.state(""))
        #expect(flushed.compressions.isEmpty && flushed.associations.count == 1)
    }

    @Test("ip xfrm policy commands")
    func commands() throws {
        let file = try parse("""
            ip xfrm policy add src 10.0.0.0/24 dst 10.0.1.0/24 proto udp sport 53 dev eth0 dir in index 8 mark 1 mask 0xff \\
                flag localok tmpl src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x100 mode tunnel reqid 3 level use
            ip xfrm policy add src 10.0.0.0/24 dst 10.0.1.0/24 proto udp sport 53 dir out
            ip xfrm policy update src 10.0.0.0/24 dst 10.0.1.0/24 proto udp sport 53 dir out action block priority 9
            ip xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir fwd tmpl proto ah tmpl src :: dst :: proto esp
            """)
        #expect(file.associations.isEmpty)
        #expect(file.policies.count == 3)
        #expect(file.policies[0] == SecurityPolicy(
            direction: .inbound,
            selector: PolicySelector(source: .prefix(prefix("10.0.0.0/24")), destination: .prefix(prefix("10.0.1.0/24")),
                                     protocol: .udp, sourcePorts: 53...53),
            action: .protect([SATemplate(protocol: .esp, mode: .tunnel, source: address("192.0.2.2"),
                                         destination: address("192.0.2.1"), reqid: 3, spi: 0x100, optional: true)])))
        #expect(file.policies[1].action == .discard && file.policies[1].priority == 9)
        #expect(file.policies[2].action == .protect([SATemplate(protocol: .ah, mode: .transport),
                                                     SATemplate(protocol: .esp, mode: .transport)]))
        let flushed = try parse("ip xfrm policy add src 10.0.0.0/8 dst 10.0.0.0/8 dir out\nip xfrm policy flush\n"
            + Self.state(""))
        #expect(flushed.policies.isEmpty)
    }

    @Test("ip xfrm policy errors", arguments: [
        ("src 10.0.0.0/8 dst 10.0.0.0/8", ConfigError.Code.missing, "dir"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir up", .invalidValue, "dir"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out dir in", .duplicate, "dir"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out action maybe", .invalidValue, "action"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 sport 80 dir out", .inconsistent, "ports"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 proto tcp type 8 dir out", .inconsistent, "ICMP"),
        ("src 10.0.0.0/8 dst 2001:db8::/32 dir out", .inconsistent, "families"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out tmpl proto esp mode tunnel", .missing, "tunnel endpoints"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out tmpl src 10.0.0.1 dst ::1 proto esp mode tunnel", .inconsistent, "families"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out tmpl proto route2", .unsupported, "Mobile IPv6"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out tmpl proto esp level maybe", .invalidValue, "level"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out tmpl proto esp proto ah", .duplicate, "tmpl proto"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 dir out bogus 1", .unknownKey, "bogus"),
        ("src 10.0.0.0/8 dst 10.0.0.0/8 proto gre key 5 dir out", .unsupported, "GRE"),
    ])
    func commandErrors(_ rest: String, _ code: ConfigError.Code, _ mention: String) {
        expectError("# policies\nip xfrm policy add \(rest)\n", code: code, line: 2, mentions: [mention])
    }

    @Test("Policies in JSON: ranges, port ranges, and errors with their path")
    func json() throws {
        let file = try parse("""
            {"policies": [
              {"direction": "out", "selector": {"source": "10.0.0.1-10.0.0.9", "destination_ports": "1024-2047",
               "protocol": "tcp"}, "action": "discard"}
            ]}
            """, origin: "p.json")
        #expect(file.policies[0].selector.source == .range(address("10.0.0.1"), address("10.0.0.9")))
        #expect(file.policies[0].selector.destinationPorts == 1024...2047)
        expectError("{\"policies\": [{\"direction\": \"out\", \"action\": \"protect\"}]}", origin: "p.json",
                    code: .missing, line: 1, mentions: ["policies[0].templates"])
        expectError("{\"policies\": [{\"direction\": \"out\", \"action\": \"bypass\", \"templates\": []}]}", origin: "p.json",
                    code: .inconsistent, line: 1, mentions: ["policies[0].templates"])
        expectError("{\"policies\": [\n{\"direction\": \"up\", \"action\": \"bypass\"}]}", origin: "p.json",
                    code: .invalidValue, line: 2, mentions: ["policies[0].direction"])
        expectError("{\"policies\": [{\"direction\": \"in\", \"action\": \"bypass\",\n \"selector\": {\"source\": \"10.0.0.9-10.0.0.1\"}}]}",
                    origin: "p.json", code: .invalidValue, line: 1, mentions: ["ends before it starts"])
        expectError("{\"policies\": [{\"direction\": \"in\", \"action\": \"bypass\", \"colour\": 1}]}", origin: "p.json",
                    code: .unknownKey, line: 1, mentions: ["policies[0]"])
        expectError("{\"compressions\": [{\"cpi\": 0, \"mode\": \"tunnel\", \"source\": \"10.0.0.1\", \"destination\": \"10.0.0.2\"}]}",
                    origin: "p.json", code: .invalidValue, line: 1, mentions: ["compressions[0].cpi"])
        expectError("{\"compressions\": [{\"cpi\": 9, \"mode\": \"tunnel\", \"source\": \"10.0.0.1\", \"destination\": \"10.0.0.2\", "
                        + "\"algorithm\": \"lzs\"}]}", origin: "p.json", code: .unsupported, line: 1,
                    mentions: ["compressions[0].algorithm"])
        expectError("{\"policies\": []}", origin: "p.json", code: .missing, line: 1)
    }

    @Test("ip xfrm policy listings: socket policies and Linux's own IPIP states are skipped")
    func listing() throws {
        let file = try parse("""
            src 0.0.0.0/0 dst 0.0.0.0/0
            \tsocket out priority 0 ptype main
            src 10.0.0.0/24 dst 10.0.1.0/24 proto tcp sport 0 dport 22
            \tdir out action allow index 1 priority 5 share any flag  (0x00000000)
            \tlifetime config:
            \t  limit: soft (INF)(bytes), hard (INF)(bytes)
            \ttmpl src 192.0.2.1 dst 192.0.2.2
            \t\tproto esp spi 0x00000000(0) reqid 2(0x00000002) mode tunnel
            \t\tlevel required share any
            \t\tenc-mask ffffffff auth-mask ffffffff comp-mask ffffffff
            src 10.0.0.1 dst 10.0.0.2
            \tproto 4 spi 0x0a000001 reqid 0 mode tunnel
            \treplay-window 0 flag af-unspec
            """)
        #expect(file.associations.isEmpty && file.compressions.isEmpty)
        #expect(file.policies == [SecurityPolicy(
            direction: .outbound,
            selector: PolicySelector(source: .prefix(prefix("10.0.0.0/24")), destination: .prefix(prefix("10.0.1.0/24")),
                                     protocol: .tcp, destinationPorts: 22...22),
            action: .protect([SATemplate(protocol: .esp, mode: .tunnel, source: address("192.0.2.1"),
                                         destination: address("192.0.2.2"), reqid: 2)]),
            priority: 5)])
    }
}
