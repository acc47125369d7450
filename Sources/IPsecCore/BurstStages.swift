import IPsecCrypto
import IPsecWire

/// A burst split into stages, so that its crypto can run on another thread than the SAs' state.
///
/// 1. `stage` (on the thread that owns the SAs, in input order): everything that reads or changes an SA — policy and
///    SA choice, sequence numbers, IVs, lifetimes, the anti-replay check before the ICV — and the layout in place.
/// 2. `sealStaged` / `openStaged` (any thread, with its own `BurstCrypto`): the crypto of every staged packet.
/// 3. `finishStaged` (inbound only; back on the SAs' thread, in input order): replay and lifetime checked again, the
///    ICV verdict, padding, decapsulation, and the replay window advanced for what verified (RFC 4303 §3.4.3).
///
/// The bytes and verdicts are those of the one-thread paths: same sequence numbers, same IVs (drawn in stage 1, in
/// order), same drops.
public final class BurstCrypto: @unchecked Sendable {
    private var transforms: [ObjectIdentifier: ESPBurstTransform] = [:]

    /// A copy of every ESP SA's burst transform, keyed anew, for one thread: transforms are not thread-safe.
    public init(_ sas: [SecurityAssociation]) throws(CoreError) {
        for sa in sas {
            guard sa.espBurst != nil, case .esp(let algorithm) = sa.configuration.algorithm else { continue }
            do {
                transforms[ObjectIdentifier(sa)] = try ESPBurstTransform(
                    algorithm, encryptionKey: sa.configuration.encryptionKey,
                    integrityKey: sa.configuration.integrityKey, implementation: sa.cryptoImplementation)
            } catch {
                throw CoreError(.badConfiguration, "SA spi 0x\(String(sa.configuration.spi, radix: 16)): \(error)")
            }
        }
    }

    func transform(for sa: SecurityAssociation) -> ESPBurstTransform? { transforms[ObjectIdentifier(sa)] }
}

extension PacketBurst {
    /// How many packets stage 1 left for the crypto since the burst was last emptied.
    public var stagedCount: Int { staged }

    /// Runs `body` on each run of consecutive staged items of one SA, with that SA's transform from `crypto`.
    fileprivate func forEachStagedRun(_ crypto: BurstCrypto,
                                      _ body: (ESPBurstTransform, UnsafeMutableBufferPointer<ESPBurstPacket>) -> Bool) {
        var start = 0
        arena.withUnsafeMutableBytes { b in
            for k in 0..<staged {
                let offset = itemOffsets[k]
                items[k].packet = UnsafeMutableRawBufferPointer(rebasing: b[offset..<(offset + itemLengths[k])])
            }
        }
        while start < staged {
            let owner = itemOwners[start]
            var end = start + 1
            while end < staged, itemOwners[end] === owner { end += 1 }
            let ok = owner.flatMap { crypto.transform(for: $0) }.map {
                body($0, UnsafeMutableBufferPointer(start: items + start, count: end - start))
            } ?? false
            for k in start..<end { itemFailed[k] = !ok }
            start = end
        }
    }
}

extension Outbound {
    /// Where stage 1 left a packet.
    public enum OutboundStaging: Sendable {
        /// Laid out in its slot, waiting for `sealStaged`.
        case staged
        /// Protected whole, here (AH, NAT-T, TFC padding, …): the result is in `out`.
        case protected
        /// Not protected, for this reason.
        case failed(CoreError)
    }

    /// Stage 1: protects packet `i` of `burst` with `sa` as `protect(_:with:into:)` would, but leaves the crypto of
    /// a packet the burst lays out itself (plain ESP, tunnel or transport) for `sealStaged`. Any other packet is
    /// protected here, whole, into `out`.
    public static func stage(_ burst: PacketBurst, _ i: Int, with sa: SecurityAssociation,
                             orInto out: inout [UInt8]) -> OutboundStaging {
        if sa.laysOutInBurst, sa.configuration.tfcPadding <= burst.lengths[i] {
            do {
                if try layOutESP(burst, i, sa: sa, item: burst.staged) {
                    burst.itemOwners[burst.staged] = sa
                    burst.staged += 1
                    return .staged
                }
            } catch {
                return .failed(error)
            }
        }
        do {
            try protect(burst.packet(i), with: sa, into: &out)
            return .protected
        } catch {
            return .failed(error)
        }
    }

    /// Stage 2: seals every staged packet with the transforms of `crypto`. Touches no SA state.
    public static func sealStaged(_ burst: PacketBurst, crypto: BurstCrypto) throws(CoreError) {
        var failure: CryptoError?
        burst.forEachStagedRun(crypto) { transform, run in
            do throws(CryptoError) {
                try transform.seal(run)
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw .crypto(failure) }
        if burst.itemFailed[0..<burst.staged].contains(true) {
            throw CoreError(.badConfiguration, "a staged packet's SA has no transform for this thread")
        }
    }
}

extension Inbound {
    /// Where stage 1 left a packet.
    public enum Staging: Sendable {
        /// Waiting for `openStaged` and `finishStaged`.
        case staged
        /// Dropped before any crypto (replay, lifetime, length): `burst.inboundResults[i]` holds the verdict.
        case finished
        /// Not plain ESP for a burst SA: open it another way (the node), from the bytes it was appended from.
        case declined
    }

    /// Stage 1: the SA lookup and the checks before any crypto for packet `i` of `burst`.
    public static func stage(_ burst: PacketBurst, _ i: Int, sad: SADatabase) -> Staging {
        var declined = false
        guard let sa = prepareESP(burst, i, sad: sad, item: burst.staged, declined: &declined) else {
            return declined ? .declined : .finished
        }
        burst.itemOwners[burst.staged] = sa
        burst.staged += 1
        return .staged
    }

    /// Stage 2: verifies and (where it verified) decrypts every staged packet. Touches no SA state.
    public static func openStaged(_ burst: PacketBurst, crypto: BurstCrypto) {
        burst.forEachStagedRun(crypto) { transform, run in
            do throws(CryptoError) {
                try transform.open(run)
                return true
            } catch {
                return false
            }
        }
    }

    /// Stage 3: the verdict of staged item `item` (`stagedCount` when it was staged), and its SA's replay window and
    /// counters updated. Call it for every item in input order. Its slot's `inboundResults` and bytes then hold what
    /// `unprotect(_:sad:)` would have left.
    public static func finishStaged(_ burst: PacketBurst, item: Int) {
        guard item < burst.staged, let sa = burst.itemOwners[item], let t = sa.espBurst else { return }
        finishItem(burst, item, sa: sa, t: t, failed: burst.itemFailed[item])
    }

    /// Whether staged item `item`'s sequence number, inferred when it was staged (ESN: from the window as it was
    /// then, before the packets still in flight had moved it), is what the window infers now. When it is not, the
    /// crypto ran with the wrong associated data: open the packet again another way (the node), from its bytes.
    public static func stagedSequenceHolds(_ burst: PacketBurst, item: Int) -> Bool {
        guard item < burst.staged, let sa = burst.itemOwners[item] else { return false }
        let sequence = burst.itemSequences[item]
        return sa.inferSequence(low: UInt32(truncatingIfNeeded: sequence)) == sequence
    }

    /// Whether a packet that one layer of ESP gave back might hold more for the node to do (another IPsec layer,
    /// IPComp, or a header the node would refuse); false means the node would stop at once and call it done.
    public static func mayHoldMoreLayers(_ packet: ArraySlice<UInt8>) -> Bool {
        guard let layout = try? PacketLayout.inbound(packet) else { return true }
        if layout.version == .v4, !ipv4HeaderChecksumHolds(packet) { return true }
        switch layout.nextHeader {
        case .esp, .ah, .udp, .ipcomp: return true
        default: break
        }
        if let transport = try? PacketLayout.transport(packet), transport.nextHeader == .ipcomp { return true }
        return false
    }
}
