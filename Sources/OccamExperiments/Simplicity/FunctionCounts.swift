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

    public func encoded() -> Data {
        var words: [UInt64] = [UInt64(chunksDone), UInt64(draws), seconds.bitPattern, UInt64(counts.count)]
        words.reserveCapacity(4 + 3 * counts.count)
        for (table, count) in counts.sorted(by: { $0.key < $1.key }) { words += [table.low, table.high, count] }
        var data = Data(Self.magic)
        words.withUnsafeBufferPointer { data.append($0) }
        return data
    }

    public func write(to url: URL) throws { try ResultFiles.write(encoded(), to: url) }

    /// - Throws: `RunStoreError.unreadable` when the file is not a complete functions.bin.
    public static func read(from url: URL) throws -> FunctionCounts {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw RunStoreError.unreadable(url, reason: RunStoreError.explain(error)) }
        let bad = RunStoreError.unreadable(url, reason: "it is not a complete functions.bin")
        guard data.count >= 8 + 32, Array(data.prefix(8)) == magic, (data.count - 8) % 8 == 0 else { throw bad }
        let words: [UInt64] = data.dropFirst(8).withUnsafeBytes { raw in (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) } }
        let entries = Int(words[3])
        guard words.count == 4 + 3 * entries else { throw bad }
        var result = FunctionCounts()
        (result.chunksDone, result.draws, result.seconds) = (Int(words[0]), Int(words[1]), Double(bitPattern: words[2]))
        result.counts.reserveCapacity(entries)
        for e in 0..<entries {
            result.counts[TruthTable(low: words[4 + 3 * e], high: words[5 + 3 * e])] = words[6 + 3 * e]
        }
        return result
    }
}
