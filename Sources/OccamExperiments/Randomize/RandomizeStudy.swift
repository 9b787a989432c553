import Foundation
import OccamData
import OccamNN
import OccamTensor

/// Runs a `RandomizeConfiguration` in its run directory: `replicate-<r>/<condition>/` and
/// `replicate-<r>/regularized-<variant>/<labels>/`, each a Trainer run (metrics.jsonl with the training split's
/// loss and accuracy at every evaluation, summary.json with the iteration at which it fit, final.safetensors).
/// Finished runs are read back, so an interrupted study continues. Its units (`UnitStudy`) are the pairs
/// (replicate, run of `configuration.runs`), replicate-major.
public struct RandomizeStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: RandomizeConfiguration
    public var directory: URL
    /// The prepared (unrandomized) data for a seed.
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// How often each training run logs its mean training loss and learning rate to metrics.jsonl
    /// (`Trainer.logTrainingEvery`); it changes no result, so it is not part of the configuration.
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to every run's metrics.jsonl (`Trainer.probes`: the Fisher trace); they change no result.
    public var probes: [TrainingProbe<Scalar>] = []
    /// Runs trained at once; every run uses single-threaded BLAS whatever this is, so results do not depend on it.
    public var jobs = 1

    public init(configuration: RandomizeConfiguration, directory: URL, data: @escaping (UInt64) throws -> PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    /// Trains every run not yet finished (`jobs` at a time); returns their summaries, replicate by replicate, in
    /// `runs` order.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [TrainingSummary] {
        try configuration.validate()
        let prepared = try (0..<configuration.replicates).map { try self.data(configuration.seed(ofReplicate: $0)) }
        let runs = configuration.runs
        return try trainConcurrently(order: Array(0..<(configuration.replicates * runs.count)), jobs: jobs, events: events) { unit in
            let (replicate, run) = unit.quotientAndRemainder(dividingBy: runs.count)
            return try stage(replicate: replicate, run: runs[run], data: prepared[replicate])
        }
    }

    /// "replicate 0 · random-labels", ...: one unit per replicate and run, replicate-major.
    public var unitNames: [String] {
        (0..<configuration.replicates).flatMap { replicate in configuration.runs.map { "replicate \(replicate) · \(Self.name(of: $0))" } }
    }

    public func isFinished(unit: Int) -> Bool {
        let (replicate, run) = unit.quotientAndRemainder(dividingBy: configuration.runs.count)
        return RunStore.isComplete(directory.appendingPathComponent("replicate-\(replicate)/\(configuration.runs[run].path)"))
    }

    /// Trains one run of one replicate unless it is finished.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws {
        try configuration.validate()
        let (replicate, run) = unit.quotientAndRemainder(dividingBy: configuration.runs.count)
        let data = try self.data(configuration.seed(ofReplicate: replicate))
        _ = try stage(replicate: replicate, run: configuration.runs[run], data: data).run(events: events)
    }

    /// One entry of `configuration.runs`.
    private typealias Run = (path: String, condition: RandomizationCondition, regularizers: [Regularizer])

    /// "random-labels", "true-labels · weight-decay".
    private static func name(of run: Run) -> String {
        "\(run.condition)" + (run.regularizers.isEmpty ? "" : " · " + RandomizeConfiguration.variantName(run.regularizers))
    }

    /// The training stage of `run` in `replicate`, whose (unrandomized) data is `data`.
    private func stage(replicate: Int, run: Run, data: PreparedData<Scalar>) throws -> TrainingStage<Scalar> {
        let seed = configuration.seed(ofReplicate: replicate)
        var training = configuration.training(with: run.regularizers)
        training.seed = seed
        let (conditioned, corruptedTest) = run.condition.apply(to: data, seed: seed)
        var trainer = try Trainer(
            configuration: training, data: conditioned, directory: directory.appendingPathComponent("replicate-\(replicate)/\(run.path)"))
        trainer.logTrainingEvery = logTrainingEvery
        trainer.probes = probes
        if configuration.evaluateCorruptedTest, let corruptedTest {
            trainer.extraEvaluationSplits = [("test-corrupted", corruptedTest)]
        }
        let perEpoch = training.iterationsPerEpoch(trainCount: conditioned.train.count)
        let budget = training.steps.iterations(perEpoch: perEpoch)
        return TrainingStage(
            name: "replicate \(replicate) · \(Self.name(of: run))",
            detail: "up to \(budget) iterations (\(training.steps)), until \(String(format: "%g", 100 * (training.stopAtTrainingAccuracy ?? 1)))% training accuracy",
            trainer: trainer)
    }
}
