import Foundation
import OccamData
import OccamTensor

extension SafeTensorsFile {
    /// Writes the file to `url` atomically: to a temporary file in the same directory, flushed to disk, then
    /// renamed over `url` (POSIX `rename`), so a reader sees the old file or the new one, never a partial one.
    ///
    /// The bytes are those of `serialized()`: the same contents always give the same file.
    /// - Throws: `CheckpointError.unwritable` (a missing or read-only directory, a full disk).
    public func write(to url: URL) throws {
        let bytes = serialized()
        let directory = url.deletingLastPathComponent()
        let temporary = ResultFiles.temporaryURL(for: url)
        func failure(_ what: String) -> CheckpointError {
            .unwritable(url, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary.lastPathComponent)") }
        var closed = false
        var renamed = false
        defer {
            if !closed { close(descriptor) }
            if !renamed { unlink(temporary.path) }
        }
        try bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var written = 0
            while written < buffer.count {
                let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw failure("write failed")
                }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw failure("fsync failed") }
        closed = true
        guard close(descriptor) == 0 else { throw failure("close failed") }
        guard rename(temporary.path, url.path) == 0 else { throw failure("cannot rename the temporary file") }
        renamed = true
        ResultFiles.synchronizeDirectory(of: url)
    }

    /// The file's bytes: header length, header JSON, tensor data.
    ///
    /// The header is compact JSON with `__metadata__` first (omitted when there is none; its keys sorted by
    /// UTF-8 bytes), then one entry per tensor in `names` order, each with its keys sorted (`data_offsets`,
    /// `dtype`, `shape`), padded with spaces to a multiple of 8 bytes. Tensor data follows in `names` order,
    /// little-endian, row-major, back to back. Deterministic: the same contents give the same bytes.
    public func serialized() -> Data {
        var header = "{"
        var separator = ""
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            header += "\"__metadata__\":{"
            header += keys.map { jsonString($0) + ":" + jsonString(metadata[$0]!) }.joined(separator: ",")
            header += "}"
            separator = ","
        }
        var offset = 0
        for (name, tensor) in entries {
            let end = offset + tensor.count * tensor.dtype.byteSize
            header += separator + jsonString(name) + ":{\"data_offsets\":[\(offset),\(end)],"
                + "\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))]}"
            separator = ","
            offset = end
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        headerBytes += Array(repeating: UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8)

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for (_, tensor) in entries {
            switch tensor {
            case .float32(let tensor):
                #if _endian(little)
                tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
                #else
                appendLittleEndian(tensor.scalars.map(\.bitPattern), to: &data)
                #endif
            case .float64(let tensor):
                #if _endian(little)
                tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
                #else
                appendLittleEndian(tensor.scalars.map(\.bitPattern), to: &data)
                #endif
            case .int64(_, let values): appendLittleEndian(values, to: &data)
            case .uint8(_, let values): data.append(contentsOf: values)
            }
        }
        return data
    }
}

/// Appends `values` to `data` as little-endian bytes.
private func appendLittleEndian<Value: FixedWidthInteger>(_ values: [Value], to data: inout Data) {
    #if _endian(little)
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    #else
    values.map(\.littleEndian).withUnsafeBytes { data.append(contentsOf: $0) }
    #endif
}

/// `string` as a JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
func jsonString(_ string: String) -> String {
    var result = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}
