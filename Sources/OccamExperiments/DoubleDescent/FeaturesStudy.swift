import Foundation
import OccamData
import OccamTensor

/// One feature draw's fit at a point of a random-features sweep.
public struct RandomFeatureFit: Codable, Sendable, Equatable {
    public var replicate: Int
    /// Zero-one error (fraction) on the clean test labels.
    public var testError: Double
    public var trainError: Double
    /// Mean over images of Σ_k (f_k(x) - y_k)² against one-hot labels.
    public var testSquaredLoss: Double
    public var trainSquaredLoss: Double
    /// ‖A‖_F of the coefficients `[N, classes]`.
    public var coefficientNorm: Double
    /// Singular values of φ(X) kept (above cutoff x largest).
    public var rank: Int
    /// The relative cutoff used.
    public var cutoff: Double
    public var largestSingularValue: Double
    /// The smallest singular value kept: how ill-conditioned the solve was.
    public var smallestKeptSingularValue: Double
    public var seconds: Double
}

/// The result file of one point: every replicate's fit, and the ensemble that averages their predictions.
public struct RandomFeaturePointRecord: Codable, Sendable, Equatable {
    public var point: RandomFeaturePoint
    public var precision: String
    public var fits: [RandomFeatureFit]
    /// Test error of the mean of the replicates' predictions.
    public var ensembleTestError: Double
    public var ensembleTestSquaredLoss: Double

    public var testError: Spread { Spread(fits.map(\.testError)) }
    public var trainError: Spread { Spread(fits.map(\.trainError)) }
    public var testSquaredLoss: Spread { Spread(fits.map(\.testSquaredLoss)) }
    public var trainSquaredLoss: Spread { Spread(fits.map(\.trainSquaredLoss)) }
    public var coefficientNorm: Spread { Spread(fits.map(\.coefficientNorm)) }
}

/// Runs a `DoubleDescentFeaturesConfiguration` in its run directory: `n-<n>/N-<N>.json` per point and
/// `n-<n>/training-indices.json` per training-set size. Points whose file exists are read back. Its units
/// (`UnitStudy`) are the points, in `configuration.points` order; the points of one size each write the same
/// training-indices.json.
public struct DoubleDescentFeaturesStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: DoubleDescentFeaturesConfiguration
    public var directory: URL
    /// The whole training set and the test set, pixels in [0, 1].
    public var train: LabeledImages<Scalar>
    public var test: LabeledImages<Scalar>
    /// Points fitted at once (fewer when their feature matrices would not fit in memory side by side). Every fit
    /// runs on single-threaded BLAS whatever this is, so results do not depend on it.
    public var jobs = 1

    public init(configuration: DoubleDescentFeaturesConfiguration, directory: URL, train: LabeledImages<Scalar>, test: LabeledImages<Scalar>) {
        (self.configuration, self.directory, self.train, self.test) = (configuration, directory, train, test)
    }

    /// Fits every point not yet done; returns every point's record in `configuration.points` order.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [RandomFeaturePointRecord] {
        try fitPoints(configuration.points, events: events)
    }

    /// "n = 1000, N = 100", ...: one unit per point of `configuration.points`.
    public var unitNames: [String] { configuration.points.map(\.name) }

    public func isFinished(unit: Int) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(configuration.points[unit].path).path)
    }

    /// Fits point `unit` of `configuration.points` unless its file exists.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws { _ = try fitPoints([configuration.points[unit]], events: events) }

    /// Fits each of `points` not yet done, up to `jobs` at once, each on single-threaded BLAS; their records size by
    /// size in `configuration.trainSizes` order.
    private func fitPoints(_ points: [RandomFeaturePoint], events: (StudyEvent) throws -> Void) throws -> [RandomFeaturePointRecord] {
        try configuration.validate(trainCount: train.count)
        try ExperimentError.require(test.count >= 1, "the test set of \(configuration.dataset.displayName) is empty, so there is no test error to measure: check the data files")
        // Before anything runs: the largest point's feature matrices (training and test features, and the
        // solver's copies) must fit in memory, or the allocation would stop the process without a message.
        let n = configuration.trainSizes.max() ?? 0, features = configuration.featureCounts.max() ?? 0
        let bytes = Double(n + test.count) * Double(features) * Double(MemoryLayout<Scalar>.size) * 3
        let available = Double(ProcessInfo.processInfo.physicalMemory) * 0.85
        try ExperimentError.require(
            bytes <= available,
            "n = \(n) with N = \(features) random features in \(Scalar.precisionName) needs about \(gigabytes(Int(min(bytes, 9e18)))) "
                + "for its feature matrices, more than the \(gigabytes(Int(available))) this machine can spare; use smaller --feature-counts")
        // At once only as many points as fit in memory beside each other.
        let concurrent = jobsFittingInMemory(jobs, bytesEach: bytes)
        var prepared: [Int: (images: LabeledImages<Scalar>, targets: Tensor<Scalar>)] = [:]
        var order: [RandomFeaturePoint] = []
        for n in configuration.trainSizes where points.contains(where: { $0.trainSize == n }) {
            let indices = trainingIndices(size: n)
            let images = train.subset(indices)
            prepared[n] = (images, Tensor<Scalar>.oneHot(images.labels, classes: train.classCount))
            try ResultFiles.prepareDirectory(directory.appendingPathComponent("n-\(n)"))
            try ResultFiles.writeJSON(indices, to: directory.appendingPathComponent("n-\(n)/training-indices.json"))
            order += points.filter { $0.trainSize == n }
        }
        let inputs = prepared
        // Side by side, the costliest fits (an SVD of n x N costs about n N min(n, N)) start first, so that no core
        // waits alone on the largest at the end; the records still come back in order.
        let sideBySide = min(concurrent, order.count) > 1
        let cost = { (p: RandomFeaturePoint) in Double(p.trainSize) * Double(p.featureCount) * Double(min(p.trainSize, p.featureCount)) }
        let schedule = sideBySide ? order.indices.sorted { a, b in (cost(order[a]), b) > (cost(order[b]), a) } : Array(order.indices)
        return try runStudyJobs(order: schedule, jobs: concurrent, events: events) { index, emit in
            let point = order[index]
            let url = directory.appendingPathComponent(point.path)
            if let record = try? RunStore.readJSON(RandomFeaturePointRecord.self, from: url) {
                try emit(.stageFinished(name: point.name, result: Self.describe(record), skipped: true))
                return record
            }
            try emit(.stageStarted(
                name: point.name,
                detail: "\(configuration.replicates) draws of \(point.featureCount) \(configuration.map.rawValue) features, \(Scalar.precisionName) SVD of \(point.trainSize) x \(point.featureCount)"))
            let data = inputs[point.trainSize]!
            // A draw's progress names no point, so it is shown only when one point runs at a time.
            let record = try fit(point, points: data.images, targets: data.targets, events: sideBySide ? { _ in } : emit)
            try ResultFiles.writeJSON(record, to: url)
            try emit(.stageFinished(name: point.name, result: Self.describe(record), skipped: false))
            return record
        }
    }

    /// The training images of size n, ascending (nested across sizes).
    public func trainingIndices(size: Int) -> [Int] {
        DataSubsets.subsetIndices(count: train.count, size: size, seed: configuration.seed)
    }

    /// The feature map of replicate `replicate` with `featureCount` features.
    public func featureMap(replicate: Int, featureCount: Int) -> RandomFeatureMap<Scalar> {
        RandomFeatureMap(
            kind: configuration.map, featureCount: featureCount, inputCount: train.images.shape[1], bandwidth: configuration.bandwidth,
            random: RandomGenerator(seed: configuration.seed).stream("features").stream(replicate))
    }

    private func fit(
        _ point: RandomFeaturePoint, points: LabeledImages<Scalar>, targets: Tensor<Scalar>, events: (StudyEvent) throws -> Void
    ) throws -> RandomFeaturePointRecord {
        let testTargets = Tensor<Scalar>.oneHot(test.labels, classes: test.classCount)
        let cutoff = configuration.cutoff.map { Scalar($0) }
            ?? Tensor<Scalar>.defaultCutoff(rows: point.trainSize, columns: point.featureCount)
        var fits: [RandomFeatureFit] = []
        var ensemble = PredictionAverage<Scalar>()
        for replicate in 0..<configuration.replicates {
            try events(.progress(phase: "draw \(replicate + 1) of \(configuration.replicates)", fraction: Double(replicate) / Double(configuration.replicates)))
            let clock = Date()
            let map = featureMap(replicate: replicate, featureCount: point.featureCount)
            let features = map.features(points.images)
            let solution = try features.leastSquares(targets, cutoff: cutoff)
            let coefficients = solution.solution
            let trainPredictions = Tensor.matmul(features, coefficients)
            let testPredictions = map.predictions(test.images, coefficients: coefficients)
            ensemble.add(testPredictions)
            let singularValues = solution.singularValues.scalars.map(Double.init)
            fits.append(RandomFeatureFit(
                replicate: replicate, testError: classificationError(testPredictions, labels: test.labels),
                trainError: classificationError(trainPredictions, labels: points.labels),
                testSquaredLoss: squaredLoss(testPredictions, testTargets), trainSquaredLoss: squaredLoss(trainPredictions, targets),
                coefficientNorm: Double(coefficients.norm()), rank: solution.rank, cutoff: Double(solution.cutoff),
                largestSingularValue: singularValues.first ?? 0,
                smallestKeptSingularValue: solution.rank > 0 ? singularValues[solution.rank - 1] : 0,
                seconds: Date().timeIntervalSince(clock)))
        }
        let mean = ensemble.mean!  // validate() requires at least one draw
        return RandomFeaturePointRecord(
            point: point, precision: Scalar.precisionName, fits: fits, ensembleTestError: classificationError(mean, labels: test.labels),
            ensembleTestSquaredLoss: squaredLoss(mean, testTargets))
    }

    /// Mean over rows of the squared distance between prediction and target rows.
    private func squaredLoss(_ predictions: Tensor<Scalar>, _ targets: Tensor<Scalar>) -> Double {
        Double((predictions - targets).squared().sum().scalar) / Double(max(targets.shape[0], 1))
    }

    static func describe(_ record: RandomFeaturePointRecord) -> String {
        // A spread of one value is undefined: say n = 1 instead of "± 0.00".
        let spread = record.testError.errorBar.map { String(format: " ± %.2f", 100 * $0) } ?? " (n = 1)"
        return String(format: "test error %.2f%%", 100 * record.testError.mean) + spread
            + String(format: ", squared loss %.3g, norm %.3g, train error %.2f%%, ensemble %.2f%%",
                     record.testSquaredLoss.mean, record.coefficientNorm.mean, 100 * record.trainError.mean, 100 * record.ensembleTestError)
    }
}
