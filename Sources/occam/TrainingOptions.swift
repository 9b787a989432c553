import ArgumentParser
import Foundation
import OccamData
import OccamNN

/// How networks train: the options `occam train`, `lottery`, `connectivity` and `randomize` share. Each
/// command has its own defaults (a `TrainingConfiguration`): Frankle & Carbin's LeNet-300-100 recipe (Adam
/// 1.2e-3, batch 60, 5,000 validation images) for the first three, Zhang et al.'s MLP recipe for randomize.
/// Training length, evaluation interval and seed are each command's own options.
struct TrainingOptions: ParsableArguments {
    @Option(help: "Model (see `occam models`; default lenet-300-100, mlp for randomize).") var model: String?
    @Option(help: "Hidden widths of mlp, comma-separated (default 512); for double-descent networks, the widths to sweep.") var widths: String?
    @Option(help: "k of mcnn; the channel multiplier of resnet-20 (default 1).") var width: Int?
    @Option(help: "Data set: \(DataSetName.allCases.map(\.rawValue).joined(separator: ", ")) (default fashion-mnist).") var dataset: DataSetName?
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Train on a seeded subset of this many images (default: all; 5000 for randomize).") var trainSize: Int?
    @Option(help: "Images held out of the training set for validation (default 5000; 0 for randomize).") var validationCount: Int?
    @Flag(inversion: .prefixedNo, help: "Normalize each channel by the training split's mean and standard deviation (default: no).") var normalize: Bool?
    @Option(help: "Random-crop padding in pixels (default 0: no crops).") var cropPadding: Int?
    @Flag(inversion: .prefixedNo, help: "Random horizontal flips (default: no).") var flip: Bool?
    @Option(help: "Batch size (default 60; 128 for randomize).") var batchSize: Int?
    @Option(help: "Optimizer: sgd, adam or adamw (default adam; sgd for randomize).") var optimizer: OptimizerConfiguration.Kind?
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], help: "Base learning rate (default 1.2e-3; 0.01 for randomize).") var learningRate: Double?
    @Option(help: "SGD momentum (default 0; 0.9 for randomize).") var momentum: Double?
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD; default: no).") var nesterov: Bool?
    @Option(help: "Weight decay (L2 for sgd and adam, decoupled for adamw; default 0).") var weightDecay: Double?
    @Option(help: "Learning-rate schedule: constant (default), step:M1,M2:GAMMA (milestones in iterations), exponential:GAMMA (per epoch), cosine[:MIN], warmup:N:SCHEDULE.")
    var schedule: String?
    @Option(help: "Loss: cross-entropy (default) or mse (one-hot targets).") var loss: Loss?
    @Option(help: "Label smoothing (cross-entropy; default 0).") var labelSmoothing: Double?
    @Option(help: "Dropout rate after each hidden layer of mlp (default 0).") var dropout: Double?
    @Option(help: "Precision: float32 or float64.") var precision: Precision = .float32

    var dataDirectory: URL? { dataDir.map { URL(fileURLWithPath: $0) } }

    /// The configuration these options describe over the command's `defaults`, with its length, evaluation
    /// interval and seed.
    func configuration(
        steps: String, evalEvery: String, seed: UInt64, defaults: TrainingConfiguration = TrainingConfiguration()
    ) throws -> TrainingConfiguration {
        var c = defaults
        if let model { c.model = model }
        if let widths { c.widths = try parseWidths(widths) }
        if let width { c.width = width }
        if let dataset { c.dataset = dataset }
        if let trainSize { c.trainSize = trainSize }
        if let validationCount { c.validationCount = validationCount }
        if let normalize { c.normalize = normalize }
        if let cropPadding { c.augmentation.cropPadding = cropPadding }
        if let flip { c.augmentation.horizontalFlip = flip }
        if let batchSize { c.batchSize = batchSize }
        if let optimizer { c.optimizer.kind = optimizer }
        if let learningRate { c.optimizer.learningRate = learningRate }
        if let momentum { c.optimizer.momentum = momentum }
        if let nesterov { c.optimizer.nesterov = nesterov }
        if let weightDecay { c.optimizer.weightDecay = weightDecay }
        if let schedule { c.schedule = try parseSchedule(schedule) }
        if let loss { c.loss = loss }
        if let labelSmoothing { c.labelSmoothing = labelSmoothing }
        if let dropout { c.dropout = dropout == 0 ? nil : dropout }
        c.steps = try parseDuration(steps, option: "--steps")
        c.evaluateEvery = try parseDuration(evalEvery, option: "--eval-every")
        c.seed = seed
        do {
            try c.validate()
        } catch let error as TrainingError {
            // The configuration's own checks (every value finite and in range, the model's memory), worded as
            // the options' errors.
            throw ValidationError(error.description.replacingOccurrences(of: "Impossible configuration: ", with: ""))
        }
        return c
    }

    func validate() throws {
        guard batchSize.map({ $0 >= 1 }) ?? true else { throw ValidationError("--batch-size must be at least 1.") }
        guard learningRate.map({ $0 > 0 }) ?? true else { throw ValidationError("--lr must be positive.") }
        guard labelSmoothing.map({ (0..<1).contains($0) }) ?? true else { throw ValidationError("--label-smoothing must be in [0, 1).") }
        guard dropout.map({ (0..<1).contains($0) }) ?? true else { throw ValidationError("--dropout must be in [0, 1).") }
        guard cropPadding.map({ $0 >= 0 }) ?? true else { throw ValidationError("--crop-padding must not be negative.") }
        guard validationCount.map({ $0 >= 0 }) ?? true else { throw ValidationError("--validation-count must not be negative.") }
        guard trainSize.map({ $0 >= 1 }) ?? true else { throw ValidationError("--train-size must be at least 1.") }
        if let widths { _ = try parseWidths(widths) }
        if let schedule { _ = try parseSchedule(schedule) }
        if let model, !ModelZoo.catalog.contains(where: { $0.name == model }) { throw ModelZoo.UnknownModel(name: model) }
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
