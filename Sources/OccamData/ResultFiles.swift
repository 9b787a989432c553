import Foundation

/// Writing results so that a crash never leaves a half-written file: each file is written to a temporary
/// name in the same directory and renamed over the target.
public enum ResultFiles {
    /// Creates `directory` (and its parents) if needed, and removes temporary files that an interrupted write
    /// of a process no longer running left there.
    /// - Throws: `ResultFileError.cannotCreateDirectory`, naming the path and the problem (a file in the way,
    ///   permission denied, a read-only or full disk).
    public static func prepareDirectory(_ directory: URL) throws {
        // A file where a directory should be: say which one.
        var ancestor = directory.standardizedFileURL
        while ancestor.path != "/" {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else {
                    throw ResultFileError.cannotCreateDirectory(directory, reason: "\(ancestor.path) is a file, not a directory")
                }
                break
            }
            ancestor.deleteLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ResultFileError.cannotCreateDirectory(directory, reason: ResultFileError.reason(error))
        }
        removeStaleTemporaryFiles(in: directory)
    }

    /// The name a write to `url` by this process uses until it is renamed: ".<name>.<pid>-<unique>.tmp" in the
    /// same directory. The process ID tells later runs whether the writer is gone.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid())-\(UUID().uuidString.prefix(8)).tmp")
    }

    /// Removes ".<name>.<pid>[-<unique>].tmp" files in `directory` whose writing process no longer runs
    /// (left by a write that a crash or `kill -9` cut short).
    public static func removeStaleTemporaryFiles(in directory: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            guard let last = name.dropLast(4).split(separator: ".").last,
                let pid = pid_t(last.split(separator: "-").first ?? ""), pid > 0
            else { continue }
            let running = kill(pid, 0) == 0 || errno == EPERM
            if !running { unlink(directory.appendingPathComponent(name).path) }
        }
    }

    /// Writes `data` to `url` atomically: to a temporary file in the same directory, flushed to disk (fsync),
    /// renamed over `url`, and the directory flushed, so a crash leaves the old file or the new one.
    /// - Throws: `ResultFileError.cannotWrite`, naming the path and the problem.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = temporaryURL(for: url)
        func failure(_ what: String) -> ResultFileError {
            .cannotWrite(url, reason: "\(what): \(ResultFileError.describe(errno: errno))")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let code = errno
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: url.deletingLastPathComponent().path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw ResultFileError.cannotWrite(url, reason: "its directory \(url.deletingLastPathComponent().path) does not exist")
            }
            throw ResultFileError.cannotWrite(url, reason: ResultFileError.describe(errno: code))
        }
        var closed = false, renamed = false
        defer {
            if !closed { close(descriptor) }
            if !renamed { unlink(temporary.path) }
        }
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var written = 0
            while written < buffer.count {
                let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw failure("writing failed")
                }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("flushing to disk failed") }
        closed = true
        guard close(descriptor) == 0 else { throw failure("closing failed") }
        guard rename(temporary.path, url.path) == 0 else { throw failure("renaming the temporary file failed") }
        renamed = true
        synchronizeDirectory(of: url)
    }

    /// Flushes the directory holding `url`, so that a rename into it survives a crash (best effort).
    public static func synchronizeDirectory(of url: URL) {
        let descriptor = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// Writes `value` as pretty-printed JSON with sorted keys.
    public static func writeJSON<Value: Encodable>(_ value: Value, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try write(encoded(url) { try encoder.encode(value) } + Data("\n".utf8), to: url)
    }

    /// Writes `values` as JSON Lines: one compact JSON object per line.
    public static func writeJSONLines<Value: Encodable>(_ values: [Value], to url: URL) throws {
        try write(jsonLines(values), to: url)
    }

    /// Appends `values` to the JSON Lines file at `url` (creating it), one compact object per line, and
    /// flushes them to disk. A crash can cut off at most the lines of this call.
    public static func appendJSONLines<Value: Encodable>(_ values: [Value], to url: URL) throws {
        let data = try encoded(url) { try jsonLines(values) }
        if !FileManager.default.fileExists(atPath: url.path) {
            try write(data, to: url)
            return
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            throw ResultFileError.cannotWrite(url, reason: ResultFileError.reason(error))
        }
    }

    /// `encode()`, with a NaN or infinite number (which JSON cannot hold) named by its place instead of an
    /// `EncodingError`.
    private static func encoded(_ url: URL, _ encode: () throws -> Data) throws -> Data {
        do {
            return try encode()
        } catch EncodingError.invalidValue(let value, let context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            throw ResultFileError.nonFiniteNumber(url, field: path.isEmpty ? "a value" : path, value: "\(value)")
        }
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

/// A result file or directory that cannot be written. Each description names the path and the problem.
public enum ResultFileError: Error, CustomStringConvertible, Equatable {
    case cannotCreateDirectory(URL, reason: String)
    case cannotWrite(URL, reason: String)
    /// A NaN or infinite number on its way into a JSON file.
    case nonFiniteNumber(URL, field: String, value: String)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(url, reason):
            "cannot create the directory \(url.path): \(reason)"
        case let .cannotWrite(url, reason):
            "cannot write \(url.path): \(reason)"
        case let .nonFiniteNumber(url, field, value):
            "cannot write \(url.path): \(field) is \(value), which JSON cannot hold; a computation overflowed or diverged"
        }
    }

    /// A Foundation or POSIX error in words: "permission denied", "the disk is full", ...
    public static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return describe(errno: Int32(underlying.code))
        }
        if error.domain == NSPOSIXErrorDomain { return describe(errno: Int32(error.code)) }
        switch CocoaError.Code(rawValue: error.code) {
        case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "the disk is full"
        case .fileWriteVolumeReadOnly: return "the file system is read-only"
        case .fileNoSuchFile, .fileReadNoSuchFile: return "a directory on the path does not exist"
        case .fileWriteFileExists: return "a file is in the way"
        case .fileReadTooLarge: return "it is too large to read"
        case .fileReadUnknown: return "the system could not read it (an input/output error, or not a regular file)"
        case .fileWriteUnknown: return "the system could not write it (an input/output error)"
        default: return error.localizedDescription
        }
    }

    /// An `errno` value in words.
    public static func describe(errno code: Int32) -> String {
        switch code {
        case EACCES, EPERM: "permission denied"
        case ENOSPC: "the disk is full"
        case EDQUOT: "the disk quota is exceeded"
        case EROFS: "the file system is read-only"
        case ENOTDIR: "a part of the path is a file, not a directory"
        case ENOENT: "a directory on the path does not exist"
        case EISDIR: "it is a directory"
        case EEXIST: "a file is in the way"
        default: String(cString: strerror(code))
        }
    }
}
