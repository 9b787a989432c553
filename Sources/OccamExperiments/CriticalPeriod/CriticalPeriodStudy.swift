import Foundation
import OccamData
import OccamNN
import OccamTensor

/// Runs a `CriticalPeriodConfiguration` in its run directory: `replicate-<r>/deficit-<onset>-<length>/`, each a
/// Trainer run whose metrics.jsonl holds the test split every epoch and the probes' records (the Fisher
/// trace). Finished runs are read back and unfinished ones resume, so an interrupted study continues. Its units
/// (`UnitStudy`) are the runs, in `configuration.runs` order.
public struct CriticalPeriodStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: CriticalPeriodConfiguration
    public var directory: URL
    /// The prepared data for a seed.
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// Runs trained at once; every run uses single-threaded BLAS whatever this is, so results do not depend on it.
    public var jobs = 1
    /// How often each run logs its mean training loss and learning rate (`Trainer.logTrainingEvery`).
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to every run's metrics.jsonl (the Fisher trace); they change no result.
    public var probes: [TrainingProbe<Scalar>] = []

    public init(configuration: CriticalPeriodConfiguration, directory: URL, data: @escaping (UInt64) throws -> PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    /// Trains every run not yet finished; returns their summaries in `configuration.runs` order.
    ///
    /// With `jobs` above 1, runs train concurrently (longest first), events arrive one at a time, and training
    /// steps come as `.concurrentTraining` events naming their run.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [TrainingSummary] {
        let runs = configuration.runs
        return try train(order: runs.indices.sorted { (runs[$0].window.end, -$0) > (runs[$1].window.end, -$1) }, events: events)
    }

    /// "replicate 0 · ...", one unit per run of `configuration.runs`.
    public var unitNames: [String] { configuration.runs.map(\.name) }

    public func isFinished(unit: Int) -> Bool { RunStore.isComplete(directory.appendingPathComponent(configuration.runs[unit].path)) }

    /// Trains run `unit` of `configuration.runs` unless it is finished.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws { _ = try train(order: [unit], events: events) }

    /// Trains the runs at the indices `order`, in that order (`jobs` at a time); their summaries in index order.
    private func train(order: [Int], events: (StudyEvent) throws -> Void) throws -> [TrainingSummary] {
        try configuration.validate()
        let prepared = try (0..<configuration.replicates).map { try data(configuration.seed(ofReplicate: $0)) }
        let runs = configuration.runs
        return try trainConcurrently(order: order, jobs: jobs, events: events) { index in
            let run = runs[index]
            let data = prepared[run.replicate]
            let perEpoch = configuration.training.iterationsPerEpoch(trainCount: data.train.count)
            var trainer = try Trainer(
                configuration: configuration.training(for: run, iterationsPerEpoch: perEpoch), data: data,
                directory: directory.appendingPathComponent(run.path))
            trainer.logTrainingEvery = logTrainingEvery
            trainer.probes = probes
            trainer.resumeCheckpointEvery = perEpoch
            let deficit = trainer.configuration.deficit?.description ?? "no deficit"
            return TrainingStage(name: run.name, detail: "\(trainer.configuration.steps) on \(data.train.count) images, \(deficit)", trainer: trainer)
        }
    }
}
