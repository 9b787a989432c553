import Foundation
import OccamTensor

/// CIFAR-10 (Krizhevsky, 2009): 32x32 RGB images in 10 classes, 50000 for training (five batches of 10000)
/// and 10000 for testing, in the "binary version" that unpacks to `cifar-10-batches-bin`.
///
/// Each batch file (`data_batch_1.bin` ... `data_batch_5.bin`, `test_batch.bin`) is a sequence of 3073-byte
/// records: one label byte in `0..<10`, then 3072 pixel bytes, the red plane, then green, then blue, each
/// 32 rows of 32 (CHW). Files may also be gzip-compressed (`data_batch_1.bin.gz`).
public enum CIFAR10 {
    /// The directory the binary archive unpacks to; Occam looks for it under `--data-dir` or `$OCCAM_DATA`.
    public static let directoryName = "cifar-10-batches-bin"
    /// Where to download the binary version.
    public static let downloadURL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    /// The class names, indexed by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
    /// Channels, height and width of one image.
    public static let imageShape = (channels: 3, height: 32, width: 32)
    /// Bytes in one image: 3 * 32 * 32.
    public static let pixelBytes = 3 * 32 * 32
    /// Bytes in one record: the label byte and the pixels.
    public static let recordBytes = 1 + pixelBytes
    /// Records in each batch file of the official release.
    public static let recordsPerFile = 10_000

    /// The batch files of a split, in order (without ".gz").
    public static func fileNames(_ split: DataSplit) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// Finds the directory holding every batch file of both splits (each gzip-compressed or not).
    ///
    /// Searched in order: with `directory`, `directory/cifar-10-batches-bin` then `directory` itself; without,
    /// `$OCCAM_DATA/cifar-10-batches-bin` and `$OCCAM_DATA` (when set).
    /// - Returns: the first directory that holds the set, or nil; and every directory searched, in order.
    public static func locate(
        directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (found: URL?, searched: [URL]) {
        let candidates = dataDirectoryCandidates(subdirectory: directoryName, directory: directory, environment: environment)
        let names = DataSplit.allCases.flatMap(fileNames)
        let found = candidates.first { candidate in names.allSatisfy { FashionMNIST.file($0, in: candidate) != nil } }
        return (found, candidates)
    }

    /// Reads one batch file: the labels and the pixel bytes of every record, in file order.
    ///
    /// - Parameter expectedRecords: the number of records the file must hold (nil accepts any positive number).
    /// - Returns: `n` labels in `0..<10` and `n * 3072` pixel bytes (record after record, CHW).
    /// - Throws: `DataSetError`: `.fileNotFound`, `.unreadable`, `.corruptCompressedStream`, `.truncated` (an
    ///   empty file), `.partialRecord` (a length that is not a whole number of records), `.unexpectedDimensions`
    ///   (not `expectedRecords` records), `.labelOutOfRange` (naming the record).
    public static func readBatch(_ url: URL, expectedRecords: Int? = nil) throws -> (labels: [UInt8], pixels: [UInt8]) {
        let stream = try GzipStream(url)
        defer { stream.close() }
        let bytes = try stream.read(count: Int.max)

        if bytes.isEmpty { throw DataSetError.truncated(url, expectedBytes: recordBytes, actualBytes: 0) }
        guard bytes.count % recordBytes == 0 else {
            throw DataSetError.partialRecord(url, recordBytes: recordBytes, fileBytes: bytes.count)
        }
        let n = bytes.count / recordBytes
        if let expectedRecords, n != expectedRecords {
            let shape = [imageShape.channels, imageShape.height, imageShape.width]
            throw DataSetError.unexpectedDimensions(url, expected: [expectedRecords] + shape, found: [n] + shape)
        }
        var labels = [UInt8](repeating: 0, count: n)
        var pixels = [UInt8](repeating: 0, count: n * pixelBytes)
        bytes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for record in 0..<n {
                    labels[record] = source[record * recordBytes]
                    UnsafeMutableRawPointer(target.baseAddress! + record * pixelBytes).copyMemory(
                        from: source.baseAddress! + record * recordBytes + 1, byteCount: pixelBytes)
                }
            }
        }
        if let index = labels.firstIndex(where: { Int($0) >= classNames.count }) {
            throw DataSetError.labelOutOfRange(url, index: index, label: Int(labels[index]), classCount: classNames.count)
        }
        return (labels, pixels)
    }
}

extension LabeledImages {
    /// Reads CIFAR-10 batch files and joins them in order: images `[n, 3072]` (CHW rows, 3 channels of 32x32,
    /// intensities byte / 255 in [0, 1]) and `n` labels in `0..<10`.
    ///
    /// - Parameters:
    ///   - expectedRecordsPerFile: the number of records each file must hold (nil accepts any).
    ///   - limit: keep only the first `limit` examples (all when nil); files past the limit are not read.
    /// - Throws: `DataSetError`: whatever `CIFAR10.readBatch` throws, naming the file.
    public init(cifarFiles files: [URL], expectedRecordsPerFile: Int? = nil, limit: Int? = nil) throws {
        precondition(limit.map { $0 >= 0 } ?? true, "LabeledImages.init(cifarFiles:): negative limit \(limit!)")
        var labels: [Int] = []
        var pixels: [UInt8] = []
        for file in files {
            if let limit, labels.count >= limit { break }
            let batch = try CIFAR10.readBatch(file, expectedRecords: expectedRecordsPerFile)
            let kept = min(batch.labels.count, (limit ?? Int.max) - labels.count)
            labels += batch.labels[0..<kept].map { Int($0) }
            pixels += batch.pixels[0..<(kept * CIFAR10.pixelBytes)]
        }
        let intensity = (0...255).map { Scalar($0) / 255 }
        let images = Tensor<Scalar>(shape: [labels.count, CIFAR10.pixelBytes]) { out, total in
            pixels.withUnsafeBufferPointer { bytes in
                for i in 0..<total { out[i] = intensity[Int(bytes[i])] }
            }
        }
        let shape = CIFAR10.imageShape
        self.init(
            images: images, labels: labels, channels: shape.channels, height: shape.height, width: shape.width,
            classCount: CIFAR10.classNames.count)
    }
}
