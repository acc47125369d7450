import IPsecConfig
import IPsecCore
import IPsecCrypto
import IPsecWire
import Testing

@Suite("setkey.conf, ip xfrm, listings and JSON: one configuration")
struct InteropTests {
    static let texts: [(String, SAFileFormat, Int)] = [
        (Interop.setkey, .setkey, Interop.setkeyPriority), (Interop.commands, .ipXfrmCommands, Interop.setkeyPriority),
        (Interop.listing, .ipXfrmListing, Interop.setkeyPriority), (Interop.json, .json, Interop.setkeyPriority),
    ]

    @Test("Every format loads the same SAs, IPComp SAs and policies", arguments: 0..<4)
    func sameConfiguration(_ index: Int) throws {
        let (text, format, priority) = Self.texts[index]
        let file = try parse(text, origin: "\(format)")
        #expect(file.format == format)
        let expected = try Interop.associations()
        #expect(file.associations.count == expected.count)
        for (got, want) in zip(file.associations, expected) { #expect(got == want, "\(format): \(got)") }
        #expect(file.compressions == Interop.compressions)
        let policies = Interop.policies(priority: priority)
        #expect(file.policies.count == policies.count)
        for (got, want) in zip(file.policies, policies) { #expect(got == want, "\(format): \(got)") }
    }

    @Test("The JSON writer round-trips policies, IPComp SAs, lifetimes and TFC padding")
    func jsonRoundTrip() throws {
        var file = try parse(Interop.setkey)
        file.associations[2].tfcPadding = 1200
        file.associations[1].lifetime = SALifetime(softPackets: 10, hardPackets: 20)
        file.policies.append(SecurityPolicy(
            direction: .inbound,
            selector: PolicySelector(source: .range(address("10.1.0.1"), address("10.1.0.9")),
                                     destination: .prefix(prefix("10.2.0.0/16")), protocol: .udp,
                                     sourcePorts: 1024...65535, destinationPorts: 53...53),
            action: .protect([SATemplate(protocol: .esp, mode: .transport, reqid: 3, spi: 0x1234, optional: true)]),
            priority: 7))
        let text = file.json(includeKeys: true)
        let again = try parse(text, origin: "written.json")
        #expect(again.associations == file.associations)
        #expect(again.policies == file.policies)
        #expect(again.compressions == file.compressions)
        #expect(again.json(includeKeys: true) == text)
        // Without keys: no key material, policies still described.
        let described = file.json(includeKeys: false)
        for secret in Interop.secrets { #expect(!leaks(described, secret)) }
        #expect(described.contains("\"policies\""))
    }

    @Test("The ip xfrm writer round-trips states, IPComp states and policies")
    func commandsRoundTrip() throws {
        var file = try parse(Interop.listing)
        file.associations[2].tfcPadding = 1200
        file.associations[1].lifetime = SALifetime(softPackets: 10, hardPackets: 20, softBytes: 5, hardBytes: 6)
        let text = try file.ipXfrmCommands()
        let again = try parse(text, origin: "written.sh")
        #expect(again.format == .ipXfrmCommands)
        #expect(again.associations == file.associations)
        #expect(again.policies == file.policies)
        #expect(again.compressions == file.compressions)
    }

    @Test("The ip xfrm writer refuses selectors Linux cannot express")
    func commandsRefuseRanges() throws {
        let range = SecurityPolicy(direction: .outbound,
                                   selector: PolicySelector(source: .range(address("10.0.0.1"), address("10.0.0.5"))),
                                   action: .bypass)
        #expect(throws: ConfigError.self) { try SAFile(associations: [], policies: [range], format: .json).ipXfrmCommands() }
        let ports = SecurityPolicy(direction: .outbound, selector: PolicySelector(protocol: .tcp, sourcePorts: 1...2),
                                   action: .bypass)
        #expect(throws: ConfigError.self) { try SAFile(associations: [], policies: [ports], format: .json).ipXfrmCommands() }
    }

    @Test("Errors in the new formats are one line with file:line and no key material", arguments: [
        ("add 10.0.0.1 10.0.0.2 esp 0x100 -E aes-cbc 0x\(Interop.cbcKey.dropLast(2));", 1),
        ("flush;\n\nadd 10.0.0.1 10.0.0.2 esp 0x100\n  -E aes-cbc 0x\(Interop.cbcKey) -A hmac-sha1 0x\(Interop.cbcKey);", 4),
        ("add 10.0.0.1 10.0.0.2 esp 0x100 -E 0x\(Interop.cbcKey) -A hmac-sha1 0x\(Interop.sha1Key);", 1),
        ("spdadd 10.0.0.0/24 10.0.1.0/24 any -P out ipsec esp/tunnel/0x\(Interop.gcmKey)/require;", 1),
        ("\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x100\",\"AES-CBC [RFC3602]\",\"0x\(Interop.cbcKey)00\",\"NULL\",\"\"", 1),
        ("\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x\(Interop.cbcKey)\",\"AES-CBC [RFC3602]\",\"0x\(Interop.cbcKey)\",\"NULL\",\"\"", 1),
    ])
    func errors(_ text: String, _ line: Int) {
        do {
            _ = try SAFile.parse(text, origin: "f")
            Issue.record("parsed: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("f:\(line): "), "\(error)")
            #expect(!error.description.contains("\n"))
            for secret in Interop.secrets { #expect(!leaks(error.description, secret), "\(error)") }
        }
    }
}
