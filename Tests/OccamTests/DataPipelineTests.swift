import Foundation
import OccamData
import OccamTensor
import Testing

/// Data sets by name, the CIFAR-10 reader, validation splits and subsets, normalization, the batch sampler,
/// augmentation and the synthetic sets. Files are written byte by byte here; expected values come from
/// independent, naive computations in the tests.
@Suite final class DataPipelineTests {
    /// A fresh directory per test, removed afterwards.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("occam-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    // MARK: Helpers

    /// Writes `bytes` to `name` in `folder` (default: the test's directory), gzip-compressed as `name.gz` if asked.
    @discardableResult
    func write(_ bytes: [UInt8], _ name: String, in folder: URL? = nil, gzip: Bool = false) throws -> URL {
        try writeTestFile(bytes, name, in: folder ?? directory, gzip: gzip)
    }

    /// CIFAR-10 records: label byte, then 3072 pixel bytes given by `pixel(record, offset)`.
    static func cifarRecords(labels: [UInt8], pixel: (Int, Int) -> UInt8 = { r, i in UInt8((r * 7 + i * 13) % 256) })
        -> [UInt8]
    {
        labels.enumerated().flatMap { record, label in [label] + (0..<3072).map { pixel(record, $0) } }
    }

    /// An IDX file of unsigned bytes: magic, big-endian dimensions, data.
    static func idx(dimensions: [Int], data: [UInt8]) -> [UInt8] {
        func bigEndian(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        return bigEndian(0x800 | dimensions.count) + dimensions.flatMap(bigEndian) + data
    }

    /// A complete MNIST-format set (both splits, `n` examples each, 28x28) in `folder`; pixel = (i + label) % 256.
    func writeMNISTFormat(in folder: URL, n: Int, gzip: Bool) throws {
        for split in DataSplit.allCases {
            let names = FashionMNIST.fileNames(split)
            let labels = (0..<n).map { UInt8(($0 * 3) % 10) }
            let pixels = (0..<(n * 784)).map { UInt8(($0 + Int(labels[$0 / 784])) % 256) }
            try write(Self.idx(dimensions: [n, 28, 28], data: pixels), names.images, in: folder, gzip: gzip)
            try write(Self.idx(dimensions: [n], data: labels), names.labels, in: folder, gzip: gzip)
        }
    }

    /// A data set whose image `i` has every pixel of channel `c` equal to `i * 10 + c` (so a pixel names its
    /// example), with labels `i % classes`.
    static func identifiedSet(count: Int, channels: Int = 1, side: Int = 2, classes: Int = 3) -> LabeledImages<Double> {
        let plane = side * side
        let scalars = (0..<(count * channels * plane)).map { Double(($0 / (channels * plane)) * 10 + ($0 / plane) % channels) }
        return LabeledImages(
            images: Tensor(shape: [count, channels * plane], scalars: scalars), labels: (0..<count).map { $0 % classes },
            channels: channels, height: side, width: side, classCount: classes)
    }

    /// The example ids (first pixel / 10) of a set built by `identifiedSet`.
    static func ids(_ set: LabeledImages<Double>) -> [Int] {
        (0..<set.count).map { Int(set.images.scalars[$0 * set.featureCount] / 10) }
    }

    // MARK: CIFAR-10

    @Test func readsHandWrittenCIFARBatches() throws {
        let labels1: [UInt8] = [0, 9, 3], labels2: [UInt8] = [7, 7]
        let first = try write(Self.cifarRecords(labels: labels1), "data_batch_1.bin")
        let second = try write(
            Self.cifarRecords(labels: labels2, pixel: { r, i in UInt8((255 - i - r) & 0xFF) }), "data_batch_2.bin",
            gzip: true)
        let set = try LabeledImages<Float>(cifarFiles: [first, second])
        #expect(set.count == 5)
        #expect(set.labels == [0, 9, 3, 7, 7])
        #expect(set.channels == 3 && set.height == 32 && set.width == 32 && set.classCount == 10)
        #expect(set.images.shape == [5, 3072])
        let nchw = set.imagesNCHW
        #expect(nchw.shape == [5, 3, 32, 32])
        // Red plane first, row-major: record 1, green (c = 1), row 2, column 5 is byte 1024 + 64 + 5.
        #expect(nchw[1, 1, 2, 5] == Float((1 * 7 + (1024 + 2 * 32 + 5) * 13) % 256) / 255)
        #expect(nchw[4, 2, 31, 31] == Float((255 - 3071 - 1) & 0xFF) / 255)
        for i in [0, 1, 1000, 3071] {
            #expect(set.images[0, i] == Float((i * 13) % 256) / 255)
            #expect(set.images[3, i] == Float((255 - i) & 0xFF) / 255)
        }
        #expect(set.images.scalars.allSatisfy { (0...1).contains($0) })

        let limited = try LabeledImages<Double>(cifarFiles: [first, second], limit: 4)
        #expect(limited.labels == [0, 9, 3, 7])
        #expect(try LabeledImages<Double>(cifarFiles: [first, second], limit: 2).labels == [0, 9])
    }

    @Test func rejectsTruncatedAndCorruptCIFARFiles() throws {
        let whole = Self.cifarRecords(labels: [1, 2])
        let truncated = try write(Array(whole.dropLast(5)), "truncated.bin")
        let error = try #require(throws: DataSetError.self) { try CIFAR10.readBatch(truncated) }
        #expect(error == .partialRecord(truncated, recordBytes: 3073, fileBytes: 2 * 3073 - 5))
        #expect(error.description.contains(truncated.path))
        #expect(error.description.contains("truncated"))

        let empty = try write([], "empty.bin")
        #expect(throws: DataSetError.truncated(empty, expectedBytes: 3073, actualBytes: 0)) {
            try CIFAR10.readBatch(empty)
        }

        var badBytes = Self.cifarRecords(labels: [4, 5, 6])
        badBytes[2 * 3073] = 10
        let bad = try write(badBytes, "bad_label.bin", gzip: true)
        let labelError = try #require(throws: DataSetError.self) { try LabeledImages<Float>(cifarFiles: [bad]) }
        #expect(labelError == .labelOutOfRange(bad, index: 2, label: 10, classCount: 10))
        #expect(labelError.description.contains(bad.path))

        let short = try write(whole, "short.bin")
        #expect(throws: DataSetError.unexpectedDimensions(short, expected: [10_000, 3, 32, 32], found: [2, 3, 32, 32])) {
            try CIFAR10.readBatch(short, expectedRecords: 10_000)
        }
        let missing = directory.appendingPathComponent("nothing.bin")
        #expect(throws: DataSetError.fileNotFound(missing)) { try CIFAR10.readBatch(missing) }
    }

    // MARK: Data sets by name

    @Test func namesDataSets() {
        #expect(DataSetName.allCases.map(\.rawValue) == ["fashion-mnist", "mnist", "kmnist", "cifar10"])
        #expect(DataSetName(rawValue: "fashion-mnist") == .fashionMNIST)
        #expect(DataSetName.defaultDataSet == .fashionMNIST)
        #expect(DataSetName.cifar10.imageShape == (3, 32, 32))
        #expect(DataSetName.mnist.imageShape == (1, 28, 28))
        #expect(DataSetName.allCases.allSatisfy { $0.classCount == 10 })
        #expect(DataSetName.cifar10.count(.train) == 50_000 && DataSetName.kmnist.count(.train) == 60_000)
    }

    @Test func loadsMNISTAndKMNISTFromTheirDirectories() throws {
        try writeMNISTFormat(in: directory.appendingPathComponent("mnist"), n: 4, gzip: true)
        let train = try loadDataSet(.mnist, split: .train, directory: directory, environment: [:], as: Float.self)
        #expect(train.count == 4 && train.channels == 1 && train.height == 28 && train.width == 28)
        #expect(train.labels == [0, 3, 6, 9])
        #expect(train.images[1, 0] == Float((784 + 3) % 256) / 255)

        // KMNIST through $OCCAM_DATA, uncompressed; MNIST's files must not be taken for it.
        try writeMNISTFormat(in: directory.appendingPathComponent("kmnist"), n: 3, gzip: false)
        let test: LabeledImages<Double> = try loadDataSet(
            .kmnist, split: .test, limit: 2, environment: ["OCCAM_DATA": directory.path])
        #expect(test.count == 2 && test.labels == [0, 3])
        #expect(DataSetName.kmnist.locate(environment: ["OCCAM_DATA": directory.path]).found?.path
            == directory.appendingPathComponent("kmnist").path)
    }

    @Test func missingDataSetsSayWhereOccamLookedAndHowToGetThem() throws {
        for name in [DataSetName.mnist, .kmnist, .cifar10] {
            let error = try #require(throws: DataSetError.self) {
                try loadDataSet(name, split: .train, directory: directory, environment: [:], as: Float.self)
            }
            guard case .dataSetNotFound(_, let searched, let files, let subdirectory, let package) = error else {
                Issue.record("expected dataSetNotFound, got \(error)")
                continue
            }
            #expect(searched == [directory.appendingPathComponent(name.directoryName), directory])
            #expect(subdirectory == name.directoryName && package == nil)
            #expect(files.count == (name == .cifar10 ? 6 : 4))
            let text = error.description
            #expect(text.contains(name.displayName) && text.contains(directory.path))
            #expect(text.contains("--data-dir") && text.contains("http"))
        }
        let cifar = try #require(throws: DataSetError.self) {
            try loadDataSet(.cifar10, split: .test, environment: [:], as: Float.self)
        }
        #expect(cifar.description.contains(CIFAR10.downloadURL))
        #expect(cifar.description.contains("neither --data-dir nor OCCAM_DATA"))
    }

    @Test func locatesCIFARBatchesAndReportsAShortBatch() throws {
        let folder = directory.appendingPathComponent(CIFAR10.directoryName)
        for (index, name) in (CIFAR10.fileNames(.train) + CIFAR10.fileNames(.test)).enumerated() {
            try write(Self.cifarRecords(labels: [UInt8(index)]), name, in: folder, gzip: index == 2)
        }
        #expect(CIFAR10.locate(directory: directory, environment: [:]).found?.path == folder.path)
        let files = CIFAR10.fileNames(.train).map { name in
            [folder.appendingPathComponent(name), folder.appendingPathComponent(name + ".gz")]
                .first { FileManager.default.fileExists(atPath: $0.path) }!
        }
        #expect(try LabeledImages<Float>(cifarFiles: files).labels == [0, 1, 2, 3, 4])
        // The official batches hold 10000 records each: loading the set checks it, naming the file.
        let error = try #require(throws: DataSetError.self) {
            try loadDataSet(.cifar10, split: .test, directory: directory, environment: [:], as: Float.self)
        }
        #expect(error == .unexpectedDimensions(
            folder.appendingPathComponent("test_batch.bin"), expected: [10_000, 3, 32, 32], found: [1, 3, 32, 32]))
    }

    // MARK: Splits and subsets

    @Test func validationSplitIsDisjointCompleteAndSeeded() {
        let set = Self.identifiedSet(count: 60)
        let (train, validation) = set.holdingOut(validationCount: 5, seed: 7)
        #expect(train.count == 55 && validation.count == 5)
        let trainIDs = Self.ids(train), validationIDs = Self.ids(validation)
        #expect(Set(trainIDs).isDisjoint(with: validationIDs))
        #expect((trainIDs + validationIDs).sorted() == Array(0..<60))
        #expect(trainIDs == trainIDs.sorted() && validationIDs == validationIDs.sorted())
        #expect(train.labels == trainIDs.map { $0 % 3 })  // labels travel with their images

        let again = set.holdingOut(validationCount: 5, seed: 7)
        #expect(again.validation.images == validation.images && again.train.labels == train.labels)
        let other = set.holdingOut(validationCount: 5, seed: 8)
        #expect(Self.ids(other.validation) != validationIDs)
        // The choice is the "validation-split" stream's permutation, as documented.
        var stream = RandomGenerator(seed: 7).stream("validation-split")
        #expect(validationIDs == stream.permutation(60)[..<5].sorted())
        #expect(set.holdingOut(validationCount: 0, seed: 7).train.count == 60)
    }

    @Test func subsetsAreSeededAndNested() {
        let set = Self.identifiedSet(count: 40)
        let small = set.randomSubset(size: 10, seed: 3), large = set.randomSubset(size: 25, seed: 3)
        #expect(small.count == 10 && large.count == 25)
        let smallIDs = Self.ids(small)
        #expect(Set(smallIDs).count == 10 && Set(smallIDs).isSubset(of: Self.ids(large)))
        #expect(Self.ids(set.randomSubset(size: 10, seed: 3)) == smallIDs)
        #expect(Self.ids(set.randomSubset(size: 10, seed: 4)) != smallIDs)
        #expect(set.randomSubset(size: 100, seed: 3).count == 40)
        #expect(Self.ids(set.subset([5, 2, 5])) == [5, 2, 5])
        // Independent of the validation split's stream: same seed, different choice.
        #expect(DataSubsets.subsetIndices(count: 40, size: 10, seed: 3)
            != DataSubsets.validationIndices(count: 40, validationCount: 10, seed: 3).validation)
    }

    // MARK: Normalization

    @Test func normalizationStandardizesEachChannelOfTheTrainingSet() throws {
        var random = RandomGenerator(seed: 11)
        let n = 50, channels = 3, plane = 16
        // Channel c: uniform on [c, c + 1 + c] (mean c + (1 + c)/2, spread growing with c).
        var scalars: [Float] = []
        for _ in 0..<n {
            for c in 0..<channels {
                for _ in 0..<plane { scalars.append(Float(Double(c) + Double(1 + c) * random.nextUniform())) }
            }
        }
        let set = LabeledImages(
            images: Tensor(shape: [n, channels * plane], scalars: scalars), labels: Array(repeating: 0, count: n),
            channels: channels, height: 4, width: 4, classCount: 1)
        let normalization = ChannelNormalization.fitted(to: set)
        let normalized = normalization.applied(to: set)
        #expect(normalized.channels == 3 && normalized.images.shape == set.images.shape)
        for c in 0..<channels {
            // Naive statistics, one channel at a time.
            let original = (0..<n).flatMap { i in (0..<plane).map { Double(scalars[(i * channels + c) * plane + $0]) } }
            let mean = original.reduce(0, +) / Double(original.count)
            let variance = original.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(original.count)
            #expect(abs(normalization.mean[c] - mean) < 1e-9)
            #expect(abs(normalization.standardDeviation[c] - variance.squareRoot()) < 1e-9)

            let values = (0..<n).flatMap { i in
                (0..<plane).map { Double(normalized.images.scalars[(i * channels + c) * plane + $0]) }
            }
            let newMean = values.reduce(0, +) / Double(values.count)
            let newVariance = values.map { ($0 - newMean) * ($0 - newMean) }.reduce(0, +) / Double(values.count)
            #expect(abs(newMean) < 1e-5)
            #expect(abs(newVariance.squareRoot() - 1) < 1e-5)
        }
        // The stored statistics survive encoding and apply unchanged to another split.
        let decoded = try JSONDecoder().decode(
            ChannelNormalization.self, from: JSONEncoder().encode(normalization))
        #expect(decoded == normalization)
        let test = LabeledImages(
            images: Tensor(repeating: Float(2), shape: [1, channels * plane]), labels: [0], channels: channels,
            height: 4, width: 4, classCount: 1)
        let normalizedTest = decoded.applied(to: test)
        for c in 0..<channels {
            let expected = (2 - normalization.mean[c]) / normalization.standardDeviation[c]
            #expect(abs(Double(normalizedTest.images.scalars[c * plane]) - expected) < 1e-5)
        }
        // A constant channel is shifted, not divided by zero.
        let constant = ChannelNormalization.fitted(to: test)
        #expect(constant.standardDeviation == [0, 0, 0])
        #expect(constant.applied(to: test).images.scalars.allSatisfy { $0 == 0 })
    }

    // MARK: Prepared data

    @Test func preparedDataHoldsOutSubsetsAndNormalizesWithTrainingStatistics() throws {
        let full = Self.identifiedSet(count: 60, channels: 2)
        let test = Self.identifiedSet(count: 7, channels: 2)
        let configuration = DataConfiguration(validationCount: 10, trainSize: 20)
        let data = PreparedData(fullTrain: full, test: test, configuration: configuration, seed: 4)
        #expect(data.train.count == 20 && data.validation.count == 10 && data.test.count == 7)
        let normalization = try #require(data.normalization)
        // The validation set is the one held out without a subset, and the statistics are the subset's.
        let split = full.holdingOut(validationCount: 10, seed: 4)
        let trainRaw = split.train.randomSubset(size: 20, seed: 4)
        #expect(normalization == ChannelNormalization.fitted(to: trainRaw))
        #expect(data.train.images == normalization.applied(to: trainRaw).images)
        #expect(data.validation.images == normalization.applied(to: split.validation).images)
        #expect(data.test.images == normalization.applied(to: test).images)
        #expect(data.validation.labels == split.validation.labels)

        let raw = PreparedData(
            fullTrain: full, test: test, configuration: DataConfiguration(validationCount: 0, normalizes: false), seed: 4)
        #expect(raw.normalization == nil && raw.train.images == full.images && raw.validation.count == 0)

        let decoded = try JSONDecoder().decode(
            DataConfiguration.self, from: JSONEncoder().encode(DataConfiguration(dataSet: .cifar10, trainSize: 9)))
        #expect(decoded == DataConfiguration(dataSet: .cifar10, trainSize: 9))
    }

    @Test func preparedDataReportsImpossibleSizes() throws {
        try writeMNISTFormat(in: directory.appendingPathComponent("mnist"), n: 12, gzip: false)
        let tooMany = try #require(throws: DataSetError.self) {
            try PreparedData<Float>(
                DataConfiguration(dataSet: .mnist, validationCount: 12), seed: 0, directory: directory, environment: [:])
        }
        #expect(tooMany == .tooFewExamples(
            name: "MNIST", available: 12, requested: 12,
            purpose: "held out for validation with at least one left to train on"))
        let tooLarge = try #require(throws: DataSetError.self) {
            try PreparedData<Float>(
                DataConfiguration(dataSet: .mnist, validationCount: 2, trainSize: 11), seed: 0, directory: directory,
                environment: [:])
        }
        #expect(tooLarge.description.contains("--train-size"))
        let data = try PreparedData<Float>(
            DataConfiguration(dataSet: .mnist, validationCount: 2, trainSize: 10), seed: 0, directory: directory,
            environment: [:])
        #expect(data.train.count == 10 && data.validation.count == 2 && data.test.count == 12)
    }

    /// The real Fashion-MNIST from Debian's package, when installed: sizes, the default validation split, and
    /// the published statistics (mean 0.2860, standard deviation 0.3530 over all 60,000 training images).
    @Test(.enabled(if: FashionMNIST.locate(environment: [:]).found != nil))
    func preparesTheInstalledFashionMNIST() throws {
        let data = try PreparedData<Float>(DataConfiguration(), seed: 0, environment: [:])
        #expect(data.train.count == 55_000 && data.validation.count == 5_000 && data.test.count == 10_000)
        let normalization = try #require(data.normalization)
        #expect(abs(normalization.mean[0] - 0.2860) < 0.002)
        #expect(abs(normalization.standardDeviation[0] - 0.3530) < 0.002)
        let counts = (0..<10).map { label in data.validation.labels.filter { $0 == label }.count }
        #expect(counts.allSatisfy { (400...600).contains($0) })  // a uniform draw of 5,000 from a balanced set
    }

    // MARK: Batch sampler

    @Test func samplerVisitsEveryExampleOncePerEpoch() {
        var sampler = BatchSampler(count: 23, batchSize: 5, seed: 1)
        #expect(sampler.batchesPerEpoch == 5)
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            var seen: [Int] = []
            for batch in 0..<sampler.batchesPerEpoch {
                let indices = sampler.indices(at: BatchPosition(epoch: epoch, batch: batch))
                #expect(indices.count == (batch == 4 ? 3 : 5))  // the partial last batch is kept
                seen += indices
            }
            #expect(seen.sorted() == Array(0..<23))
            #expect(seen == sampler.order(epoch: epoch))
            orders.append(seen)
        }
        #expect(orders[0] != orders[1] && orders[1] != orders[2])
        #expect(orders[0] != Array(0..<23))

        var dropping = BatchSampler(count: 23, batchSize: 5, seed: 1, dropsLastPartialBatch: true)
        #expect(dropping.batchesPerEpoch == 4)
        #expect((0..<4).allSatisfy { dropping.indices(at: BatchPosition(epoch: 0, batch: $0)).count == 5 })
        #expect(dropping.order(epoch: 0) == orders[0])
    }

    @Test func samplerIsDeterministicAndResumesExactly() throws {
        var first = BatchSampler(count: 17, batchSize: 4, seed: 42)
        var position = BatchPosition.start
        var drawn: [[Int]] = []
        var saved = position
        for step in 0..<20 {
            if step == 7 { saved = position }
            drawn.append(first.indices(at: position))
            position = first.position(after: position)
        }
        #expect(position == BatchPosition(epoch: 4, batch: 0))  // 5 batches per epoch

        // A run resumed from the saved position (through JSON, as a checkpoint stores it) draws the same batches.
        let restored = try JSONDecoder().decode(BatchPosition.self, from: JSONEncoder().encode(saved))
        #expect(restored == BatchPosition(epoch: 1, batch: 2))
        var resumed = BatchSampler(count: 17, batchSize: 4, seed: 42)
        var resumedPosition = restored
        for step in 7..<20 {
            #expect(resumed.indices(at: resumedPosition) == drawn[step])
            resumedPosition = resumed.position(after: resumedPosition)
        }
        // An epoch's order does not depend on what was drawn before it.
        var fresh = BatchSampler(count: 17, batchSize: 4, seed: 42)
        #expect(fresh.indices(at: BatchPosition(epoch: 3, batch: 1)) == drawn[16])
        var otherSeed = BatchSampler(count: 17, batchSize: 4, seed: 43)
        #expect(otherSeed.indices(at: .start) != drawn[0])

        #expect(first.position(ofIteration: 13) == BatchPosition(epoch: 2, batch: 3))
        #expect((0..<30).allSatisfy { first.iteration(of: first.position(ofIteration: $0)) == $0 })
        #expect(BatchPosition(epoch: 1, batch: 4) < BatchPosition(epoch: 2, batch: 0))
    }

    @Test func loaderGathersRowsAndResumesWithAugmentation() {
        let set = Self.identifiedSet(count: 11, channels: 2, side: 3)
        var loader = BatchLoader(set, batchSize: 4, seed: 5)
        #expect(loader.batchesPerEpoch == 3)
        var sampler = BatchSampler(count: 11, batchSize: 4, seed: 5)
        for batch in 0..<3 {
            let position = BatchPosition(epoch: 1, batch: batch)
            let (inputs, labels) = loader.batch(at: position)
            let indices = sampler.indices(at: position)
            #expect(inputs.shape == [indices.count, 18])
            #expect(inputs == set.images.gathering(indices, alongAxis: 0))
            #expect(labels == indices.map { set.labels[$0] })
        }

        var augmented = BatchLoader(set, batchSize: 4, seed: 5, augmentation: .standardCIFAR)
        var sequence: [Tensor<Double>] = []
        var position = BatchPosition.start
        for _ in 0..<7 {
            sequence.append(augmented.batch(at: position).inputs)
            position = augmented.sampler.position(after: position)
        }
        var resumed = BatchLoader(set, batchSize: 4, seed: 5, augmentation: .standardCIFAR)
        #expect(resumed.batch(at: BatchPosition(epoch: 1, batch: 2)).inputs == sequence[5])
        #expect(resumed.batch(at: BatchPosition(epoch: 2, batch: 0)).inputs == sequence[6])
        #expect((0..<7).contains { sequence[$0] != loaderBatch(set, batch: $0) })  // augmentation did something
    }

    /// The unaugmented batch at iteration `batch` of a loader over `set` (batch size 4, seed 5).
    private func loaderBatch(_ set: LabeledImages<Double>, batch: Int) -> Tensor<Double> {
        var loader = BatchLoader(set, batchSize: 4, seed: 5)
        return loader.batch(at: loader.sampler.position(ofIteration: batch)).inputs
    }

    // MARK: Augmentation

    /// An independent reference: pad with zeros, take the window, mirror if asked.
    static func referenceTransform(
        _ image: [Double], channels: Int, height: Int, width: Int, padding p: Int, choice: ImageAugmentation.Choice
    ) -> [Double] {
        var result: [Double] = []
        for c in 0..<channels {
            let paddedWidth = width + 2 * p
            var padded = [Double](repeating: 0, count: (height + 2 * p) * paddedWidth)
            for y in 0..<height {
                for x in 0..<width { padded[(y + p) * paddedWidth + x + p] = image[(c * height + y) * width + x] }
            }
            for y in 0..<height {
                let row = (0..<width).map { x in padded[(y + choice.row) * paddedWidth + x + choice.column] }
                result += choice.flip ? row.reversed() : row
            }
        }
        return result
    }

    @Test func cropAndFlipMatchPaddingByHand() {
        let channels = 2, height = 3, width = 4, p = 2
        let image = (0..<(channels * height * width)).map { Double($0 + 1) }
        let tensor = Tensor(shape: [1, channels * height * width], scalars: image)
        func apply(_ choice: ImageAugmentation.Choice, to input: Tensor<Double> = tensor) -> Tensor<Double> {
            ImageAugmentation.transformed(input, channels: channels, height: height, width: width, padding: p, choices: [choice])
        }
        // The centred crop is the identity; a flip twice is the identity.
        #expect(apply(.init(row: p, column: p, flip: false)) == tensor)
        let flipped = apply(.init(row: p, column: p, flip: true))
        #expect(flipped != tensor)
        #expect(flipped.scalars[0..<4] == [4, 3, 2, 1])
        #expect(apply(.init(row: p, column: p, flip: true), to: flipped) == tensor)
        // The top-left window shifts the image down and right by the padding, with zeros coming in.
        let corner = apply(.init(row: 0, column: 0, flip: false))
        #expect(corner.scalars[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2])
        // Every offset and flip agrees with the reference.
        for row in 0...(2 * p) {
            for column in 0...(2 * p) {
                for flip in [false, true] {
                    let choice = ImageAugmentation.Choice(row: row, column: column, flip: flip)
                    #expect(apply(choice).scalars == Self.referenceTransform(
                        image, channels: channels, height: height, width: width, padding: p, choice: choice))
                }
            }
        }
    }

    @Test func augmentationChoicesStayWithinThePaddingAndAreSeeded() {
        let augmentation = ImageAugmentation.standardCIFAR
        let choices = (0..<2000).map { augmentation.choice(example: $0, epoch: 3, seed: 9) }
        #expect(Set(choices.map(\.row)) == Set(0...8) && Set(choices.map(\.column)) == Set(0...8))
        let flips = choices.filter(\.flip).count
        #expect(flips > 900 && flips < 1100)
        #expect(choices == (0..<2000).map { augmentation.choice(example: $0, epoch: 3, seed: 9) })
        #expect(choices != (0..<2000).map { augmentation.choice(example: $0, epoch: 4, seed: 9) })
        #expect(ImageAugmentation.none.choice(example: 1, epoch: 0, seed: 0) == .init(row: 0, column: 0, flip: false))
        let flipOnly = ImageAugmentation(horizontalFlip: true).choice(example: 1, epoch: 0, seed: 0)
        #expect(flipOnly.row == 0 && flipOnly.column == 0)

        // Applied to a batch: example i of the batch uses data-set example `examples[i]`'s choice.
        let set = Self.identifiedSet(count: 3, channels: 1, side: 4)
        let out = augmentation.applied(
            to: set.images, channels: 1, height: 4, width: 4, examples: [7, 8, 9], epoch: 2, seed: 1)
        for i in 0..<3 {
            let choice = augmentation.choice(example: 7 + i, epoch: 2, seed: 1)
            let row = Array(set.images.scalars[(i * 16)..<((i + 1) * 16)])
            #expect(Array(out.scalars[(i * 16)..<((i + 1) * 16)]) == Self.referenceTransform(
                row, channels: 1, height: 4, width: 4, padding: 4, choice: choice))
        }
    }

    // MARK: Synthetic sets

    @Test func gaussianBlobsAreSeparatedAndSeeded() {
        let (data, centers) = SyntheticClassification.gaussianBlobs(
            count: 300, classCount: 3, dimensions: 5, separation: 10, seed: 2, as: Double.self)
        #expect(data.images.shape == [300, 5] && centers.shape == [3, 5])
        #expect(data.labels == (0..<300).map { $0 % 3 })
        for k in 0..<3 {
            let norm = (0..<5).map { centers[k, $0] * centers[k, $0] }.reduce(0, +).squareRoot()
            #expect(abs(norm - 10) < 1e-9)
        }
        // Well separated: the nearest centre is the label for nearly every point.
        var correct = 0
        for i in 0..<300 {
            let distances = (0..<3).map { k in (0..<5).map { pow(data.images[i, $0] - centers[k, $0], 2) }.reduce(0, +) }
            if distances.firstIndex(of: distances.min()!) == data.labels[i] { correct += 1 }
        }
        #expect(correct >= 295)
        let again = SyntheticClassification.gaussianBlobs(
            count: 300, classCount: 3, dimensions: 5, separation: 10, seed: 2, as: Double.self)
        #expect(again.data.images == data.images)
        let fewer = SyntheticClassification.gaussianBlobs(
            count: 30, classCount: 3, dimensions: 5, separation: 10, seed: 2, as: Double.self)
        #expect(fewer.data.images.scalars == Array(data.images.scalars[0..<150]))
        let other = SyntheticClassification.gaussianBlobs(
            count: 300, classCount: 3, dimensions: 5, separation: 10, seed: 3, as: Double.self)
        #expect(other.data.images != data.images)
    }

    @Test func teacherStudentLabelsAreTheTeachersArgmax() {
        let (data, teacher) = SyntheticClassification.teacherStudent(
            count: 200, classCount: 4, dimensions: 6, hiddenWidth: 8, seed: 5, as: Double.self)
        #expect(data.images.shape == [200, 6] && data.classCount == 4)
        #expect(teacher.w1.shape == [8, 6] && teacher.w2.shape == [4, 8])
        // Independently: outputs = relu(X W1^T) W2^T through the tensor library's matrix products.
        let hidden = Tensor<Double>.matmul(data.images, teacher.w1, transposeB: true)
        let relu = Tensor(shape: hidden.shape, scalars: hidden.scalars.map { max($0, 0) })
        let outputs = Tensor<Double>.matmul(relu, teacher.w2, transposeB: true)
        #expect(outputs.argmax(alongAxis: 1) == data.labels)
        #expect(Set(data.labels).count >= 2)

        let float = SyntheticClassification.teacherStudent(
            count: 200, classCount: 4, dimensions: 6, hiddenWidth: 8, seed: 5, as: Float.self)
        #expect(float.data.labels == data.labels)  // computed in Double either way
        let fewer = SyntheticClassification.teacherStudent(
            count: 50, classCount: 4, dimensions: 6, hiddenWidth: 8, seed: 5, as: Double.self)
        #expect(fewer.teacher.w1 == teacher.w1 && fewer.data.labels == Array(data.labels[0..<50]))
        let other = SyntheticClassification.teacherStudent(
            count: 200, classCount: 4, dimensions: 6, hiddenWidth: 8, seed: 6, as: Double.self)
        #expect(other.teacher.w1 != teacher.w1)
    }
}
