import Foundation

/// A study whose work splits into independent units, each writing only its own directories in the run
/// directory, so that units may run as separate processes (Slurm array tasks) at once. Running every unit and
/// then the study's report gives the same files, bit for bit, as a local run of the whole study.
public protocol UnitStudy {
    /// The run directory.
    var directory: URL { get }
    /// One readable name per unit, in unit order ("replicate 0", "width 8 · replicate 1"); unit I is `unitNames[I]`.
    var unitNames: [String] { get }
    /// Whether unit `unit` has written all of its results (a finished unit is skipped when resubmitting).
    func isFinished(unit: Int) -> Bool
    /// Runs unit `unit` alone: what a local run of the study does for it, and nothing study-level.
    func run(unit: Int, events: (StudyEvent) throws -> Void) throws
}

extension UnitStudy {
    /// The units not yet finished, in increasing order.
    public var unfinishedUnits: [Int] { unitNames.indices.filter { !isFinished(unit: $0) } }
}
