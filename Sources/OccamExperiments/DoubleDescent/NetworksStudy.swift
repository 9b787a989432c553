import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

/// Runs a `DoubleDescentNetworksConfiguration` in its run directory: `replicate-<r>/width-<w>/`, each a
/// Trainer run whose metrics.jsonl holds the noisy training split ("train"), the clean test split ("test") and
/// the test split with corrupted labels ("test-corrupted") at every evaluation. Finished runs are read back, so
/// an interrupted sweep continues. Its units (`UnitStudy`) are the runs, in `configuration.runs` order.
public struct DoubleDescentNetworksStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: DoubleDescentNetworksConfiguration
    public var directory: URL
    /// The prepared (clean) data for a seed.
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// Runs trained at once. Every run uses single-threaded BLAS whatever this is, so the results do not depend
    /// on it (OpenBLAS's threaded products round differently); one run per core is the fastest on small models.
    public var jobs = 1
    /// How often each training run logs its mean training loss and learning rate to metrics.jsonl
    /// (`Trainer.logTrainingEvery`); it changes no result, so it is not part of the configuration.
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to every run's metrics.jsonl (`Trainer.probes`: the Fisher trace); they change no result.
    public var probes: [TrainingProbe<Scalar>] = []
    /// After training, average each width's replicates' softmax outputs on the clean test set into
    /// `ensemble/width-<w>.json` (`--ensemble`); it changes no training run, so it is not part of the configuration.
    public var ensemble = false

    public init(configuration: DoubleDescentNetworksConfiguration, directory: URL, data: @escaping (UInt64) throws -> PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    /// Trains every run not yet finished; returns their summaries in `configuration.runs` order.
    ///
    /// With `jobs` above 1, runs train concurrently (widest first, so the longest runs start early), events
    /// arrive one at a time from the training threads, and training steps come as `.concurrentTraining`
    /// events naming their run. BLAS runs single-threaded throughout, and is restored afterwards.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [TrainingSummary] {
        let runs = configuration.runs
        // Widest first, so that the longest runs do not start last; among equal widths, replicate order.
        let noisyData = try replicatesData()
        let summaries = try train(
            order: runs.indices.sorted { (runs[$0].width, -$0) > (runs[$1].width, -$1) }, noisyData: noisyData, events: events)
        if ensemble, let first = noisyData.first?.data.test {
            // Every replicate's clean test set is the whole test split: the members predict the same images.
            try ExperimentError.require(
                noisyData.allSatisfy { $0.data.test.labels == first.labels }, "the replicates' test sets differ, so their predictions cannot be averaged")
            try measureEnsembles(cleanTest: first, events: events)
        }
        return summaries
    }

    /// "replicate 0 · width 8", ...: one unit per run of `configuration.runs`.
    public var unitNames: [String] { configuration.runs.map(\.name) }

    public func isFinished(unit: Int) -> Bool {
        let run = directory.appendingPathComponent(configuration.runs[unit].path)
        return RunStore.isComplete(run)
            && (configuration.curvature == nil || FileManager.default.fileExists(atPath: run.appendingPathComponent(SweepCurvature.fileName).path))
    }

    /// Trains (and measures) run `unit` of `configuration.runs` unless it is finished.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws {
        _ = try train(order: [unit], noisyData: try replicatesData(), events: events)
    }

    /// Each replicate's data with the sweep's label noise: the noisy training split and clean test split, and
    /// the corrupted test labels.
    private func replicatesData() throws -> [(data: PreparedData<Scalar>, corruptedTest: LabeledImages<Scalar>?)] {
        try configuration.validate()
        return try (0..<configuration.replicates).map { replicate in
            let seed = configuration.seed(ofReplicate: replicate)
            return configuration.condition.apply(to: try data(seed), seed: seed)
        }
    }

    /// Trains the runs at the indices `order`, in that order (`jobs` at a time); their summaries in index order.
    private func train(
        order: [Int], noisyData: [(data: PreparedData<Scalar>, corruptedTest: LabeledImages<Scalar>?)], events: (StudyEvent) throws -> Void
    ) throws -> [TrainingSummary] {
        let runs = configuration.runs
        return try trainConcurrently(order: order, jobs: jobs, events: events, afterStage: { index, final, events in
            // The final network's curvature, a stage of its own.
            if let curvature = configuration.curvature {
                let run = runs[index]
                try curvature.measureStage(
                    name: "\(run.name) · curvature", in: directory.appendingPathComponent(run.path),
                    training: configuration.training(width: run.width, replicate: run.replicate), final: final,
                    train: noisyData[run.replicate].0.train, events: events)
            }
        }) { index in
            let run = runs[index]
            let (noisy, corruptedTest) = noisyData[run.replicate]
            var trainer = try Trainer(
                configuration: configuration.training(width: run.width, replicate: run.replicate), data: noisy,
                directory: directory.appendingPathComponent(run.path))
            trainer.logTrainingEvery = logTrainingEvery
            trainer.probes = probes
            trainer.extraEvaluationSplits = [("train", noisy.train)] + (corruptedTest.map { [("test-corrupted", $0)] } ?? [])
            let steps = trainer.configuration.steps
            let total = steps.iterations(perEpoch: trainer.configuration.iterationsPerEpoch(trainCount: noisy.train.count))
            // An interrupted run resumes from its latest tenth.
            trainer.resumeCheckpointEvery = max(1, total / 10)
            return TrainingStage(
                name: run.name, detail: "\(total) iterations (\(steps)) on \(noisy.train.count) images, \(configuration.condition)",
                trainer: trainer)
        }
    }
}
