import ArgumentParser
import Foundation
import OccamData
import OccamNN

/// How networks train: the options `occam train`, `occam lottery` and `occam connectivity` share. The
/// defaults are Frankle & Carbin's LeNet-300-100 recipe (Adam 1.2e-3, batch 60, 5,000 validation images).
/// Training length, evaluation interval and seed are each command's own options.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Model (see `occam models`).") var model = "lenet-300-100"
    @Option(help: "Hidden widths of mlp, comma-separated.") var widths = "512"
    @Option(help: "k of mcnn; the channel multiplier of resnet-20.") var width = 1
    @Option(help: "Data set: \(DataSetName.allCases.map(\.rawValue).joined(separator: ", ")).") var dataset: DataSetName = .fashionMNIST
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Train on a seeded subset of this many images.") var trainSize: Int?
    @Option(help: "Images held out of the training set for validation.") var validationCount = 5_000
    @Flag(help: "Normalize each channel by the training split's mean and standard deviation.") var normalize = false
    @Option(help: "Random-crop padding in pixels (0: no crops).") var cropPadding = 0
    @Flag(help: "Random horizontal flips.") var flip = false
    @Option(help: "Batch size.") var batchSize = 60
    @Option(help: "Optimizer: sgd, adam or adamw.") var optimizer: OptimizerConfiguration.Kind = .adam
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Base learning rate.") var learningRate = 1.2e-3
    @Option(help: "SGD momentum.") var momentum = 0.0
    @Flag(help: "Nesterov momentum (SGD).") var nesterov = false
    @Option(help: "Weight decay (L2 for sgd and adam, decoupled for adamw).") var weightDecay = 0.0
    @Option(help: "Learning-rate schedule: constant, step:M1,M2:GAMMA (milestones in iterations), exponential:GAMMA (per epoch), cosine[:MIN], warmup:N:SCHEDULE.")
    var schedule = "constant"
    @Option(help: "Loss: cross-entropy or mse (one-hot targets).") var loss: Loss = .crossEntropy
    @Option(help: "Label smoothing (cross-entropy).") var labelSmoothing = 0.0
    @Option(help: "Precision: float32 or float64.") var precision: Precision = .float32

    var dataDirectory: URL? { dataDir.map { URL(fileURLWithPath: $0) } }

    /// The configuration these options describe, with the command's length, evaluation interval and seed.
    func configuration(steps: String, evalEvery: String, seed: UInt64) throws -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = model
        c.widths = try parseWidths(widths)
        c.width = width
        c.dataset = dataset
        c.trainSize = trainSize
        c.validationCount = validationCount
        c.normalize = normalize
        c.augmentation = ImageAugmentation(cropPadding: cropPadding, horizontalFlip: flip)
        c.steps = try parseDuration(steps, option: "--steps")
        c.batchSize = batchSize
        c.optimizer = OptimizerConfiguration(
            kind: optimizer, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        c.schedule = try parseSchedule(schedule)
        c.loss = loss
        c.labelSmoothing = labelSmoothing
        c.evaluateEvery = try parseDuration(evalEvery, option: "--eval-every")
        c.seed = seed
        return c
    }

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
        guard learningRate > 0 else { throw ValidationError("--lr must be positive.") }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1).") }
        guard !nesterov || (optimizer == .sgd && momentum > 0) else {
            throw ValidationError("--nesterov needs --optimizer sgd and --momentum above 0.")
        }
        _ = try parseWidths(widths)
        _ = try parseSchedule(schedule)
        guard ModelZoo.catalog.contains(where: { $0.name == model }) else { throw ModelZoo.UnknownModel(name: model) }
    }
}

extension TrainingConfiguration {
    /// This configuration with a cosine schedule's length set to the training length.
    func withScheduleLength(trainCount: Int) -> TrainingConfiguration {
        var configuration = self
        configuration.schedule = schedule.withCosineLength(steps.iterations(perEpoch: iterationsPerEpoch(trainCount: trainCount)))
        return configuration
    }
}
