import Foundation

/// A training run that cannot start or continue, with the fix in the message.
public enum TrainingError: Error, CustomStringConvertible {
    case impossibleConfiguration(String)
    case cannotResume(String)
    /// Stopped by a signal (or another stop request) at a step boundary, after writing `checkpoint`.
    case interrupted(reason: String, iteration: Int, checkpoint: URL?)
    /// The loss became NaN or infinite.
    case diverged(Divergence, directory: URL?)

    public var description: String {
        switch self {
        case .impossibleConfiguration(let message): return "Impossible configuration: \(message)."
        case .cannotResume(let message): return "Cannot resume: \(message)."
        case let .interrupted(reason, iteration, checkpoint):
            return "Stopped by \(reason) at iteration \(iteration)"
                + (checkpoint.map { "; the resume checkpoint is \($0.path). Run the same command again to resume from it." } ?? ".")
        case let .diverged(divergence, directory):
            return divergence.explanation.prefix(1).uppercased() + divergence.explanation.dropFirst()
                + (directory.map { " (in \($0.path); summary.json records the divergence)." } ?? ".")
        }
    }
}
