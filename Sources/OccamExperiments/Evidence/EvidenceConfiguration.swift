import Foundation
import OccamAnalysis
import OccamData

/// What `occam evidence` measures: which checkpoint, on which images, over which parameters, and how
/// (`CurvatureSummaryOptions`: curvature matrix, eigenvalues, trace, prior). Hashed into the run directory's name.
public struct EvidenceConfiguration: ExperimentConfiguration {
    public static let experimentName = "evidence"

    /// The checkpoint's absolute path, and a hash of its bytes.
    public var checkpoint: String
    public var checkpointDigest: String
    public var model: String
    public var dataset: DataSetName
    public var split: DataSplit
    /// The first `samples` images of the split, in file order: the data D of p(D).
    public var samples: Int
    /// Whether the checkpoint's training run normalized its inputs (the same statistics are applied).
    public var normalize: Bool
    /// The coordinates the prior covers and the curvature is measured over (the others are held fixed).
    public var parameters: ParameterSelection
    /// Whether a pruning mask stored in the checkpoint restricts the coordinates to its surviving weights.
    public var usesMask: Bool
    public var curvature: CurvatureSummaryOptions
    public var batchSize: Int

    public init(
        checkpoint: String, checkpointDigest: String, model: String, dataset: DataSetName, split: DataSplit = .train,
        samples: Int = 1000, normalize: Bool = false, parameters: ParameterSelection = .all, usesMask: Bool = true,
        curvature: CurvatureSummaryOptions = CurvatureSummaryOptions(), batchSize: Int = 1000
    ) {
        (self.checkpoint, self.checkpointDigest, self.model, self.dataset, self.split) = (checkpoint, checkpointDigest, model, dataset, split)
        (self.samples, self.normalize, self.parameters, self.usesMask) = (samples, normalize, parameters, usesMask)
        (self.curvature, self.batchSize) = (curvature, batchSize)
    }

    public var label: String { "\(model)-\(curvature.operatorKind.rawValue)" }

    /// Checks what can be checked without the data.
    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option.
    public func validate() throws {
        try ExperimentError.require(samples >= 1, "--samples must be at least 1")
        try ExperimentError.require(
            samples <= dataset.count(split), "--samples \(samples) exceeds the \(dataset.count(split)) images of the \(split) split")
        try ExperimentError.require(batchSize >= 1, "--batch-size must be at least 1")
        try curvature.validate()
    }
}
