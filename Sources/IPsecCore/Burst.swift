import IPsecCrypto
import IPsecWire

/// Packets processed together: one arena, one slot per packet with room before and after it, so that protecting a
/// packet grows it in place and opening one shrinks it in place. Reused from burst to burst, it allocates nothing
/// once made.
///
/// `Outbound.protect(_:with:)` and `Inbound.unprotect(_:sad:)` lay out every packet of the burst, run the crypto of
/// all of them in one call of the SA's `ESPBurstTransform` (libipsec-mb's job API, or OpenSSL packet by packet), then
/// finish each one. Tunnel and transport ESP run in place; anything else (AH, NAT-T, the compressed tunnel, TFC
/// padding, IPComp) takes the per-packet path for that packet, its result copied into the slot.
///
/// `packet(_:)` hands out a slice of the arena: keep it only until the burst is next changed (holding one while the
/// burst writes makes the arena copy itself).
public final class PacketBurst {
    /// Room before each packet: an outer IPv6 header, ESP header and the longest IV, and more.
    public static let headroom = 128
    /// Room after each packet: the largest padding (CBC: 15, 3DES: 7), pad length, next header and the longest ICV.
    public static let tailroom = 128

    public let capacity: Int
    /// The longest packet a slot holds (before protection).
    public let maximumPacketLength: Int
    @exclusivity(unchecked) public private(set) var count = 0

    private let slotLength: Int
    @exclusivity(unchecked) var arena: [UInt8]
    // Per-slot and per-item bookkeeping lives in raw memory held by `let`s: a Swift array stored in a class would be
    // checked for exclusive access (a thread-local lookup) at every read and write, several times per packet.
    let starts: UnsafeMutablePointer<Int>
    let lengths: UnsafeMutablePointer<Int>
    /// What happened to each packet of the last outbound burst: nil when it was protected.
    @exclusivity(unchecked) public internal(set) var outboundErrors: [CoreError?]
    /// What happened to each packet of the last inbound burst.
    @exclusivity(unchecked) public internal(set) var inboundResults: [InboundResult]

    // Working memory of the burst paths.
    let items: UnsafeMutablePointer<ESPBurstPacket>
    let itemSlots: UnsafeMutablePointer<Int>
    let itemSequences: UnsafeMutablePointer<UInt64>
    /// Where each item's ESP packet starts in the arena and how long it is; inbound, where its IP header says the
    /// next protocol.
    let itemOffsets: UnsafeMutablePointer<Int>
    let itemLengths: UnsafeMutablePointer<Int>
    let itemNextHeaderOffsets: UnsafeMutablePointer<Int>
    let itemSPIs: UnsafeMutablePointer<UInt32>
    @exclusivity(unchecked) var header: [UInt8] = []
    /// The staged (split) path of BurstStages.swift: how many items are staged, each one's SA, and whether the
    /// crypto call that took it failed.
    @exclusivity(unchecked) var staged = 0
    @exclusivity(unchecked) var itemOwners: [SecurityAssociation?]
    @exclusivity(unchecked) var itemFailed: [Bool]
    @exclusivity(unchecked) var scratchOut: [UInt8] = []
    @exclusivity(unchecked) var scratchIn: [UInt8] = []

    /// The last inbound SA lookup: consecutive packets of one SA skip the database's hashing. Valid while the
    /// database is the same object at the same generation (it only grows). The database is held, not just its
    /// identity: an ObjectIdentifier is reused once its object is freed, and a new database at the old address would
    /// get the old one's SA (the inbound fuzz targets' burst oracle caught exactly that).
    @exclusivity(unchecked) private var lastLookup: (spi: UInt32, destination: IPAddress, sad: SADatabase,
                                                     generation: Int, sa: SecurityAssociation)?

    /// `sad.lookup(spi:destination:protocol: .esp)`, remembering the last answer.
    @inline(__always)
    func lookup(spi: UInt32, destination: IPAddress, in sad: SADatabase) -> SecurityAssociation? {
        if let last = lastLookup, last.sad === sad, last.spi == spi, last.destination == destination,
           last.generation == sad.generation {
            return last.sa
        }
        guard let sa = sad.lookup(spi: spi, destination: destination, protocol: .esp) else { return nil }
        lastLookup = (spi, destination, sad, sad.generation, sa)
        return sa
    }

    public init(capacity: Int, maximumPacketLength: Int = 9216) {
        precondition(capacity > 0 && maximumPacketLength > 0)
        self.capacity = capacity
        self.maximumPacketLength = maximumPacketLength
        slotLength = Self.headroom + maximumPacketLength + Self.tailroom
        arena = [UInt8](repeating: 0, count: capacity * slotLength)
        starts = Self.integers(capacity)
        lengths = Self.integers(capacity)
        outboundErrors = [CoreError?](repeating: nil, count: capacity)
        inboundResults = [InboundResult](repeating: InboundResult(verdict: .dropped(.malformed)), count: capacity)
        items = .allocate(capacity: capacity)
        itemSlots = Self.integers(capacity)
        itemSequences = .allocate(capacity: capacity)
        itemSequences.initialize(repeating: 0, count: capacity)
        itemOffsets = Self.integers(capacity)
        itemLengths = Self.integers(capacity)
        itemNextHeaderOffsets = Self.integers(capacity)
        itemSPIs = .allocate(capacity: capacity)
        itemSPIs.initialize(repeating: 0, count: capacity)
        itemOwners = [SecurityAssociation?](repeating: nil, count: capacity)
        itemFailed = [Bool](repeating: false, count: capacity)
        header.reserveCapacity(64)
        scratchOut.reserveCapacity(slotLength)
        scratchIn.reserveCapacity(slotLength)
    }

    deinit {
        for pointer in [starts, lengths, itemSlots, itemOffsets, itemLengths, itemNextHeaderOffsets] {
            pointer.deallocate()
        }
        itemSequences.deallocate()
        itemSPIs.deallocate()
        items.deallocate()
    }

    private static func integers(_ count: Int) -> UnsafeMutablePointer<Int> {
        let pointer = UnsafeMutablePointer<Int>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        return pointer
    }

    /// Empties the burst (the arena stays).
    public func removeAll() {
        count = 0
        if staged > 0 {
            for k in 0..<staged { itemOwners[k] = nil }
            staged = 0
        }
    }

    /// Copies `packet` into the next slot. False when the burst is full or the packet longer than a slot takes.
    @discardableResult
    public func append(_ packet: [UInt8]) -> Bool {
        packet.withUnsafeBytes { append($0) }
    }

    @discardableResult
    public func append(_ packet: ArraySlice<UInt8>) -> Bool {
        packet.withUnsafeBytes { append($0) }
    }

    @discardableResult
    public func append(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, packet.count <= maximumPacketLength else { return false }
        let start = count * slotLength + Self.headroom
        let n = packet.count
        if n > 0 {
            arena.withUnsafeMutableBytes { b in b.baseAddress!.advanced(by: start).copyMemory(from: packet.baseAddress!, byteCount: n) }
        }
        starts[count] = start
        lengths[count] = n
        count += 1
        return true
    }

    /// Any other collection of bytes, byte by byte.
    @discardableResult
    public func append(_ packet: some Collection<UInt8>) -> Bool {
        guard count < capacity, packet.count <= maximumPacketLength else { return false }
        let start = count * slotLength + Self.headroom
        let n = packet.count
        arena.withUnsafeMutableBytes { b in
            let slot = UnsafeMutableRawBufferPointer(rebasing: b[start..<(start + n)])
            // Contiguous input (arrays, buffers) is one copy; anything else goes byte by byte.
            let copied: Bool? = packet.withContiguousStorageIfAvailable { bytes in
                if let source = bytes.baseAddress { slot.baseAddress!.copyMemory(from: source, byteCount: n) }
                return true
            }
            if copied == nil {
                var index = 0
                for byte in packet {
                    slot[index] = byte
                    index += 1
                }
            }
        }
        starts[count] = start
        lengths[count] = n
        count += 1
        return true
    }

    /// The packet in slot `index`, as it is now (protected, opened or as appended).
    public func packet(_ index: Int) -> ArraySlice<UInt8> {
        arena[starts[index]..<(starts[index] + lengths[index])]
    }

    /// Calls `body` with the bytes of packet `index`, without retaining the arena.
    public func withPacket<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = starts[index], length = lengths[index]
        return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
    }

    /// Where slot `index` begins and ends in the arena.
    func slotBounds(_ index: Int) -> Range<Int> { (index * slotLength)..<((index + 1) * slotLength) }

    /// Replaces packet `index` with `bytes` (a per-packet result), at the slot's headroom.
    func replace(_ index: Int, with bytes: [UInt8]) -> Bool {
        let start = index * slotLength + Self.headroom
        guard bytes.count <= slotLength - Self.headroom else { return false }
        arena.withUnsafeMutableBytes { b in
            bytes.withUnsafeBytes { b.baseAddress!.advanced(by: start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        starts[index] = start
        lengths[index] = bytes.count
        return true
    }
}

// MARK: - Outbound

extension Outbound {
    /// Protects every packet of `burst` with `sa`, in place. A packet that cannot be protected keeps its bytes and
    /// gets its error in `burst.outboundErrors`; the others are protected exactly as `protect(_:with:into:)` would
    /// protect them one by one (same sequence numbers in order, same IVs from the SA's source).
    public static func protect(_ burst: PacketBurst, with sa: SecurityAssociation) {
        var pending = 0
        for i in 0..<burst.count {
            if burst.outboundErrors[i] != nil { burst.outboundErrors[i] = nil }
            if sa.laysOutInBurst, sa.configuration.tfcPadding <= burst.lengths[i] {
                do {
                    if try layOutESP(burst, i, sa: sa, item: pending) { pending += 1; continue }
                } catch {
                    burst.outboundErrors[i] = error
                    continue
                }
            }
            // The per-packet path, for what the burst does not lay out itself.
            do {
                try protect(burst.packet(i), with: sa, into: &burst.scratchOut)
                if !burst.replace(i, with: burst.scratchOut) {
                    burst.outboundErrors[i] = CoreError(.unsupported, "the protected packet does not fit its slot")
                }
            } catch {
                burst.outboundErrors[i] = error
            }
        }
        guard pending > 0, let transform = sa.espBurst else { return }
        // One crypto call for the whole burst.
        let failure: CryptoError? = burst.arena.withUnsafeMutableBytes { b in
            for k in 0..<pending {
                let start = burst.itemOffsets[k]
                burst.items[k].packet = UnsafeMutableRawBufferPointer(rebasing: b[start..<(start + burst.itemLengths[k])])
            }
            do throws(CryptoError) {
                try transform.seal(UnsafeMutableBufferPointer(start: burst.items, count: pending))
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            for k in 0..<pending {
                let i = burst.itemSlots[k]
                burst.outboundErrors[i] = .crypto(failure)
                sa.counters.protectedPackets -= 1
                sa.counters.protectedBytes -= burst.lengths[i]
            }
        }
    }

    /// Lays out ESP around packet `i` in its slot (outer header or moved IP header, ESP header, IV, padding, trailer,
    /// room for the ICV) and records it as burst item `item`. False when this packet needs the per-packet path.
    static func layOutESP(_ burst: PacketBurst, _ i: Int, sa: SecurityAssociation, item: Int)
        throws(CoreError) -> Bool
    {
        // Fields are read from the SA where they are used: a copy of its whole configuration costs reference
        // counting on every packet.
        guard let t = sa.espBurst else { return false }
        guard sa.configuration.lifetime.allows(packets: UInt64(sa.counters.protectedPackets),
                                               usedBytes: UInt64(sa.counters.protectedPayloadBytes)) else {
            throw CoreError(.lifetime, "SA spi 0x\(String(sa.configuration.spi, radix: 16)) has reached its hard "
                            + "lifetime (\(sa.configuration.lifetime)); RFC 4301 §4.4.2.1 requires a new SA")
        }
        let start = burst.starts[i]
        let length = burst.lengths[i]
        // Where the protected payload begins and ends in the arena, and what precedes ESP.
        let headerLength: Int  // bytes before the ESP header in the protected packet
        let payloadStart: Int
        let payloadLength: Int
        let nextHeader: IPProtocol
        var moveHeader = 0  // transport: the IP header's length, moved in front of ESP
        var nextHeaderOffset = 0
        let version: IPVersion
        var inner: TunnelHeader.InnerFields?
        var identification: UInt16?
        switch sa.configuration.mode {
        case .transport:
            let layout: PacketLayout
            do { layout = try PacketLayout.transport(burst.packet(i)) } catch { throw CoreError.badPacket(error) }
            guard !layout.isFragment else {
                throw CoreError(.unsupported, "transport mode cannot protect an IP fragment (RFC 4301 §7)")
            }
            guard layout.version == sa.configuration.destination.version else {
                throw CoreError(.unsupported, "an \(layout.version) packet cannot use an "
                                + "\(sa.configuration.destination.version) transport-mode SA")
            }
            headerLength = layout.headerEnd
            moveHeader = layout.headerEnd
            nextHeaderOffset = layout.nextHeaderOffset
            payloadStart = start + layout.headerEnd
            payloadLength = layout.packetLength - layout.headerEnd
            nextHeader = layout.nextHeader
            version = layout.version
        case .tunnel:
            // A plain inner header is read in place; anything else goes through the reference parsers.
            let plain = burst.arena.withUnsafeBytes { TunnelHeader.plainInnerFields($0.baseAddress! + start, count: length) }
            let fields: TunnelHeader.InnerFields
            let innerLength: Int
            if let plain {
                (fields, innerLength) = plain
            } else {
                do {
                    let packet = burst.packet(i)
                    fields = try TunnelHeader.innerFields(packet)
                    innerLength = try PacketLayout.inbound(packet).packetLength
                } catch {
                    throw CoreError.badPacket(error)
                }
            }
            headerLength = TunnelHeader.headerLength(sa)
            guard headerLength > 0 else {
                throw CoreError(.badConfiguration, "tunnel endpoints of different IP versions")
            }
            if headerLength == IPv4Packet.minimumHeaderLength { identification = try TunnelHeader.freshIdentification(sa) }
            inner = fields
            payloadStart = start
            payloadLength = innerLength
            nextHeader = fields.version == .v4 ? .ipv4 : .ipv6
            version = sa.configuration.destination.version
        default:
            return false
        }
        let sequence = try sa.nextSequence()
        let ivLength = t.ivLength
        let padLength = ESPTrailer.paddingLength(payloadLength: payloadLength, blockSize: t.blockSize)
        let espHeader = ESPPacket.headerLength + ivLength
        let total = headerLength + espHeader + payloadLength + padLength + 2 + t.icvLength
        guard total <= (version == .v4 ? 65535 : 65535 + 40) else {
            throw CoreError(.unsupported, "the protected packet would exceed the IP length limit")
        }
        let newStart = payloadStart - espHeader - headerLength
        let bounds = burst.slotBounds(i)
        guard newStart >= bounds.lowerBound, newStart + total <= bounds.upperBound else { return false }
        let failure: CoreError? = burst.arena.withUnsafeMutableBytes { b in
            let base = b.baseAddress!
            if let inner {
                do throws(CoreError) {
                    try TunnelHeader.write(for: sa, inner: inner, protocol: .esp, identification: identification,
                                           to: base + newStart)
                } catch {
                    return error
                }
            } else {
                // Transport: the IP header moves to the front; ESP goes between it and the payload.
                (base + newStart).copyMemory(from: base + start, byteCount: moveHeader)
                base.storeBytes(of: IPProtocol.esp.rawValue, toByteOffset: newStart + nextHeaderOffset, as: UInt8.self)
            }
            // RFC 4303 §2.4: the default padding is 1, 2, 3, …, then pad length and next header.
            let trailer = base + payloadStart + payloadLength
            for k in 0..<padLength { trailer.storeBytes(of: UInt8(truncatingIfNeeded: k + 1), toByteOffset: k, as: UInt8.self) }
            trailer.storeBytes(of: UInt8(padLength), toByteOffset: padLength, as: UInt8.self)
            trailer.storeBytes(of: nextHeader.rawValue, toByteOffset: padLength + 1, as: UInt8.self)
            // Lengths: IPv4 total length and header checksum, or IPv6 payload length.
            let ip = base + newStart
            if version == .v4 {
                ip.storeBytes(of: UInt16(total).bigEndian, toByteOffset: 2, as: UInt16.self)
                ip.storeBytes(of: 0, toByteOffset: 10, as: UInt16.self)
                let headerLength = Int(ip.load(as: UInt8.self) & 0x0f) * 4
                let checksum: UInt16
                if headerLength == IPv4Packet.minimumHeaderLength {
                    checksum = TunnelHeader.plainIPv4Checksum(ip)
                } else {
                    var sum = InternetChecksum()
                    sum.add(contiguous: UnsafeRawBufferPointer(start: ip, count: headerLength))
                    checksum = sum.value
                }
                ip.storeBytes(of: checksum.bigEndian, toByteOffset: 10, as: UInt16.self)
            } else {
                ip.storeBytes(of: UInt16(total - 40).bigEndian, toByteOffset: 4, as: UInt16.self)
            }
            do throws(CryptoError) {
                try sa.ivSource.fill(UnsafeMutableRawBufferPointer(start: base + payloadStart - ivLength, count: ivLength),
                                     sequence: sequence)
                return nil
            } catch {
                return .crypto(error)
            }
        }
        if let failure { throw failure }
        burst.starts[i] = newStart
        burst.lengths[i] = total
        burst.itemSlots[item] = i
        burst.itemSequences[item] = sequence
        // The packet pointer is set when the crypto runs.
        burst.itemOffsets[item] = newStart + headerLength
        burst.itemLengths[item] = total - headerLength
        (burst.items + item).initialize(to: ESPBurstPacket(
            packet: UnsafeMutableRawBufferPointer(start: nil, count: 0),
            associatedData: ESPAssociatedData(spi: sa.configuration.spi, sequenceNumber: sequence,
                                              extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers)))
        // Counted now, so that the next packet of the burst sees this one against the SA's lifetime.
        sa.counters.protectedPackets += 1
        sa.counters.protectedBytes += total
        sa.counters.protectedPayloadBytes += length
        if sa.configuration.lifetime.softReached(packets: UInt64(sa.counters.protectedPackets),
                                                 usedBytes: UInt64(sa.counters.protectedPayloadBytes)) {
            sa.counters.softLifetimeReached = true
        }
        return true
    }
}

// MARK: - Inbound

extension Inbound {
    /// Opens every packet of `burst` with the SAs of `sad`, in place: each slot then holds the packet that was
    /// protected, and `burst.inboundResults` says what happened to each, as `unprotect(_:sad:into:scratch:)` would
    /// have said packet by packet. Consecutive packets of one SA share one crypto call.
    public static func unprotect(_ burst: PacketBurst, sad: SADatabase) {
        var pending = 0
        var pendingSA: SecurityAssociation?
        for i in 0..<burst.count {
            if let sa = prepareESP(burst, i, sad: sad, item: pending) {
                if let current = pendingSA, current !== sa {
                    openPending(burst, count: pending, sa: current)
                    // Re-record this packet as the first of the next run.
                    burst.items[0] = burst.items[pending]
                    burst.itemSlots[0] = burst.itemSlots[pending]
                    burst.itemSequences[0] = burst.itemSequences[pending]
                    burst.itemSPIs[0] = burst.itemSPIs[pending]
                    burst.itemOffsets[0] = burst.itemOffsets[pending]
                    burst.itemLengths[0] = burst.itemLengths[pending]
                    burst.itemNextHeaderOffsets[0] = burst.itemNextHeaderOffsets[pending]
                    pending = 0
                }
                pendingSA = sa
                pending += 1
                continue
            }
        }
        if let sa = pendingSA, pending > 0 { openPending(burst, count: pending, sa: sa) }
    }

    /// The checks before any crypto (SA lookup, replay, lifetime, lengths) for packet `i`; records it as item
    /// `item` and returns its SA when the burst opens it. Otherwise the packet is finished here (dropped, or opened
    /// on the per-packet path) and nil is returned.
    static func prepareESP(_ burst: PacketBurst, _ i: Int, sad: SADatabase, item: Int,
                           declined: UnsafeMutablePointer<Bool>? = nil) -> SecurityAssociation?
    {
        // A plain outer header (IPv4 without options and not a fragment, or IPv6 straight to ESP) is read in
        // place; anything else through PacketLayout, from a slice that is gone before anything writes to the arena
        // (a live slice would make the write copy the arena).
        let parsed: (layout: PacketLayout, spi: UInt32, low: UInt32, checksumOK: Bool)? =
            burst.arena.withUnsafeBytes { b in
                plainESP(b.baseAddress! + burst.starts[i], count: burst.lengths[i])
            } ?? {
                let packet = burst.packet(i)
                guard let layout = try? PacketLayout.inbound(packet) else { return nil }
                let checksumOK = layout.version != .v4
                    || InternetChecksum.compute(packet.prefix(Int(packet[packet.startIndex] & 0x0f) * 4)) == 0
                let hasHeader = layout.nextHeader == .esp
                    && layout.packetLength - layout.headerEnd >= ESPPacket.headerLength
                return (layout, hasHeader ? packet.wireUInt32(at: layout.headerEnd) : 0,
                        hasHeader ? packet.wireUInt32(at: layout.headerEnd + 4) : 0, checksumOK)
            }()
        guard let parsed else {
            burst.inboundResults[i] = InboundResult(verdict: .dropped(.malformed))
            burst.lengths[i] = 0
            return nil
        }
        let layout = parsed.layout
        let spi = parsed.spi
        // Only plain ESP straight after the IP header, for a tunnel or transport SA, is opened by the burst.
        var sa: SecurityAssociation?
        if layout.nextHeader == .esp, !layout.isFragment, parsed.checksumOK,
           layout.packetLength - layout.headerEnd >= ESPPacket.headerLength,
           let found = burst.lookup(spi: spi, destination: layout.destination, in: sad), found.opensInBurst {
            sa = found
        }
        guard let sa, let t = sa.espBurst else {
            // The staged path opens such packets itself, through the node.
            if let declined {
                declined.pointee = true
                return nil
            }
            let result = unprotect(burst.packet(i), sad: sad, into: &burst.scratchOut, scratch: &burst.scratchIn)
            burst.inboundResults[i] = result
            if !burst.replace(i, with: burst.scratchOut) { burst.lengths[i] = 0 }
            return nil
        }
        let espStart = burst.starts[i] + layout.headerEnd
        let espLength = layout.packetLength - layout.headerEnd
        func drop(_ reason: DropReason) -> SecurityAssociation? {
            var result = espResult(sa, spi: spi)
            result.verdict = .dropped(reason)
            sa.counters.drop(reason)
            burst.inboundResults[i] = result
            burst.lengths[i] = 0
            return nil
        }
        let sequence = sa.inferSequence(low: parsed.low)
        guard sa.replay.check(sequence) else { return drop(.replay) }
        guard sa.configuration.lifetime.allows(packets: UInt64(sa.counters.acceptedPackets),
                                               usedBytes: UInt64(sa.counters.acceptedBytes)) else {
            return drop(.lifetime)
        }
        let ciphertextLength = espLength - ESPPacket.headerLength - t.ivLength - t.icvLength
        // The block size is a power of two (ESPTrailer.paddingLength): a mask, not a division, per packet.
        guard ciphertextLength >= 2, ciphertextLength & (t.blockSize - 1) == 0 else { return drop(.malformed) }
        burst.itemSlots[item] = i
        burst.itemSPIs[item] = spi
        burst.itemSequences[item] = sequence
        // The packet pointer is set when the crypto runs.
        burst.itemOffsets[item] = espStart
        burst.itemLengths[item] = espLength
        burst.itemNextHeaderOffsets[item] = layout.nextHeaderOffset
        (burst.items + item).initialize(to: ESPBurstPacket(
            packet: UnsafeMutableRawBufferPointer(start: nil, count: 0),
            associatedData: ESPAssociatedData(spi: spi, sequenceNumber: sequence,
                                              extendedSequenceNumbers: sa.configuration.extendedSequenceNumbers)))
        // The IP header's length rides in the slot's length until the packet is finished.
        burst.lengths[i] = layout.headerEnd
        return sa
    }

    /// The outer header of a plain ESP packet read straight from memory: IPv4 without options, not a fragment, or
    /// IPv6 with ESP as its first next header, with at least an ESP header after it. Nil for anything else, which
    /// goes through PacketLayout (the reference); for what it accepts it answers as PacketLayout does.
    @inline(__always)
    static func plainESP(_ p: UnsafeRawPointer, count: Int)
        -> (layout: PacketLayout, spi: UInt32, low: UInt32, checksumOK: Bool)?
    {
        func word16(_ offset: Int) -> Int { Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))) }
        func word32(_ offset: Int) -> UInt32 { UInt32(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        guard count >= IPv4Packet.minimumHeaderLength + ESPPacket.headerLength else { return nil }
        let first = p.load(as: UInt8.self)
        if first == 0x45 {
            let total = word16(2)
            guard p.load(fromByteOffset: 9, as: UInt8.self) == IPProtocol.esp.rawValue, word16(6) & 0x3fff == 0,
                  total >= IPv4Packet.minimumHeaderLength + ESPPacket.headerLength, total <= count else { return nil }
            let checksumOK = TunnelHeader.plainIPv4Checksum(p) == 0
            let layout = PacketLayout(version: .v4, packetLength: total, headerEnd: 20, nextHeaderOffset: 9,
                                      nextHeader: .esp, source: .v4(IPv4Address(rawValue: word32(12))),
                                      destination: .v4(IPv4Address(rawValue: word32(16))), isFragment: false)
            return (layout, word32(20), word32(24), checksumOK)
        }
        guard first >> 4 == 6, count >= IPv6Packet.headerLength + ESPPacket.headerLength,
              p.load(fromByteOffset: 6, as: UInt8.self) == IPProtocol.esp.rawValue else { return nil }
        let payloadLength = word16(4)
        guard payloadLength >= ESPPacket.headerLength, payloadLength <= count - IPv6Packet.headerLength else { return nil }
        func address(_ offset: Int) -> IPAddress {
            .v6(IPv6Address(high: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                            low: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))))
        }
        let layout = PacketLayout(version: .v6, packetLength: IPv6Packet.headerLength + payloadLength, headerEnd: 40,
                                  nextHeaderOffset: 6, nextHeader: .esp, source: address(8), destination: address(24),
                                  isFragment: false)
        return (layout, word32(40), word32(44), true)
    }

    /// What the inbound path reports for an ESP packet of `sa`, before its verdict.
    @inline(__always)
    private static func espResult(_ sa: SecurityAssociation, spi: UInt32) -> InboundResult {
        var result = InboundResult(verdict: .accepted, spi: spi, protocol: .esp, mode: sa.configuration.mode)
        result.modeName = sa.configuration.modeName
        if case .esp(let a) = sa.configuration.algorithm, a.isConfidentialityOnly { result.insecure = true }
        return result
    }

    /// Opens the recorded run of packets of one SA in one crypto call, then finishes each one.
    private static func openPending(_ burst: PacketBurst, count: Int, sa: SecurityAssociation) {
        guard let t = sa.espBurst else { return }
        let failed: Bool = burst.arena.withUnsafeMutableBytes { b in
            for k in 0..<count {
                let start = burst.itemOffsets[k]
                burst.items[k].packet = UnsafeMutableRawBufferPointer(rebasing: b[start..<(start + burst.itemLengths[k])])
            }
            do throws(CryptoError) {
                try t.open(UnsafeMutableBufferPointer(start: burst.items, count: count))
                return false
            } catch {
                return true
            }
        }
        for k in 0..<count { finishItem(burst, k, sa: sa, t: t, failed: failed) }
    }

    /// After the crypto: the verdict of item `k` (replay and lifetime again, ICV, padding, mode), and the SA's state
    /// updated for it. In input order, on the thread that owns the SA.
    static func finishItem(_ burst: PacketBurst, _ k: Int, sa: SecurityAssociation, t: ESPBurstTransform,
                           failed: Bool) {
        let i = burst.itemSlots[k]
        let sequence = burst.itemSequences[k]
        // The result is made once, here: building it costs reference counting (its mode name).
        var result = espResult(sa, spi: burst.itemSPIs[k])
        let headerEnd = burst.lengths[i]
        let verdict: InboundVerdict = failed ? .dropped(.malformed)
            : finish(burst, i, item: k, headerEnd: headerEnd, sa: sa, t: t)
        result.verdict = verdict
        switch verdict {
        case .accepted:
            result.sequence = sequence
            sa.accept(sequence: sequence)
            sa.counters.acceptedPackets += 1
            sa.counters.acceptedBytes += burst.lengths[i]
            if sa.configuration.lifetime.softReached(packets: UInt64(sa.counters.acceptedPackets),
                                                     usedBytes: UInt64(sa.counters.acceptedBytes)) {
                sa.counters.softLifetimeReached = true
            }
        case .dropped(let reason):
            if reason == .dummy || reason == .nextHeader || reason == .policy {
                result.sequence = sequence
            }
            if reason == .dummy { sa.accept(sequence: sequence) }
            sa.counters.drop(reason)
            burst.lengths[i] = 0
        }
        burst.inboundResults[i] = result
    }

    /// After the ICV: the strict padding check, then the mode's decapsulation in place, then the selector check.
    private static func finish(_ burst: PacketBurst, _ i: Int, item k: Int, headerEnd: Int, sa: SecurityAssociation,
                               t: ESPBurstTransform) -> InboundVerdict {
        // Two packets of one burst may carry the same sequence number: the window has moved for the earlier ones
        // by now, so a later duplicate is a replay, as it would be packet by packet (replay before ICV).
        guard sa.replay.check(burst.itemSequences[k]) else { return .dropped(.replay) }
        // Likewise the hard lifetime, which the earlier packets of the burst may have reached.
        guard sa.configuration.lifetime.allows(packets: UInt64(sa.counters.acceptedPackets),
                                               usedBytes: UInt64(sa.counters.acceptedBytes)) else {
            return .dropped(.lifetime)
        }
        guard burst.items[k].verified else { return .dropped(.integrity) }
        let espOffset = burst.itemOffsets[k]
        let payloadEnd = espOffset + burst.itemLengths[k] - t.icvLength
        let (padByte, nextByte) = burst.arena.withUnsafeBytes { ($0[payloadEnd - 2], $0[payloadEnd - 1]) }
        let padLength = Int(padByte)
        let nextHeader = IPProtocol(nextByte)
        let payloadStart = ESPPacket.headerLength + t.ivLength
        let dataStart = espOffset + payloadStart
        guard payloadEnd - dataStart >= 2 + padLength else { return .dropped(.padding) }
        let dataEnd = payloadEnd - 2 - padLength
        // Every padding byte is looked at, so the time depends on the pad length alone (as ESPCodec.open).
        let difference = burst.arena.withUnsafeBytes { bytes in
            var difference: UInt8 = 0
            for j in 0..<padLength { difference |= bytes[dataEnd + j] ^ UInt8(truncatingIfNeeded: j + 1) }
            return difference
        }
        guard difference == 0 else { return .dropped(.padding) }
        // RFC 4303 §2.6: dummy packets are discarded quietly, after the ICV.
        if nextHeader == .noNextHeader { return .dropped(.dummy) }
        let dataLength = dataEnd - dataStart
        switch sa.configuration.mode {
        case .tunnel:
            guard nextHeader == .ipv4 || nextHeader == .ipv6 else { return .dropped(.nextHeader) }
            // A plain inner header is read in place; anything else goes through PacketLayout (the reference).
            let innerLength: Int? = burst.arena.withUnsafeBytes { b in
                guard dataLength > 0 else { return nil }
                let p = b.baseAddress! + dataStart
                guard (p.load(as: UInt8.self) >> 4 == 4) == (nextHeader == .ipv4) else { return nil }
                return TunnelHeader.plainInnerFields(p, count: dataLength)?.length
            } ?? {
                let payload = burst.arena[dataStart..<(dataStart + dataLength)]
                guard let first = payload.first, (first >> 4 == 4) == (nextHeader == .ipv4),
                      let inner = try? PacketLayout.inbound(payload), inner.packetLength <= payload.count else {
                    return nil
                }
                return inner.packetLength
            }()
            guard let innerLength else { return .dropped(.nextHeader) }
            burst.starts[i] = dataStart
            burst.lengths[i] = innerLength
        case .transport:
            // The IP header moves up against the payload, with the payload's protocol and the new lengths.
            let oldStart = burst.starts[i]
            let newStart = dataStart - headerEnd
            let nextHeaderOffset = burst.itemNextHeaderOffsets[k]
            let total = headerEnd + dataLength
            burst.arena.withUnsafeMutableBytes { b in
                let base = b.baseAddress!
                (base + newStart).copyMemory(from: base + oldStart, byteCount: headerEnd)
                base.storeBytes(of: nextHeader.rawValue, toByteOffset: newStart + nextHeaderOffset, as: UInt8.self)
                let ip = UnsafeMutableRawBufferPointer(rebasing: b[newStart..<(newStart + total)])
                if ip[0] >> 4 == 4 {
                    ip.storeBytes(of: UInt16(total).bigEndian, toByteOffset: 2, as: UInt16.self)
                    ip.storeBytes(of: 0, toByteOffset: 10, as: UInt16.self)
                    var sum = InternetChecksum()
                    sum.add(contiguous: UnsafeRawBufferPointer(rebasing: ip[0..<(Int(ip[0] & 0x0f) * 4)]))
                    ip.storeBytes(of: sum.value.bigEndian, toByteOffset: 10, as: UInt16.self)
                } else {
                    ip.storeBytes(of: UInt16(total - 40).bigEndian, toByteOffset: 4, as: UInt16.self)
                }
            }
            burst.starts[i] = newStart
            burst.lengths[i] = total
        default:
            return .dropped(.malformed)
        }
        if let selector = sa.configuration.selector, !selector.matches(burst.packet(i)) { return .dropped(.policy) }
        return .accepted
    }
}
