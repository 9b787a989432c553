import OccamNN
import OccamTensor

/// `occam early-phase`: what the early phase of training gives a lottery ticket (Frankle, Schwab & Morcos 2020).
///
/// Replicate r (seed `training.seed + r`) trains the dense network for `training.steps`, saving its weights at
/// every rewind iteration k. Its mask comes from `levels` rounds of iterative magnitude pruning, each round
/// retraining the ticket from the initialization (level 1 prunes the dense network's trained weights). For every
/// k, each perturbation of the weights at k (`WeightPerturbation`) trains under that mask from iteration k to
/// the end, on the dense run's data order: runs of one replicate differ only in their starting weights, so
/// their differences are paired.
public struct EarlyPhaseConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "early-phase"

    /// How every network trains (model, data, optimizer, length, evaluation interval, first seed).
    public var training: TrainingConfiguration
    /// The iterations k the ticket is rewound to, ascending.
    public var rewindIterations: [Int] = Self.defaultRewindIterations
    /// The starting weights trained at every k; the ticket is the reference of the comparisons.
    public var perturbations: [WeightPerturbation] = WeightPerturbation.allCases
    /// Rounds of magnitude pruning that make the mask.
    public var levels = 2
    public var strategy: PruningStrategy = .layerWise
    public var rates = PruningRates(rate: 0.7, outputRate: 0.35)
    /// Which parameters are pruned and perturbed ("weights": every weight matrix and kernel).
    public var prunable = "weights"
    public var replicates = 3

    public init(training: TrainingConfiguration = Self.defaultTraining) { self.training = training }

    public static let defaultRewindIterations = [0, 100, 500, 2000]

    /// Frankle & Carbin's LeNet-300-100 recipe (Adam 1.2e-3, batch 60) on all of Fashion-MNIST for 5,000
    /// iterations (5.5 epochs), evaluated on the test set every 1,000 (no validation split).
    public static var defaultTraining: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.validationCount = 0
        c.steps = TrainingDuration(iterations: 5_000)
        c.evaluateEvery = TrainingDuration(iterations: 1_000)
        return c
    }

    public var label: String { "\(training.model)-\(training.dataset.rawValue)" }

    /// The seed of replicate `replicate`.
    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// Every perturbation run, by replicate, then k, then perturbation.
    public var runs: [EarlyPhaseRun] {
        (0..<replicates).flatMap { replicate in
            rewindIterations.flatMap { k in perturbations.map { EarlyPhaseRun(replicate: replicate, rewindIteration: k, perturbation: $0) } }
        }
    }

    /// Training runs in the whole study: per replicate the dense run, the pruning rounds after the first, and
    /// the perturbation runs.
    public var trainingRunCount: Int { replicates * (1 + (levels - 1) + rewindIterations.count * perturbations.count) }

    /// How the networks of `replicate` train: the dense run (`dense`) also saves the weights at every k > 0.
    public func trainingConfiguration(replicate: Int, dense: Bool) -> TrainingConfiguration {
        var c = training
        c.seed = seed(ofReplicate: replicate)
        c.checkpoints = dense ? rewindIterations.filter { $0 > 0 }.map { TrainingDuration(iterations: $0) } : []
        return c
    }

    /// Checks what can be checked before loading data.
    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option to change.
    public func validate() throws {
        try ExperimentError.require(!rewindIterations.isEmpty, "--rewind-iterations needs at least one iteration")
        try ExperimentError.require(rewindIterations.allSatisfy { $0 >= 0 }, "--rewind-iterations must be iterations, 0 or more")
        try ExperimentError.require(Set(rewindIterations).count == rewindIterations.count, "a --rewind-iterations value is listed twice")
        try ExperimentError.require(rewindIterations == rewindIterations.sorted(), "--rewind-iterations must be in ascending order")
        try ExperimentError.require(perturbations.contains(.ticket), "--perturbations must include ticket: the other networks are compared with it")
        try ExperimentError.require(Set(perturbations).count == perturbations.count, "a --perturbations value is listed twice")
        try ExperimentError.require(levels >= 1, "--levels must be at least 1: the mask comes from pruning")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        for rate in [rates.rate, rates.outputRate ?? 0, rates.convolutionRate ?? 0] {
            try ExperimentError.require((0..<1).contains(rate), "pruning rates must be in [0, 1) (got \(rate))")
        }
        try training.validate()
    }

    /// Checks the configuration against the model and the size of the training split.
    /// - Throws: `LotteryError` for prunable names the model lacks, `ExperimentError` for a rewind iteration
    ///   that is not before the end of training.
    public func validate<Scalar>(model: Model<Scalar>, trainCount: Int) throws {
        try validate()
        var random = RandomGenerator(seed: 0)
        _ = try LotteryConfiguration.prunableNames(prunable, of: model.initialParameters(using: &random))
        let total = training.steps.iterations(perEpoch: training.iterationsPerEpoch(trainCount: trainCount))
        try ExperimentError.require(
            rewindIterations.last! < total,
            "--rewind-iterations \(rewindIterations.last!) is not before the end of training (--steps \(training.steps) is \(total) iterations); lower it or raise --steps")
    }
}

/// One perturbation run of an early-phase study.
public struct EarlyPhaseRun: Codable, Sendable, Hashable {
    public var replicate: Int
    public var rewindIteration: Int
    public var perturbation: WeightPerturbation

    public init(replicate: Int, rewindIteration: Int, perturbation: WeightPerturbation) {
        (self.replicate, self.rewindIteration, self.perturbation) = (replicate, rewindIteration, perturbation)
    }

    /// "replicate-0/k-500/signs-kept": the run's directory under the study.
    public var path: String { "replicate-\(replicate)/k-\(rewindIteration)/\(perturbation.rawValue)" }

    /// "replicate 0 · k = 500 · signs kept, magnitudes reinitialized".
    public var name: String { "replicate \(replicate) · k = \(rewindIteration) · \(perturbation.displayName)" }
}
