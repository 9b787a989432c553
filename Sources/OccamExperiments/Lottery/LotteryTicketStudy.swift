import Foundation
import OccamData
import OccamNN
import OccamTensor

/// pruning.json of one stage: which network it is and how much of each prunable tensor it keeps.
public struct LotteryStageInfo: Codable, Sendable, Equatable {
    public var replicate: Int
    public var level: Int
    public var network: LotteryNetwork
    /// The seed of the replicate (data order; initialization except for random reinitialization).
    public var seed: UInt64
    /// The iteration training starts at (the rewind point).
    public var startIteration: Int
    /// Kept and total elements per prunable tensor, in model order.
    public var layers: [MaskedTensorCount]

    /// The fraction of prunable weights kept.
    public var weightsRemaining: Double {
        let total = layers.reduce(0) { $0 + $1.total }
        return total == 0 ? 1 : Double(layers.reduce(0) { $0 + $1.kept }) / Double(total)
    }
}

/// Runs a `LotteryConfiguration` in its run directory, stage by stage:
/// `replicate-<r>/level-<l>/<network>/` holds each training run (config.json, metrics.jsonl, summary.json,
/// final.safetensors with the mask, pruning.json, and curvature.json with `curvature`). A finished stage is read back, not rerun, so running the
/// same configuration again continues an interrupted study. The report is built from these files
/// (`LotteryReport`). Its units (`UnitStudy`) are the replicates: levels depend on each other, replicates do not.
/// Within a replicate, a level's controls need only that level's mask, so they train beside the next level's
/// ticket (`jobs`).
public struct LotteryTicketStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: LotteryConfiguration
    public var directory: URL
    /// The prepared data for a seed (the replicate's validation split and subset).
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// How often each training run logs its mean training loss and learning rate to metrics.jsonl
    /// (`Trainer.logTrainingEvery`); it changes no result, so it is not part of the configuration.
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to every run's metrics.jsonl (`Trainer.probes`: the Fisher trace); they change no result.
    public var probes: [TrainingProbe<Scalar>] = []
    /// Stages trained at once: a level's controls beside the next level's ticket. Every stage uses single-threaded
    /// BLAS whatever this is, so results do not depend on it.
    public var jobs = 1

    public init(configuration: LotteryConfiguration, directory: URL, data: @escaping (UInt64) throws -> PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    /// The directory of one stage.
    public func stageDirectory(replicate: Int, level: Int, network: LotteryNetwork) -> URL {
        directory.appendingPathComponent("replicate-\(replicate)/level-\(level)/\(network.rawValue)")
    }

    /// Trains every stage not yet finished, replicate by replicate and level by level.
    /// - Parameter events: progress; throwing from a stage event stops the study (what is written stays valid).
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws {
        try configuration.validate()
        for replicate in 0..<configuration.replicates {
            try runReplicate(replicate, events: events)
        }
    }

    /// "replicate 0", "replicate 1", ...: one unit per replicate.
    public var unitNames: [String] { (0..<configuration.replicates).map { "replicate \($0)" } }

    public func isFinished(unit replicate: Int) -> Bool {
        (0...configuration.levels).allSatisfy { level in
            configuration.networks(atLevel: level).allSatisfy { network in
                RunStore.isComplete(stageDirectory(replicate: replicate, level: level, network: network))
            }
        }
    }

    /// Trains replicate `unit`'s stages not yet finished.
    public func run(unit replicate: Int, events: (StudyEvent) throws -> Void) throws {
        try configuration.validate()
        try runReplicate(replicate, events: events)
    }

    private func runReplicate(_ replicate: Int, events: (StudyEvent) throws -> Void) throws {
        let seed = configuration.seed(ofReplicate: replicate)
        let data = try self.data(seed)
        let dense = configuration.trainingConfiguration(replicate: replicate, level: 0)
        let model: Model<Scalar> = try dense.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
        try configuration.validate(model: model, trainCount: data.train.count)
        let root = RandomGenerator(seed: seed)
        var initRandom = root.stream("init")
        let initial = model.initialParameters(using: &initRandom)
        let prunable = try configuration.prunableNames(of: initial)
        let unpruned = PruningMask(keepingAllOf: ParameterSet(prunable.map { ($0, initial[$0]!) }))
        let perEpoch = dense.iterationsPerEpoch(trainCount: data.train.count)
        let rewindIteration = configuration.rewind.iterations(perEpoch: perEpoch)

        func stage(
            level: Int, network: LotteryNetwork, mask: PruningMask<Scalar>?, start: (ParameterSet<Scalar>, ParameterSet<Scalar>?),
            startIteration: Int, events: (StudyEvent) throws -> Void
        ) throws -> TrainingCheckpoint<Scalar> {
            let stageDirectory = stageDirectory(replicate: replicate, level: level, network: network)
            var trainer = try Trainer(
                configuration: configuration.trainingConfiguration(replicate: replicate, level: level), data: data,
                directory: stageDirectory)
            (trainer.mask, trainer.initialParameters, trainer.initialBuffers) = (mask, start.0, start.1)
            trainer.startIteration = startIteration
            trainer.logTrainingEvery = logTrainingEvery
            trainer.probes = probes
            let info = LotteryStageInfo(
                replicate: replicate, level: level, network: network, seed: seed, startIteration: startIteration,
                layers: (mask ?? unpruned).counts)
            let name = "replicate \(replicate) · level \(level) · \(network.displayName)"
            let detail = String(format: "%.1f%% of weights remaining", 100 * info.weightsRemaining)
            if !RunStore.isComplete(stageDirectory) {
                try ResultFiles.prepareDirectory(stageDirectory)
                try ResultFiles.writeJSON(info, to: stageDirectory.appendingPathComponent("pruning.json"))
            }
            let final = try TrainingStage(name: name, detail: detail, trainer: trainer).run(namingProgress: jobs > 1, events: events).final
            try configuration.curvature?.measureStage(
                name: "\(name) · curvature", in: stageDirectory, training: trainer.configuration, final: final, mask: mask,
                train: data.train, events: events)
            return final
        }

        // The dense network (level 0) from the seed's initialization, then the first ticket.
        let denseFinal = try runStudyJobs(order: [0], jobs: 1, events: events) { _, emit in
            try stage(level: 0, network: .ticket, mask: nil, start: (initial, nil), startIteration: 0, events: emit)
        }[0]
        guard configuration.levels > 0 else { return }
        let rewound: (ParameterSet<Scalar>, ParameterSet<Scalar>?)
        if rewindIteration == 0 {
            rewound = (initial, nil)
        } else {
            let url = stageDirectory(replicate: replicate, level: 0, network: .ticket)
                .appendingPathComponent("checkpoint-\(rewindIteration)it.safetensors")
            let checkpoint = try TrainingCheckpoint<Scalar>.read(from: url)
            rewound = (checkpoint.parameters, checkpoint.buffers)
        }
        /// A control of `level` for the ticket's `mask`: its own initialization or its own random mask.
        func control(_ network: LotteryNetwork, level: Int, mask: PruningMask<Scalar>, events: (StudyEvent) throws -> Void) throws {
            switch network {
            case .randomReinitialization:
                var random = root.stream("random-reinit").stream(level)
                _ = try stage(
                    level: level, network: network, mask: mask, start: (model.initialParameters(using: &random), nil),
                    startIteration: rewindIteration, events: events)
            case .randomPruning:
                var random = root.stream("random-pruning").stream(level)
                _ = try stage(
                    level: level, network: network, mask: mask.randomlyPlaced(using: &random), start: rewound,
                    startIteration: rewindIteration, events: events)
            case .ticket:
                break
            }
        }

        var mask = unpruned.prunedByMagnitude(of: denseFinal.parameters, strategy: configuration.strategy, rates: configuration.rates)
        var ticket = try runStudyJobs(order: [0], jobs: 1, events: events) { _, emit in
            try stage(level: 1, network: .ticket, mask: mask, start: rewound, startIteration: rewindIteration, events: emit)
        }[0]
        // Each level's controls beside the next level's ticket (job 0: on the longer chain, so it starts first when
        // stages run side by side; one at a time, the controls come first, the order of earlier versions).
        for level in 1...configuration.levels {
            let controls = configuration.networks(atLevel: level).filter { $0 != .ticket }
            let nextMask = level < configuration.levels
                ? mask.prunedByMagnitude(of: ticket.parameters, strategy: configuration.strategy, rates: configuration.rates) : nil
            let levelMask = mask
            let order = jobs > 1 ? Array(0...controls.count) : Array(1..<controls.count + 1) + [0]
            let finals = try runStudyJobs(order: order, jobs: jobs, events: events) { job, emit -> TrainingCheckpoint<Scalar>? in
                if job == 0 {
                    guard let nextMask else { return nil }
                    return try stage(
                        level: level + 1, network: .ticket, mask: nextMask, start: rewound, startIteration: rewindIteration, events: emit)
                }
                try control(controls[job - 1], level: level, mask: levelMask, events: emit)
                return nil
            }
            if let nextMask, let next = finals[0] {
                (mask, ticket) = (nextMask, next)
            }
        }
    }
}
