import IPsecWire

/// A harness made of one function: enough for the stateless parser targets.
final class FunctionHarness: FuzzHarness {
    let body: (ArraySlice<UInt8>, inout FuzzFeedback) -> Void
    init(_ body: @escaping (ArraySlice<UInt8>, inout FuzzFeedback) -> Void) { self.body = body }
    func execute(_ input: ArraySlice<UInt8>, feedback: inout FuzzFeedback) { body(input, &feedback) }
}

/// The round-trip oracle of every `WireRepresentable` (swift-protobuf's): a value that `parse` produced serialises,
/// to exactly `bufferLength` bytes, and those bytes — followed by whatever followed the header in the input — parse
/// back to the same value. Whether the bytes also came back identical is a feature, not a failure: a canonical
/// re-encoding is allowed.
func checkRoundTrip<T: WireRepresentable>(_ value: T, input: ArraySlice<UInt8>, consumed: Int, target: String,
                                          feedback: inout FuzzFeedback,
                                          reparse: (ArraySlice<UInt8>) throws -> T = { try T.parse($0) }) {
    let bytes: [UInt8]
    do {
        bytes = try value.serialized()
    } catch {
        FuzzOracle.fail(target, "a parsed \(T.self) does not serialise", details: "\(error); input \(hexString(input))")
    }
    FuzzOracle.check(bytes.count == value.bufferLength, target, "\(T.self) serialises to other than bufferLength bytes")
    let rebuilt = bytes + input.dropFirst(consumed)
    let again: T
    do {
        again = try reparse(rebuilt[...])
    } catch {
        FuzzOracle.fail(target, "a re-serialised \(T.self) does not parse", details: "\(error); input \(hexString(input))")
    }
    FuzzOracle.check(again == value, target, "a re-serialised \(T.self) parses to another value",
                     details: "input \(hexString(input)); rebuilt \(hexString(rebuilt))")
    feedback.add("\(T.self) round trip", bytes.elementsEqual(input.prefix(consumed)) ? 1 : 0)
}

/// The targets of the IPsecWire parsers, one per header.
enum ParserTargets {
    static var all: [FuzzTarget] {
        [ipv4, ipv6, tcp, udp, icmp, esp, espTrailer, ah, espInUDP, ipcomp, dissector]
    }

    static let packetDictionary: [[UInt8]] = HeaderGenerator.protocols.map { [$0] } + [
        [0x45, 0x00], [0x46, 0x00], [0x4f, 0x00], [0x60, 0x00, 0x00, 0x00], [0x11, 0x94], [0x01, 0xf4],
        [0x00, 0x00, 0x00, 0x00], [0xff], [0x94, 0x04, 0x00, 0x00], [0x01, 0x01, 0x01, 0x00], [0x07, 0x07, 0x04],
        [0x44, 0x0c, 0x05, 0x01], [0x83, 0x07, 0x04], [0x89, 0x07, 0x04], [0x01, 0x00], [0xc2, 0x04], [0x05, 0x02],
        [0x02, 0x04, 0x05, 0xb4], [0x04, 0x02], [0x08, 0x0a], [0x03, 0x03, 0x07], [0x00, 0x00, 0x10, 0x01],
        [0x80, 0x00, 0x10, 0x01], [0x20, 0x01, 0x0d, 0xb8],
    ]

    /// Seeds common to the packet-level targets: generated packets and the sample capture's shapes.
    static func packetSeeds() -> [[UInt8]] {
        PacketFactory.sampler(count: 48, seed: 0x5eed)
    }

    /// The bytes at the start of each layer `Dissector` finds in the seed packets whose layer satisfies `pick`.
    static func layerSeeds(_ pick: (Layer) -> Bool) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for packet in packetSeeds() {
            for l in Dissector.dissect(ipPacket: packet).layers where pick(l.layer) {
                out.append(Array(packet[l.offset...]))
            }
        }
        return out
    }

    static let ipv4 = FuzzTarget(
        name: "ipv4", summary: "IPv4 header and options (IPv4Packet, IPv4Header)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let view = try IPv4Packet(input)
                    let header = try IPv4Header(view)
                    feedback.add("ipv4 options", header.options.count)
                    for option in header.options { feedback.add("ipv4 option", Int(option.type)) }
                    feedback.add("ipv4 checksum", view.verifyHeaderChecksum() ? 1 : 0)
                    checkRoundTrip(header, input: input, consumed: view.headerLength, target: "ipv4",
                                   feedback: &feedback)
                    FuzzOracle.check(view.payload.count == Int(view.totalLength) - view.headerLength, "ipv4",
                                     "payload length disagrees with total length")
                } catch {
                    feedback.add(error: error, in: "ipv4")
                }
            }
        },
        mutator: { PacketMutator() },
        seeds: { packetSeeds().filter { $0.first.map { $0 >> 4 == 4 } ?? false } })

    static let ipv6 = FuzzTarget(
        name: "ipv6", summary: "IPv6 header and its extension-header chain (IPv6Packet, IPv6ExtensionChain)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let view = try IPv6Packet(input)
                    let header = IPv6Header(view)
                    checkRoundTrip(header, input: input, consumed: IPv6Packet.headerLength, target: "ipv6",
                                   feedback: &feedback)
                    let chain = try view.extensionChain()
                    feedback.add("ipv6 chain length", chain.headers.count)
                    feedback.add("ipv6 upper", Int(chain.upperLayerProtocol.rawValue))
                    try checkChain(chain, payload: view.payload, first: view.nextHeader, destination: view.destination,
                                   feedback: &feedback)
                } catch {
                    feedback.add(error: error, in: "ipv6")
                }
            }
        },
        mutator: { PacketMutator() },
        seeds: { packetSeeds().filter { $0.first.map { $0 >> 4 == 6 } ?? false } })

    /// Every extension header round-trips on its own and the chain as a whole re-walks to the same chain; the
    /// routing-header helpers (final destination, the form AH authenticates) never trap.
    static func checkChain(_ chain: IPv6ExtensionChain, payload: ArraySlice<UInt8>, first: IPProtocol,
                           destination: IPv6Address, feedback: inout FuzzFeedback) throws {
        var rebuilt: [UInt8] = []
        var offset = 0
        for header in chain.headers {
            feedback.add("ipv6 extension", Int(header.protocolNumber.rawValue))
            let consumed = header.bufferLength
            var bytes = [UInt8](repeating: 0, count: consumed)
            do {
                try header.emit(into: &bytes[...])
            } catch {
                FuzzOracle.fail("ipv6", "a parsed extension header does not serialise", details: "\(error)")
            }
            let again = try? IPv6ExtensionHeader.parse(header.protocolNumber, bytes: bytes[...] + payload.dropFirst(offset + consumed))
            FuzzOracle.check(again == header, "ipv6", "a re-serialised extension header parses to another value",
                             details: "\(header) vs \(String(describing: again))")
            rebuilt += bytes
            offset += consumed
            if case .routing(let r) = header {
                feedback.add("routing type", Int(r.routingType))
                _ = r.addresses
                _ = r.rpl?.addresses(prefixFrom: destination)
                _ = r.segmentRouting
                _ = r.finalDestination()
                if let final = r.atFinalDestination(currentDestination: destination) {
                    feedback.add("routing final form", Int(r.routingType))
                    FuzzOracle.check(final.header.segmentsLeft == 0, "ipv6", "final-destination form has segments left")
                    FuzzOracle.check((try? final.header.serialized().count) == r.bufferLength, "ipv6",
                                     "final-destination form changes the header length")
                }
            }
        }
        FuzzOracle.check(offset == chain.upperLayerOffset, "ipv6", "the chain's upper-layer offset is not its length")
        let again = try? IPv6ExtensionChain.walk(firstHeader: first, bytes: (rebuilt + payload.dropFirst(offset))[...])
        FuzzOracle.check(again == chain, "ipv6", "a re-serialised extension chain walks to another chain")
    }

    static let tcp = FuzzTarget(
        name: "tcp", summary: "TCP header and options (TCPSegment, TCPHeader)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let view = try TCPSegment(input)
                    let header = try TCPHeader(view)
                    for option in header.options { feedback.add("tcp option", Int(option.kind)) }
                    checkRoundTrip(header, input: input, consumed: view.headerLength, target: "tcp", feedback: &feedback)
                    _ = header.flags.description
                } catch {
                    feedback.add(error: error, in: "tcp")
                }
            }
        },
        mutator: { TCPMutator() },
        seeds: { layerSeeds { if case .tcp = $0 { true } else { false } } })

    static let udp = FuzzTarget(
        name: "udp", summary: "UDP header (UDPDatagram, UDPHeader)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let view = try UDPDatagram(input)
                    let header = UDPHeader(view)
                    checkRoundTrip(header, input: input, consumed: 8, target: "udp", feedback: &feedback)
                    FuzzOracle.check(view.datagram.count == Int(header.length), "udp", "datagram length disagrees")
                    feedback.add("udp payload", min(view.payload.count, 16))
                } catch {
                    feedback.add(error: error, in: "udp")
                }
            }
        },
        mutator: { FieldMapMutator { input in
            [PacketMap.Field(offset: 4, width: 2, kind: .length(covering: input.count)),
             PacketMap.Field(offset: 0, width: 2, kind: .port), PacketMap.Field(offset: 6, width: 2, kind: .checksum)]
        } },
        seeds: { layerSeeds { if case .udp = $0 { true } else { false } } })

    static let icmp = FuzzTarget(
        name: "icmp", summary: "ICMP and ICMPv6 headers (ICMPv4Message, ICMPv6Message)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let v4 = try ICMPv4Message(input)
                    let h4 = ICMPv4Header(v4)
                    checkRoundTrip(h4, input: input, consumed: 8, target: "icmp", feedback: &feedback)
                    feedback.add("icmp type", Int(h4.type))
                    _ = v4.verifyChecksum()
                    _ = h4.name
                    let v6 = try ICMPv6Message(input)
                    let h6 = ICMPv6Header(v6)
                    checkRoundTrip(h6, input: input, consumed: 8, target: "icmp", feedback: &feedback)
                    feedback.add("icmp6 error", v6.isError ? 1 : 0)
                    _ = h6.name
                } catch {
                    feedback.add(error: error, in: "icmp")
                }
            }
        },
        seeds: {
            layerSeeds {
                switch $0 {
                case .icmpv4, .icmpv6: true
                default: false
                }
            } + [[3, 1, 0, 0, 0, 0, 0, 0], [129, 0, 0, 0, 0, 1, 0, 1], [11, 0, 0xf4, 0xff, 0, 0, 0, 0]]
        })

    static let esp = FuzzTarget(
        name: "esp", summary: "ESP header (ESPPacket, ESPHeader)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let view = try ESPPacket(input)
                    let header = ESPHeader(view)
                    checkRoundTrip(header, input: input, consumed: 8, target: "esp", feedback: &feedback)
                    feedback.add("esp payload", min(view.payload.count, 64) / 8)
                } catch {
                    feedback.add(error: error, in: "esp")
                }
            }
        },
        mutator: { FieldMapMutator { _ in
            [PacketMap.Field(offset: 0, width: 4, kind: .spi), PacketMap.Field(offset: 4, width: 4, kind: .sequence)]
        } },
        seeds: { layerSeeds { if case .esp = $0 { true } else { false } } + [[0, 0, 0x10, 1, 0, 0, 0, 1]] })

    static let espTrailer = FuzzTarget(
        name: "esp-trailer", summary: "ESP trailer of a decrypted payload (ESPTrailer.split, parse)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let (payload, trailer) = try ESPTrailer.split(input)
                    feedback.add("trailer default padding", trailer.hasDefaultPadding ? 1 : 0)
                    feedback.add("trailer next header", Int(trailer.nextHeader.rawValue))
                    FuzzOracle.check(payload.count + trailer.bufferLength == input.count, "esp-trailer",
                                     "payload and trailer do not add up to the plaintext")
                    let again = try? ESPTrailer.parse(trailer.serialized())
                    FuzzOracle.check(again == trailer, "esp-trailer", "a re-serialised trailer parses to another value")
                    let whole = try? ESPTrailer.parse(input)
                    FuzzOracle.check((whole != nil) == payload.isEmpty, "esp-trailer",
                                     "parse accepts exactly the plaintexts without payload")
                    // The padding the sender computes always fills a whole number of blocks.
                    for block in [1, 4, 8, 16] {
                        let pad = ESPTrailer.paddingLength(payloadLength: input.count, blockSize: block)
                        FuzzOracle.check((input.count + pad + 2) % max(block, 4) == 0 && pad < 256, "esp-trailer",
                                         "paddingLength does not align the trailer")
                    }
                } catch {
                    feedback.add(error: error, in: "esp-trailer")
                }
            }
        },
        mutator: { TrailerMutator() },
        seeds: {
            [[1, 2, 0x04], [0x45, 0, 1, 2, 3, 2, 0x29], [1, 2, 3, 4, 4, 17], [0, 59], [9, 9, 9, 1, 2, 3, 4, 5, 6, 6, 4],
             Array(repeating: 7, count: 20) + Array(1...10) + [10, 6]]
        })

    static let ah = FuzzTarget(
        name: "ah", summary: "AH header under IPv4 and IPv6 alignment (AHPacket, AHHeader)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                for version in IPVersion.allCases {
                    do {
                        let view = try AHPacket(input, ipVersion: version)
                        let header = AHHeader(view)
                        feedback.add("ah length", view.headerLength / 4)
                        FuzzOracle.check(header.isAligned(for: version), "ah", "a parsed header is not aligned")
                        checkRoundTrip(header, input: input, consumed: view.headerLength, target: "ah",
                                       feedback: &feedback, reparse: { try AHHeader.parse($0, ipVersion: version) })
                    } catch {
                        feedback.add(error: error, in: "ah \(version)")
                    }
                }
                if let loose = try? AHHeader.parse(input) {
                    FuzzOracle.check(loose.bufferLength % 4 == 0, "ah", "a parsed header is not a multiple of 4")
                }
            }
        },
        mutator: { FieldMapMutator { input in
            [PacketMap.Field(offset: 0, width: 1, kind: .nextHeader),
             PacketMap.Field(offset: 1, width: 1, kind: .length8(covering: input.count, unit: 4, bias: -8)),
             PacketMap.Field(offset: 2, width: 2, kind: .other), PacketMap.Field(offset: 4, width: 4, kind: .spi),
             PacketMap.Field(offset: 8, width: 4, kind: .sequence)]
        } },
        seeds: { layerSeeds { if case .ah = $0 { true } else { false } } + [[4, 4, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 1]
                                                                              + [UInt8](repeating: 0xaa, count: 12)] })

    static let espInUDP = FuzzTarget(
        name: "esp-in-udp", summary: "what a port-4500 UDP payload carries (UDPEncapsulation.classify, RFC 3948)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    switch try UDPEncapsulation.classify(input) {
                    case .natKeepalive:
                        feedback.add("nat-t keepalive")
                        FuzzOracle.check(Array(input) == UDPEncapsulation.natKeepalivePayload(), "esp-in-udp",
                                         "a keepalive is not the one-byte 0xFF payload")
                    case .nonESP(let ike):
                        feedback.add("nat-t ike", min(ike.count, 8))
                        FuzzOracle.check(UDPEncapsulation.nonESPPayload(ike) == Array(input), "esp-in-udp",
                                         "marker and IKE message do not rebuild the payload")
                    case .esp(let view):
                        feedback.add("nat-t esp", min(view.payload.count, 64) / 8)
                        checkRoundTrip(ESPHeader(view), input: input, consumed: 8, target: "esp-in-udp",
                                       feedback: &feedback)
                    }
                } catch {
                    feedback.add(error: error, in: "esp-in-udp")
                }
            }
        },
        mutator: { FieldMapMutator { input in
            input.count >= 8 ? [PacketMap.Field(offset: 0, width: 4, kind: .spi),
                                PacketMap.Field(offset: 4, width: 4, kind: .sequence)] : []
        } },
        seeds: { [[0xff], [0, 0, 0, 0, 0x2e, 0x20, 0x22, 0x08], [0, 0, 0x50, 1, 0, 0, 0, 1, 0xde, 0xad], [0, 0, 0, 0],
                  [0xff, 0xff]] })

    static let ipcomp = FuzzTarget(
        name: "ipcomp", summary: "IPComp header (IPCompPacket, IPCompHeader, RFC 3173)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                do {
                    let view = try IPCompPacket(input)
                    let header = IPCompHeader(view)
                    feedback.add("ipcomp cpi", Int(min(header.cpi, 64)))
                    _ = header.name
                    checkRoundTrip(header, input: input, consumed: 4, target: "ipcomp", feedback: &feedback)
                } catch {
                    feedback.add(error: error, in: "ipcomp")
                }
            }
        },
        mutator: { FieldMapMutator { _ in
            [PacketMap.Field(offset: 0, width: 1, kind: .nextHeader), PacketMap.Field(offset: 1, width: 1, kind: .flags),
             PacketMap.Field(offset: 2, width: 2, kind: .other)]
        } },
        seeds: { [[4, 0, 0, 2, 0x78, 0x9c, 1, 2], [41, 0, 0, 3, 0], [6, 0, 0, 1], [17, 0, 0xf0, 0, 9, 9]] })

    static let dissector = FuzzTarget(
        name: "dissector", summary: "the whole-packet dissector and its printers (Dissector, Printer)",
        dictionary: packetDictionary,
        harness: {
            FunctionHarness { input, feedback in
                let d = Dissector.dissect(ipPacket: input)
                for (i, l) in d.layers.prefix(12).enumerated() {
                    feedback.add("dissected \(l.layer.key)", i)
                    FuzzOracle.check(l.offset >= 0 && l.length >= 0 && l.offset + l.length <= input.count, "dissector",
                                     "a layer lies outside the packet")
                    _ = l.layer.summary
                }
                if let error = d.error { feedback.add(error: error, in: "dissector") }
                _ = d.summary
                _ = d.treeLines()
                _ = d.json.text
                // The dissector's ESP and AH agree with the strict parsers at the same offsets.
                for l in d.layers {
                    switch l.layer {
                    case .esp(let h, _):
                        FuzzOracle.check((try? ESPHeader.parse(input.dropFirst(l.offset))) == h, "dissector",
                                         "ESP layer disagrees with ESPHeader.parse")
                    case .ipv4(let h, _):
                        FuzzOracle.check((try? IPv4Header.parse(input.dropFirst(l.offset))) == h, "dissector",
                                         "IPv4 layer disagrees with IPv4Header.parse")
                    default: break
                    }
                }
            }
        },
        mutator: { PacketMutator() },
        seeds: { packetSeeds() })
}

/// A mutator that knows only where a few fields are.
final class FieldMapMutator: StructureMutator {
    let fields: ([UInt8]) -> [PacketMap.Field]
    init(_ fields: @escaping ([UInt8]) -> [PacketMap.Field]) { self.fields = fields }

    func mutate(_ input: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        let all = fields(input).filter { $0.offset + $0.width <= input.count }
        guard !all.isEmpty else { return false }
        let map = PacketMap([])
        FieldMutation.apply(r.element(of: all), to: &input, map: map, knownSPIs: [0x1000, 0x2000], random: &r)
        return true
    }
}

/// TCP headers: the data offset, the option area, the ports and flags.
final class TCPMutator: StructureMutator {
    func mutate(_ b: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        guard b.count >= 20 else { return false }
        let offset = Int(b[12] >> 4) * 4
        if r.chance(1, in: 2), offset >= 20 {
            let end = min(offset, b.count)
            let area = HeaderGenerator.tcpOptions(&r, valid: r.chance(3, in: 4))
            b.replaceSubrange(20..<end, with: area)
            b[12] = UInt8(min((20 + area.count) / 4, 15)) << 4 | b[12] & 0x0f
        } else {
            let fields: [PacketMap.Field] = [
                .init(offset: 12, width: 1, kind: .dataOffset(covering: min(b.count, 60))),
                .init(offset: 13, width: 1, kind: .flags), .init(offset: 0, width: 2, kind: .port),
                .init(offset: 4, width: 4, kind: .sequence),
            ]
            FieldMutation.apply(r.element(of: fields), to: &b, map: PacketMap([]), knownSPIs: [], random: &r)
        }
        return true
    }
}

/// ESP plaintexts: the pad length, the padding and the next header at the end.
final class TrailerMutator: StructureMutator {
    func mutate(_ b: inout [UInt8], random r: inout FuzzRandom, bytes: ByteMutation) -> Bool {
        guard b.count >= 2 else { return false }
        PlaintextMutation.mutateTrailer(&b, random: &r)
        return true
    }
}
