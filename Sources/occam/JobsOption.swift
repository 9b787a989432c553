import ArgumentParser
import Foundation

/// Checks a study command's `--jobs`: at least 1 when given.
func validateJobs(_ jobs: Int?) throws {
    guard jobs.map({ $0 >= 1 }) ?? true else { throw ValidationError("--jobs must be at least 1.") }
}

/// The runs a study command computes at once: its `--jobs`, or one per core.
func jobCount(_ jobs: Int?) -> Int { jobs ?? ProcessInfo.processInfo.activeProcessorCount }
