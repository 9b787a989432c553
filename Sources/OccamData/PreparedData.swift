import Foundation
import OccamTensor

/// How a run prepares its data. Codable and Hashable, so it can be part of a run's hashed config.
public struct DataConfiguration: Codable, Hashable, Sendable {
    /// Which data set (`--dataset`).
    public var dataSet: DataSetName
    /// Training examples held out for validation; nil: `dataSet.defaultValidationCount` (5,000) for a named
    /// set; 0: no validation split.
    public var validationCount: Int?
    /// Keep a seeded random subset of this many of the remaining training examples (`--train-size`); nil: all.
    public var trainSize: Int?
    /// Whether images are standardized per channel with statistics of the training split.
    public var normalizes: Bool
    /// The augmentation of training batches.
    public var augmentation: ImageAugmentation

    public init(
        dataSet: DataSetName = .defaultDataSet, validationCount: Int? = nil, trainSize: Int? = nil,
        normalizes: Bool = true, augmentation: ImageAugmentation = .none
    ) {
        precondition(validationCount.map { $0 >= 0 } ?? true, "DataConfiguration: negative validation count")
        precondition(trainSize.map { $0 >= 1 } ?? true, "DataConfiguration: train size below 1")
        self.dataSet = dataSet
        self.validationCount = validationCount
        self.trainSize = trainSize
        self.normalizes = normalizes
        self.augmentation = augmentation
    }
}

/// The three splits of a run, ready for training and evaluation, and the normalization applied to them.
public struct PreparedData<Scalar: TensorScalar>: Sendable {
    /// The training examples (after holding out validation and taking the subset), normalized.
    public let train: LabeledImages<Scalar>
    /// The held-out training examples (possibly empty), normalized with the training statistics.
    public let validation: LabeledImages<Scalar>
    /// The test split, normalized with the training statistics.
    public let test: LabeledImages<Scalar>
    /// The statistics computed on `train` before normalizing, or nil when not normalizing. Store it with a
    /// checkpoint: evaluation must apply the same transform.
    public let normalization: ChannelNormalization?

    /// Splits and normalizes already loaded sets.
    ///
    /// In order: `validationCount` examples of `fullTrain` are held out (stream "validation-split" of
    /// `seed`, so the validation set does not depend on `trainSize`); a subset of `trainSize` of the rest is
    /// kept (stream "subset"); per-channel statistics are computed on that training split and applied to all
    /// three (when `configuration.normalizes`).
    /// - Parameter validationCount: overrides `configuration.validationCount`; nil uses it, and if that is nil
    ///   too, `configuration.dataSet.defaultValidationCount`.
    /// - Precondition: the validation count leaves at least one training example; train and test agree in
    ///   geometry.
    public init(
        fullTrain: LabeledImages<Scalar>, test: LabeledImages<Scalar>, configuration: DataConfiguration,
        seed: UInt64
    ) {
        let held = configuration.validationCount ?? configuration.dataSet.defaultValidationCount
        precondition(
            held < fullTrain.count,
            "PreparedData: holding out \(held) of \(fullTrain.count) training examples leaves none to train on")
        precondition(
            fullTrain.imageShape == test.imageShape,
            "PreparedData: training images \(fullTrain.imageShape), test images \(test.imageShape)")
        var (train, validation) = fullTrain.holdingOut(validationCount: held, seed: seed)
        if let size = configuration.trainSize { train = train.randomSubset(size: size, seed: seed) }
        if configuration.normalizes {
            let normalization = ChannelNormalization.fitted(to: train)
            self.train = normalization.applied(to: train)
            self.validation = normalization.applied(to: validation)
            self.test = normalization.applied(to: test)
            self.normalization = normalization
        } else {
            self.train = train
            self.validation = validation
            self.test = test
            self.normalization = nil
        }
    }

    /// This data with some splits replaced (an experiment's transform of the prepared images or labels); the
    /// normalization stays as it was recorded.
    public func replacing(
        train: LabeledImages<Scalar>? = nil, validation: LabeledImages<Scalar>? = nil, test: LabeledImages<Scalar>? = nil
    ) -> PreparedData {
        PreparedData(train: train ?? self.train, validation: validation ?? self.validation, test: test ?? self.test, normalization: normalization)
    }

    private init(
        train: LabeledImages<Scalar>, validation: LabeledImages<Scalar>, test: LabeledImages<Scalar>, normalization: ChannelNormalization?
    ) {
        (self.train, self.validation, self.test, self.normalization) = (train, validation, test, normalization)
    }

    /// Loads both splits of `configuration.dataSet` (see `loadDataSet`) and prepares them as
    /// `init(fullTrain:test:configuration:seed:)` does.
    /// - Throws: `DataSetError`: as `loadDataSet` does, or `.tooFewExamples` when the validation count leaves
    ///   no training example or the train size exceeds what is left.
    public init(
        _ configuration: DataConfiguration, seed: UInt64, directory: URL? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        let name = configuration.dataSet
        let fullTrain: LabeledImages<Scalar> = try loadDataSet(
            name, split: .train, directory: directory, environment: environment)
        let test: LabeledImages<Scalar> = try loadDataSet(
            name, split: .test, directory: directory, environment: environment)
        let held = configuration.validationCount ?? name.defaultValidationCount
        if held >= fullTrain.count {
            throw DataSetError.tooFewExamples(
                name: name.displayName, available: fullTrain.count, requested: held,
                purpose: "held out for validation with at least one left to train on")
        }
        if let size = configuration.trainSize, size > fullTrain.count - held {
            throw DataSetError.tooFewExamples(
                name: name.displayName, available: fullTrain.count - held, requested: size,
                purpose: "kept for training (--train-size) after holding out \(held) for validation")
        }
        self.init(fullTrain: fullTrain, test: test, configuration: configuration, seed: seed)
    }
}
