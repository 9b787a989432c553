import Foundation
import OccamData

/// Everything that decides a training run's result: written to config.json and into every checkpoint.
public struct TrainingConfiguration: Codable, Sendable, Hashable {
    /// A model name from `ModelZoo.catalog`.
    public var model: String = "lenet-300-100"
    /// Hidden widths of `mlp`.
    public var widths: [Int] = [512]
    /// k of `mcnn`; the channel multiplier of `resnet-20`.
    public var width: Int = 1
    public var dataset: DataSetName = .fashionMNIST
    /// Train on a seeded subset of this many images (after the validation split); nil: all.
    public var trainSize: Int?
    /// Images held out of the training set for validation (seeded).
    public var validationCount: Int = 5_000
    /// Normalize each channel by the training split's mean and standard deviation (else pixels in [0, 1]).
    public var normalize: Bool = false
    public var augmentation: ImageAugmentation = .none
    /// Blurred (or flipped) training inputs during a window of epochs (`occam critical-period`); nil: none.
    public var deficit: InputDeficit?
    /// How long to train: "50000it" or "40ep".
    public var steps: TrainingDuration = TrainingDuration(iterations: 50_000)
    public var batchSize: Int = 60
    public var optimizer = OptimizerConfiguration(kind: .adam, learningRate: 1.2e-3)
    public var schedule: LearningRateSchedule = .constant
    public var loss: Loss = .crossEntropy
    public var labelSmoothing: Double = 0
    /// Evaluate on validation and test this often (and at the start and end).
    public var evaluateEvery: TrainingDuration = TrainingDuration(epochs: 1)
    /// Extra checkpoints (the end is always saved), e.g. the rewind point of a lottery ticket run.
    public var checkpoints: [TrainingDuration] = []
    /// Fixes initialization, data order, augmentation and dropout (and the data split, unless `dataSeed` is set).
    public var seed: UInt64 = 0
    /// Fixes the validation split and the training subset when it should differ from `seed`: copies of one
    /// network trained with different data orders (`occam connectivity`) share their data. nil: `seed`.
    public var dataSeed: UInt64?

    /// The dropout rate after each hidden layer of `mlp`; nil: none.
    public var dropout: Double?
    /// Stop as soon as an evaluation finds at least this accuracy on the whole training split (which is then
    /// evaluated, without augmentation or dropout, at every evaluation); nil: train for `steps`.
    public var stopAtTrainingAccuracy: Double?

    /// Evaluate at log-spaced iterations, this many per decade (1, 2, 3, 4, 6, 7, 10, 13, ... for 8), and at
    /// the end, instead of every `evaluateEvery`: a long run's curve stays detailed early and cheap late.
    /// nil: every `evaluateEvery`.
    public var evaluationsPerDecade: Int?

    /// The seed of the validation split and training subset.
    public var dataSplitSeed: UInt64 { dataSeed ?? seed }

    public init() {}

    /// The model this configuration trains, for inputs of `inputShape` ([C, H, W]) and `classes` outputs.
    public func buildModel<Scalar: TensorScalar>(inputShape: [Int], classes: Int, as _: Scalar.Type = Scalar.self) throws -> Model<Scalar> {
        try ModelZoo.build(model, inputShape: inputShape, classes: classes, options: .init(widths: widths, width: width, dropout: dropout ?? 0))
    }

    /// The iterations 1...`total` at which a run evaluates when `evaluationsPerDecade` is set: round(10^(k/m))
    /// for k = 0, 1, 2, ... (duplicates dropped), and `total`. Ascending.
    public static func logSpacedIterations(perDecade: Int, through total: Int) -> [Int] {
        precondition(perDecade >= 1, "logSpacedIterations: \(perDecade) evaluations per decade")
        var iterations: [Int] = []
        var k = 0
        while true {
            let iteration = Int(Foundation.pow(10, Double(k) / Double(perDecade)).rounded())
            if iteration >= total { break }
            if iteration != iterations.last { iterations.append(iteration) }
            k += 1
        }
        return total >= 1 ? iterations + [total] : iterations
    }

    /// Batches in an epoch of a training split of `trainCount` examples (the last one may be smaller).
    public func iterationsPerEpoch(trainCount: Int) -> Int { (trainCount + batchSize - 1) / batchSize }

    /// The data part of the configuration, as OccamData prepares it.
    public var data: DataConfiguration {
        DataConfiguration(
            dataSet: dataset, validationCount: validationCount, trainSize: trainSize, normalizes: normalize,
            augmentation: augmentation)
    }

    /// Canonical JSON: sorted keys, no whitespace. Two equal configurations give the same bytes.
    public func canonicalJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads a configuration written by `canonicalJSON`.
    public static func decode(_ data: Data) throws -> TrainingConfiguration {
        try JSONDecoder().decode(TrainingConfiguration.self, from: data)
    }
}

import OccamTensor
