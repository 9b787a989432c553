import Foundation
import OccamAnalysis
import OccamData

/// What `occam curvature` measures: which checkpoint, on which images, which curvature matrix, and which of
/// its spectral quantities. Hashed into the run directory's name.
public struct CurvatureConfiguration: ExperimentConfiguration {
    public static let experimentName = "curvature"

    /// The checkpoint's absolute path, and a hash of its bytes (a rewritten file is a new measurement).
    public var checkpoint: String
    public var checkpointDigest: String
    /// The model's name ("lenet-300-100"), from the checkpoint's metadata or `--model`.
    public var model: String
    public var dataset: DataSetName
    public var split: DataSplit
    /// The first `samples` images of the split, in file order.
    public var samples: Int
    /// Whether the checkpoint's training run normalized its inputs (the same statistics are applied).
    public var normalize: Bool
    public var operatorKind: CurvatureKind
    public var parameters: ParameterSelection
    /// Whether a pruning mask stored in the checkpoint restricts the coordinates to its surviving weights.
    public var usesMask: Bool
    /// Lanczos: the `top` largest and `bottom` smallest eigenvalues, to a relative residual `tolerance`.
    public var top: Int
    public var bottom: Int
    public var tolerance: Double
    public var maxIterations: Int?
    /// Hutchinson and Hutch++ with this many operator products each; 0 skips the trace.
    public var traceProbes: Int
    /// Stochastic Lanczos quadrature: probes x steps products; 0 probes skips the density.
    public var densityProbes: Int
    public var densitySteps: Int
    /// The full spectrum from the dense matrix (LAPACK syevd); for up to `denseLimit` coordinates.
    public var dense: Bool
    public var batchSize: Int
    /// Fixes the Lanczos start, every probe vector and the Monte-Carlo Fisher's labels.
    public var seed: UInt64

    /// The largest subspace `dense` accepts: a 10,000 x 10,000 float64 matrix is 800 MB and its
    /// eigendecomposition takes minutes.
    public static let denseLimit = 10_000

    public init(
        checkpoint: String, checkpointDigest: String, model: String, dataset: DataSetName, split: DataSplit = .train,
        samples: Int = 1000, normalize: Bool = false, operatorKind: CurvatureKind = .hessian,
        parameters: ParameterSelection = .all, usesMask: Bool = true, top: Int = 10, bottom: Int = 0,
        tolerance: Double = 1e-6, maxIterations: Int? = nil, traceProbes: Int = 0, densityProbes: Int = 0,
        densitySteps: Int = 80, dense: Bool = false, batchSize: Int = 1000, seed: UInt64 = 0
    ) {
        (self.checkpoint, self.checkpointDigest, self.model, self.dataset) = (checkpoint, checkpointDigest, model, dataset)
        (self.split, self.samples, self.normalize, self.operatorKind) = (split, samples, normalize, operatorKind)
        (self.parameters, self.usesMask, self.top, self.bottom) = (parameters, usesMask, top, bottom)
        (self.tolerance, self.maxIterations, self.traceProbes) = (tolerance, maxIterations, traceProbes)
        (self.densityProbes, self.densitySteps, self.dense) = (densityProbes, densitySteps, dense)
        (self.batchSize, self.seed) = (batchSize, seed)
    }

    public var label: String { "\(model)-\(operatorKind.rawValue)" }

    /// Checks what can be checked without the data.
    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option.
    public func validate() throws {
        try ExperimentError.require(samples >= 1, "--samples must be at least 1")
        try ExperimentError.require(samples <= dataset.count(split), "--samples \(samples) exceeds the \(dataset.count(split)) images of the \(split) split")
        try ExperimentError.require(top >= 0 && bottom >= 0, "--top and --bottom must be 0 or more")
        try ExperimentError.require(
            top + bottom > 0 || traceProbes > 0 || densityProbes > 0 || dense,
            "nothing to measure: give --top, --bottom, --trace, --density or --dense")
        try ExperimentError.require(tolerance > 0 && tolerance < 1 && tolerance.isFinite, "--tolerance must be in (0, 1)")
        try ExperimentError.require(
            (maxIterations ?? Int.max) >= max(1, top + bottom),
            "--max-iterations must be at least --top + --bottom (\(top + bottom)): each step adds one pair")
        try ExperimentError.require(
            traceProbes == 0 || traceProbes >= 6,
            "--trace-probes must be at least 6 (Hutch++ spends a third on its sketch and needs two more for a standard error)")
        try ExperimentError.require(densityProbes >= 0, "--density-probes must be 0 or more")
        try ExperimentError.require(densitySteps >= 2, "--density-steps must be at least 2")
        try ExperimentError.require(batchSize >= 1, "--batch-size must be at least 1")
    }

    /// The checks that need the subspace's dimension.
    public func validate(dimension: Int) throws {
        try ExperimentError.require(
            !dense || dimension <= Self.denseLimit,
            "--dense needs at most \(Self.denseLimit) coordinates; this selection has \(dimension) (use --top/--density, or --parameters to measure fewer)")
        try ExperimentError.require(
            top + bottom <= dimension, "--top \(top) and --bottom \(bottom) ask for more eigenvalues than the \(dimension) coordinates have")
    }
}
