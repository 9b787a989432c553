import CZlib
import Foundation

/// The contents of an IDX file (the format of MNIST, Fashion-MNIST and KMNIST) whose elements are bytes.
public struct IDXFile: Sendable, Equatable {
    /// The extent of each axis, outermost first: `[n]` for labels, `[n, rows, columns]` for images.
    public let dimensions: [Int]
    /// The elements in row-major order; `bytes.count` is the product of `dimensions`.
    public let bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(
            bytes.count == dimensions.reduce(1, *),
            "IDXFile.init: \(bytes.count) bytes do not fill dimensions \(dimensions)")
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reads IDX files, gzip-compressed or not (zlib tells them apart).
///
/// Layout: a big-endian magic number `0x0000TTRR` (`TT` the element type, 0x08 for unsigned bytes; `RR` the
/// rank), then `RR` big-endian Int32 dimensions, then the elements in row-major order, and nothing else.
public enum IDXReader {
    /// The magic number of an IDX file of unsigned bytes with `rank` axes: 0x00000801 for labels,
    /// 0x00000803 for images.
    public static func magic(rank: Int) -> UInt32 { 0x0800 | UInt32(rank) }

    /// Reads the IDX file at `url`, checking that its header and length agree.
    ///
    /// - Parameter rank: the number of axes the file must have (1 for labels, 3 for images); nil accepts any.
    /// - Throws: `DataSetError`: `.fileNotFound`, `.unreadable`, `.wrongMagic` (including a wrong rank),
    ///   `.unsupportedDataType` (elements other than unsigned bytes), `.invalidHeader`, `.truncated`,
    ///   `.trailingBytes`, `.corruptCompressedStream`.
    public static func read(_ url: URL, rank: Int? = nil) throws -> IDXFile {
        let stream = try GzipStream(url)
        defer { stream.close() }

        let magicBytes = try stream.read(count: 4)
        guard magicBytes.count == 4 else {
            throw DataSetError.truncated(url, expectedBytes: 4, actualBytes: magicBytes.count)
        }
        let magic = bigEndianUInt32(magicBytes[...])
        let expected = rank.map(magic(rank:))
        guard magic >> 16 == 0 else { throw DataSetError.wrongMagic(url, found: magic, expected: expected) }
        let elementType = UInt8((magic >> 8) & 0xFF)
        guard elementType == 0x08 else {
            // The other element types IDX defines: Int8, Int16, Int32, Float32, Float64.
            if [0x09, 0x0B, 0x0C, 0x0D, 0x0E].contains(elementType) {
                throw DataSetError.unsupportedDataType(url, code: elementType)
            }
            throw DataSetError.wrongMagic(url, found: magic, expected: expected)
        }
        if let expected, magic != expected { throw DataSetError.wrongMagic(url, found: magic, expected: expected) }

        let fileRank = Int(magic & 0xFF)
        let headerSize = 4 + 4 * fileRank
        let dimensionBytes = try stream.read(count: 4 * fileRank)
        guard dimensionBytes.count == 4 * fileRank else {
            throw DataSetError.truncated(url, expectedBytes: headerSize, actualBytes: 4 + dimensionBytes.count)
        }
        let dimensions = (0..<fileRank).map { axis in
            Int(Int32(bitPattern: bigEndianUInt32(dimensionBytes[(4 * axis)..<(4 * axis + 4)])))
        }
        if let negative = dimensions.first(where: { $0 < 0 }) {
            throw DataSetError.invalidHeader(url, reason: "negative dimension \(negative) in \(dimensions)")
        }
        var count = 1
        for extent in dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            if overflow { throw DataSetError.invalidHeader(url, reason: "dimensions \(dimensions) are too large") }
            count = product
        }

        let bytes = try stream.read(count: count)
        guard bytes.count == count else {
            throw DataSetError.truncated(url, expectedBytes: headerSize + count, actualBytes: headerSize + bytes.count)
        }
        // Reading to the end also makes zlib check the gzip trailer's CRC and length.
        let extra = try stream.countRemainingBytes()
        if extra > 0 { throw DataSetError.trailingBytes(url, expectedBytes: headerSize + count, extraBytes: extra) }
        return IDXFile(dimensions: dimensions, bytes: bytes)
    }

    private static func bigEndianUInt32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// A file read through zlib's gz* interface: gzip streams are decompressed, other files read as they are.
/// (Also used by the CIFAR-10 reader.)
struct GzipStream {
    let url: URL
    let file: gzFile

    /// Opens `url`. Throws `.fileNotFound`, or `.unreadable` for a directory or a file that cannot be opened.
    init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataSetError.fileNotFound(url)
        }
        if isDirectory.boolValue { throw DataSetError.unreadable(url, reason: "it is a directory") }
        guard let file = gzopen(url.path, "rb") else {
            throw DataSetError.unreadable(url, reason: String(cString: strerror(errno)))
        }
        gzbuffer(file, 1 << 17)
        self.url = url
        self.file = file
    }

    func close() { gzclose(file) }

    /// Up to `count` bytes; fewer only at the end of the data.
    /// Throws `.corruptCompressedStream` or `.unreadable` on zlib's errors.
    func read(count: Int) throws -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(count, 1 << 26))  // a corrupt header must not reserve terabytes
        var chunk = [UInt8](repeating: 0, count: min(count, 1 << 20))
        while bytes.count < count {
            let wanted = min(chunk.count, count - bytes.count)
            let got = Int(chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(wanted)) })
            if got < 0 { try throwError() }
            bytes.append(contentsOf: chunk[0..<got])
            if got < wanted { break }
        }
        if bytes.count < count { try throwErrorIfAny() }  // a gzip stream cut short reads short, then errs
        return bytes
    }

    /// Reads to the end and returns how many bytes were left.
    func countRemainingBytes() throws -> Int {
        var total = 0
        while true {
            let got = try read(count: 1 << 20).count
            total += got
            if got < 1 << 20 { return total }
        }
    }

    private func throwErrorIfAny() throws {
        var code: Int32 = Z_OK
        _ = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END { try throwError() }
    }

    private func throwError() throws -> Never {
        var code: Int32 = Z_OK
        var message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
        if message.hasPrefix(url.path + ": ") { message.removeFirst(url.path.count + 2) }  // zlib prefixes the path
        if code == Z_ERRNO { throw DataSetError.unreadable(url, reason: message) }
        throw DataSetError.corruptCompressedStream(url, message: message)
    }
}
