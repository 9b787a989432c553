import Foundation
import OccamExperiments

/// Where the command line writes: progress and status (what is running, progress lines, where the run
/// directory is) go to standard error; results (tables, the report's path, JSON) go to standard output, as
/// tqdm and PyTorch Lightning do. So `occam lottery > results.txt` keeps only the results, a pipe into
/// another program sees only them, and progress still shows on the terminal.
enum Console {
    /// Whether standard error, where progress is drawn, is a terminal (progress lines are rewritten in place).
    static var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// Writes `text` and `terminator` to standard error at once (unbuffered: one write call).
    static func status(_ text: String, terminator: String = "\n") {
        let bytes = Array((text + terminator).utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if result > 0 { written += result } else if result < 0 && errno == EINTR { continue } else { return }
        }
    }
}

/// Writes a status line to standard error: see `Console`.
func status(_ text: String, terminator: String = "\n") { Console.status(text, terminator: terminator) }

/// A spread for a results table: "87.28 ± 0.50" over two or more values, "87.28 (n=1)" for one (its spread is
/// undefined), "-" for none. `format` is the printf format of one number ("%.2f").
func spreadCell(_ value: Spread, _ format: String) -> String {
    guard value.count > 0, value.mean.isFinite else { return "-" }
    guard let error = value.errorBar else { return String(format: format, value.mean) + " (n=1)" }
    return String(format: "\(format) ± \(format)", value.mean, error)
}
