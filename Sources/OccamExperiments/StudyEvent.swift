import OccamNN

/// What a multi-stage experiment reports while it runs, for progress output.
public enum StudyEvent: Sendable {
    /// A stage begins (or resumes): its name ("replicate 0 / level 3 / ticket") and a detail line.
    case stageStarted(name: String, detail: String)
    /// An iteration of the stage's training finished.
    case training(TrainingProgress)
    /// An iteration of one of several stages training at once finished: which stage, and where it is.
    case concurrentTraining(name: String, progress: TrainingProgress)
    /// A stage that does not train (a linear solve) moved on: what it is doing and the fraction of that done.
    case progress(phase: String, fraction: Double)
    /// A stage is done; `skipped` when its outputs existed already.
    case stageFinished(name: String, result: String, skipped: Bool)
}
