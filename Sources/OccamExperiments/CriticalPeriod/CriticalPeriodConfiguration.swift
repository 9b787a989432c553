import OccamData
import OccamNN

/// `occam critical-period`: critical learning periods (Achille, Rovere & Soatto 2019).
///
/// Two sweeps share one recipe. *Deficit length*: for each k in `deficitLengths`, a network trains with the
/// deficit (blurred inputs, or the vertical-flip control) in its first k epochs, then normally for
/// `epochsAfter` more (k = 0 is the run without a deficit). *Window*: a deficit of `windowLength` epochs
/// starting at each epoch s of `windowOnsets`, then `epochsAfter` normal epochs, which shows when the deficit
/// matters. Every run with one replicate's seed shares its initialization and data order, so differences
/// between deficits are paired. The learning rate follows the recipe's schedule from the start of training,
/// as the paper does, or restarts when the deficit ends (`restartSchedule`).
public struct CriticalPeriodConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "critical-period"

    /// The recipe of every run; its `steps` and `deficit` are set per run.
    public var training: TrainingConfiguration
    public var deficit: InputDeficit.Kind = .blur
    /// The downsampling factor of the blur.
    public var blurFactor = 4
    /// Deficit lengths in epochs for the length sweep, each from epoch 0; 0 is the run without a deficit.
    public var deficitLengths: [Int]
    /// Onsets (epochs) of the window sweep; empty: no window sweep.
    public var windowOnsets: [Int]
    /// Length (epochs) of each window.
    public var windowLength: Int
    /// Normal epochs after each deficit ends.
    public var epochsAfter: Int
    /// Restart the learning-rate schedule when the deficit ends (instead of continuing it).
    public var restartSchedule = false
    public var replicates = 3

    public init(
        training: TrainingConfiguration = Self.defaultTraining, deficitLengths: [Int] = Self.defaultDeficitLengths,
        windowOnsets: [Int] = Self.defaultWindowOnsets, windowLength: Int = Self.defaultWindowLength,
        epochsAfter: Int = Self.defaultEpochsAfter
    ) {
        (self.training, self.deficitLengths, self.windowOnsets, self.windowLength, self.epochsAfter) =
            (training, deficitLengths, windowOnsets, windowLength, epochsAfter)
    }

    /// The paper's optimizer at CPU scale: a convolutional network from the zoo on 5,000 Fashion-MNIST
    /// images, SGD with momentum 0.9, learning rate 0.075 x 0.97^epoch, weight decay 5e-4, batch 128, no
    /// validation split, evaluated on the test set every epoch.
    public static var defaultTraining: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = "lenet-5"
        c.trainSize = 5_000
        c.validationCount = 0
        c.batchSize = 128
        c.optimizer = OptimizerConfiguration(kind: .sgd, learningRate: 0.075, momentum: 0.9, weightDecay: 5e-4)
        c.schedule = .exponentialPerEpoch(gamma: 0.97)
        c.evaluateEvery = TrainingDuration(epochs: 1)
        return c
    }

    public static let defaultDeficitLengths = [0, 10, 20, 40]
    public static let defaultWindowOnsets = [0, 10, 20, 30]
    public static let defaultWindowLength = 10
    public static let defaultEpochsAfter = 30

    public var label: String { "\(training.model)-\(training.dataset.rawValue)-\(deficit.rawValue)" }

    /// The seed of replicate `replicate`.
    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// Every distinct deficit (onset, length) of the two sweeps: the length sweep's, then the windows not
    /// already in it.
    public var deficits: [DeficitWindow] {
        var windows = deficitLengths.map { DeficitWindow(onset: 0, length: $0) }
        for onset in windowOnsets where !windows.contains(DeficitWindow(onset: onset, length: windowLength)) {
            windows.append(DeficitWindow(onset: onset, length: windowLength))
        }
        return windows
    }

    /// Every run, in the order of the results: by replicate, then by deficit.
    public var runs: [CriticalPeriodRun] {
        (0..<replicates).flatMap { replicate in deficits.map { CriticalPeriodRun(replicate: replicate, window: $0) } }
    }

    /// The recipe of `run`: `window.onset + window.length + epochsAfter` epochs, the deficit in its window,
    /// the schedule restarted at its end when `restartSchedule` is set.
    public func training(for run: CriticalPeriodRun, iterationsPerEpoch: Int) -> TrainingConfiguration {
        var c = training
        c.seed = seed(ofReplicate: run.replicate)
        c.steps = TrainingDuration(epochs: run.window.end + epochsAfter)
        if run.window.length > 0 {
            c.deficit = InputDeficit(kind: deficit, blurFactor: blurFactor, startEpoch: run.window.onset, endEpoch: run.window.end)
            if restartSchedule { c.schedule = .restarted(atStep: run.window.end * iterationsPerEpoch, then: c.schedule) }
        }
        return c
    }

    public func validate() throws {
        try ExperimentError.require(!deficitLengths.isEmpty, "--lengths needs at least one deficit length")
        try ExperimentError.require(deficitLengths.allSatisfy { $0 >= 0 }, "--lengths must be epochs, 0 or more")
        try ExperimentError.require(Set(deficitLengths).count == deficitLengths.count, "a --lengths value is listed twice")
        try ExperimentError.require(deficitLengths.contains(0), "--lengths must include 0: the run without a deficit is the reference")
        try ExperimentError.require(windowOnsets.allSatisfy { $0 >= 0 }, "--window-onsets must be epochs, 0 or more")
        try ExperimentError.require(Set(windowOnsets).count == windowOnsets.count, "a --window-onsets value is listed twice")
        try ExperimentError.require(windowOnsets.isEmpty || windowLength >= 1, "--window-length must be at least 1 epoch")
        try ExperimentError.require(epochsAfter >= 1, "--epochs-after must be at least 1 epoch")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        let shape = training.dataset.imageShape
        try ExperimentError.require(
            deficit != .blur || (1...min(shape.height, shape.width)).contains(blurFactor),
            "--blur-factor must be between 1 and the image size (\(min(shape.height, shape.width)) pixels)")
        let longest = deficits.map(\.end).max() ?? 0
        try ExperimentError.require(
            longest + epochsAfter <= TrainingConfiguration.maximumDurationAmount, "the longest run (\(longest + epochsAfter) epochs) is too long")
        if let run = runs.max(by: { $0.window.end < $1.window.end }) { try training(for: run, iterationsPerEpoch: 1).validate() }
    }
}

/// A deficit in epochs `onset..<onset + length`; length 0 is no deficit.
public struct DeficitWindow: Codable, Sendable, Hashable {
    public var onset: Int
    public var length: Int

    public init(onset: Int, length: Int) { (self.onset, self.length) = (onset, length) }

    /// The first epoch after the deficit.
    public var end: Int { onset + length }

    /// "no deficit", "deficit in epoch 3", "deficit in epochs 0-7".
    public var description: String {
        length == 0 ? "no deficit" : length == 1 ? "deficit in epoch \(onset)" : "deficit in epochs \(onset)-\(end - 1)"
    }
}

/// One training run of a critical-period study.
public struct CriticalPeriodRun: Codable, Sendable, Hashable {
    public var replicate: Int
    public var window: DeficitWindow

    public init(replicate: Int, window: DeficitWindow) { (self.replicate, self.window) = (replicate, window) }

    /// "replicate-0/deficit-0-8" (onset 0, 8 epochs): the run's directory under the study.
    public var path: String { "replicate-\(replicate)/deficit-\(window.onset)-\(window.length)" }

    /// "replicate 0 · deficit in epochs 0-7", "replicate 0 · no deficit".
    public var name: String { "replicate \(replicate) · \(window.description)" }
}
