import Foundation
import OccamData
import OccamNN
import OccamTensor

/// What one replicate's perturbation runs start from: its mask and the dense run's weights at every k.
struct EarlyPhaseStart<Scalar: TensorScalar>: Sendable {
    var seed: UInt64
    var model: Model<Scalar>
    var mask: PruningMask<Scalar>
    /// Parameters and buffers (BatchNorm statistics; nil at k = 0) of the dense run at each rewind iteration.
    var rewound: [Int: (parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>?)]
}

/// Runs an `EarlyPhaseConfiguration` in its run directory. Per replicate: `replicate-<r>/dense/` (the dense run
/// with its checkpoints at every k), `replicate-<r>/imp-level-<l>/` (pruning rounds after the first),
/// mask.json (the mask's density per layer), weight-statistics.json (`LayerWeightStatistics` at every k), and
/// `replicate-<r>/k-<k>/<perturbation>/` per perturbation run. Finished runs are read back and unfinished ones
/// resume, so an interrupted study continues; the report is built from these files (`EarlyPhaseReport`). Its
/// units (`UnitStudy`) are the replicates: a replicate's perturbation runs start from its dense run and mask.
public struct EarlyPhaseStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: EarlyPhaseConfiguration
    public var directory: URL
    /// The prepared data for a seed.
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// Runs trained at once; every run uses single-threaded BLAS whatever this is, so results do not depend on it.
    public var jobs = 1
    /// How often each run logs its mean training loss and learning rate (`Trainer.logTrainingEvery`).
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to every run's metrics.jsonl; they change no result.
    public var probes: [TrainingProbe<Scalar>] = []

    public init(configuration: EarlyPhaseConfiguration, directory: URL, data: @escaping (UInt64) throws -> PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    /// Trains every run not yet finished: first each replicate's dense run and pruning rounds (replicates side by
    /// side), then every perturbation run (longest first); returns the perturbation runs' summaries in
    /// `configuration.runs` order.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [TrainingSummary] {
        try train(replicates: Array(0..<configuration.replicates), events: events)
    }

    /// "replicate 0", "replicate 1", ...: one unit per replicate.
    public var unitNames: [String] { (0..<configuration.replicates).map { "replicate \($0)" } }

    public func isFinished(unit replicate: Int) -> Bool {
        let folder = replicateDirectory(replicate)
        let stages = ["dense"] + (1..<configuration.levels).map { "imp-level-\($0)" }
        let files = ["mask.json", "weight-statistics.json"]
        return stages.allSatisfy { RunStore.isComplete(folder.appendingPathComponent($0)) }
            && files.allSatisfy { FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path) }
            && configuration.runs.allSatisfy { $0.replicate != replicate || RunStore.isComplete(directory.appendingPathComponent($0.path)) }
    }

    /// Trains replicate `unit`'s dense run, pruning rounds and perturbation runs not yet finished.
    public func run(unit replicate: Int, events: (StudyEvent) throws -> Void) throws {
        _ = try train(replicates: [replicate], events: events)
    }

    /// Trains the runs of `replicates` as `run(events:)` describes; their perturbation runs' summaries in
    /// `configuration.runs` order.
    private func train(replicates: [Int], events: (StudyEvent) throws -> Void) throws -> [TrainingSummary] {
        try configuration.validate()
        let prepared = try Dictionary(uniqueKeysWithValues: replicates.map { ($0, try data(configuration.seed(ofReplicate: $0))) })
        let starts = try runStudyJobs(order: replicates, jobs: jobs, events: events) { replicate, emit in
            try prepareReplicate(replicate, data: prepared[replicate]!, events: emit)
        }
        let startOf = Dictionary(uniqueKeysWithValues: zip(replicates.sorted(), starts))
        let runs = configuration.runs
        let order = runs.indices.filter { startOf[runs[$0].replicate] != nil }
            .sorted { (runs[$0].rewindIteration, $0) < (runs[$1].rewindIteration, $1) }
        return try trainConcurrently(order: order, jobs: jobs, events: events) { index in
            let run = runs[index]
            return try stage(run, start: startOf[run.replicate]!, data: prepared[run.replicate]!)
        }
    }

    /// The directory of a replicate's own files.
    public func replicateDirectory(_ replicate: Int) -> URL { directory.appendingPathComponent("replicate-\(replicate)") }

    private func trainingStage(
        name: String, detail: String, replicate: Int, dense: Bool, data: PreparedData<Scalar>, directory: URL
    ) throws -> TrainingStage<Scalar> {
        var trainer = try Trainer(configuration: configuration.trainingConfiguration(replicate: replicate, dense: dense), data: data, directory: directory)
        trainer.logTrainingEvery = logTrainingEvery
        trainer.probes = probes
        return TrainingStage(name: name, detail: detail, trainer: trainer)
    }

    /// The dense run, the pruning rounds and the weight statistics of one replicate.
    private func prepareReplicate(_ replicate: Int, data: PreparedData<Scalar>, events: (StudyEvent) throws -> Void) throws
        -> EarlyPhaseStart<Scalar>
    {
        let seed = configuration.seed(ofReplicate: replicate)
        let folder = replicateDirectory(replicate)
        let namingProgress = jobs > 1 && configuration.replicates > 1
        let denseStage = try trainingStage(
            name: "replicate \(replicate) · dense", detail: "saving the weights at k = \(configuration.rewindIterations.map(String.init).joined(separator: ", "))",
            replicate: replicate, dense: true, data: data, directory: folder.appendingPathComponent("dense"))
        let model = denseStage.trainer.model
        try configuration.validate(model: model, trainCount: data.train.count)
        var initRandom = RandomGenerator(seed: seed).stream("init")
        let initial = model.initialParameters(using: &initRandom)
        let dense = try denseStage.run(namingProgress: namingProgress, events: events).final
        let prunable = try LotteryConfiguration.prunableNames(configuration.prunable, of: initial)
        var mask = PruningMask(keepingAllOf: ParameterSet(prunable.map { ($0, initial[$0]!) }))
        var trained = dense.parameters
        for level in 1...configuration.levels {
            mask = mask.prunedByMagnitude(of: trained, strategy: configuration.strategy, rates: configuration.rates)
            guard level < configuration.levels else { break }
            var round = try trainingStage(
                name: "replicate \(replicate) · pruning round \(level)", detail: String(format: "%.1f%% of weights remaining", 100 * mask.density),
                replicate: replicate, dense: false, data: data, directory: folder.appendingPathComponent("imp-level-\(level)"))
            (round.trainer.mask, round.trainer.initialParameters) = (mask, initial)
            trained = try round.run(namingProgress: namingProgress, events: events).final.parameters
        }
        var rewound: [Int: (parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>?)] = [:]
        for k in configuration.rewindIterations {
            if k == 0 {
                rewound[k] = (initial, nil)
            } else {
                let checkpoint = try TrainingCheckpoint<Scalar>.read(from: denseStage.trainer.checkpointURL(iteration: k)!)
                rewound[k] = (checkpoint.parameters, checkpoint.buffers)
            }
        }
        try ResultFiles.writeJSON(mask.counts, to: folder.appendingPathComponent("mask.json"))
        let statistics = configuration.rewindIterations.flatMap { k in
            prunable.map { name in
                WeightDistribution.layerStatistics(
                    replicate: replicate, iteration: k, layer: name, initial: initial[name]!.scalars.map(Double.init),
                    rewound: rewound[k]!.parameters[name]!.scalars.map(Double.init), final: dense.parameters[name]!.scalars.map(Double.init))
            }
        }
        try ResultFiles.writeJSON(statistics, to: folder.appendingPathComponent("weight-statistics.json"))
        return EarlyPhaseStart(seed: seed, model: model, mask: mask, rewound: rewound)
    }

    /// The training stage of one perturbation run: from its perturbed weights at iteration k to the end.
    private func stage(_ run: EarlyPhaseRun, start: EarlyPhaseStart<Scalar>, data: PreparedData<Scalar>) throws -> TrainingStage<Scalar> {
        let k = run.rewindIteration
        let root = RandomGenerator(seed: start.seed).stream("early-phase").stream(k)
        var freshRandom = root.stream("fresh")
        var perturbationRandom = root.stream(run.perturbation.rawValue)
        let fresh = start.model.initialParameters(using: &freshRandom)
        let rewound = start.rewound[k]!
        var stage = try trainingStage(
            name: run.name, detail: String(format: "%.1f%% of weights remaining, from iteration %d", 100 * start.mask.density, k),
            replicate: run.replicate, dense: false, data: data, directory: directory.appendingPathComponent(run.path))
        stage.trainer.mask = start.mask
        stage.trainer.initialParameters = run.perturbation.apply(
            rewound: rewound.parameters, fresh: fresh, mask: start.mask, random: &perturbationRandom)
        stage.trainer.initialBuffers = run.perturbation == .freshInitialization ? nil : rewound.buffers
        stage.trainer.startIteration = k
        return stage
    }
}
