import Foundation
import OccamData
import OccamNN
import OccamTensor
import Synchronization

/// One training run of an experiment, in its own directory. A stage whose summary.json exists is finished
/// and is read back instead of run; an unfinished one resumes from its latest checkpoint (see `Trainer`).
struct TrainingStage<Scalar: TensorScalar> {
    var name: String
    /// What the stage is, for progress output ("21.1% of weights").
    var detail: String
    /// Set up with a `directory`.
    var trainer: Trainer<Scalar>

    var directory: URL { trainer.directory! }

    /// Runs the stage unless finished; returns its summary, its final state and whether it trained now.
    /// Stage events may throw to stop the study; training progress events cannot (they only report).
    func run(events: (StudyEvent) throws -> Void) throws -> (summary: TrainingSummary, final: TrainingCheckpoint<Scalar>, trained: Bool) {
        if RunStore.isComplete(directory), let finalURL = trainer.finalCheckpointURL,
            FileManager.default.fileExists(atPath: finalURL.path)
        {
            let summary = try RunStore.readJSON(TrainingSummary.self, from: directory.appendingPathComponent("summary.json"))
            try events(.stageFinished(name: name, result: Self.describe(summary), skipped: true))
            return (summary, try TrainingCheckpoint<Scalar>.read(from: finalURL), false)
        }
        try events(.stageStarted(name: name, detail: detail))
        try ResultFiles.prepareDirectory(directory)
        let result = try trainer.run { try? events(.training($0)) }
        try events(.stageFinished(name: name, result: Self.describe(result.summary), skipped: false))
        return (result.summary, result.checkpoint, true)
    }

    /// `run(events:)`, with training steps sent as `.concurrentTraining` events naming this stage when
    /// `namingProgress` is set (stages running side by side).
    func run(namingProgress: Bool, events: (StudyEvent) throws -> Void) throws
        -> (summary: TrainingSummary, final: TrainingCheckpoint<Scalar>, trained: Bool)
    {
        try run { event in
            var event = event
            if namingProgress, case .training(let progress) = event { event = .concurrentTraining(name: name, progress: progress) }
            try events(event)
        }
    }

    static func describe(_ summary: TrainingSummary) -> String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.2f%%", 100 * $0) } ?? "-" }
        if let divergence = summary.divergence {
            return "diverged: loss \(divergence.loss) at iteration \(divergence.iteration) (learning rate \(divergence.learningRate))"
        }
        if summary.earlyStoppingIteration == nil {
            let fit = summary.fitIteration.map { "fit the training set at \($0)it" } ?? "trained \(summary.iterations)it"
            return "\(fit), test accuracy \(percent(summary.finalTest?.accuracy))"
        }
        return "test accuracy \(percent(summary.finalTest?.accuracy)), early stop at \(summary.earlyStoppingIteration.map(String.init) ?? "-")it"
            + " (\(percent(summary.earlyStoppingTestAccuracy)))"
    }
}

/// Runs `job(index)` for every index in `order` (distinct indices: all of a study's, or one Slurm unit's), up
/// to `jobs` at once, and returns the results in increasing index order. Every job runs with single-threaded BLAS whatever `jobs` is, so results do
/// not depend on it (OpenBLAS's threaded products round differently); the previous BLAS setting is restored
/// afterwards. Each job gets an event sender that delivers its events one at a time.
func runStudyJobs<Result: Sendable>(
    order: [Int], jobs: Int, events: (StudyEvent) throws -> Void, job: (Int, (StudyEvent) throws -> Void) throws -> Result
) throws -> [Result] {
    let results = Mutex<[Int: Result]>([:])
    let eventLock = NSLock()
    let previousMaximum = BLASThreads.maximum
    BLASThreads.setMaximum(1)
    defer { BLASThreads.setMaximum(previousMaximum) }
    try withoutActuallyEscaping(events) { events in
        nonisolated(unsafe) let send = events
        try runConcurrently(count: order.count, threads: jobs) { position in
            let index = order[position]
            let result = try job(index) { event in try eventLock.withLock { try send(event) } }
            results.withLock { $0[index] = result }
        }
    }
    return results.withLock { finished in order.sorted().map { finished[$0]! } }
}

/// Runs the training stages `stage(index)` for every index in `order` through `runStudyJobs` and returns their
/// summaries by index. With `jobs` above 1 training steps come as `.concurrentTraining` events naming their
/// stage. `afterStage` runs on the stage's thread with its index, its final state and the event sender, after
/// the stage (trained now or read back): a measurement of the final network.
func trainConcurrently<Scalar: TensorScalar>(
    order: [Int], jobs: Int, events: (StudyEvent) throws -> Void,
    afterStage: (Int, TrainingCheckpoint<Scalar>, (StudyEvent) throws -> Void) throws -> Void = { _, _, _ in },
    stage: (Int) throws -> TrainingStage<Scalar>
) throws -> [TrainingSummary] {
    try runStudyJobs(order: order, jobs: jobs, events: events) { index, emit in
        let result = try stage(index).run(namingProgress: jobs > 1, events: emit)
        try withoutActuallyEscaping(emit) { emit in try afterStage(index, result.final, emit) }
        return result.summary
    }
}
