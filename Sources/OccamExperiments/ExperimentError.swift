/// An experiment's configuration that cannot run, with what to change.
public enum ExperimentError: Error, CustomStringConvertible {
    case impossibleConfiguration(String)

    /// Throws `.impossibleConfiguration(message)` unless `condition` holds.
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ExperimentError.impossibleConfiguration(message()) }
    }

    public var description: String {
        switch self {
        case .impossibleConfiguration(let message): "Impossible configuration: \(message)."
        }
    }
}
