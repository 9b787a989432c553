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
        return try train(order: runs.indices.sorted { (runs[$0].width, -$0) > (runs[$1].width, -$1) }, events: events)
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
        _ = try train(order: [unit], events: events)
    }

    /// Trains the runs at the indices `order`, in that order (`jobs` at a time); their summaries in index order.
    private func train(order: [Int], events: (StudyEvent) throws -> Void) throws -> [TrainingSummary] {
        try configuration.validate()
        let noisyData = try (0..<configuration.replicates).map { replicate in
            let seed = configuration.seed(ofReplicate: replicate)
            return configuration.condition.apply(to: try data(seed), seed: seed)
        }
        let runs = configuration.runs
        return try trainConcurrently(order: order, jobs: jobs, events: events, afterStage: { index, final, events in
            // The final network's curvature, a stage of its own.
            if let curvature = configuration.curvature {
                try measure(curvature, run: runs[index], final, train: noisyData[runs[index].replicate].0.train, events: events)
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

    /// The run's curvature.json (`SweepCurvature`) unless it exists: a stage of its own in the progress output.
    private func measure(
        _ curvature: SweepCurvature, run: NetworkWidthRun, _ final: TrainingCheckpoint<Scalar>, train: LabeledImages<Scalar>,
        events: (StudyEvent) throws -> Void
    ) throws {
        let url = directory.appendingPathComponent(run.path).appendingPathComponent(SweepCurvature.fileName)
        let name = "\(run.name) · curvature"
        if FileManager.default.fileExists(atPath: url.path) {
            try events(.stageFinished(name: name, result: "measured", skipped: true))
            return
        }
        try events(.stageStarted(name: name, detail: "top \(curvature.options.top) eigenvalues of the \(curvature.options.operatorKind.rawValue), trace, evidence"))
        let measurement = try withoutActuallyEscaping(events) { events in
            nonisolated(unsafe) let send = events
            let dimension = try ParameterSubspace(of: final.parameters, selection: curvature.parameters).dimension
            return try curvature.measure(
                configuration.training(width: run.width, replicate: run.replicate), parameters: final.parameters, buffers: final.buffers,
                train: train) { progress in
                if let event = progress.studyEvent(options: curvature.options, dimension: dimension) { try? send(event) }
            }
        }
        try ResultFiles.writeJSON(measurement, to: url)
        try events(.stageFinished(
            name: name,
            result: String(format: "N_eff %.4g, largest eigenvalue %.4g, log evidence %.6g", measurement.effectiveDimensionality,
                           measurement.topEigenvalue ?? .nan, measurement.evidence?.logEvidence ?? .nan),
            skipped: false))
    }
}
