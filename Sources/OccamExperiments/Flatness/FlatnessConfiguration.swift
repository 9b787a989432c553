import Foundation
import OccamAnalysis
import OccamData
import OccamNN

/// How the learning rate follows the batch size B from the smallest batch size B₀'s rate η₀.
public enum LearningRateScaling: String, Codable, Sendable, Hashable, CaseIterable {
    /// η = η₀ at every batch size (Keskar et al. keep Adam's settings).
    case none
    /// η = η₀ √(B/B₀): the square-root rule for adaptive optimizers (Hoffer et al. 2017; Malladi et al. 2022).
    case sqrt
    /// η = η₀ B/B₀: the linear rule for SGD (Goyal et al. 2017).
    case linear

    /// The learning rate at `batchSize` given `base` at `reference`.
    public func learningRate(base: Double, batchSize: Int, reference: Int) -> Double {
        let ratio = Double(batchSize) / Double(reference)
        switch self {
        case .none: return base
        case .sqrt: return base * ratio.squareRoot()
        case .linear: return base * ratio
        }
    }
}

/// `occam flatness`: sharp against flat minima (Keskar et al. 2017) and the reparametrization caveat (Dinh et
/// al. 2017).
///
/// For each replicate r (seed `training.seed + r`: its training subset, initialization and data order, shared
/// by every batch size, so each batch size trains the same initial network) and each of `batchSizes`, a
/// network trains for `training.steps` epochs (the same budget for every batch size) at the learning rate
/// `learningRateScaling` gives. Its curvature summary (`NetworkCurvature`: largest eigenvalues, trace, N_eff,
/// Laplace evidence) is measured on the first `curvatureSamples` images of its training set. Then, for each α
/// of `alphas`, the first hidden layer's weights and biases are multiplied by α and the next layer's weights by
/// 1/α: a ReLU network computes the same function (relu(αz) = α relu(z)), which is checked, and the curvature
/// summary is measured again.
public struct FlatnessConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "flatness"

    /// The recipe of every run; its batch size and learning rate are set per batch size (the learning rate
    /// given is the smallest batch size's).
    public var training: TrainingConfiguration
    public var batchSizes: [Int]
    public var learningRateScaling: LearningRateScaling = .sqrt
    public var replicates = 3
    /// The first this many images of each network's training set define the loss whose curvature is measured.
    public var curvatureSamples = 1000
    public var parameters: ParameterSelection = .all
    public var curvature: CurvatureSummaryOptions
    /// Dinh et al.'s rescaling factors; empty: none.
    public var alphas: [Double] = [0.1, 10]

    public init(training: TrainingConfiguration = Self.defaultTraining, batchSizes: [Int] = Self.defaultBatchSizes) {
        (self.training, self.batchSizes) = (training, batchSizes)
        var options = CurvatureSummaryOptions()
        options.top = 20
        curvature = options
    }

    /// The CPU-scale recipe: MLP 784-128-10 on 4,096 Fashion-MNIST images, Adam 1e-3 at batch 64, constant
    /// rate, 50 epochs, cross-entropy, pixels in [0, 1], no validation split.
    public static var defaultTraining: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = "mlp"
        c.widths = [128]
        c.trainSize = 4_096
        c.validationCount = 0
        c.batchSize = 64
        c.optimizer = OptimizerConfiguration(kind: .adam, learningRate: 1e-3)
        c.steps = TrainingDuration(epochs: 50)
        c.evaluateEvery = TrainingDuration(epochs: 10)
        return c
    }

    /// Small against large: Keskar et al.'s contrast, the large batch the whole 4,096-image training set.
    public static let defaultBatchSizes = [64, 4096]

    /// The models whose first hidden layer is followed by a ReLU and then a dense layer, as the rescaling needs.
    public static let models = ["mlp", "lenet-300-100"]

    public var label: String { "\(training.model)-\(training.dataset.rawValue)" }

    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// The learning rate at `batchSize`.
    public func learningRate(batchSize: Int) -> Double {
        learningRateScaling.learningRate(base: training.optimizer.learningRate, batchSize: batchSize, reference: batchSizes.min() ?? batchSize)
    }

    /// The recipe at `batchSize` for `replicate`.
    public func training(batchSize: Int, replicate: Int) -> TrainingConfiguration {
        var c = training
        c.batchSize = batchSize
        c.optimizer.learningRate = learningRate(batchSize: batchSize)
        c.seed = seed(ofReplicate: replicate)
        return c
    }

    /// Every network, by replicate, then by batch size.
    public var runs: [FlatnessRun] {
        (0..<replicates).flatMap { replicate in batchSizes.map { FlatnessRun(replicate: replicate, batchSize: $0) } }
    }

    /// The rescaled layer pair: the first hidden layer and the layer after it.
    public static let rescaledLayers = (first: "fc1", second: "fc2")

    public func validate() throws {
        try ExperimentError.require(
            Self.models.contains(training.model),
            "--model \(training.model) cannot be rescaled layer by layer here; use \(Self.models.joined(separator: " or ")) (dense layers with ReLU between them)")
        try ExperimentError.require(training.dropout == nil, "--dropout must be 0: the rescaled network must compute the same function")
        try ExperimentError.require(batchSizes.count >= 2, "--batch-sizes needs at least two batch sizes to compare")
        try ExperimentError.require(batchSizes.allSatisfy { $0 >= 1 }, "--batch-sizes must be positive")
        try ExperimentError.require(Set(batchSizes).count == batchSizes.count, "a --batch-sizes value is listed twice")
        let trainCount = training.trainSize ?? (training.dataset.count(.train) - training.validationCount)
        try ExperimentError.require(
            batchSizes.allSatisfy { $0 <= trainCount },
            "every --batch-sizes value must be at most the \(trainCount) training images (--train-size)")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        try ExperimentError.require(
            curvatureSamples >= 1 && curvatureSamples <= trainCount,
            "--curvature-samples must be between 1 and the \(trainCount) training images")
        try ExperimentError.require(alphas.allSatisfy { $0 > 0 && $0.isFinite && $0 != 1 }, "--alphas must be positive and not 1")
        try ExperimentError.require(Set(alphas).count == alphas.count, "an --alphas value is listed twice")
        try curvature.validate()
        for batchSize in batchSizes { try training(batchSize: batchSize, replicate: 0).validate() }
    }
}

/// One network of the study.
public struct FlatnessRun: Codable, Sendable, Hashable {
    public var replicate: Int
    public var batchSize: Int

    /// "replicate-0/batch-64".
    public var path: String { "replicate-\(replicate)/batch-\(batchSize)" }
    public var name: String { "replicate \(replicate) · batch \(batchSize)" }
}
