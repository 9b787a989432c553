import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

/// How networks train: the options `occam train`, `lottery`, `connectivity`, `randomize` and
/// `double-descent networks` share. Each command has its own defaults (its `Recipe`), which the help states:
/// Frankle & Carbin's LeNet-300-100 recipe (Adam 1.2e-3, batch 60, 5,000 validation images) or Zhang et al.'s
/// and Nakkiran et al.'s MLP recipes. Training length, evaluation interval and seed are each command's own options.
/// Numeric options take negative values after a space (`--lr -1`), so that the range check can name the problem.
struct TrainingOptions<Recipe: TrainingRecipe>: ParsableArguments {
    @Option(help: "Model (see `occam models`; default \(Recipe.defaults.model)).") var model: String?
    @Option(help: ArgumentHelp(Recipe.widthsHelp)) var widths: String?
    @Option(help: "k of mcnn; the channel multiplier of resnet-20 (default \(Recipe.defaults.width)).") var width: Int?
    @Option(help: "Data set: \(DataSetName.allCases.map(\.rawValue).joined(separator: ", ")) (default \(Recipe.defaults.dataset.rawValue)).") var dataset: DataSetName?
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?
    @Option(help: "Train on a seeded subset of this many images (default: \(Recipe.defaults.trainSize.map(String.init) ?? "all")).") var trainSize: Int?
    @Option(help: "Images held out of the training set for validation (default \(Recipe.defaults.validationCount)).") var validationCount: Int?
    @Flag(inversion: .prefixedNo, help: "Normalize each channel by the training split's mean and standard deviation (default: no).") var normalize: Bool?
    @Option(help: "Random-crop padding in pixels (default 0: no crops).") var cropPadding: Int?
    @Flag(inversion: .prefixedNo, help: "Random horizontal flips (default: no).") var flip: Bool?
    @Option(help: "Batch size (default \(Recipe.defaults.batchSize)).") var batchSize: Int?
    @Option(help: "Optimizer: sgd, adam or adamw (default \(Recipe.defaults.optimizer.kind.rawValue)).") var optimizer: OptimizerConfiguration.Kind?
    @Option(name: [.customLong("lr"), .customLong("learning-rate")], parsing: .unconditional,
            help: "Base learning rate (default \(Recipe.defaults.optimizer.learningRate)).") var learningRate: Double?
    @Option(parsing: .unconditional, help: "SGD momentum (default \(Recipe.defaults.optimizer.momentum)).") var momentum: Double?
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (SGD; default: no).") var nesterov: Bool?
    @Option(parsing: .unconditional, help: "Weight decay (L2 for sgd and adam, decoupled for adamw; default \(Recipe.defaults.optimizer.weightDecay)).") var weightDecay: Double?
    @Option(help: "Learning-rate schedule: constant (default), step:M1,M2:GAMMA (milestones in iterations), exponential:GAMMA (per epoch), cosine[:MIN], warmup:N:SCHEDULE.")
    var schedule: String?
    @Option(help: "Loss: cross-entropy (default) or mse (one-hot targets).") var loss: Loss?
    @Option(parsing: .unconditional, help: "Label smoothing (cross-entropy; default \(Recipe.defaults.labelSmoothing)).") var labelSmoothing: Double?
    @Option(parsing: .unconditional, help: "Dropout rate after each hidden layer of mlp (default \(Recipe.defaults.dropout ?? 0)).") var dropout: Double?
    @Option(help: "Precision: float32 or float64.") var precision: Precision = .float32
    @Option(help: "Log the mean training loss and accuracy of the batches since the last such line, and the learning rate, to each run's metrics.jsonl this often (\"100it\", \"1ep\"; \"0\": never). Changes no result.")
    var logEvery = "100it"

    @Option(help: "Log the trace of the Fisher information (labels drawn from the model), the empirical Fisher's trace and the mini-batch gradient norm, with standard errors, to each run's metrics.jsonl this often (\"200it\", \"1ep\"; \"0\": never; default \(Recipe.fisherEvery)). Changes no result.")
    var fisherEvery: String?
    @Option(parsing: .unconditional, help: "Training images (a fixed seeded subset, the same in every run) the Fisher trace is measured on.")
    var fisherSamples = 500

    /// The probes --fisher-every asks for: none for "0".
    func probes<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) throws -> [TrainingProbe<Scalar>] {
        let every = fisherEvery ?? Recipe.fisherEvery
        guard every != "0" else { return [] }
        guard fisherSamples >= 2 else { throw ValidationError("--fisher-samples must be at least 2 (a standard error needs two).") }
        return [FisherTrace.probe(every: try parseDuration(every, option: "--fisher-every"), samples: fisherSamples, seed: 0)]
    }

    /// --log-every as the trainer takes it: nil for "0".
    func logTrainingEvery() throws -> TrainingDuration? {
        logEvery == "0" ? nil : try parseDuration(logEvery, option: "--log-every")
    }

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
        _ = try probes(as: Float.self)
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
