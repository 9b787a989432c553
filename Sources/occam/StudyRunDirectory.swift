import ArgumentParser
import Foundation
import OccamExperiments
import OccamNN

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

extension LotteryCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: lotteryConfiguration(), precision: training.precision.rawValue)
    }
}

extension ConnectivityCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        let (configuration, precision) = try connectivityConfiguration()
        return try RunStore.directoryName(for: configuration, precision: precision.rawValue)
    }
}

extension DoubleDescentNetworksCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: networksConfiguration(), precision: training.precision.rawValue)
    }
}

extension EarlyPhaseCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: studyConfiguration(), precision: training.precision.rawValue)
    }
}

extension DistillCommand: StudyRunDirectory {
    /// The directory of a study that trains its own teacher (a claim never names a --teacher file).
    func runDirectoryName() throws -> String {
        guard teacher == nil else { throw ValidationError("a reproduction claim cannot name a --teacher file: its run directory depends on the file") }
        return try RunStore.directoryName(for: studyConfiguration(), precision: training.precision.rawValue)
    }
}

extension SaddlesCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: experimentConfiguration(), precision: "float64")
    }
}

extension SimplicityCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: simplicityConfiguration(), precision: "float32")
    }
}

extension CriticalPeriodCommand: StudyRunDirectory {
    func runDirectoryName() throws -> String {
        try RunStore.directoryName(for: studyConfiguration(), precision: training.precision.rawValue)
    }
}

extension TrainingConfiguration {
    /// The training images a run sees, counted without loading the data: the official training split less the
    /// validation images held out, then the `trainSize` subset (as `PreparedData` takes them). The study
    /// commands set a cosine schedule's length from it when they build their configuration, so the command and
    /// `runDirectoryName` name the same directory.
    var expectedTrainCount: Int { min(trainSize ?? .max, dataset.count(.train) - validationCount) }
}
