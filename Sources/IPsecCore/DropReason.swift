/// Why the inbound path discarded a packet. Every discard has exactly one reason, and `decap` counts them.
///
/// The order of the inbound path (strongSwan's and Linux's): SA lookup → replay check → ICV verification before
/// decryption → decrypt → strict padding check → replay window advance → lifetimes → mode decapsulation → policy check
/// on the inner packet. The reasons name the stage that refused the packet.
public enum DropReason: String, Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// No SA for this SPI, destination and protocol (RFC 4303 §3.4.2).
    case noSA = "no-sa"
    /// The packet cannot be what it claims: truncated, lengths that disagree, a ciphertext that is not a whole number
    /// of blocks, an AH header length that does not fit the SA's algorithm.
    case malformed
    /// The ICV did not verify (RFC 4303 §3.4.4, RFC 4302 §3.4.4).
    case integrity
    /// The ICV verified but the padding is not the default 1, 2, 3, … (RFC 4303 §2.4) or its length overruns.
    case padding
    /// The next-header value does not fit the SA's mode: not IPv4/IPv6 in tunnel mode, an inner packet that does not
    /// parse, or a transport payload whose header cannot be rebuilt.
    case nextHeader = "next-header"
    /// A dummy packet (next header 59, RFC 4303 §2.6): discarded quietly, counted apart.
    case dummy
    /// The sequence number was already received or lies left of the window (RFC 4303 §3.4.3).
    case replay
    /// The inner packet does not match the SA's traffic selector or policy (RFC 4301 §5.2).
    case policy
    /// A hard lifetime has expired (RFC 4301 §4.4.2.1).
    case lifetime
    /// An IP fragment: IPsec needs the whole packet (RFC 4301 §7), and IPsecLab does not reassemble.
    case fragment
    /// Not an IPsec packet for the configured SAs to open (plain traffic in a capture, a NAT-keepalive, IKE).
    case notIPsec = "not-ipsec"

    public var description: String { rawValue }
}

/// A packet's fate on the inbound path.
public enum InboundVerdict: Hashable, Sendable {
    case accepted
    case dropped(DropReason)
}
