import Foundation
import OccamNN
import OccamTensor

/// A network trained at one pruning level: the ticket, or one of Frankle & Carbin's two controls.
public enum LotteryNetwork: String, Codable, Sendable, CaseIterable, Comparable {
    /// The IMP subnetwork: the magnitude-pruned mask with the surviving weights rewound.
    case ticket
    /// Control: the ticket's mask with freshly drawn initial weights (a new seed per level).
    case randomReinitialization = "random-reinit"
    /// Control: a random mask with the ticket's per-layer sparsity, with the rewound weights.
    case randomPruning = "random-pruning"

    /// How plots and tables name it.
    public var displayName: String {
        switch self {
        case .ticket: "winning ticket"
        case .randomReinitialization: "random reinitialization"
        case .randomPruning: "random pruning"
        }
    }

    public static func < (a: LotteryNetwork, b: LotteryNetwork) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// `occam lottery`: iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al. 2020).
///
/// Replicate r uses seed `training.seed + r` for initialization, data split and data order. Level 0 trains
/// the dense network. Level l ≥ 1 prunes the level l-1 ticket's trained weights by magnitude, rewinds the
/// survivors to their values at `rewind` (iteration 0: the initialization) and trains from there to the end
/// with a fresh optimizer, on the same data order; the controls train at every level ≥ 1 beside it, from the
/// same iteration and on the same data order.
public struct LotteryConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "lottery"

    /// How every network trains (model, data, optimizer, length, evaluation interval, first seed).
    public var training: TrainingConfiguration
    /// Pruning rounds after the dense network.
    public var levels: Int = 15
    public var strategy: PruningStrategy = .layerWise
    public var rates = PruningRates(rate: 0.2, outputRate: 0.1)
    /// Which parameters may be pruned: "weights" (every weight matrix and convolution kernel: rank ≥ 2, so no
    /// biases or BatchNorm scales), "all", or a comma-separated list of names ("fc1.weight,fc2.weight").
    public var prunable = "weights"
    /// The point the surviving weights are reset to: "0it" (Frankle & Carbin) or a step of the dense run.
    public var rewind = TrainingDuration(iterations: 0)
    /// Controls trained at every level ≥ 1 (never `.ticket`).
    public var controls: [LotteryNetwork] = [.randomReinitialization, .randomPruning]
    /// Independent seeds.
    public var replicates = 1
    /// The curvature measured on every trained network over its surviving weights (`--curvature`); nil: none
    /// (and absent from the hash).
    public var curvature: SweepCurvature?

    public init(training: TrainingConfiguration) { self.training = training }

    public var label: String { "\(training.model)-\(training.dataset.rawValue)" }

    /// The networks trained at `level`: the ticket, and the controls from level 1 on.
    public func networks(atLevel level: Int) -> [LotteryNetwork] {
        level == 0 ? [.ticket] : [.ticket] + controls.filter { $0 != .ticket }.sorted()
    }

    /// Training runs in the whole study: the dense network and, per level, the ticket and its controls.
    public var trainingRunCount: Int { replicates * (1 + levels * networks(atLevel: 1).count) }

    /// Stages of the whole study as progress counts them: every training run, and its curvature measurement.
    public var stageCount: Int { curvature == nil ? trainingRunCount : 2 * trainingRunCount }

    /// The seed of replicate `replicate`.
    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// How the networks of `replicate` at `level` train: the dense run (level 0) also saves the rewind point.
    public func trainingConfiguration(replicate: Int, level: Int) -> TrainingConfiguration {
        var configuration = training
        configuration.seed = seed(ofReplicate: replicate)
        configuration.checkpoints = level == 0 && rewind.amount > 0 ? [rewind] : []
        return configuration
    }

    /// The names of the prunable parameters among `parameters`, in model order.
    /// - Throws: `LotteryError.unknownPrunable` for a listed name the model lacks, `.nothingToPrune` for none.
    public func prunableNames<Scalar>(of parameters: ParameterSet<Scalar>) throws -> [String] {
        try Self.prunableNames(prunable, of: parameters)
    }

    /// The names among `parameters` that `prunable` selects ("weights", "all" or a list of names), in model order.
    /// - Throws: `LotteryError.unknownPrunable` for a listed name the model lacks, `.nothingToPrune` for none.
    public static func prunableNames<Scalar>(_ prunable: String, of parameters: ParameterSet<Scalar>) throws -> [String] {
        let names: [String]
        switch prunable {
        case "weights": names = parameters.entries.filter { $0.tensor.rank >= 2 }.map(\.name)
        case "all": names = parameters.names
        default:
            let listed = prunable.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let unknown = listed.first(where: { parameters[$0] == nil }) {
                throw LotteryError.unknownPrunable(unknown, available: parameters.names)
            }
            names = parameters.names.filter(listed.contains)
        }
        guard !names.isEmpty else { throw LotteryError.nothingToPrune(prunable) }
        return names
    }

    /// Checks what can be checked before loading data.
    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option to change.
    public func validate() throws {
        try ExperimentError.require(levels >= 0, "--levels must be 0 or more")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        for rate in [rates.rate, rates.outputRate ?? 0, rates.convolutionRate ?? 0] {
            try ExperimentError.require((0..<1).contains(rate), "pruning rates must be in [0, 1) (got \(rate))")
        }
        try ExperimentError.require(!controls.contains(.ticket), "--controls takes random-reinit and random-pruning")
        try training.validate()
    }

    /// Checks the configuration against the model it prunes and the size of the training split.
    /// - Throws: `LotteryError` for prunable names the model lacks, `ExperimentError` for a rewind point that
    ///   is not before the end of training.
    public func validate<Scalar>(model: Model<Scalar>, trainCount: Int) throws {
        try validate()
        var random = RandomGenerator(seed: 0)
        _ = try prunableNames(of: model.initialParameters(using: &random))
        let perEpoch = training.iterationsPerEpoch(trainCount: trainCount)
        try ExperimentError.require(
            rewind.iterations(perEpoch: perEpoch) < training.steps.iterations(perEpoch: perEpoch),
            "--rewind \(rewind) is not before the end of training (--steps \(training.steps))")
        try curvature?.validate(trainCount: trainCount)
    }
}

/// A lottery configuration that cannot run.
public enum LotteryError: Error, CustomStringConvertible {
    case unknownPrunable(String, available: [String])
    case nothingToPrune(String)

    public var description: String {
        switch self {
        case let .unknownPrunable(name, available):
            "--prunable names \(name), which this model does not have; its parameters are \(available.joined(separator: ", "))"
        case .nothingToPrune(let spec):
            "--prunable \(spec) selects no parameter of this model; use weights, all, or a list of parameter names"
        }
    }
}
