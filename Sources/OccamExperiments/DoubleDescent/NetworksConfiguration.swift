import OccamData
import OccamNN
import OccamTensor

/// `occam double-descent networks`: test error against width with label noise (Nakkiran et al. 2020;
/// Belkin et al. 2019 for the one-hidden-layer MLP).
///
/// For each replicate r (seed `training.seed + r`: its own training subset, label noise, initialization and
/// data order) and each width, a network trains for `training.steps` on a training set where a fraction
/// `labelNoise` of the labels is replaced by a random *other* class (`corrupt-incorrect:p`), evaluated at
/// log-spaced steps on the noisy training set, the clean test set and the test set with labels corrupted the
/// same way. Model-wise double descent reads the final errors across widths; epoch-wise double descent reads
/// each width's test error over training.
public struct DoubleDescentNetworksConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "double-descent-networks"

    /// The recipe of every run; its `widths` (mlp) or `width` (mcnn, resnet-20) is set per point.
    public var training: TrainingConfiguration
    public var widths: [Int]
    /// p of `corrupt-incorrect:p` on the training labels.
    public var labelNoise = 0.2
    public var replicates = 3
    /// The curvature measured on every final network (`--curvature`); nil: none (and absent from the hash).
    public var curvature: SweepCurvature?

    public init(training: TrainingConfiguration = Self.defaultTraining, widths: [Int] = Self.defaultWidths) {
        (self.training, self.widths) = (training, widths)
    }

    /// The CPU-scale recipe: MLP 784-H-10 on 4,000 images (Belkin's n), Adam 1e-3 at a constant rate (Nakkiran
    /// trains with Adam at a constant rate), batch 128, cross-entropy, pixels in [0, 1], no validation split,
    /// 300 epochs, evaluated 8 times per decade of steps.
    public static var defaultTraining: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = "mlp"
        c.widths = [64]
        c.trainSize = 4_000
        c.validationCount = 0
        c.batchSize = 128
        c.optimizer = OptimizerConfiguration(kind: .adam, learningRate: 1e-3)
        c.steps = TrainingDuration(epochs: 300)
        c.evaluationsPerDecade = 8
        return c
    }

    /// Hidden widths around the MLP's interpolation threshold at 4,000 images (n x classes parameters at H ≈ 50).
    public static let defaultWidths = [2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256, 512]

    /// The models whose size one integer sets.
    public static let models = ["mlp", "mcnn", "resnet-20"]

    public var label: String { "\(training.model)-\(training.dataset.rawValue)" }

    /// The label noise applied to the training set.
    public var condition: RandomizationCondition {
        labelNoise == 0 ? RandomizationCondition(.trueLabels) : RandomizationCondition(.corruptIncorrect, probability: labelNoise)
    }

    /// The seed of replicate `replicate`.
    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// The recipe at `width`, for replicate `replicate`.
    public func training(width: Int, replicate: Int) -> TrainingConfiguration {
        var c = training
        if c.model == "mlp" { c.widths = [width] } else { c.width = width }
        c.seed = seed(ofReplicate: replicate)
        return c
    }

    /// Every run, in the order of the results: by replicate, then by width.
    public var runs: [NetworkWidthRun] {
        (0..<replicates).flatMap { replicate in widths.map { NetworkWidthRun(replicate: replicate, width: $0) } }
    }

    public func validate() throws {
        try ExperimentError.require(
            Self.models.contains(training.model),
            "--model \(training.model) has no single width to sweep; use \(Self.models.joined(separator: ", ")) (mlp: one hidden layer of each width)")
        try ExperimentError.require(!widths.isEmpty && widths.allSatisfy { $0 >= 1 }, "--widths needs positive widths")
        try ExperimentError.require(Set(widths).count == widths.count, "a --widths value is listed twice")
        try ExperimentError.require((0..<1).contains(labelNoise), "--label-noise must be at least 0 and below 1")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        try ExperimentError.require(training.evaluationsPerDecade.map { $0 >= 1 } ?? true, "--evaluations-per-decade must be at least 1")
        try curvature?.validate(trainCount: training.trainSize ?? (training.dataset.count(.train) - training.validationCount))
        // Every run's own training configuration (the widest decides the memory).
        if let widest = widths.max() { try training(width: widest, replicate: 0).validate() }
    }
}

/// One training run of a width sweep.
public struct NetworkWidthRun: Codable, Sendable, Hashable {
    public var replicate: Int
    public var width: Int

    /// "replicate-0/width-64": the run's directory under the study.
    public var path: String { "replicate-\(replicate)/width-\(width)" }

    /// "replicate 0 · width 64".
    public var name: String { "replicate \(replicate) · width \(width)" }
}
