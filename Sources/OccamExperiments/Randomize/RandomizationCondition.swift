import Foundation
import OccamData
import OccamTensor

/// What Zhang et al. (2017) randomize about the data, written as on the command line ("corrupt:0.4").
///
/// - `true-labels`: the data as it is.
/// - `corrupt:p`: each training label, with probability p, is replaced by a uniformly random class (which may
///   be the true one, so about 0.9 p change with 10 classes: Zhang's definition).
/// - `corrupt-incorrect:p`: each training label, with probability p, is replaced by a uniformly random other
///   class (Nakkiran's definition: exactly a fraction of about p is wrong).
/// - `random-labels`: `corrupt:1`.
/// - `shuffled-pixels`: one fixed permutation of the pixels, applied to every image, training and test.
/// - `random-pixels`: a different random permutation for each image, training and test.
/// - `gaussian`: every image replaced by i.i.d. Gaussian pixels with the mean and standard deviation of the
///   training images' pixels, training and test.
///
/// Test accuracy is always measured against the true test labels; `corruptedTestLabels` gives the test
/// labels corrupted the same way, for the optional second measurement.
public struct RandomizationCondition: Codable, Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case trueLabels = "true-labels"
        case corrupt
        case corruptIncorrect = "corrupt-incorrect"
        case randomLabels = "random-labels"
        case shuffledPixels = "shuffled-pixels"
        case randomPixels = "random-pixels"
        case gaussian
    }

    public var kind: Kind
    /// p of `corrupt` and `corrupt-incorrect`; 0 otherwise.
    public var probability: Double

    public init(_ kind: Kind, probability: Double = 0) {
        precondition((0...1).contains(probability), "RandomizationCondition: probability \(probability) is not in [0, 1]")
        (self.kind, self.probability) = (kind, probability)
    }

    public init?(_ description: String) {
        let parts = description.split(separator: ":", maxSplits: 1).map(String.init)
        guard let kind = Kind(rawValue: parts[0]) else { return nil }
        let takesProbability = kind == .corrupt || kind == .corruptIncorrect
        guard takesProbability == (parts.count == 2) else { return nil }
        let probability = parts.count == 2 ? Double(parts[1]) : 0
        guard let probability, (0...1).contains(probability) else { return nil }
        self.init(kind, probability: probability)
    }

    public var description: String {
        switch kind {
        case .corrupt, .corruptIncorrect:
            // Swift's shortest exact form ("0.2"), without a trailing ".0" for 0 and 1: it must read back equal.
            return "\(kind.rawValue):" + (probability == probability.rounded() ? "\(Int(probability))" : "\(probability)")
        default: return kind.rawValue
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let condition = RandomizationCondition(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a randomization condition: \(text)"))
        }
        self = condition
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The fraction of training labels replaced by a random class (Zhang's p), or nil when the labels are kept
    /// or the images are what is randomized: the x axis of the corruption plots.
    public var labelCorruption: Double? {
        switch kind {
        case .trueLabels: return 0
        case .corrupt: return probability
        case .randomLabels: return 1
        case .corruptIncorrect, .shuffledPixels, .randomPixels, .gaussian: return nil
        }
    }

    /// The data of this condition, drawn from `seed`'s streams: the training split (labels or images), the
    /// validation and test images (pixel conditions), and, for label conditions, the corrupted test labels.
    public func apply<Scalar: TensorScalar>(to data: PreparedData<Scalar>, seed: UInt64) -> (data: PreparedData<Scalar>, corruptedTest: LabeledImages<Scalar>?) {
        let root = RandomGenerator(seed: seed).stream("randomization")
        switch kind {
        case .trueLabels:
            return (data, nil)
        case .corrupt, .corruptIncorrect, .randomLabels:
            let probability = kind == .randomLabels ? 1 : self.probability
            let train = relabeled(data.train, probability: probability, random: root.stream("train-labels"))
            let test = relabeled(data.test, probability: probability, random: root.stream("test-labels"))
            return (data.replacing(train: train), test)
        case .shuffledPixels:
            var random = root.stream("pixel-order")
            let order = random.permutation(data.train.featureCount)
            func shuffled(_ images: LabeledImages<Scalar>) -> LabeledImages<Scalar> {
                images.replacingImages(images.images.gathering(order, alongAxis: 1))
            }
            return (data.replacing(train: shuffled(data.train), validation: shuffled(data.validation), test: shuffled(data.test)), nil)
        case .randomPixels:
            func permuted(_ images: LabeledImages<Scalar>, _ purpose: String) -> LabeledImages<Scalar> {
                var random = root.stream(purpose)
                let d = images.featureCount
                let indices = (0..<images.count).flatMap { image in random.permutation(d).map { image * d + $0 } }
                return images.replacingImages(images.images.gatheringFlat(indices, shape: images.images.shape))
            }
            return (data.replacing(
                train: permuted(data.train, "train-pixels"), validation: permuted(data.validation, "validation-pixels"),
                test: permuted(data.test, "test-pixels")), nil)
        case .gaussian:
            let pixels = data.train.images
            let mean = pixels.sum().scalar / Scalar(max(pixels.count, 1))
            let deviation = Scalar((Double(((pixels - mean).squared()).sum().scalar) / Double(max(pixels.count - 1, 1))).squareRoot())
            func noise(_ images: LabeledImages<Scalar>, _ purpose: String) -> LabeledImages<Scalar> {
                var random = root.stream(purpose)
                return images.replacingImages(Tensor.randomNormal(images.images.shape, mean: mean, standardDeviation: deviation, using: &random))
            }
            return (data.replacing(
                train: noise(data.train, "train-images"), validation: noise(data.validation, "validation-images"),
                test: noise(data.test, "test-images")), nil)
        }
    }

    /// `images` with each label replaced, with probability `probability`, by a random class: any class for
    /// `corrupt` and `random-labels`, another class for `corrupt-incorrect`.
    private func relabeled<Scalar: TensorScalar>(
        _ images: LabeledImages<Scalar>, probability: Double, random: RandomGenerator
    ) -> LabeledImages<Scalar> {
        var random = random
        let classes = images.classCount
        let labels = images.labels.map { label -> Int in
            // Both draws are made for every example, so the choice of examples does not depend on p's neighbours.
            let replace = random.nextUniform() < probability
            let draw = random.nextInt(below: kind == .corruptIncorrect ? classes - 1 : classes)
            guard replace else { return label }
            return kind == .corruptIncorrect ? (draw >= label ? draw + 1 : draw) : draw
        }
        return LabeledImages(
            images: images.images, labels: labels, channels: images.channels, height: images.height, width: images.width,
            classCount: classes)
    }
}

extension LabeledImages {
    /// The same labels with other images of the same shape.
    func replacingImages(_ newImages: Tensor<Scalar>) -> LabeledImages {
        LabeledImages(images: newImages, labels: labels, channels: channels, height: height, width: width, classCount: classCount)
    }
}
