#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import IPsecCapture
import IPsecCore
import IPsecWire

// `encap` and `decap` over several cores (`--jobs N`): a reader thread, the calling thread as the one sequential
// stage that owns every SA (policy and SA choice, sequence numbers, IVs, lifetimes, the anti-replay check and update,
// in input order), N crypto workers that seal or open chunks of packets in place, and a writer thread that writes the
// chunks in input order. Chunks come from a fixed pool and every queue is bounded, so memory stays flat; the output,
// counts and verdicts are those of the one-thread path (docs/performance.md, "Capture processing with --jobs").

/// A lock with one condition variable.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func locked<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the lock held: sleeps until `ready` holds.
    func wait(until ready: () -> Bool) {
        while !ready() { pthread_cond_wait(condition, mutex) }
    }

    /// With the lock held: wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// A bounded first-in first-out queue between threads. After `close`, `push` refuses and `pop` drains what is left,
/// then returns nil.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let monitor = Monitor()
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false

    init(capacity: Int) { self.capacity = capacity }

    @discardableResult
    func push(_ element: Element) -> Bool {
        monitor.locked {
            monitor.wait { closed || items.count - head < capacity }
            guard !closed else { return false }
            items.append(element)
            monitor.broadcast()
            return true
        }
    }

    func pop() -> Element? {
        monitor.locked {
            monitor.wait { closed || head < items.count }
            guard head < items.count else { return nil }
            let element = items[head]
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            }
            monitor.broadcast()
            return element
        }
    }

    func close() {
        monitor.locked {
            closed = true
            monitor.broadcast()
        }
    }
}

/// A one-shot signal: set by a worker, waited for by the sequential stage; reset when its chunk is reused.
final class Latch: @unchecked Sendable {
    private let monitor = Monitor()
    private var isSet = false

    func set() { monitor.locked { isSet = true; monitor.broadcast() } }
    func wait() { monitor.locked { monitor.wait { isSet } } }
    func reset() { monitor.locked { isSet = false } }
}

/// The first error any thread met.
final class FirstError: @unchecked Sendable {
    private let monitor = Monitor()
    private var stored: (any Error)?

    var value: (any Error)? { monitor.locked { stored } }
    func record(_ error: any Error) { monitor.locked { if stored == nil { stored = error } } }
}

/// A POSIX thread running one closure; `join` waits for it.
final class PipelineThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    private var handle = pthread_t()

    init(_ run: @escaping () -> Void) throws(CoreError) {
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        let status = pthread_create(&handle, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, body)
        guard status == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            throw CoreError(.unsupported, "cannot start a thread (error \(status))")
        }
    }

    func join() { pthread_join(handle, nil) }
}

/// Lets a value that one thread at a time uses cross to another thread.
final class Handed<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Up to `StagedJobs.chunkPackets` records and what becomes of each.
final class Chunk: @unchecked Sendable {
    /// What the writer writes, in order: a record as read, an IP packet in a frame like the record's (with its
    /// timestamps), or the packet in a burst slot likewise.
    enum Output {
        case record(Int)
        case packet(Int, LinkHeader, [UInt8])
        case slot(Int, LinkHeader, Int)
    }

    /// Decap, between the stages: where each record stands.
    enum Pending {
        case notIP(Int)
        /// Opened (or dropped) by the staged burst: slot, and its burst item when it reached the crypto.
        case slot(Int, LinkFrame, slot: Int, item: Int?)
        /// Opened by the node, one by one, in the finishing stage (in input order).
        case node(Int, LinkFrame)
    }

    let burst: PacketBurst
    var records: [CaptureRecord] = []
    /// The reader's last chunk (it may still hold records).
    var isLast = false
    var readError: (any Error)?
    var cryptoError: (any Error)?
    var outputs: [Output] = []
    var pending: [Pending] = []
    let done = Latch()

    init() {
        burst = PacketBurst(capacity: StagedJobs.chunkPackets)
        records.reserveCapacity(StagedJobs.chunkPackets)
    }

    func reset() {
        burst.removeAll()
        records.removeAll(keepingCapacity: true)
        outputs.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
        isLast = false
        readError = nil
        cryptoError = nil
        done.reset()
    }
}

enum StagedJobs {
    /// Packets per chunk: one burst, one crypto task.
    static let chunkPackets = 64
    /// The most workers `--jobs` may ask for.
    static let maximumJobs = 64

    /// Runs the pipeline: `stage` and `finish` on this thread, in input order; `crypto` on the workers; then writes.
    static func run(reader: CaptureReader, writer: CaptureWriter, jobs: Int, sas: SASet,
                    crypto: @escaping (Chunk, BurstCrypto) throws -> Void,
                    stage: (Chunk) throws -> Void, finish: (Chunk) throws -> Void) throws {
        if jobs == 1 {
            try runInline(reader: reader, writer: writer, sas: sas, crypto: crypto, stage: stage, finish: finish)
            return
        }
        let cryptos: [BurstCrypto]
        do { cryptos = try (0..<jobs).map { _ in try BurstCrypto(sas.all) } } catch {
            writer.discard()
            throw error
        }
        let inFlightLimit = 2 * jobs
        let poolSize = inFlightLimit + 4
        let free = BoundedQueue<Chunk>(capacity: poolSize)
        let filled = BoundedQueue<Chunk>(capacity: poolSize)
        let work = BoundedQueue<Chunk>(capacity: poolSize)
        let written = BoundedQueue<Chunk>(capacity: poolSize)
        for _ in 0..<poolSize { free.push(Chunk()) }
        let writeFailure = FirstError()
        let handedReader = Handed(reader), handedWriter = Handed(writer)
        let linkType = reader.linkType
        var threads: [PipelineThread] = []
        var failure: (any Error)?
        do {
            threads.append(try PipelineThread {
                while let chunk = free.pop() {
                    do {
                        while chunk.records.count < chunkPackets, let record = try handedReader.value.next() {
                            chunk.records.append(record)
                        }
                        chunk.isLast = chunk.records.count < chunkPackets
                    } catch {
                        chunk.readError = error
                        chunk.isLast = true
                    }
                    let last = chunk.isLast
                    if !filled.push(chunk) || last { break }
                }
                filled.close()
            })
            for c in cryptos {
                let handedCrypto = Handed(c)
                threads.append(try PipelineThread {
                    while let chunk = work.pop() {
                        do { try crypto(chunk, handedCrypto.value) } catch { chunk.cryptoError = error }
                        chunk.done.set()
                    }
                })
            }
            threads.append(try PipelineThread {
                var frame: [UInt8] = []
                while let chunk = written.pop() {
                    if writeFailure.value == nil {
                        do { try write(chunk, to: handedWriter.value, linkType: linkType, frame: &frame) } catch {
                            writeFailure.record(error)
                        }
                    }
                    chunk.reset()
                    free.push(chunk)
                }
            })
            var inFlight: [Chunk] = []
            var reading = true
            while reading || !inFlight.isEmpty {
                if let error = writeFailure.value { throw error }
                if reading, inFlight.count < inFlightLimit {
                    guard let chunk = filled.pop() else {
                        reading = false
                        continue
                    }
                    if let error = chunk.readError { throw error }
                    if chunk.isLast { reading = false }
                    try stage(chunk)
                    inFlight.append(chunk)
                    work.push(chunk)
                    continue
                }
                let chunk = inFlight.removeFirst()
                chunk.done.wait()
                if let error = chunk.cryptoError { throw error }
                try finish(chunk)
                written.push(chunk)
            }
        } catch {
            failure = error
        }
        work.close()
        written.close()
        if failure != nil {
            free.close()
            filled.close()
        }
        for thread in threads { thread.join() }
        if failure == nil { failure = writeFailure.value }
        if let failure {
            writer.discard()
            throw failure
        }
        try writer.close()
    }

    /// One job: the same stages, chunk by chunk, on the calling thread alone (no reader, worker or writer thread).
    /// A thread would only hand the one chunk back and forth; the bursts are what makes one job fast.
    static func runInline(reader: CaptureReader, writer: CaptureWriter, sas: SASet,
                          crypto: (Chunk, BurstCrypto) throws -> Void,
                          stage: (Chunk) throws -> Void, finish: (Chunk) throws -> Void) throws {
        do {
            let cryptoState = try BurstCrypto(sas.all)
            let chunk = Chunk()
            var frame: [UInt8] = []
            var last = false
            while !last {
                while chunk.records.count < chunkPackets, let record = try reader.next() {
                    chunk.records.append(record)
                }
                last = chunk.records.count < chunkPackets
                chunk.isLast = last
                try stage(chunk)
                try crypto(chunk, cryptoState)
                try finish(chunk)
                try write(chunk, to: writer, linkType: reader.linkType, frame: &frame)
                chunk.reset()
            }
        } catch {
            writer.discard()
            throw error
        }
        try writer.close()
    }

    /// Writes a chunk's outputs in order.
    static func write(_ chunk: Chunk, to writer: CaptureWriter, linkType: LinkType, frame: inout [UInt8]) throws {
        for output in chunk.outputs {
            switch output {
            case .record(let r):
                try writer.write(chunk.records[r])
            case .packet(let r, let header, let packet):
                try CaptureJobs.reframe(packet, header: header, linkType: linkType, into: &frame)
                try writer.write(framed(chunk.records[r], frame))
            case .slot(let r, let header, let slot):
                try chunk.burst.withPacket(slot) { packet in
                    try CaptureJobs.reframe(packet, header: header, linkType: linkType, into: &frame)
                }
                try writer.write(framed(chunk.records[r], frame))
            }
        }
    }

    private static func framed(_ record: CaptureRecord, _ frame: [UInt8]) -> CaptureRecord {
        var record = record
        record.data = frame
        record.originalLength = frame.count
        return record
    }

    // MARK: - encap

    static func encap(reader: CaptureReader, writer: CaptureWriter, sas: SASet, dummySA: SecurityAssociation?,
                      dummyEvery: Int, jobs: Int) throws -> JobSummary {
        var summary = JobSummary()
        var out: [UInt8] = []
        let linkType = reader.linkType
        let node = sas.node
        let all = sas.all
        try run(reader: reader, writer: writer, jobs: jobs, sas: sas, crypto: { chunk, crypto in
            try Outbound.sealStaged(chunk.burst, crypto: crypto)
        }, stage: { chunk in
            let burst = chunk.burst
            for (r, record) in chunk.records.enumerated() {
                summary.packetsIn += 1
                guard let link = try? LinkLayer.decapsulate(record.data[...], linkType: linkType),
                      link.ipVersion != nil else {
                    summary.passedThrough += 1
                    chunk.outputs.append(.record(r))
                    summary.packetsOut += 1
                    continue
                }
                if node.spd.isEmpty {
                    // As IPsecNode.outbound chooses without policies: the one SA, or the first whose selector matches.
                    let sa = all.count == 1 ? all[0] : all.first { $0.configuration.selector?.matches(link.payload) ?? false }
                    guard let sa else {
                        summary.passedThrough += 1
                        chunk.outputs.append(.record(r))
                        summary.packetsOut += 1
                        continue
                    }
                    if burst.append(link.payload) {
                        let slot = burst.count - 1
                        switch Outbound.stage(burst, slot, with: sa, orInto: &out) {
                        case .staged:
                            chunk.outputs.append(.slot(r, link.header, slot))
                        case .protected:
                            chunk.outputs.append(.packet(r, link.header, out))
                        case .failed(let error):
                            summary.unprotectable[error.code.rawValue, default: 0] += 1
                            continue
                        }
                    } else {
                        // Longer than a slot: protected whole, here.
                        do { try Outbound.protect(link.payload, with: sa, into: &out) } catch let error as CoreError {
                            summary.unprotectable[error.code.rawValue, default: 0] += 1
                            continue
                        }
                        chunk.outputs.append(.packet(r, link.header, out))
                    }
                } else {
                    do {
                        let verdict = try node.outbound(link.payload, into: &out)
                        guard case .protected = verdict else {
                            if summary.countUnprotected(verdict) { chunk.outputs.append(.record(r)) }
                            continue
                        }
                        chunk.outputs.append(.packet(r, link.header, out))
                    } catch let error as CoreError {
                        summary.unprotectable[error.code.rawValue, default: 0] += 1
                        continue
                    }
                }
                summary.processed += 1
                summary.packetsOut += 1
                if let dummySA, summary.processed % dummyEvery == 0 {
                    try Outbound.dummy(length: link.payload.count, with: dummySA, into: &out)
                    chunk.outputs.append(.packet(r, link.header, out))
                    summary.dummies += 1
                    summary.packetsOut += 1
                }
            }
        }, finish: { _ in })
        return summary
    }

    // MARK: - decap

    static func decap(reader: CaptureReader, writer: CaptureWriter, sas: SASet, keepOther: Bool, keepVerdicts: Bool,
                      jobs: Int) throws -> JobSummary {
        var summary = JobSummary()
        var out: [UInt8] = [], scratch: [UInt8] = []
        let linkType = reader.linkType
        let node = sas.node
        // Policies and IPComp SAs make the node's checks span layers: then every packet goes through the node.
        let staged = node.spd.isEmpty && node.compressions.isEmpty

        func account(_ outcome: IPsecNode.InboundOutcome, index: Int, record r: Int, accepted: Chunk.Output,
                     in chunk: Chunk) {
            let first = outcome.layers.first
            let insecure = outcome.layers.contains { $0.insecure }
            if keepVerdicts {
                summary.verdicts.append(PacketVerdict(index: index, verdict: outcome.verdict, spi: first?.spi,
                                                      sequence: first?.sequence, mode: outcome.modeName,
                                                      insecure: insecure))
            }
            if insecure { summary.insecure += 1 }
            switch outcome.verdict {
            case .accepted:
                chunk.outputs.append(accepted)
                summary.processed += 1
                summary.packetsOut += 1
            case .dropped(.notIPsec):
                summary.passedThrough += 1
                if keepOther {
                    chunk.outputs.append(.record(r))
                    summary.packetsOut += 1
                }
            case .dropped(let reason):
                summary.dropped[reason, default: 0] += 1
            }
        }

        try run(reader: reader, writer: writer, jobs: jobs, sas: sas, crypto: { chunk, crypto in
            Inbound.openStaged(chunk.burst, crypto: crypto)
        }, stage: { chunk in
            // Only checks here (replay, lifetime, lengths), which later packets' acceptance cannot undo; everything
            // that changes an SA waits for `finish`, in input order.
            let burst = chunk.burst
            for (r, record) in chunk.records.enumerated() {
                guard let link = try? LinkLayer.decapsulate(record.data[...], linkType: linkType),
                      link.ipVersion != nil else {
                    chunk.pending.append(.notIP(r))
                    continue
                }
                if staged, burst.append(link.payload) {
                    let slot = burst.count - 1
                    let item = burst.stagedCount
                    switch Inbound.stage(burst, slot, sad: sas.database) {
                    case .staged:
                        chunk.pending.append(.slot(r, link, slot: slot, item: item))
                        continue
                    case .finished:
                        chunk.pending.append(.slot(r, link, slot: slot, item: nil))
                        continue
                    case .declined:
                        break
                    }
                }
                chunk.pending.append(.node(r, link))
            }
        }, finish: { chunk in
            let burst = chunk.burst
            for pending in chunk.pending {
                summary.packetsIn += 1
                let index = summary.packetsIn
                switch pending {
                case .notIP(let r):
                    summary.passedThrough += 1
                    if keepVerdicts { summary.verdicts.append(PacketVerdict(index: index, verdict: .dropped(.notIPsec))) }
                    if keepOther {
                        chunk.outputs.append(.record(r))
                        summary.packetsOut += 1
                    }
                case .node(let r, let link):
                    let outcome = node.inbound(link.payload, into: &out, scratch: &scratch)
                    account(outcome, index: index, record: r, accepted: .packet(r, link.header, out), in: chunk)
                case .slot(let r, let link, let slot, let item):
                    // A replay verdict of stage 1 rests on the sequence number it inferred (ESN: from a window the
                    // packets in flight had not moved yet), and so does the crypto of a staged packet: when that
                    // inference no longer holds, the packet is opened again, as one thread would open it.
                    let redo = item.map { !Inbound.stagedSequenceHolds(burst, item: $0) }
                        ?? (burst.inboundResults[slot].verdict == .dropped(.replay))
                    if redo {
                        let outcome = node.inbound(link.payload, into: &out, scratch: &scratch)
                        account(outcome, index: index, record: r, accepted: .packet(r, link.header, out), in: chunk)
                        continue
                    }
                    if let item { Inbound.finishStaged(burst, item: item) }
                    let result = burst.inboundResults[slot]
                    if result.verdict == .accepted, Inbound.mayHoldMoreLayers(burst.packet(slot)) {
                        // Another layer inside: the node takes it from here, as it would have.
                        let opened = Array(burst.packet(slot))
                        let outcome = node.inbound(opened[...], opened: result, into: &out, scratch: &scratch)
                        account(outcome, index: index, record: r, accepted: .packet(r, link.header, out), in: chunk)
                    } else {
                        account(IPsecNode.InboundOutcome(verdict: result.verdict, layers: [result]), index: index,
                                record: r, accepted: .slot(r, link.header, slot), in: chunk)
                    }
                }
            }
        })
        return summary
    }
}
