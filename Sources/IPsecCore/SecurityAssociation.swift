import IPsecCrypto
import IPsecWire

/// A running SA: its configuration, its transform (keyed once, reused for every packet), its IV source and its
/// sequence state. One per SA and direction; not thread-safe.
public final class SecurityAssociation {
    public let configuration: SAConfiguration
    let esp: ESPTransform?
    /// The ESP transform for bursts (and single packets as bursts of one), on the implementation the SA was made
    /// with; it wraps `esp` as its OpenSSL reference.
    let espBurst: ESPBurstTransform?
    let ah: AHTransform?
    /// Whether the burst path lays this SA's packets out itself (plain ESP in tunnel or transport mode, no NAT-T,
    /// no header compression) and whether it opens them itself: decided once here, read for every packet.
    let laysOutInBurst: Bool
    let opensInBurst: Bool
    /// The library that runs this SA's ESP or AH crypto (OpenSSL when libipsec-mb lacks the algorithm or is absent).
    public var cryptoImplementation: CryptoImplementation {
        espBurst?.implementation ?? ah?.implementation ?? .openSSL
    }
    @exclusivity(unchecked) var ivSource: IVSource
    /// Where fresh outer-header identification values come from (tunnel mode over IPv4).
    @exclusivity(unchecked) var identificationSource: IVSource
    /// The last sequence number sent; the next packet carries one more.
    @exclusivity(unchecked) public internal(set) var outboundSequence: UInt64
    /// The receiver's anti-replay state.
    @exclusivity(unchecked) public internal(set) var replay: AntiReplayWindow
    /// Per-SA counters.
    @exclusivity(unchecked) public internal(set) var counters = SACounters()

    /// The bytes ESP adds around its payload that do not depend on the payload: header, IV and ICV.
    public var fixedOverhead: Int {
        if let esp { return ESPPacket.headerLength + esp.ivLength + esp.icvLength }
        return ah.map { AHHeader.headerLength(icvLength: $0.icvLength, ipVersion: configuration.destination.version) } ?? 0
    }

    /// Keys the transform; throws a `CoreError` naming the SA (never its keys) if the configuration is unusable.
    /// - Parameters:
    ///   - ivSource: per-packet IVs (`.random` unless a test or `--seed` asks otherwise).
    ///   - identificationSource: outer IPv4 identification values in tunnel mode (by default a counter from a
    ///     random start, as RFC 6864 §4.1 and Linux do: unique per SA without a DRBG call per packet).
    ///   - implementation: the crypto library for ESP and AH (`CryptoImplementation.preferred` unless named);
    ///     libipsec-mb falls back to OpenSSL for what it lacks.
    public init(_ configuration: SAConfiguration, ivSource: IVSource = .random,
                identificationSource: IVSource = .identificationCounter(),
                implementation: CryptoImplementation = CryptoImplementation.preferred) throws(CoreError) {
        self.configuration = configuration
        self.ivSource = ivSource
        self.identificationSource = identificationSource
        outboundSequence = configuration.outboundSequence
        replay = AntiReplayWindow(size: configuration.replayWindow, highest: configuration.replaySequence)
        let label = "SA spi 0x\(String(configuration.spi, radix: 16))"
        guard configuration.spi != 0 else {
            throw CoreError(.badConfiguration, "\(label): SPI 0 is reserved (RFC 4303 §2.1)")
        }
        guard configuration.source.version == configuration.destination.version else {
            throw CoreError(.badConfiguration, "\(label): source and destination are of different IP versions")
        }
        if let fields = configuration.headerCompression {
            guard configuration.mode == .tunnelHC else {
                throw CoreError(.badConfiguration, "\(label): compressed fields need mode tunnel-hc")
            }
            guard fields.isValid(for: configuration.destination.version) else {
                throw CoreError(.badConfiguration, "\(label): identification and dont-fragment are IPv4 fields")
            }
            guard configuration.spi & HeaderCompression.indicator == 0 else {
                throw CoreError(.badConfiguration, "\(label): a tunnel-hc SA's SPI must have its top bit clear")
            }
        }
        do {
            switch (configuration.protocol, configuration.algorithm) {
            case (.esp, .esp(let algorithm)):
                let transform = try ESPTransform(algorithm, encryptionKey: configuration.encryptionKey,
                                                 integrityKey: configuration.integrityKey)
                esp = transform
                espBurst = ESPBurstTransform(wrapping: transform, encryptionKey: configuration.encryptionKey,
                                             integrityKey: configuration.integrityKey, implementation: implementation)
                let plain = configuration.encapsulation == nil
                    && (configuration.mode == .tunnel || configuration.mode == .transport)
                laysOutInBurst = plain && configuration.headerCompression == nil
                opensInBurst = plain
                ah = nil
            case (.ah, .ah(let algorithm)):
                guard configuration.mode != .tunnelHC else {
                    throw CoreError(.badConfiguration, "\(label): the compressed tunnel is an ESP mode")
                }
                ah = try AHTransform(algorithm, key: configuration.integrityKey, ivSource: ivSource,
                                     implementation: implementation)
                esp = nil
                espBurst = nil
                laysOutInBurst = false
                opensInBurst = false
            default:
                throw CoreError(.badConfiguration,
                                "\(label): algorithm \(configuration.algorithm) does not fit protocol \(configuration.protocol)")
            }
        } catch let error as CryptoError {
            throw CoreError(.badConfiguration, "\(label): \(error)")
        } catch let error as CoreError {
            throw error
        } catch {
            throw CoreError(.badConfiguration, "\(label): \(error)")
        }
    }

    /// The next outbound sequence number, or an error when it would wrap: RFC 4303 §3.3.3 and RFC 4302 §3.3.2 forbid
    /// cycling the counter; a new SA is needed.
    func nextSequence() throws(CoreError) -> UInt64 {
        let limit: UInt64 = configuration.extendedSequenceNumbers ? UInt64.max : UInt64(UInt32.max)
        guard outboundSequence < limit else {
            throw CoreError(.sequenceOverflow, "SA spi 0x\(String(configuration.spi, radix: 16)): sequence number "
                            + "would wrap; RFC 4303 §3.3.3 requires a new SA")
        }
        outboundSequence += 1
        return outboundSequence
    }

    /// The full sequence number of a received packet from its low 32 bits (RFC 4303 Appendix A2).
    func inferSequence(low: UInt32) -> UInt64 {
        replay.infer(low: low, extendedSequenceNumbers: configuration.extendedSequenceNumbers)
    }

    /// Advances the replay window; only for packets whose ICV verified.
    func accept(sequence: UInt64) {
        replay.accept(sequence)
    }
}

/// What an SA has seen.
public struct SACounters: Hashable, Sendable {
    public var protectedPackets = 0
    /// Bytes of protected packets on the wire.
    public var protectedBytes = 0
    /// Bytes of the packets handed to the SA, before protection (what outbound lifetimes count).
    public var protectedPayloadBytes = 0
    public var dummyPacketsSent = 0
    /// Set once a soft lifetime limit is reached: the SA should be replaced (RFC 4301 §4.4.2.1).
    public var softLifetimeReached = false
    public var acceptedPackets = 0
    public var acceptedBytes = 0
    public var drops: [DropReason: Int] = [:]

    mutating func drop(_ reason: DropReason) { drops[reason, default: 0] += 1 }
}

/// Sequence-number arithmetic of RFC 4303 Appendix A.
public enum ReplayWindow {
    /// Appendix A2.2: the high-order 32 bits of an ESN packet's sequence number, inferred from its low bits, the
    /// highest number received (T) and the window size (W). If the window lies within one 2^32 block (Th), a low
    /// value below its bottom belongs to the next block; if the window straddles a block boundary, a low value at or
    /// above its bottom belongs to the previous block.
    public static func inferSequence(low: UInt32, highest: UInt64, window: UInt64) -> UInt64 {
        let tl = UInt32(truncatingIfNeeded: highest)
        let th = UInt32(truncatingIfNeeded: highest >> 32)
        let w = UInt32(truncatingIfNeeded: min(max(window, 1), UInt64(UInt32.max)))
        var high = th
        if tl >= w - 1 {
            // Case A: the window lies within one block.
            if low < tl - (w - 1) { high = th &+ 1 }
        } else {
            // Case B: the window spans two blocks (the subtraction wraps, mod 2^32, as the RFC's does).
            if low >= tl &- (w - 1) { high = th &- 1 }
        }
        // Sequence numbers cannot go below zero.
        if th == 0 && high == UInt32.max { high = 0 }
        return UInt64(high) << 32 | UInt64(low)
    }
}

extension IVSource {
    /// Outer IPv4 identifications: a counter from a random start, one step per packet (RFC 6864 §4.1 asks only that
    /// the value not repeat within a flow's reassembly time; Linux likewise counts).
    public static func identificationCounter() -> IVSource { .counter(start: UInt64.random(in: 0...UInt64.max)) }
}
