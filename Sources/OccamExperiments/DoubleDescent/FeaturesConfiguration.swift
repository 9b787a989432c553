import OccamData

/// `occam double-descent features`: minimum-norm least squares on random features (Belkin et al. 2019).
///
/// For every training-set size n (a seeded subset of the training images; smaller subsets lie inside
/// larger ones) and every feature count N, and for each replicate (its own feature draw), the coefficients
/// A `[N, classes]` minimize ‖A‖ among the minimizers of ‖φ(X) A - Y‖ for one-hot Y: the least-squares fit
/// when N < n, an interpolating fit of least norm when N ≥ n. They come from the SVD of φ(X), with
/// singular values at or below `cutoff` times the largest treated as zero: the cutoff decides how high the
/// peak at N = n gets, so it is recorded with every fit.
///
/// Model-wise: one n, a sweep over N. Sample-wise: one N, a sweep over n. (Any grid of both works; the
/// report puts on its x axis whichever varies.)
public struct DoubleDescentFeaturesConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "double-descent-features"

    public var dataset: DataSetName = .fashionMNIST
    public var map: RandomFeatureKind = .fourier
    /// σ of the directions v ~ N(0, σ⁻² I).
    public var bandwidth = 5.0
    public var trainSizes = [1_000]
    public var featureCounts = Self.modelWiseFeatureCounts
    /// Feature draws per point; their predictions are also averaged (the ensemble).
    public var replicates = 3
    /// The relative cutoff of the SVD; nil: max(n, N) times the epsilon of the precision the study runs in
    /// (NumPy's lstsq default).
    public var cutoff: Double?
    /// Fixes the training subsets (`seed`) and the feature draws (replicate r: stream "features" / r).
    public var seed: UInt64 = 0

    public init() {}

    /// 17 feature counts around n = 1,000: the classical U, the threshold and the second descent up to 10 n.
    public static let modelWiseFeatureCounts = [50, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000, 1_100, 1_200, 1_500, 2_000, 5_000, 10_000]
    /// 17 training-set sizes around N = 1,000.
    public static let sampleWiseTrainSizes = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000, 1_100, 1_200, 1_500, 2_000, 3_000, 5_000, 10_000]

    /// Whether the sweep is over N (model-wise) rather than over n (sample-wise): the report's x axis. A grid
    /// of several of both is model-wise, with one line per n.
    public var isModelWise: Bool { featureCounts.count > 1 || trainSizes.count == 1 }

    public var label: String { "\(map.rawValue)-\(isModelWise ? "model-wise" : "sample-wise")-\(dataset.rawValue)" }

    /// Every (n, N) point, in the order they run: by n, then by N.
    public var points: [RandomFeaturePoint] {
        trainSizes.flatMap { n in featureCounts.map { RandomFeaturePoint(trainSize: n, featureCount: $0) } }
    }

    public func validate(trainCount: Int) throws {
        try ExperimentError.require(trainCount >= 1, "the training set of \(dataset.displayName) is empty: check the data files")
        try ExperimentError.require(!trainSizes.isEmpty && !featureCounts.isEmpty, "--train-sizes and --feature-counts need at least one value each")
        try ExperimentError.require(
            trainSizes.allSatisfy { $0 >= 1 && $0 <= trainCount },
            "every --train-sizes value must be between 1 and \(trainCount), the training images of \(dataset.displayName)")
        try ExperimentError.require(featureCounts.allSatisfy { $0 >= 1 }, "every --feature-counts value must be at least 1")
        try ExperimentError.require(
            Set(trainSizes).count == trainSizes.count && Set(featureCounts).count == featureCounts.count,
            "a --train-sizes or --feature-counts value is listed twice")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        try ExperimentError.require(bandwidth > 0 && bandwidth.isFinite, "--bandwidth must be positive")
        try ExperimentError.require(cutoff.map { $0 >= 0 && $0 < 1 } ?? true, "--cutoff must be at least 0 and below 1 (a fraction of the largest singular value)")
    }
}

/// One point of a random-features sweep: n training images, N features.
public struct RandomFeaturePoint: Codable, Sendable, Hashable {
    public var trainSize: Int
    public var featureCount: Int

    public init(trainSize: Int, featureCount: Int) { (self.trainSize, self.featureCount) = (trainSize, featureCount) }

    /// "n-1000/N-400.json": the point's result file under the run.
    public var path: String { "n-\(trainSize)/N-\(featureCount).json" }

    /// "n = 1000, N = 400".
    public var name: String { "n = \(trainSize), N = \(featureCount)" }
}
