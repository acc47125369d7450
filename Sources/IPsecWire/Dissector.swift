/// One header found while dissecting a packet, with the values that the header alone cannot tell
/// (checksum verdicts need the enclosing IP header).
public enum Layer: Hashable, Sendable {
    case ipv4(IPv4Header, checksumValid: Bool)
    case ipv6(IPv6Header)
    case ipv6Extension(IPv6ExtensionHeader)
    /// `checksumValid` is nil when the checksum cannot be checked: the sender did not compute one (a zero UDP
    /// checksum over IPv4, RFC 768), or the packet is a fragment, whose checksum covers bytes it does not hold.
    case udp(UDPHeader, checksumValid: Bool?)
    case tcp(TCPHeader, checksumValid: Bool?)
    case icmpv4(ICMPv4Header, checksumValid: Bool?)
    case icmpv6(ICMPv6Header, checksumValid: Bool?)
    /// The ESP header; `protectedLength` counts the IV, ciphertext, padding, trailer and ICV that follow it, which
    /// cannot be told apart without the SA.
    case esp(ESPHeader, protectedLength: Int)
    case ah(AHHeader)
    case ipcomp(IPCompHeader, compressedLength: Int)
    /// RFC 3948 §2.3: a one-byte UDP payload 0xFF on the NAT-T port.
    case natKeepalive
    /// RFC 3948 §2.2: four zero bytes, then an IKE message.
    case nonESPMarker(ikeLength: Int)
    /// Bytes no layer claims: application data, or the payload of a protocol IPsecLab does not dissect.
    case payload(protocol: IPProtocol?, length: Int)
}

public struct DissectedLayer: Hashable, Sendable {
    public let layer: Layer
    /// Where the layer starts, from the start of the dissected bytes.
    public let offset: Int
    /// The layer's own header length (for `payload`, the payload length).
    public let length: Int
}

/// What `Dissector` found in a packet: the layers it could parse, and, if it had to stop early, why.
public struct Dissection: Hashable, Sendable {
    public var layers: [DissectedLayer] = []
    /// The first malformation met; the layers before it are still valid.
    public var error: WireError? = nil
    /// Set when a fragment with a non-zero offset ends the walk: its payload is not a header.
    public var isNonFirstFragment = false

    public init() {}

    /// The ESP header, if the packet carries one (the first one, outermost).
    public var esp: ESPHeader? {
        for l in layers { if case .esp(let h, _) = l.layer { return h } }
        return nil
    }

    public var ah: AHHeader? {
        for l in layers { if case .ah(let h) = l.layer { return h } }
        return nil
    }
}

/// Walks an IP packet header by header. Never throws and never traps: malformed input ends the walk with
/// `Dissection.error` set, so one bad packet in a capture is reported without stopping the others.
public enum Dissector {
    /// Tunnels inside tunnels (IP-in-IP, AH tunnel mode) are followed this deep and no deeper.
    public static let maximumNesting = 8

    public static func dissect(ipPacket bytes: ArraySlice<UInt8>) -> Dissection {
        var d = Dissection()
        var walker = Walker(base: bytes.startIndex, dissection: d)
        walker.ip(bytes, depth: 0)
        d = walker.dissection
        return d
    }

    public static func dissect(ipPacket bytes: [UInt8]) -> Dissection {
        dissect(ipPacket: bytes[...])
    }

    /// The addresses an upper-layer checksum is computed over.
    fileprivate enum Addresses {
        case v4(IPv4Address, IPv4Address)
        case v6(IPv6Address, IPv6Address)

        func pseudoHeader(_ proto: IPProtocol, length: Int) -> PseudoHeader {
            switch self {
            case let .v4(s, d):
                .ipv4(source: s, destination: d, protocol: proto, length: UInt16(truncatingIfNeeded: length))
            case let .v6(s, d):
                .ipv6(source: s, destination: d, nextHeader: proto, length: UInt32(truncatingIfNeeded: length))
            }
        }

        var ipVersion: IPVersion {
            if case .v4 = self { return .v4 }
            return .v6
        }
    }

    private struct Walker {
        let base: Int
        var dissection: Dissection
        /// Set inside a first fragment: the upper-layer header is there, but its length and checksum cover bytes in
        /// later fragments.
        var inFirstFragment = false

        mutating func add(_ layer: Layer, at bytes: ArraySlice<UInt8>, length: Int) {
            dissection.layers.append(DissectedLayer(layer: layer, offset: bytes.startIndex - base, length: length))
        }

        mutating func fail(_ error: Error) {
            dissection.error = error as? WireError ?? WireError.badValue("packet", "\(error)")
        }

        mutating func ip(_ bytes: ArraySlice<UInt8>, depth: Int) {
            guard depth <= Dissector.maximumNesting else {
                fail(WireError.limitExceeded("IP", "more than \(Dissector.maximumNesting) nested IP headers"))
                return
            }
            guard let first = bytes.first else {
                fail(WireError.truncated("IP", need: 1, have: 0))
                return
            }
            switch first >> 4 {
            case 4: ipv4(bytes, depth: depth)
            case 6: ipv6(bytes, depth: depth)
            default: fail(WireError.badValue("IP", "version \(first >> 4) is neither 4 nor 6"))
            }
        }

        mutating func ipv4(_ bytes: ArraySlice<UInt8>, depth: Int) {
            do {
                let view = try IPv4Packet(bytes)
                let header = try IPv4Header.parse(bytes)
                add(.ipv4(header, checksumValid: view.verifyHeaderChecksum()), at: bytes, length: view.headerLength)
                if header.fragmentOffset != 0 {
                    dissection.isNonFirstFragment = true
                    add(.payload(protocol: header.protocol, length: view.payload.count), at: view.payload,
                        length: view.payload.count)
                    return
                }
                inFirstFragment = header.moreFragments
                upper(header.protocol, view.payload, addresses: .v4(header.source, header.destination), depth: depth)
            } catch {
                fail(error)
            }
        }

        mutating func ipv6(_ bytes: ArraySlice<UInt8>, depth: Int) {
            do {
                let view = try IPv6Packet(bytes)
                let header = try IPv6Header.parse(bytes)
                add(.ipv6(header), at: bytes, length: 40)
                extensionChain(header.nextHeader, view.payload,
                               addresses: .v6(header.source, header.destination), depth: depth)
            } catch {
                fail(error)
            }
        }

        /// IPv6 extension headers, which may also follow AH (RFC 4303 §3.1.1: Destination Options after ESP/AH).
        mutating func extensionChain(_ next: IPProtocol, _ payload: ArraySlice<UInt8>, addresses: Addresses,
                                     depth: Int) {
            guard next.isIPv6ExtensionHeader else {
                upper(next, payload, addresses: addresses, depth: depth)
                return
            }
            do {
                let chain = try IPv6ExtensionChain.walk(firstHeader: next, bytes: payload)
                var offset = 0
                var finalAddresses = addresses
                for h in chain.headers {
                    let start = payload.startIndex + offset
                    add(.ipv6Extension(h), at: payload[start...], length: h.bufferLength)
                    offset += h.bufferLength
                    // The upper-layer checksum covers the final destination (RFC 8200 §8.1): the last element of a
                    // Routing header still to be processed; once Segments Left is 0, the Destination Address.
                    if case .routing(let r) = h, r.segmentsLeft > 0, let final = r.finalDestination(),
                       case let .v6(s, _) = addresses {
                        finalAddresses = .v6(s, final)
                    }
                    if case .fragment(let f) = h, f.fragmentOffset != 0 {
                        dissection.isNonFirstFragment = true
                        let rest = payload.dropFirst(offset)
                        add(.payload(protocol: f.nextHeader, length: rest.count), at: rest, length: rest.count)
                        return
                    }
                    if case .fragment(let f) = h, f.moreFragments { inFirstFragment = true }
                }
                upper(chain.upperLayerProtocol, payload.dropFirst(chain.upperLayerOffset),
                      addresses: finalAddresses, depth: depth)
            } catch {
                fail(error)
            }
        }

        mutating func upper(_ proto: IPProtocol, _ bytes: ArraySlice<UInt8>, addresses: Addresses, depth: Int) {
            do {
                switch proto {
                case .udp where inFirstFragment:
                    // Only the header is here; the length field counts bytes in later fragments.
                    guard bytes.count >= UDPDatagram.headerLength else {
                        throw WireError.truncated("UDP", need: UDPDatagram.headerLength, have: bytes.count)
                    }
                    let header = UDPHeader(sourcePort: bytes.wireUInt16(at: 0), destinationPort: bytes.wireUInt16(at: 2),
                                           length: bytes.wireUInt16(at: 4), checksum: bytes.wireUInt16(at: 6))
                    add(.udp(header, checksumValid: nil), at: bytes, length: UDPDatagram.headerLength)
                    rest(nil, bytes.dropFirst(UDPDatagram.headerLength))
                case .udp:
                    let view = try UDPDatagram(bytes)
                    let header = UDPHeader(view)
                    let valid: Bool? = (header.checksum == 0 && addresses.ipVersion == .v4)
                        ? nil : view.verifyChecksum(addresses.pseudoHeader(.udp, length: Int(view.length)))
                    add(.udp(header, checksumValid: valid), at: bytes, length: UDPDatagram.headerLength)
                    if header.sourcePort == UDPEncapsulation.port || header.destinationPort == UDPEncapsulation.port {
                        try natT(view.payload)
                    } else {
                        rest(nil, view.payload)
                    }
                case .tcp:
                    let view = try TCPSegment(bytes)
                    let header = try TCPHeader.parse(bytes)
                    let valid = inFirstFragment ? nil : view.verifyChecksum(addresses.pseudoHeader(.tcp, length: bytes.count))
                    add(.tcp(header, checksumValid: valid), at: bytes, length: header.bufferLength)
                    rest(nil, view.payload)
                case .icmp:
                    let view = try ICMPv4Message(bytes)
                    add(.icmpv4(ICMPv4Header(view), checksumValid: inFirstFragment ? nil : view.verifyChecksum()),
                        at: bytes, length: 8)
                    rest(nil, view.payload)
                case .icmpv6:
                    let view = try ICMPv6Message(bytes)
                    let valid = inFirstFragment
                        ? nil : view.verifyChecksum(addresses.pseudoHeader(.icmpv6, length: bytes.count))
                    add(.icmpv6(ICMPv6Header(view), checksumValid: valid), at: bytes, length: 8)
                    rest(nil, view.payload)
                case .esp:
                    let view = try ESPPacket(bytes)
                    add(.esp(ESPHeader(view), protectedLength: view.payload.count), at: bytes, length: 8)
                case .ah:
                    let view = try AHPacket(bytes, ipVersion: addresses.ipVersion)
                    let header = try AHHeader.parse(bytes, ipVersion: addresses.ipVersion)
                    add(.ah(header), at: bytes, length: view.headerLength)
                    // AH does not encrypt: what it protects can be dissected (transport or tunnel mode).
                    if addresses.ipVersion == .v6 {
                        extensionChain(header.nextHeader, view.payload, addresses: addresses, depth: depth)
                    } else {
                        upper(header.nextHeader, view.payload, addresses: addresses, depth: depth)
                    }
                case .ipcomp:
                    let view = try IPCompPacket(bytes)
                    add(.ipcomp(IPCompHeader(view), compressedLength: view.payload.count), at: bytes, length: 4)
                case .ipv4, .ipv6:
                    inFirstFragment = false
                    ip(bytes, depth: depth + 1)
                case .noNextHeader:
                    if !bytes.isEmpty { rest(proto, bytes) }
                default:
                    if proto.isIPv6ExtensionHeader, addresses.ipVersion == .v6 {
                        extensionChain(proto, bytes, addresses: addresses, depth: depth)
                    } else {
                        rest(proto, bytes)
                    }
                }
            } catch {
                fail(error)
            }
        }

        mutating func natT(_ payload: ArraySlice<UInt8>) throws {
            switch try UDPEncapsulation.classify(payload) {
            case .natKeepalive:
                add(.natKeepalive, at: payload, length: 1)
            case .nonESP(let ike):
                add(.nonESPMarker(ikeLength: ike.count), at: payload, length: 4)
            case .esp:
                let view = try ESPPacket(payload)
                add(.esp(ESPHeader(view), protectedLength: view.payload.count), at: payload, length: 8)
            }
        }

        mutating func rest(_ proto: IPProtocol?, _ bytes: ArraySlice<UInt8>) {
            guard !bytes.isEmpty else { return }
            add(.payload(protocol: proto, length: bytes.count), at: bytes, length: bytes.count)
        }
    }
}
