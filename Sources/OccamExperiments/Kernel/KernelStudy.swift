import Foundation
import OccamData
import OccamTensor

/// result.json of one fit of a kernel study.
public struct KernelFitRecord: Codable, Sendable, Equatable {
    public var fit: KernelFitSpecification
    public var precision: String
    /// Added to the diagonal besides the ridge because K was numerically not positive definite (0: none).
    public var jitter: Double
    /// Cholesky factorizations tried (1 when no jitter was needed).
    public var factorizations: Int
    /// Test error (fraction) against the clean test labels.
    public var testError: Double
    /// Training error (fraction) against the labels fitted.
    public var trainError: Double
    /// ‖K A - Y‖_F / ‖Y‖_F with K built again from the data: the proof of interpolation (small when λ = 0).
    public var residualRelative: Double
    /// max |K A - Y|.
    public var residualMaximum: Double
    /// The RKHS norm of the fitted function, sqrt(trace(Aᵀ K A)).
    public var rkhsNorm: Double
    /// Bytes of the `[n, n]` kernel matrix.
    public var matrixBytes: Int
    /// The process's peak resident memory when the fit finished.
    public var peakResidentBytes: Int
    public var timings: KernelTimings
    /// Seconds to predict on the training and test images.
    public var predictSeconds: Double
}

/// Runs a `KernelConfiguration` in its run directory: one directory per fit with result.json (and, per
/// size, the training indices used). Fits whose result.json exists are read back. Its units (`UnitStudy`) are
/// the fits, in `configuration.fits` order; the fits of one size each write the same training-indices.json.
public struct KernelStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: KernelConfiguration
    public var directory: URL
    /// The whole training set and the test set, pixels in [0, 1].
    public var train: LabeledImages<Scalar>
    public var test: LabeledImages<Scalar>
    /// Memory the kernel matrix may take (default: 85% of the machine's).
    public var memoryLimit = Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.85)

    public init(configuration: KernelConfiguration, directory: URL, train: LabeledImages<Scalar>, test: LabeledImages<Scalar>) {
        (self.configuration, self.directory, self.train, self.test) = (configuration, directory, train, test)
    }

    /// Fits everything not yet done; returns every fit's record in `configuration.fits` order.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [KernelFitRecord] {
        try runFits(configuration.fits, events: events)
    }

    /// "n = 1000, true labels, interpolating", ...: one unit per fit of `configuration.fits`.
    public var unitNames: [String] { configuration.fits.map(\.name) }

    public func isFinished(unit: Int) -> Bool { FileManager.default.fileExists(atPath: resultURL(configuration.fits[unit]).path) }

    /// Fits `configuration.fits[unit]` unless its result.json exists.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws { _ = try runFits([configuration.fits[unit]], events: events) }

    /// Fits each of `fits` not yet done, in order; their records.
    private func runFits(_ fits: [KernelFitSpecification], events: (StudyEvent) throws -> Void) throws -> [KernelFitRecord] {
        try configuration.validate(trainCount: train.count)
        try ExperimentError.require(test.count >= 1, "the test set of \(configuration.dataset.displayName) is empty, so there is no test error to measure: check the data files")
        // Before anything runs: a study that cannot finish should not start (finished fits need no memory).
        for fit in fits where !FileManager.default.fileExists(atPath: resultURL(fit).path) {
            let bytes = KernelInterpolation<Scalar>.matrixBytes(points: fit.trainSize)
            let smaller = Scalar.self == Double.self ? "use --precision float32 (half the memory) or smaller --train-sizes" : "use smaller --train-sizes"
            try ExperimentError.require(
                bytes <= memoryLimit,
                "n = \(fit.trainSize) in \(Scalar.precisionName) needs a \(gigabytes(bytes)) kernel matrix, more than the \(gigabytes(memoryLimit)) "
                    + "this machine can spare; \(smaller)")
        }
        var inputs: (train: Tensor<Scalar>, test: Tensor<Scalar>)?
        var records: [KernelFitRecord] = []
        for fit in fits {
            let fitDirectory = directory.appendingPathComponent(fit.path)
            if let record = try? RunStore.readJSON(KernelFitRecord.self, from: resultURL(fit)) {
                try events(.stageFinished(name: fit.name, result: Self.describe(record), skipped: true))
                records.append(record)
                continue
            }
            try events(.stageStarted(
                name: fit.name,
                detail: "\(fit.trainSize) x \(fit.trainSize) \(Scalar.precisionName) kernel matrix, \(gigabytes(KernelInterpolation<Scalar>.matrixBytes(points: fit.trainSize)))"))
            if inputs == nil {
                try events(.progress(phase: "features", fraction: 0))
                inputs = kernelInputs()
            }
            let record = try solve(fit, inputs: inputs!, events: events)
            if let problem = nonFiniteValue(in: record) {
                throw ExperimentError.impossibleConfiguration(
                    "the fit \(fit.name) in \(Scalar.precisionName) gave a non-finite \(problem): the kernel matrix or its solution "
                        + "overflowed (\(configuration.function)); use --precision float64, a larger --bandwidth or a lower --degree")
            }
            try ResultFiles.prepareDirectory(fitDirectory)
            // Which training images, so that another solver can check the fit on the same ones.
            try ResultFiles.writeJSON(
                trainingSubset(fit).indices, to: directory.appendingPathComponent("n-\(fit.trainSize)/training-indices.json"))
            try ResultFiles.writeJSON(record, to: resultURL(fit))
            try events(.stageFinished(name: fit.name, result: Self.describe(record), skipped: false))
            records.append(record)
        }
        return records
    }

    private func resultURL(_ fit: KernelFitSpecification) -> URL {
        directory.appendingPathComponent(fit.path).appendingPathComponent("result.json")
    }

    /// The training indices of size n (nested across sizes) and the labels to fit there.
    public func trainingSubset(_ fit: KernelFitSpecification) -> (indices: [Int], labels: [Int]) {
        let indices = DataSubsets.subsetIndices(count: train.count, size: fit.trainSize, seed: configuration.seed)
        switch fit.labels {
        case .true:
            return (indices, indices.map { train.labels[$0] })
        case .random:
            // Drawn for the whole training set, so a smaller subset's random labels are a larger one's too.
            var random = RandomGenerator(seed: configuration.seed).stream("random-labels")
            let labels = (0..<train.count).map { _ in random.nextInt(below: train.classCount) }
            return (indices, indices.map { labels[$0] })
        }
    }

    private func solve(
        _ fit: KernelFitSpecification, inputs: (train: Tensor<Scalar>, test: Tensor<Scalar>), events: (StudyEvent) throws -> Void
    ) throws -> KernelFitRecord {
        let (indices, labels) = trainingSubset(fit)
        let points = inputs.train.gathering(indices, alongAxis: 0)
        let targets = Tensor<Scalar>.oneHot(labels, classes: train.classCount)
        let solver = KernelInterpolation<Scalar>(function: configuration.function, ridge: fit.ridge)
        let result = try solver.fit(inputs: points, targets: targets) { phase, fraction in
            switch phase {
            case .build: try? events(.progress(phase: "building K", fraction: fraction))
            case .factor: try? events(.progress(phase: "Cholesky", fraction: fraction))
            case .jitter(let order, let next):
                try? events(.progress(phase: "not positive definite at minor \(order); factoring again with jitter \(next)", fraction: 0))
            }
        }
        let clock = Date()
        let rows = KernelRows(configuration.function, points: points)
        let trainPredictions = rows.predictions(points, coefficients: result.coefficients) {
            try? events(.progress(phase: "predicting the training set", fraction: $0))
        }
        let testPredictions = rows.predictions(inputs.test, coefficients: result.coefficients) {
            try? events(.progress(phase: "predicting the test set", fraction: $0))
        }
        let residual = trainPredictions - targets
        return KernelFitRecord(
            fit: fit, precision: Scalar.precisionName, jitter: result.jitter, factorizations: result.attempts,
            testError: classificationError(testPredictions, labels: test.labels), trainError: classificationError(trainPredictions, labels: labels),
            residualRelative: Double(residual.norm()) / Double(targets.norm()),
            residualMaximum: Double(residual.abs().max()),
            rkhsNorm: Double((result.coefficients * trainPredictions).sum().scalar).squareRoot(),
            matrixBytes: KernelInterpolation<Scalar>.matrixBytes(points: fit.trainSize), peakResidentBytes: peakResidentBytes(),
            timings: result.timings, predictSeconds: Date().timeIntervalSince(clock))
    }

    /// The inputs the kernel sees for the training and test images: `[count, features]` each.
    public func kernelInputs() -> (train: Tensor<Scalar>, test: Tensor<Scalar>) {
        switch configuration.features {
        case .pixels:
            return (train.images, test.images)
        case .gabor:
            let (trainFeatures, testFeatures) = (GaborFeatures.responses(train), GaborFeatures.responses(test))
            let scale = GaborFeatures.scale(features: trainFeatures, pixels: train.images)
            return (trainFeatures * scale, testFeatures * scale)
        }
    }

    static func describe(_ record: KernelFitRecord) -> String {
        String(format: "test error %.2f%%, train error %.2f%%, residual %.1e, RKHS norm %.1f", 100 * record.testError,
               100 * record.trainError, record.residualRelative, record.rkhsNorm)
            + (record.jitter > 0 ? String(format: ", jitter %.1e", record.jitter) : "")
    }
}

/// "14.4 GB".
func gigabytes(_ bytes: Int) -> String {
    bytes >= 1 << 30 ? String(format: "%.1f GB", Double(bytes) / 1e9) : String(format: "%.0f MB", Double(bytes) / 1e6)
}

/// The process's peak resident set size in bytes (getrusage; Linux reports kilobytes).
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

/// The name of the first NaN or infinite number in `value`'s JSON encoding (its coding path, e.g.
/// "residualRelative"), or nil when every number is finite.
func nonFiniteValue<Value: Encodable>(in value: Value) -> String? {
    do {
        _ = try JSONEncoder().encode(value)
        return nil
    } catch EncodingError.invalidValue(let number, let context) {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return "\(path.isEmpty ? "value" : path) (\(number))"
    } catch {
        return nil
    }
}
