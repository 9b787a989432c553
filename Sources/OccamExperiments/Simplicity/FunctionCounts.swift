import Foundation
import OccamData

/// How often each function occurred in the chunks sampled so far: functions.bin, rewritten (atomically) as
/// chunks finish, so an interrupted study resumes after the last chunk it saved.
///
/// File layout (little-endian): "OCCAMFN1", then chunks done, draws, sampling seconds (Float64 bits) and the
/// number of entries as UInt64, then per function (sorted by truth table, so equal counts give equal bytes)
/// its table's low and high words and its count.
public struct FunctionCounts: Sendable, Equatable {
    public var counts: [TruthTable: UInt64] = [:]
    /// Chunks 0..<chunksDone are in `counts`.
    public var chunksDone = 0
    public var draws = 0
    /// Time spent sampling, over every session that added chunks.
    public var seconds = 0.0

    public init() {}

    /// Adds another chunk's counts.
    public mutating func merge(_ other: [TruthTable: UInt64]) {
        for (table, count) in other { counts[table, default: 0] += count }
    }

    /// The functions and their counts, most frequent first (ties by truth table).
    public func sortedByCount() -> [(table: TruthTable, count: UInt64)] {
        counts.map { (table: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.table < $1.table }
    }

    private static let magic = Array("OCCAMFN1".utf8)

    /// One record of the file.
    private struct Entry { var low, high, count: UInt64 }

    /// The file's bytes, built in one buffer (a sample of 10^8 draws has some 5 x 10^7 functions: 1.2 GB).
    public func encoded() -> Data {
        let header = 8 + 4 * 8, size = header + counts.count * MemoryLayout<Entry>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        for (i, byte) in Self.magic.enumerated() { raw.storeBytes(of: byte, toByteOffset: i, as: UInt8.self) }
        for (i, word) in [UInt64(chunksDone), UInt64(draws), seconds.bitPattern, UInt64(counts.count)].enumerated() {
            raw.storeBytes(of: word, toByteOffset: 8 + 8 * i, as: UInt64.self)
        }
        var entries = UnsafeMutableBufferPointer(start: (raw + header).bindMemory(to: Entry.self, capacity: counts.count), count: counts.count)
        for (i, (table, count)) in counts.enumerated() { entries[i] = Entry(low: table.low, high: table.high, count: count) }
        entries.sort { ($0.high, $0.low) < ($1.high, $1.low) }
        return Data(bytesNoCopy: raw, count: size, deallocator: .custom { pointer, _ in pointer.deallocate() })
    }

    public func write(to url: URL) throws { try ResultFiles.write(encoded(), to: url) }

    /// - Throws: `RunStoreError.unreadable` when the file is not a complete functions.bin.
    public static func read(from url: URL) throws -> FunctionCounts {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw RunStoreError.unreadable(url, reason: RunStoreError.explain(error)) }
        let bad = RunStoreError.unreadable(url, reason: "it is not a complete functions.bin")
        guard data.count >= 8 + 32, Array(data.prefix(8)) == magic else { throw bad }
        return try data.withUnsafeBytes { raw in
            func word(_ index: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: 8 + 8 * index, as: UInt64.self) }
            let entries = Int(word(3))
            guard data.count == 8 + 32 + 24 * entries else { throw bad }
            var result = FunctionCounts()
            (result.chunksDone, result.draws, result.seconds) = (Int(word(0)), Int(word(1)), Double(bitPattern: word(2)))
            result.counts.reserveCapacity(entries)
            for e in 0..<entries {
                result.counts[TruthTable(low: word(4 + 3 * e), high: word(5 + 3 * e))] = word(6 + 3 * e)
            }
            return result
        }
    }
}
