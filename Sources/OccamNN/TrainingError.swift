import Foundation

/// A training run that cannot start or continue, with the fix in the message.
public enum TrainingError: Error, CustomStringConvertible {
    case impossibleConfiguration(String)
    case cannotResume(String)

    public var description: String {
        switch self {
        case .impossibleConfiguration(let message): return "Impossible configuration: \(message)."
        case .cannotResume(let message): return "Cannot resume: \(message)."
        }
    }
}
