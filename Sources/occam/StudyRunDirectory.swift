import Foundation
import OccamExperiments

/// A study command whose run directory can be named before it runs: `occam reproduce` runs the command and
/// then reads that directory.
protocol StudyRunDirectory {
    /// The run directory's name under `--out` (`RunStore.directoryName`), from the parsed options.
    func runDirectoryName() throws -> String
}

extension KernelCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: kernelConfiguration(), precision: precision.rawValue)
    }
}

extension DoubleDescentFeaturesCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: featuresConfiguration(), precision: precision.rawValue)
    }
}

extension RandomizeCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: randomizeConfiguration(), precision: training.precision.rawValue)
    }
}
