import Foundation
import OccamData
import OccamTensor

extension SafeTensorsFile {
    /// The largest header accepted (as the Rust safetensors library): a larger one means a corrupt file.
    static let maximumHeaderLength = 100_000_000

    /// Reads and validates the safetensors file at `url`. Tensors come in the order of their data in the file
    /// (zero-size tensors at the same offset: by name).
    ///
    /// Every length and offset is checked against the file's size before it is used, so a corrupt file gives
    /// an error, never a crash or a huge allocation.
    /// - Throws: `CheckpointError`: `.fileNotFound`, `.unreadable`, `.tooShort`, `.headerLengthExceedsFile`,
    ///   `.invalidHeader` (not UTF-8 JSON, not an object, a malformed entry), `.unknownDType`, `.sizeMismatch`,
    ///   `.offsetsNotContiguous` (gaps or overlaps), `.truncated`, `.trailingBytes`.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw CheckpointError.fileNotFound(url)
        }
        if isDirectory.boolValue { throw CheckpointError.unreadable(url, reason: "it is a directory") }
        let bytes: Data
        do {
            // Mapped, not copied: a large checkpoint costs address space, not memory, until read.
            bytes = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw CheckpointError.unreadable(url, reason: ResultFileError.reason(error))
        }
        return try bytes.withUnsafeBytes { try parse(UnsafeRawBufferPointer($0), source: url) }
    }

    /// Parses a whole file's bytes; `source` names it in errors.
    static func parse(_ bytes: UnsafeRawBufferPointer, source url: URL) throws -> SafeTensorsFile {
        guard bytes.count >= 8 else { throw CheckpointError.tooShort(url, byteCount: bytes.count) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw CheckpointError.headerLengthExceedsFile(url, headerLength: headerLength, fileSize: bytes.count)
        }
        let headerCount = Int(headerLength)
        guard headerCount <= maximumHeaderLength else {
            throw CheckpointError.invalidHeader(url, reason: "its length, \(headerCount) bytes, exceeds 100 MB")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerCount)])
        let entries = try parseHeader(headerBytes, url: url)
        var file = SafeTensorsFile(metadata: entries.metadata)
        file.source = url

        // Offsets must tile the data buffer exactly: sorted by offset, each tensor starts where the last ended.
        let data = UnsafeRawBufferPointer(rebasing: bytes[(8 + headerCount)...])
        let ordered = entries.tensors.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expectedBegin = 0
        for entry in ordered {
            guard entry.begin == expectedBegin else {
                throw CheckpointError.offsetsNotContiguous(
                    url, name: entry.name, begin: entry.begin, expectedBegin: expectedBegin)
            }
            expectedBegin = entry.end
        }
        if expectedBegin > data.count {
            throw CheckpointError.truncated(url, expectedBytes: expectedBegin, actualBytes: data.count)
        }
        if expectedBegin < data.count {
            throw CheckpointError.trailingBytes(url, expectedBytes: expectedBegin, extraBytes: data.count - expectedBegin)
        }

        for entry in ordered {
            let slice = UnsafeRawBufferPointer(rebasing: data[entry.begin..<entry.end])
            let tensor: StoredTensor
            switch entry.dtype {
            case .float32:
                tensor = .float32(Tensor(shape: entry.shape, scalars: loadFloats(slice)))
            case .float64:
                tensor = .float64(Tensor(shape: entry.shape, scalars: loadFloats(slice)))
            case .int64:
                tensor = .int64(shape: entry.shape, values: loadLittleEndian(Int64.self, slice))
            case .uint8:
                tensor = .uint8(shape: entry.shape, values: Array(slice.bindMemory(to: UInt8.self)))
            }
            file.insert(tensor, named: entry.name)
        }
        return file
    }

    /// One tensor's header entry, validated: its byte range matches its shape and dtype.
    struct HeaderEntry {
        var name: String
        var dtype: StoredTensor.DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// The metadata and tensor entries of a header.
    static func parseHeader(
        _ header: UnsafeRawBufferPointer, url: URL
    ) throws -> (metadata: [String: String], tensors: [HeaderEntry]) {
        func invalid(_ reason: String) -> CheckpointError { .invalidHeader(url, reason: reason) }
        guard header.first == UInt8(ascii: "{") else {
            throw invalid(header.isEmpty ? "it is empty" : "it does not start with '{'")
        }
        let headerData = Data(header)
        guard String(data: headerData, encoding: .utf8) != nil else { throw invalid("it is not valid UTF-8") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw invalid("it is not JSON")
        }
        guard let dictionary = object as? [String: Any] else { throw invalid("it is not a JSON object") }

        var metadata: [String: String] = [:]
        if let raw = dictionary["__metadata__"] {
            guard let strings = raw as? [String: Any] else { throw invalid("__metadata__ is not an object") }
            for (key, value) in strings {
                guard let string = value as? String else { throw invalid("__metadata__ value \(key) is not a string") }
                metadata[key] = string
            }
        }

        var tensors: [HeaderEntry] = []
        for (name, raw) in dictionary where name != "__metadata__" {
            guard let fields = raw as? [String: Any] else { throw invalid("entry \(name) is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw invalid("entry \(name) has no dtype string") }
            guard let shape = integers(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw invalid("entry \(name) has no shape of non-negative integers")
            }
            guard let offsets = integers(fields["data_offsets"]), offsets.count == 2, offsets[0] >= 0,
                offsets[0] <= offsets[1]
            else { throw invalid("entry \(name) has no data_offsets [begin, end] with 0 <= begin <= end") }
            guard let dtype = StoredTensor.DType(rawValue: dtypeName) else {
                throw CheckpointError.unknownDType(url, name: name, dtype: dtypeName)
            }
            let byteCount = offsets[1] - offsets[0]
            var expected: Int? = dtype.byteSize
            for extent in shape { expected = expected.flatMap { multiplied($0, extent) } }
            guard expected == byteCount else {
                throw CheckpointError.sizeMismatch(
                    url, name: name, dtype: dtypeName, shape: shape, byteCount: byteCount)
            }
            tensors.append(HeaderEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        return (metadata, tensors)
    }
}

/// `a * b`, or nil on overflow.
private func multiplied(_ a: Int, _ b: Int) -> Int? {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? nil : product
}

/// A JSON array of integers as `[Int]`; nil if it is not one (or a number does not fit an Int exactly).
private func integers(_ value: Any?) -> [Int]? {
    guard let array = value as? [Any] else { return nil }
    var result: [Int] = []
    for element in array {
        guard let number = element as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double == double.rounded(), abs(double) < 9.0e15, let integer = Int(exactly: number.int64Value),
            Double(integer) == double
        else { return nil }
        result.append(integer)
    }
    return result
}

/// The little-endian IEEE 754 elements of `bytes` (whose count is a multiple of the element size), bit for bit.
private func loadFloats<Value: BinaryFloatingPoint>(_ bytes: UnsafeRawBufferPointer) -> [Value]
where Value.RawSignificand: FixedWidthInteger {
    #if _endian(little)
    let count = bytes.count / MemoryLayout<Value>.size
    return [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes) }
        initialized = count
    }
    #else
    if Value.self == Float.self { return loadLittleEndian(UInt32.self, bytes).map { Float(bitPattern: $0) as! Value } }
    return loadLittleEndian(UInt64.self, bytes).map { Double(bitPattern: $0) as! Value }
    #endif
}

/// The little-endian elements of `bytes` (whose count is a multiple of the element size).
private func loadLittleEndian<Value: FixedWidthInteger>(_: Value.Type, _ bytes: UnsafeRawBufferPointer) -> [Value] {
    let count = bytes.count / MemoryLayout<Value>.size
    return [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes) }
        #if _endian(big)
        for index in 0..<count { buffer[index] = Value(littleEndian: buffer[index]) }
        #endif
        initialized = count
    }
}
