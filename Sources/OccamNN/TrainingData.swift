import Foundation
import OccamData
import OccamTensor

/// The three splits a run uses, prepared as its configuration says.
public struct TrainingData<Scalar: TensorScalar>: Sendable {
    public var train: LabeledImages<Scalar>
    public var validation: LabeledImages<Scalar>
    public var test: LabeledImages<Scalar>
    /// Applied to every split (the identity unless the configuration normalizes).
    public var normalization: ChannelNormalization

    public init(train: LabeledImages<Scalar>, validation: LabeledImages<Scalar>, test: LabeledImages<Scalar>, normalization: ChannelNormalization) {
        (self.train, self.validation, self.test, self.normalization) = (train, validation, test, normalization)
    }

    /// Loads the data set and holds out the seeded validation split, takes the seeded training subset, and
    /// normalizes with the training split's statistics when asked.
    /// - Throws: `DataSetError` (missing or corrupt files, with where Occam looked and how to get the set), or
    ///   `TrainingError.impossibleConfiguration` when the splits do not fit the data set.
    public static func load(_ configuration: TrainingConfiguration, directory: URL?) throws -> TrainingData {
        let full = try loadDataSet(configuration.dataset, split: .train, directory: directory, as: Scalar.self)
        let test = try loadDataSet(configuration.dataset, split: .test, directory: directory, as: Scalar.self)
        return try prepare(configuration, train: full, test: test)
    }

    /// The splits of in-memory data, as `load` makes them.
    public static func prepare(_ configuration: TrainingConfiguration, train full: LabeledImages<Scalar>, test: LabeledImages<Scalar>) throws -> TrainingData {
        guard configuration.validationCount >= 0 && configuration.validationCount < full.count else {
            throw TrainingError.impossibleConfiguration(
                "--validation-count \(configuration.validationCount) must be below the \(full.count) training images of \(configuration.dataset)")
        }
        let (heldIn, validation) = full.holdingOut(validationCount: configuration.validationCount, seed: configuration.seed)
        var train = heldIn
        if let size = configuration.trainSize {
            guard size >= 1 && size <= heldIn.count else {
                throw TrainingError.impossibleConfiguration(
                    "--train-size \(size) must be between 1 and the \(heldIn.count) images left after the validation split")
            }
            train = heldIn.randomSubset(size: size, seed: configuration.seed)
        }
        let normalization = configuration.normalize ? ChannelNormalization.fitted(to: train) : .identity(channels: train.channels)
        if configuration.normalize {
            return TrainingData(
                train: normalization.applied(to: train), validation: normalization.applied(to: validation),
                test: normalization.applied(to: test), normalization: normalization)
        }
        return TrainingData(train: train, validation: validation, test: test, normalization: normalization)
    }
}

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
