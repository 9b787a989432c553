import OccamData

/// The inputs the kernel sees.
public enum KernelFeatures: String, Codable, Sendable, CaseIterable {
    /// Pixels in [0, 1], flattened.
    case pixels
    /// The Gabor filter-bank transform of `GaborFeatures`.
    case gabor
}

/// `occam kernel`: exact kernel interpolation of one-hot labels (Zhang et al. 2017, Section 5).
///
/// For each training-set size n (a seeded subset; subsets of one seed are nested), the kernel machine
/// interpolates the true labels exactly; it is also fitted with each ridge of `ridges`, and, with
/// `randomLabels`, interpolates uniformly random labels to compare the norms of the two solutions.
public struct KernelConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "kernel"

    public var dataset: DataSetName = .fashionMNIST
    public var function = KernelFunction(kind: .gaussian, bandwidth: 5)
    public var features: KernelFeatures = .pixels
    public var trainSizes = [1_000, 2_000, 5_000, 10_000]
    /// Ridges λ fitted besides exact interpolation (λ = 0), on the true labels.
    public var ridges = [0.1]
    /// Also interpolate random labels.
    public var randomLabels = true
    /// Fixes the training subsets and the random labels.
    public var seed: UInt64 = 0

    public init() {}

    public var label: String { "\(function.kind.rawValue)-\(features.rawValue)-\(dataset.rawValue)" }

    /// Every fit, in the order they run: by size, then true labels interpolating, true labels with each
    /// ridge, random labels interpolating.
    public var fits: [KernelFitSpecification] {
        trainSizes.flatMap { n in
            [KernelFitSpecification(trainSize: n, labels: .true, ridge: 0)]
                + ridges.map { KernelFitSpecification(trainSize: n, labels: .true, ridge: $0) }
                + (randomLabels ? [KernelFitSpecification(trainSize: n, labels: .random, ridge: 0)] : [])
        }
    }

    public func validate(trainCount: Int) throws {
        try ExperimentError.require(trainCount >= 1, "the training set of \(dataset.displayName) is empty: check the data files")
        try ExperimentError.require(!trainSizes.isEmpty, "--train-sizes needs at least one size")
        try ExperimentError.require(
            trainSizes.allSatisfy { $0 >= 1 && $0 <= trainCount },
            "every --train-sizes value must be between 1 and \(trainCount), the training images of \(dataset.displayName)")
        try ExperimentError.require(Set(trainSizes).count == trainSizes.count && Set(ridges).count == ridges.count, "a --train-sizes or --ridge value is listed twice")
        try ExperimentError.require(ridges.allSatisfy { $0 > 0 && $0.isFinite }, "every --ridge must be a positive finite number (0, exact interpolation, is always fitted)")
        try ExperimentError.require(function.bandwidth > 0 && function.bandwidth.isFinite, "--bandwidth must be positive")
        try ExperimentError.require(function.degree >= 1, "--degree must be at least 1")
    }
}

/// Which labels a fit uses.
public enum KernelLabels: String, Codable, Sendable { case `true`, random }

/// One fit of a kernel study.
public struct KernelFitSpecification: Codable, Sendable, Hashable {
    public var trainSize: Int
    public var labels: KernelLabels
    /// 0: exact interpolation.
    public var ridge: Double

    /// The fit's directory under the run: "n-5000/true-labels/interpolate" or ".../ridge-0.1".
    public var path: String {
        "n-\(trainSize)/\(labels.rawValue)-labels/" + (ridge == 0 ? "interpolate" : "ridge-\(ridge)")
    }

    /// "n = 5000, true labels, ridge 0.1".
    public var name: String {
        "n = \(trainSize), \(labels.rawValue) labels, " + (ridge == 0 ? "interpolating" : "ridge \(ridge)")
    }
}
