import Foundation
import OccamData
import OccamNN
import OccamTensor

/// path.json of one pair of copies.
public struct PathRecord: Codable, Sendable, Equatable {
    public var replicate: Int
    /// The iteration the copies split at; nil for the different-initialization control.
    public var spawnStep: Int?
    public var trainBarrier: Double
    public var testBarrier: Double
    public var path: InterpolationPath
}

/// Runs a `ConnectivityConfiguration` in its run directory: `replicate-<r>/parent/` (the shared trajectory up
/// to the last spawn step), `replicate-<r>/spawn-<k>it/copy-a|copy-b/` and their `path.json`, and
/// `replicate-<r>/different-init/`. Finished stages are read back, so an interrupted run continues. Its units
/// (`UnitStudy`) are the replicates: a replicate's spawn points share its parent, and the different-init pair
/// shares copy A with the spawn at the start.
public struct LinearModeConnectivity<Scalar: TensorScalar>: UnitStudy {
    public var configuration: ConnectivityConfiguration
    public var directory: URL
    /// The prepared data for a seed.
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// The lottery run's directory when `configuration.subnetwork` is set.
    public var lotteryDirectory: URL?
    /// How often each training run logs its mean training loss and learning rate to metrics.jsonl
    /// (`Trainer.logTrainingEvery`); it changes no result, so it is not part of the configuration.
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to every run's metrics.jsonl (`Trainer.probes`: the Fisher trace); they change no result.
    public var probes: [TrainingProbe<Scalar>] = []
    /// Copies trained at once once the parent is trained; every run uses single-threaded BLAS whatever this is, so
    /// results do not depend on it.
    public var jobs = 1

    public init(
        configuration: ConnectivityConfiguration, directory: URL, lotteryDirectory: URL? = nil,
        data: @escaping (UInt64) throws -> PreparedData<Scalar>
    ) {
        (self.configuration, self.directory, self.lotteryDirectory, self.data) = (configuration, directory, lotteryDirectory, data)
    }

    /// Trains and evaluates everything not yet done; returns every pair's path, replicate by replicate.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [PathRecord] {
        try validateLottery()
        return try (0..<configuration.replicates).flatMap { try runReplicate($0, events: events) }
    }

    /// "replicate 0", "replicate 1", ...: one unit per replicate.
    public var unitNames: [String] { (0..<configuration.replicates).map { "replicate \($0)" } }

    /// Whether every pair of replicate `unit` has its path.json (written after both copies). Spawn steps in
    /// epochs need the replicate's training split, so this may prepare its data.
    public func isFinished(unit replicate: Int) -> Bool {
        guard let data = try? self.data(configuration.seed(ofReplicate: replicate)) else { return false }
        let perEpoch = configuration.training.iterationsPerEpoch(trainCount: data.train.count)
        let pairs = Set(configuration.spawnSteps.map { "spawn-\($0.iterations(perEpoch: perEpoch))it" })
            .union(configuration.differentInit ? ["different-init"] : [])
        return pairs.allSatisfy { pair in
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("replicate-\(replicate)/\(pair)/path.json").path)
        }
    }

    /// Trains and evaluates everything of replicate `unit` not yet done.
    public func run(unit replicate: Int, events: (StudyEvent) throws -> Void) throws {
        try validateLottery()
        _ = try runReplicate(replicate, events: events)
    }

    /// Checks the configuration, and that the lottery run has the subnetwork's replicates and level.
    private func validateLottery() throws {
        try configuration.validate()
        if let subnetwork = configuration.subnetwork {
            guard let lotteryDirectory else { preconditionFailure("LinearModeConnectivity: a subnetwork needs lotteryDirectory") }
            let lottery = try RunStore.readConfiguration(LotteryConfiguration.self, in: lotteryDirectory).configuration
            try ExperimentError.require(
                configuration.replicates <= lottery.replicates && subnetwork.level <= lottery.levels,
                "the lottery run has \(lottery.replicates) replicate(s) and levels 0-\(lottery.levels); asked for \(configuration.replicates) replicate(s) at level \(subnetwork.level)")
        }
    }

    /// The state training starts from: weights, buffers, iteration and mask.
    private struct Start {
        var parameters: ParameterSet<Scalar>
        var buffers: ParameterSet<Scalar>?
        var iteration: Int
        var mask: PruningMask<Scalar>?
    }

    private func runReplicate(_ replicate: Int, events: (StudyEvent) throws -> Void) throws -> [PathRecord] {
        let seed = configuration.seed(ofReplicate: replicate)
        let data = try self.data(seed)
        var training = configuration.training
        training.seed = seed
        let model: Model<Scalar> = try training.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
        let perEpoch = training.iterationsPerEpoch(trainCount: data.train.count)
        let total = training.steps.iterations(perEpoch: perEpoch)
        let root = RandomGenerator(seed: seed)
        let start = try startingState(replicate: replicate, seed: seed, model: model, perEpoch: perEpoch)
        let spawns = Set(configuration.spawnSteps.map { $0.iterations(perEpoch: perEpoch) }).sorted()
        guard spawns.first! >= start.iteration, spawns.last! < total else {
            throw ExperimentError.impossibleConfiguration(
                "spawn steps must lie in [\(start.iteration), \(total)) iterations (the start and the end of training); got \(spawns.map { "\($0)it" }.joined(separator: ", "))")
        }
        let evaluationTrain = configuration.trainEvaluationSize.map { min($0, data.train.count) }
            .map { data.train.randomSubset(size: $0, seed: seed) } ?? data.train

        func trainStage(
            _ name: String, _ path: String, configuration stageConfiguration: TrainingConfiguration, from state: Start,
            events: (StudyEvent) throws -> Void
        ) throws -> (final: TrainingCheckpoint<Scalar>, trained: Bool) {
            var trainer = try Trainer(configuration: stageConfiguration, data: data, directory: directory.appendingPathComponent(path))
            (trainer.mask, trainer.initialParameters, trainer.initialBuffers) = (state.mask, state.parameters, state.buffers)
            trainer.startIteration = state.iteration
            trainer.logTrainingEvery = logTrainingEvery
            trainer.probes = probes
            let detail = "\(stageConfiguration.steps.iterations(perEpoch: perEpoch) - state.iteration) iterations from iteration \(state.iteration)"
            let result = try TrainingStage(name: "replicate \(replicate) · \(name)", detail: detail, trainer: trainer)
                .run(namingProgress: jobs > 1, events: events)
            return (result.final, result.trained)
        }
        func copyConfiguration(_ copy: String) -> TrainingConfiguration {
            var c = training
            var random = root.stream("copy-\(copy)")
            c.seed = random.next()
            c.dataSeed = seed
            return c
        }

        // The parent: one trajectory from the start to the last spawn step, saved at every spawn step.
        var states: [Int: Start] = [start.iteration: start]
        let later = spawns.filter { $0 > start.iteration }
        if let last = later.last {
            var parent = training
            parent.steps = TrainingDuration(iterations: last)
            parent.checkpoints = later.map { TrainingDuration(iterations: $0) }
            _ = try runStudyJobs(order: [0], jobs: 1, events: events) { _, emit in
                try trainStage("parent", "replicate-\(replicate)/parent", configuration: parent, from: start, events: emit).trained
            }
            for step in later {
                let url = directory.appendingPathComponent("replicate-\(replicate)/parent/checkpoint-\(step)it.safetensors")
                let checkpoint = try TrainingCheckpoint<Scalar>.read(from: url)
                states[step] = Start(parameters: checkpoint.parameters, buffers: checkpoint.buffers, iteration: step, mask: start.mask)
            }
        }

        // Every pair's copies, each once (the different-initialization pair's copy A from the start state is
        // spawn-<start>'s copy A when that pair exists: the same run); then the path between each pair's copies.
        var copies: [(name: String, path: String, configuration: TrainingConfiguration, start: Start)] = []
        var pairs: [(name: String, path: String, spawnStep: Int?, copyA: String, copyB: String)] = []
        func plan(_ name: String, _ path: String, spawnStep: Int?, a: Start, b: Start, copyAPath: String? = nil) {
            let copyA = copyAPath ?? "\(path)/copy-a", copyB = "\(path)/copy-b"
            if !copies.contains(where: { $0.path == copyA }) { copies.append(("\(name) · copy A", copyA, copyConfiguration("a"), a)) }
            copies.append(("\(name) · copy B", copyB, copyConfiguration("b"), b))
            pairs.append((name, path, spawnStep, copyA, copyB))
        }
        for step in spawns {
            plan("spawn \(step)it", "replicate-\(replicate)/spawn-\(step)it", spawnStep: step, a: states[step]!, b: states[step]!)
        }
        if configuration.differentInit {
            var random = root.stream("different-init")
            var other = start
            other.parameters = model.initialParameters(using: &random)
            other.buffers = nil
            let shared = spawns.contains(start.iteration) ? "replicate-\(replicate)/spawn-\(start.iteration)it/copy-a" : nil
            plan("different init", "replicate-\(replicate)/different-init", spawnStep: nil, a: start, b: other, copyAPath: shared)
        }
        let trained = try runStudyJobs(order: Array(copies.indices), jobs: jobs, events: events) { index, emit in
            let copy = copies[index]
            return try trainStage(copy.name, copy.path, configuration: copy.configuration, from: copy.start, events: emit)
        }
        let copyByPath = Dictionary(uniqueKeysWithValues: zip(copies.map(\.path), trained))

        // A path already evaluated is read back unless a copy had to be trained again.
        return try pairs.map { pair in
            let (copyA, copyB) = (copyByPath[pair.copyA]!, copyByPath[pair.copyB]!)
            let url = directory.appendingPathComponent("\(pair.path)/path.json")
            let stageName = "replicate \(replicate) · \(pair.name) · path"
            if !copyA.trained, !copyB.trained, let done = try? RunStore.readJSON(PathRecord.self, from: url) {
                try events(.stageFinished(name: stageName, result: Self.describe(done), skipped: true))
                return done
            }
            try events(.stageStarted(name: stageName, detail: "\(configuration.points) points"))
            let interpolation = InterpolationPath.evaluate(
                model: model, from: (copyA.final.parameters, copyA.final.buffers), to: (copyB.final.parameters, copyB.final.buffers),
                points: configuration.points, train: evaluationTrain, test: data.test, loss: training.loss)
            let record = PathRecord(
                replicate: replicate, spawnStep: pair.spawnStep, trainBarrier: interpolation.trainBarrier,
                testBarrier: interpolation.testBarrier, path: interpolation)
            try ResultFiles.writeJSON(record, to: url)
            try events(.stageFinished(name: stageName, result: Self.describe(record), skipped: false))
            return record
        }
    }

    /// The dense initialization, or the lottery subnetwork's mask with its rewound weights.
    private func startingState(replicate: Int, seed: UInt64, model: Model<Scalar>, perEpoch: Int) throws -> Start {
        var random = RandomGenerator(seed: seed).stream("init")
        let initial = model.initialParameters(using: &random)
        guard let subnetwork = configuration.subnetwork else { return Start(parameters: initial, buffers: nil, iteration: 0, mask: nil) }
        guard let lotteryDirectory else { preconditionFailure("LinearModeConnectivity: a subnetwork needs lotteryDirectory") }
        let lottery = try RunStore.readConfiguration(LotteryConfiguration.self, in: lotteryDirectory).configuration
        let ticket = lotteryDirectory.appendingPathComponent("replicate-\(replicate)/level-\(subnetwork.level)/ticket")
        guard RunStore.isComplete(ticket) else {
            throw ExperimentError.impossibleConfiguration("\(ticket.path) has not finished; run the lottery study to that level first")
        }
        let mask = try TrainingCheckpoint<Scalar>.read(from: ticket.appendingPathComponent("final.safetensors")).mask
        let rewind = lottery.rewind.iterations(perEpoch: perEpoch)
        guard rewind > 0 else { return Start(parameters: initial, buffers: nil, iteration: 0, mask: mask) }
        let url = lotteryDirectory.appendingPathComponent("replicate-\(replicate)/level-0/ticket/checkpoint-\(rewind)it.safetensors")
        let checkpoint = try TrainingCheckpoint<Scalar>.read(from: url)
        return Start(parameters: checkpoint.parameters, buffers: checkpoint.buffers, iteration: rewind, mask: mask)
    }

    static func describe(_ record: PathRecord) -> String {
        String(format: "test error barrier %.2f%%, train error barrier %.2f%%", 100 * record.testBarrier, 100 * record.trainBarrier)
    }
}
