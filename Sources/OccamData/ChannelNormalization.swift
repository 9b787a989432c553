import OccamTensor

/// Per-channel standardization, `(x - mean[c]) / standardDeviation[c]`, with statistics computed once on the
/// training split and stored (Codable, in a run's config or checkpoint metadata) so evaluation applies the
/// very same transform to validation and test images.
public struct ChannelNormalization: Codable, Hashable, Sendable {
    /// The mean of each channel over every pixel of every training image.
    public let mean: [Double]
    /// The population standard deviation (divisor N) of each channel, as computed; a channel with zero
    /// spread is divided by 1 instead (see `divisors`).
    public let standardDeviation: [Double]

    /// A normalization with the given statistics, one entry per channel.
    /// A precondition checks the arrays agree in length and every deviation is finite and non-negative.
    public init(mean: [Double], standardDeviation: [Double]) {
        precondition(
            mean.count == standardDeviation.count && !mean.isEmpty,
            "ChannelNormalization.init: \(mean.count) means and \(standardDeviation.count) deviations")
        precondition(
            standardDeviation.allSatisfy { $0 >= 0 && $0.isFinite },
            "ChannelNormalization.init: invalid standard deviation in \(standardDeviation)")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// The identity transform for `channels` channels (mean 0, deviation 1).
    public static func identity(channels: Int) -> ChannelNormalization {
        ChannelNormalization(mean: Array(repeating: 0, count: channels), standardDeviation: Array(repeating: 1, count: channels))
    }

    /// The number of channels.
    public var channels: Int { mean.count }

    /// What each channel is divided by: its standard deviation, or 1 where that is 0 (a constant channel,
    /// such as MNIST's border pixels taken alone, stays finite).
    public var divisors: [Double] { standardDeviation.map { $0 > 0 ? $0 : 1 } }

    /// The per-channel mean and population standard deviation of `set`'s images, accumulated in Double
    /// (two passes: mean, then squared deviations from it).
    /// A precondition checks the set is not empty.
    public static func fitted<Scalar>(to set: LabeledImages<Scalar>) -> ChannelNormalization {
        precondition(set.count > 0, "ChannelNormalization.fitted: empty data set")
        let plane = set.height * set.width, channels = set.channels
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        let perChannel = Double(set.count * plane)
        set.images.withUnsafePointer { x in
            for example in 0..<set.count {
                for channel in 0..<channels {
                    let start = x + (example * channels + channel) * plane
                    var sum = 0.0
                    for i in 0..<plane { sum += Double(start[i]) }
                    sums[channel] += sum
                }
            }
            let means = sums.map { $0 / perChannel }
            for example in 0..<set.count {
                for channel in 0..<channels {
                    let start = x + (example * channels + channel) * plane
                    let mean = means[channel]
                    var sum = 0.0
                    for i in 0..<plane {
                        let d = Double(start[i]) - mean
                        sum += d * d
                    }
                    squares[channel] += sum
                }
            }
        }
        return ChannelNormalization(
            mean: sums.map { $0 / perChannel }, standardDeviation: squares.map { ($0 / perChannel).squareRoot() })
    }

    /// `images` of shape `[n, channels * plane]` (CHW rows) with each channel standardized.
    /// A precondition checks the row length is a multiple of `channels`.
    public func applied<Scalar: TensorScalar>(to images: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(images.rank == 2, "ChannelNormalization.applied: images of shape \(images.shape), not [n, features]")
        let n = images.shape[0], features = images.shape[1]
        precondition(
            features % channels == 0,
            "ChannelNormalization.applied: \(features) features per image do not split into \(channels) channels")
        let plane = features / channels
        let scales = divisors.map { Scalar(1 / $0) }, shifts = mean.map { Scalar($0) }
        return images.withUnsafePointer { x in
            Tensor(shape: images.shape) { y, _ in
                for example in 0..<n {
                    for channel in 0..<channels {
                        let offset = (example * channels + channel) * plane
                        let shift = shifts[channel], scale = scales[channel]
                        for i in offset..<(offset + plane) { y[i] = (x[i] - shift) * scale }
                    }
                }
            }
        }
    }

    /// `set` with its images standardized (labels and geometry unchanged).
    /// A precondition checks `set.channels == channels`.
    public func applied<Scalar>(to set: LabeledImages<Scalar>) -> LabeledImages<Scalar> {
        precondition(
            set.channels == channels,
            "ChannelNormalization.applied: a set of \(set.channels) channels, statistics for \(channels)")
        return LabeledImages(
            images: applied(to: set.images), labels: set.labels, channels: set.channels, height: set.height,
            width: set.width, classCount: set.classCount)
    }
}
