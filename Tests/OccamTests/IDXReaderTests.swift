import Foundation
import OccamData
import OccamTensor
import Testing

/// IDX files are built byte by byte here (big-endian header written out by hand) and compressed with the
/// system's gzip, so the reader is checked against an independent encoder.
@Suite final class IDXReaderTests {
    /// A fresh directory per test, removed afterwards.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("occam-idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    // MARK: Helpers

    /// An IDX file: magic, big-endian dimensions, then `data`.
    static func idx(magic: UInt32, dimensions: [Int], data: [UInt8]) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        return bigEndian(magic) + dimensions.flatMap { bigEndian(UInt32(truncatingIfNeeded: $0)) } + data
    }

    /// Writes `bytes` to `name` in the test's directory, gzip-compressed (as `name.gz`) if asked.
    @discardableResult
    func write(_ bytes: [UInt8], _ name: String, gzip: Bool = false, in subdirectory: URL? = nil) throws -> URL {
        try writeTestFile(bytes, name, in: subdirectory ?? directory, gzip: gzip)
    }

    /// The error that reading `url` throws.
    func readError(_ url: URL, rank: Int? = nil) throws -> DataSetError {
        try #require(throws: DataSetError.self) { try IDXReader.read(url, rank: rank) }
    }

    /// Bytes from a fixed linear congruential sequence (incompressible enough to exercise deflate).
    static func pseudoRandomBytes(_ count: Int, modulo: Int = 256) -> [UInt8] {
        var state: UInt32 = 12345
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(Int(state >> 16) % modulo)
        }
    }

    /// A Fashion-MNIST-shaped pair of files for `split` with `n` examples, in `folder`.
    func writeSplit(_ split: DataSplit, n: Int, in folder: URL, labels: [UInt8]? = nil, gzip: Bool = false) throws {
        let names = FashionMNIST.fileNames(split)
        let images = Self.idx(magic: 0x803, dimensions: [n, 28, 28], data: Self.pseudoRandomBytes(n * 784))
        try write(images, names.images, gzip: gzip, in: folder)
        let labels = labels ?? (0..<n).map { UInt8($0 % 10) }
        try write(Self.idx(magic: 0x801, dimensions: [labels.count], data: labels), names.labels, gzip: gzip, in: folder)
    }

    // MARK: Reading

    @Test func roundTripsRawAndGzipFiles() throws {
        let labels: [UInt8] = [3, 1, 4, 1, 5, 9, 2, 6]
        let pixels = (0..<24).map { UInt8($0 * 11) }
        for gzip in [false, true] {
            let labelsURL = try write(Self.idx(magic: 0x801, dimensions: [8], data: labels), "l\(gzip)", gzip: gzip)
            let imagesURL = try write(
                Self.idx(magic: 0x803, dimensions: [2, 3, 4], data: pixels), "i\(gzip)", gzip: gzip)
            #expect(try IDXReader.read(labelsURL, rank: 1) == IDXFile(dimensions: [8], bytes: labels))
            #expect(try IDXReader.read(imagesURL, rank: 3) == IDXFile(dimensions: [2, 3, 4], bytes: pixels))
            #expect(try IDXReader.read(imagesURL).dimensions == [2, 3, 4])
        }
        let big = Self.pseudoRandomBytes(3 * 100 * 50)  // larger than one read chunk of zlib's buffer
        let url = try write(Self.idx(magic: 0x803, dimensions: [3, 100, 50], data: big), "big", gzip: true)
        #expect(try IDXReader.read(url).bytes == big)
    }

    @Test func reportsAMissingFile() throws {
        let url = directory.appendingPathComponent("absent-idx1-ubyte.gz")
        let error = try readError(url)
        #expect(error == .fileNotFound(url))
        #expect(error.description.contains(url.path))

        let installed = FashionMNIST.systemDirectory.appendingPathComponent("no-such-idx1-ubyte.gz")
        let reinstall = try readError(installed).description
        #expect(reinstall.contains("apt-get install --reinstall dataset-fashion-mnist"))
    }

    @Test func reportsTruncatedData() throws {
        let data = Self.idx(magic: 0x801, dimensions: [10], data: [1, 2, 3, 4, 5, 6, 7])
        for gzip in [false, true] {
            let url = try write(data, "short\(gzip)", gzip: gzip)
            let error = try readError(url, rank: 1)
            #expect(error == .truncated(url, expectedBytes: 18, actualBytes: 15))
            #expect(error.description.contains("18") && error.description.contains("15"))
        }
        let header = try write(Array(data[0..<6]), "header")
        #expect(try readError(header) == .truncated(header, expectedBytes: 8, actualBytes: 6))
        let empty = try write([], "empty")
        #expect(try readError(empty) == .truncated(empty, expectedBytes: 4, actualBytes: 0))
    }

    @Test func reportsTrailingBytes() throws {
        let url = try write(Self.idx(magic: 0x801, dimensions: [2], data: [1, 2, 3, 4, 5]), "long", gzip: true)
        #expect(try readError(url) == .trailingBytes(url, expectedBytes: 10, extraBytes: 3))
    }

    @Test func reportsAWrongMagicNumber() throws {
        let html = try write(Array("<!DOCTYPE html><html></html>".utf8), "page")
        let error = try readError(html, rank: 1)
        #expect(error == .wrongMagic(html, found: 0x3C21_444F, expected: 0x801))
        #expect(error.description.contains("0x3C21444F") && error.description.contains("HTML"))

        let images = try write(Self.idx(magic: 0x803, dimensions: [1, 1, 1], data: [0]), "images")
        #expect(try readError(images, rank: 1) == .wrongMagic(images, found: 0x803, expected: 0x801))

        let floats = try write(Self.idx(magic: 0xD01, dimensions: [1], data: [0, 0, 0, 0]), "floats")
        #expect(try readError(floats) == .unsupportedDataType(floats, code: 0x0D))

        let negative = try write(Self.idx(magic: 0x801, dimensions: [-1], data: []), "negative")
        guard case .invalidHeader = try readError(negative) else { Issue.record("negative dimension accepted"); return }
    }

    @Test func reportsACorruptGzipStream() throws {
        let data = Self.idx(magic: 0x801, dimensions: [3000], data: Self.pseudoRandomBytes(3000, modulo: 10))
        let original = try Array(Data(contentsOf: write(data, "labels", gzip: true)))

        // The CRC-32 in the gzip trailer: the data decompresses, the check fails.
        var badChecksum = original
        badChecksum[badChecksum.count - 8] ^= 0xFF
        let crc = try write(badChecksum, "crc.gz")
        #expect(try readError(crc) == .corruptCompressedStream(crc, message: "incorrect data check"))

        // A compressed stream cut short.
        let cut = try write(Array(original[0..<(original.count / 2)]), "cut.gz")
        #expect(try readError(cut) == .corruptCompressedStream(cut, message: "unexpected end of file"))

        // Damage inside the deflate data.
        var damaged = original
        for i in stride(from: 20, to: 40, by: 1) { damaged[i] = ~damaged[i] }
        let mid = try write(damaged, "damaged.gz")
        let error = try readError(mid)
        guard case .corruptCompressedStream(_, let message) = error else {
            Issue.record("expected a corrupt stream, got \(error)")
            return
        }
        #expect(!message.isEmpty && error.description.contains("gzip stream is corrupt"))
    }

    // MARK: Loading labeled images

    @Test func loadsPixelsAsIntensitiesInTheUnitInterval() throws {
        let pixels: [UInt8] = [0, 1, 127, 128, 254, 255] + Self.pseudoRandomBytes(2 * 3 * 2 - 6)
        let imagesURL = try write(Self.idx(magic: 0x803, dimensions: [2, 3, 2], data: pixels), "i", gzip: true)
        let labelsURL = try write(Self.idx(magic: 0x801, dimensions: [2], data: [7, 0]), "l")
        let set = try LabeledImages<Double>(imagesFile: imagesURL, labelsFile: labelsURL, classCount: 10)
        #expect(set.images.shape == [2, 6])
        #expect(set.images.scalars == pixels.map { Double($0) / 255 })
        #expect(set.labels == [7, 0] && set.height == 3 && set.width == 2 && set.count == 2)

        let first = try LabeledImages<Float>(imagesFile: imagesURL, labelsFile: labelsURL, classCount: 10, limit: 1)
        #expect(first.images.shape == [1, 6] && first.labels == [7])
        #expect(first.images.scalars == pixels[0..<6].map { Float($0) / 255 })
    }

    @Test func rejectsALabelOutOfRange() throws {
        try writeSplit(.test, n: 4, in: directory, labels: [0, 9, 10, 3])
        try writeSplit(.train, n: 1, in: directory)
        let labelsURL = directory.appendingPathComponent(FashionMNIST.fileNames(.test).labels)
        let error = try #require(throws: DataSetError.self) {
            try loadFashionMNIST(split: .test, directory: directory, as: Float.self)
        }
        #expect(error == .labelOutOfRange(labelsURL, index: 2, label: 10, classCount: 10))
    }

    @Test func rejectsImagesAndLabelsOfDifferentCounts() throws {
        let names = FashionMNIST.fileNames(.train)
        let blank = [UInt8](repeating: 0, count: 3 * 784)
        let images = try write(Self.idx(magic: 0x803, dimensions: [3, 28, 28], data: blank), names.images)
        let labels = try write(Self.idx(magic: 0x801, dimensions: [2], data: [1, 2]), names.labels)
        try writeSplit(.test, n: 1, in: directory)
        let error = try #require(throws: DataSetError.self) {
            try loadFashionMNIST(split: .train, directory: directory, as: Float.self)
        }
        #expect(error == .countMismatch(images: images, imageCount: 3, labels: labels, labelCount: 2))
    }

    @Test func rejectsImagesThatAreNot28By28() throws {
        let names = FashionMNIST.fileNames(.test)
        let blank = [UInt8](repeating: 0, count: 25)
        let images = try write(Self.idx(magic: 0x803, dimensions: [1, 5, 5], data: blank), names.images)
        try write(Self.idx(magic: 0x801, dimensions: [1], data: [1]), names.labels)
        try writeSplit(.train, n: 1, in: directory)
        let error = try #require(throws: DataSetError.self) {
            try loadFashionMNIST(split: .test, directory: directory, as: Double.self)
        }
        #expect(error == .unexpectedDimensions(images, expected: [1, 28, 28], found: [1, 5, 5]))
    }

    // MARK: Locating Fashion-MNIST

    @Test func locatesTheSetUnderOccamData() throws {
        let folder = directory.appendingPathComponent("fashion-mnist")
        try writeSplit(.train, n: 3, in: folder, gzip: true)
        try writeSplit(.test, n: 2, in: folder)  // uncompressed
        let location = FashionMNIST.locate(environment: ["OCCAM_DATA": directory.path])
        #expect(location.found?.path == folder.path)
        #expect(location.searched.map(\.path) == [folder.path, directory.path, FashionMNIST.systemDirectory.path])

        let test: LabeledImages<Float> = try loadFashionMNIST(split: .test, directory: directory)
        #expect(test.count == 2 && test.images.shape == [2, 784] && test.labels == [0, 1])
        let train = try loadFashionMNIST(split: .train, limit: 2, directory: folder, as: Float.self)
        #expect(train.count == 2 && train.height == 28 && train.width == 28 && train.classCount == 10)
    }

    @Test func explainsWhereItLookedWhenTheSetIsMissing() throws {
        try writeSplit(.test, n: 1, in: directory)  // half a set is not a set
        let location = FashionMNIST.locate(directory: directory)
        #expect(location.found == nil)
        let expected = [directory, directory.appendingPathComponent("fashion-mnist")]
        #expect(location.searched.map(\.path) == expected.map(\.path))
        let error = try #require(throws: DataSetError.self) {
            try loadFashionMNIST(split: .test, directory: directory, as: Float.self)
        }
        guard case .dataSetNotFound(_, let searched, _, _, _) = error else {
            Issue.record("expected dataSetNotFound, got \(error)")
            return
        }
        #expect(searched == location.searched)
        let text = error.description
        #expect(text.contains(directory.path) && text.contains("train-images-idx3-ubyte.gz"))
        #expect(text.contains("apt-get install dataset-fashion-mnist") && text.contains("OCCAM_DATA"))
        #expect(text.contains("--data-dir"))
    }

    // MARK: The real data set, where Debian's dataset-fashion-mnist is installed

    static let systemSetInstalled = FileManager.default.fileExists(
        atPath: FashionMNIST.systemDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path)

    @Test(.enabled(if: systemSetInstalled, "needs apt-get install dataset-fashion-mnist"))
    func loadsTheInstalledFashionMNIST() throws {
        let found = FashionMNIST.locate(environment: [:]).found
        #expect(found?.path == FashionMNIST.systemDirectory.path)
        let test = try loadFashionMNIST(split: .test, directory: found, as: Float.self)
        #expect(test.count == 10000 && test.images.shape == [10000, 784])
        #expect(Array(test.labels.prefix(10)) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])  // 9: ankle boot
        #expect((0..<10).allSatisfy { label in test.labels.filter { $0 == label }.count == 1000 })
        #expect(test.images.scalars.min() == 0 && test.images.scalars.max() == 1)
        // The first test image's pixel bytes sum to 33456 (read independently with Python's gzip module).
        let firstSum = test.images.scalars[0..<784].reduce(0) { $0 + Double($1) * 255 }
        #expect(abs(firstSum - 33456) < 1e-2)

        let train = try loadFashionMNIST(split: .train, limit: 5, directory: found, as: Double.self)
        #expect(train.labels == [9, 0, 0, 3, 0] && train.images.shape == [5, 784])
        let trainLabelsURL = FashionMNIST.systemDirectory.appendingPathComponent("train-labels-idx1-ubyte.gz")
        let trainLabels = try IDXReader.read(trainLabelsURL, rank: 1)
        #expect(trainLabels.dimensions == [60000])
    }
}
