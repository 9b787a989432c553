import OccamNN

/// A lottery run's subnetwork to test for stability: the ticket mask of `level`, trained from the lottery's
/// rewind point.
public struct LotterySubnetwork: Codable, Sendable, Hashable {
    /// The lottery run's directory name ("lottery-lenet-300-100-fashion-mnist-<hash>"), which fixes its configuration.
    public var run: String
    public var level: Int

    public init(run: String, level: Int) { (self.run, self.level) = (run, level) }
}

/// `occam connectivity`: instability analysis and error barriers (Frankle et al., ICML 2020).
///
/// Replicate r (seed `training.seed + r`) trains a parent from initialization (or from a lottery subnetwork's
/// rewind point, with its mask) and saves it at every spawn step k. From each of these states two copies train
/// to the end with different data orders and a fresh optimizer; the straight line between the two results is
/// evaluated at `points` points, and the error barrier is the highest error on it minus the mean of its ends.
/// With `differentInit`, two copies trained from different initializations are compared too (the positive
/// control: a barrier that exists to be found).
public struct ConnectivityConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "connectivity"

    /// How every network trains; its steps are the end of training for every copy.
    public var training: TrainingConfiguration
    /// The steps at which the two copies split from the parent.
    public var spawnSteps = [TrainingDuration(iterations: 0)]
    /// Evenly spaced points on the path, ends included.
    public var points = 30
    /// Also train two copies from different initializations.
    public var differentInit = false
    public var replicates = 1
    /// A lottery subnetwork instead of the dense network.
    public var subnetwork: LotterySubnetwork?
    /// Evaluate the training error on a seeded subset of this many training images; nil: all of them.
    public var trainEvaluationSize: Int?

    public init(training: TrainingConfiguration) { self.training = training }

    public var label: String {
        "\(training.model)-\(training.dataset.rawValue)" + (subnetwork.map { "-level-\($0.level)" } ?? "")
    }

    /// The seed of replicate `replicate`.
    public func seed(ofReplicate replicate: Int) -> UInt64 { training.seed &+ UInt64(replicate) }

    /// Checks what can be checked before loading data.
    public func validate() throws {
        try training.validate()
        try ExperimentError.require(points >= 2, "--points must be at least 2")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        try ExperimentError.require(!spawnSteps.isEmpty, "--spawn-step needs at least one step")
        try ExperimentError.require(trainEvaluationSize.map { $0 >= 1 } ?? true, "--train-eval-size must be at least 1")
    }

    /// Checks that every spawn step comes before the end of training, for a training split of `trainCount`.
    public func validate(trainCount: Int) throws {
        try validate()
        let perEpoch = training.iterationsPerEpoch(trainCount: trainCount)
        let total = training.steps.iterations(perEpoch: perEpoch)
        try ExperimentError.require(
            spawnSteps.allSatisfy { $0.iterations(perEpoch: perEpoch) < total },
            "every --spawn-step must come before the end of training (--steps \(training.steps))")
        // A larger subset would silently be the whole training split while the report names the larger size.
        try ExperimentError.require(
            trainEvaluationSize.map { $0 <= trainCount } ?? true,
            "--train-eval-size \(trainEvaluationSize ?? 0) is larger than the training split (\(trainCount) images); use at most \(trainCount)")
    }
}
