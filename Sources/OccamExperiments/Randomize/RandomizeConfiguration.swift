import OccamData
import OccamNN

/// An explicit regularizer of Zhang et al.'s Table 1, switched on over the study's training recipe.
public enum Regularizer: String, Codable, Sendable, CaseIterable {
    /// L2 weight decay 5e-4 (unless the recipe has its own).
    case weightDecay = "weight-decay"
    /// Dropout 0.5 after every hidden layer (mlp; unless the recipe has its own rate).
    case dropout
    /// Random crops (padding 2) and horizontal flips (unless the recipe has its own augmentation).
    case augmentation

    public static let weightDecayValue = 5e-4
    public static let dropoutRate = 0.5
    public static let augmentationValue = ImageAugmentation(cropPadding: 2, horizontalFlip: true)

    /// `configuration` with this regularizer on.
    public func applied(to configuration: TrainingConfiguration) -> TrainingConfiguration {
        var c = configuration
        switch self {
        case .weightDecay: if c.optimizer.weightDecay == 0 { c.optimizer.weightDecay = Self.weightDecayValue }
        case .dropout: if c.dropout == nil { c.dropout = Self.dropoutRate }
        case .augmentation: if c.augmentation.isIdentity { c.augmentation = Self.augmentationValue }
        }
        return c
    }
}

/// `occam randomize`: fitting random labels (Zhang, Bengio, Hardt, Recht, Vinyals, ICLR 2017).
///
/// For each replicate r (seed `training.seed + r`: its own training subset, initialization, data order and
/// randomization) and each condition, a network trains until it fits the training set
/// (`training.stopAtTrainingAccuracy`) or runs out of `training.steps`. With `regularizers`, networks with
/// each regularizer, and with all of them, also train on true and on random labels (Table 1).
public struct RandomizeConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "randomize"

    /// The recipe of every run; `steps` is the budget.
    public var training: TrainingConfiguration
    public var conditions: [RandomizationCondition]
    public var replicates = 1
    /// Also evaluate on the test images with labels corrupted as the training labels are.
    public var evaluateCorruptedTest = false
    /// Regularized runs for the Table 1 comparison; empty: none.
    public var regularizers: [Regularizer] = []

    public init(training: TrainingConfiguration, conditions: [RandomizationCondition]) {
        (self.training, self.conditions) = (training, conditions)
    }

    /// Zhang et al.'s CPU-scale recipe: MLP 784-512-10 on a 5,000-image subset, SGD 0.01 with momentum 0.9,
    /// batch 128, constant rate, no regularization, pixels in [0, 1], no validation split; until 100% training
    /// accuracy, evaluated every epoch.
    public static var defaultTraining: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = "mlp"
        c.widths = [512]
        c.trainSize = 5_000
        c.validationCount = 0
        c.batchSize = 128
        c.optimizer = OptimizerConfiguration(kind: .sgd, learningRate: 0.01, momentum: 0.9)
        c.steps = TrainingDuration(epochs: 500)
        c.evaluateEvery = TrainingDuration(epochs: 1)
        c.stopAtTrainingAccuracy = 1
        return c
    }

    /// The sweep: true labels, corruption 0.2-0.8, random labels, shuffled pixels, random pixels, Gaussian.
    public static let sweep: [RandomizationCondition] =
        [RandomizationCondition(.trueLabels)] + [0.2, 0.4, 0.6, 0.8].map { RandomizationCondition(.corrupt, probability: $0) }
        + [RandomizationCondition(.randomLabels), RandomizationCondition(.shuffledPixels), RandomizationCondition(.randomPixels),
           RandomizationCondition(.gaussian)]

    public var label: String { "\(training.model)-\(training.dataset.rawValue)" }

    /// The seed of replicate `replicate`.
    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// The labels regularized runs train on.
    public static let regularizedConditions = [RandomizationCondition(.trueLabels), RandomizationCondition(.randomLabels)]

    /// The regularized variants: each regularizer alone, then all of them together (when more than one).
    public var regularizedVariants: [[Regularizer]] {
        regularizers.map { [$0] } + (regularizers.count > 1 ? [regularizers] : [])
    }

    /// Every run of one replicate: (directory under the replicate, condition, regularizers).
    public var runs: [(path: String, condition: RandomizationCondition, regularizers: [Regularizer])] {
        conditions.map { (Self.directoryName($0), $0, []) }
            + regularizedVariants.flatMap { variant in
                Self.regularizedConditions.map { ("regularized-\(Self.variantName(variant))/\(Self.directoryName($0))", $0, variant) }
            }
    }

    /// "corrupt-0.4" for corrupt:0.4.
    public static func directoryName(_ condition: RandomizationCondition) -> String {
        condition.description.replacingOccurrences(of: ":", with: "-")
    }

    /// "weight-decay+dropout".
    public static func variantName(_ variant: [Regularizer]) -> String {
        variant.isEmpty ? "none" : variant.map(\.rawValue).joined(separator: "+")
    }

    /// `training` with `variant` applied.
    public func training(with variant: [Regularizer]) -> TrainingConfiguration {
        variant.reduce(training) { $1.applied(to: $0) }
    }

    public func validate() throws {
        try ExperimentError.require(!conditions.isEmpty, "--condition needs at least one condition")
        try ExperimentError.require(Set(conditions).count == conditions.count, "a --condition is listed twice")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        try ExperimentError.require(
            training.stopAtTrainingAccuracy.map { (0...1).contains($0) } ?? true, "--fit-accuracy must be between 0 and 1")
        try ExperimentError.require(
            regularizers.isEmpty || training.model == "mlp" || !regularizers.contains(.dropout),
            "the dropout regularizer needs --model mlp (the only model with a dropout layer)")
        try training(with: regularizers).validate()
    }
}
