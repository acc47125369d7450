// UDP encapsulation of ESP for NAT traversal (RFC 3948). One UDP port (4500) carries three kinds of payload,
// told apart by their first bytes:
//
// ESP (§2.1): the SPI is never zero.
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       SPI (non-zero)                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Sequence Number, then the rest of ESP         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// IKE (§2.2): a Non-ESP Marker of four zero bytes, where ESP's SPI would be.
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Non-ESP Marker (0x00000000)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 IKE header and payloads ...                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// NAT-keepalive (§2.3): a single byte 0xFF.
// +-+-+-+-+-+-+-+-+
// |     0xFF      |
// +-+-+-+-+-+-+-+-+

/// RFC 3948 constants and the classifier for what a port-4500 UDP datagram carries.
///
/// RFC 3948 §2.1: the UDP checksum of encapsulated ESP SHOULD be sent as zero and the receiver MUST NOT depend on it,
/// so nothing here looks at the UDP header; pass the UDP payload (`UDPDatagram.payload`).
public enum UDPEncapsulation {
    /// The IKE/IPsec NAT-traversal port (RFC 3948 §2; RFC 7296 §2.23).
    public static let port: UInt16 = 4500
    /// The single byte of a NAT-keepalive (RFC 3948 §2.3).
    public static let natKeepaliveByte: UInt8 = 0xff
    /// The four zero bytes before an IKE message (RFC 3948 §2.2).
    public static let nonESPMarker: [UInt8] = [0, 0, 0, 0]
    static let layer = "ESP-in-UDP"

    /// Tells the three payloads apart (RFC 3948 §2.1–2.3), strictly:
    /// - exactly one byte 0xFF is a NAT-keepalive;
    /// - four zero bytes first are the Non-ESP Marker, and what follows (which must not be empty) is IKE;
    /// - anything else is ESP, checked by `ESPPacket` (so fewer than 8 bytes is `truncated`).
    /// An empty payload is `truncated`.
    public static func classify(_ udpPayload: ArraySlice<UInt8>) throws -> UDPEncapsulatedPayload {
        guard !udpPayload.isEmpty else {
            throw WireError.truncated(layer, need: 1, have: 0)
        }
        if udpPayload.count == 1, udpPayload.wireUInt8(at: 0) == natKeepaliveByte {
            return .natKeepalive
        }
        if udpPayload.count >= nonESPMarker.count, udpPayload.wireUInt32(at: 0) == 0 {
            let message = udpPayload.dropFirst(nonESPMarker.count)
            // A marker with nothing after it carries no IKE message.
            guard !message.isEmpty else {
                throw WireError.truncated(layer, need: nonESPMarker.count + 1, have: udpPayload.count)
            }
            return .nonESP(message)
        }
        return .esp(try ESPPacket(udpPayload))
    }

    public static func classify(_ udpPayload: [UInt8]) throws -> UDPEncapsulatedPayload {
        try classify(udpPayload[...])
    }

    /// The payload of a NAT-keepalive datagram: one byte 0xFF.
    public static func natKeepalivePayload() -> [UInt8] {
        [natKeepaliveByte]
    }

    /// The payload that carries `ikeMessage` on port 4500: the Non-ESP Marker, then the message.
    public static func nonESPPayload<C: Collection>(_ ikeMessage: C) -> [UInt8] where C.Element == UInt8 {
        var out = nonESPMarker
        out.append(contentsOf: ikeMessage)
        return out
    }
}

/// What a port-4500 UDP payload carries (RFC 3948 §2).
public enum UDPEncapsulatedPayload: Hashable, Sendable {
    /// RFC 3948 §2.3.
    case natKeepalive
    /// An IKE message: the bytes after the Non-ESP Marker (RFC 3948 §2.2). Never empty.
    case nonESP(ArraySlice<UInt8>)
    /// An ESP packet, already checked (RFC 3948 §2.1).
    case esp(ESPPacket)
}
