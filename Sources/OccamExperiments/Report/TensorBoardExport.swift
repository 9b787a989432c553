import Foundation
import OccamData
import OccamNN

/// Writes TensorBoard event files of scalars: TFRecord framing (little-endian length, masked CRC-32C of the
/// length, the record, masked CRC-32C of the record) around `tensorflow.Event` protocol buffers, the first
/// record naming the file version ("brain.Event:2"), each later one a step with `Summary.Value`s of
/// `simple_value`. Only the fields TensorBoard's scalar dashboard reads are written.
public struct TensorBoardEventFile: Sendable {
    /// (step, wall time in seconds since 1970, [(tag, value)]), in the order written.
    public var events: [(step: Int, wallTime: Double, scalars: [(tag: String, value: Float)])] = []

    public init() {}

    /// The file's bytes.
    public var data: Data {
        var out = Data()
        let start = events.first?.wallTime ?? 0
        out += Self.record(Self.event(wallTime: start, step: 0, fileVersion: "brain.Event:2", scalars: []))
        for event in events {
            out += Self.record(Self.event(wallTime: event.wallTime, step: event.step, fileVersion: nil, scalars: event.scalars))
        }
        return out
    }

    /// Writes the file atomically.
    public func write(to url: URL) throws { try ResultFiles.write(data, to: url) }

    // MARK: Protocol buffers

    static func varint(_ value: UInt64) -> Data {
        var value = value, out = Data()
        repeat {
            let byte = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? byte : byte | 0x80)
        } while value != 0
        return out
    }

    static func key(_ field: Int, _ wireType: Int) -> Data { varint(UInt64(field << 3 | wireType)) }

    static func lengthDelimited(_ field: Int, _ bytes: Data) -> Data { key(field, 2) + varint(UInt64(bytes.count)) + bytes }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }

    /// `Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }` with
    /// `Summary { repeated Value value = 1; }` and `Value { string tag = 1; float simple_value = 2; }`.
    static func event(wallTime: Double, step: Int, fileVersion: String?, scalars: [(tag: String, value: Float)]) -> Data {
        var out = key(1, 1) + littleEndian(wallTime.bitPattern)
        out += key(2, 0) + varint(UInt64(bitPattern: Int64(step)))
        if let fileVersion { out += lengthDelimited(3, Data(fileVersion.utf8)) }
        if !scalars.isEmpty {
            let summary = scalars.reduce(Data()) { summary, scalar in
                summary + lengthDelimited(1, lengthDelimited(1, Data(scalar.tag.utf8)) + key(2, 5) + littleEndian(scalar.value.bitPattern))
            }
            out += lengthDelimited(5, summary)
        }
        return out
    }

    // MARK: TFRecord framing

    static func record(_ payload: Data) -> Data {
        let length = littleEndian(UInt64(payload.count))
        return length + littleEndian(maskedCRC(length)) + payload + littleEndian(maskedCRC(payload))
    }

    static func maskedCRC(_ data: Data) -> UInt32 {
        let crc = crc32c(data)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// CRC-32C (Castagnoli), as TFRecord uses.
    static func crc32c(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }
}

/// TensorBoard event files for every training run under a directory: each metrics.jsonl of a Trainer run
/// becomes `tensorboard/<its path>/events.out.tfevents.occam`, with scalars "<split>/loss" and
/// "<split>/accuracy" for every evaluated split and for "train-batches" (the mean over the batches since the
/// last record), and "train-batches/learning_rate". Wall times are not recorded in metrics.jsonl: the events
/// carry the step as seconds after the run directory's config.json was written, so that TensorBoard's
/// relative-time axis still orders them.
public enum TensorBoardExport {
    /// Writes the event files; returns the training runs exported (paths relative to `directory`).
    @discardableResult
    public static func export(_ directory: URL, to output: URL? = nil) throws -> [String] {
        let root = directory.standardizedFileURL
        let destination = output ?? root.appendingPathComponent("tensorboard")
        let metrics = (FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? [])
            .filter { $0.lastPathComponent == "metrics.jsonl" && !$0.path.hasPrefix(destination.standardizedFileURL.path + "/") }
            .sorted { $0.path < $1.path }
        var exported: [String] = []
        for url in metrics {
            // Trainer runs only: the study-level metrics.jsonl files hold other records.
            guard let records = try? RunStore.readJSONLines(EvaluationRecord.self, from: url), !records.isEmpty else { continue }
            let run = url.deletingLastPathComponent().standardizedFileURL
            let relative = run.path == root.path ? "." : String(run.path.dropFirst(root.path.count + 1))
            let created = (try? FileManager.default.attributesOfItem(atPath: run.appendingPathComponent("config.json").path)[.modificationDate] as? Date)?
                .timeIntervalSince1970 ?? 0
            var file = TensorBoardEventFile()
            for (step, group) in Dictionary(grouping: records, by: \.step).sorted(by: { $0.key < $1.key }) {
                var scalars: [(tag: String, value: Float)] = []
                for record in group {
                    scalars.append(("\(record.split)/loss", Float(record.loss)))
                    scalars.append(("\(record.split)/accuracy", Float(record.accuracy)))
                    if let rate = record.learningRate { scalars.append(("\(record.split)/learning_rate", Float(rate))) }
                }
                file.events.append((step: step, wallTime: created + Double(step) * 1e-3, scalars: scalars))
            }
            let target = relative == "." ? destination : destination.appendingPathComponent(relative)
            try ResultFiles.prepareDirectory(target)
            try file.write(to: target.appendingPathComponent("events.out.tfevents.occam"))
            exported.append(relative)
        }
        return exported
    }
}
