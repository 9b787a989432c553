import Foundation

/// Writing results so that a crash never leaves a half-written file: each file is written to a temporary
/// name in the same directory and renamed over the target.
public enum ResultFiles {
    /// Creates `directory` (and its parents) if needed.
    public static func prepareDirectory(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        try data.write(to: temporary)
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "cannot write \(url.path): \(reason)"])
        }
    }

    /// Writes `value` as pretty-printed JSON with sorted keys.
    public static func writeJSON<Value: Encodable>(_ value: Value, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(encoder.encode(value) + Data("\n".utf8), to: url)
    }

    /// Writes `values` as JSON Lines: one compact JSON object per line.
    public static func writeJSONLines<Value: Encodable>(_ values: [Value], to url: URL) throws {
        try write(jsonLines(values), to: url)
    }

    /// Appends `values` to the JSON Lines file at `url` (creating it), one compact object per line, and
    /// flushes them to disk. A crash can cut off at most the lines of this call.
    public static func appendJSONLines<Value: Encodable>(_ values: [Value], to url: URL) throws {
        let data = try jsonLines(values)
        if !FileManager.default.fileExists(atPath: url.path) {
            try write(data, to: url)
            return
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: data)
        try handle.synchronize()
    }

    /// One compact JSON object per line, keys sorted.
    private static func jsonLines<Value: Encodable>(_ values: [Value]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = Data()
        for value in values {
            data += try encoder.encode(value)
            data += Data("\n".utf8)
        }
        return data
    }
}
