import OccamTensor

/// Mini-batches of a data set: a `BatchSampler` for the order and an `ImageAugmentation`, both seeded by the
/// run's seed, so the batch at a `BatchPosition` is the same however the run got there.
public struct BatchLoader<Scalar: TensorScalar>: Sendable {
    /// The examples batches are drawn from (already normalized, if the run normalizes).
    public let data: LabeledImages<Scalar>
    /// The order of the examples.
    public private(set) var sampler: BatchSampler
    /// The augmentation applied to each batch (`.none` for evaluation).
    public let augmentation: ImageAugmentation

    /// A loader over `data` with batches of `batchSize`, shuffled and augmented by streams of `seed`.
    /// See `BatchSampler` for the partial last batch (kept unless `dropsLastPartialBatch`).
    public init(
        _ data: LabeledImages<Scalar>, batchSize: Int, seed: UInt64, augmentation: ImageAugmentation = .none,
        dropsLastPartialBatch: Bool = false
    ) {
        self.data = data
        self.sampler = BatchSampler(
            count: data.count, batchSize: batchSize, seed: seed, dropsLastPartialBatch: dropsLastPartialBatch)
        self.augmentation = augmentation
    }

    /// The number of batches in one epoch.
    public var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// The batch at `position`: inputs of shape `[b, channels * height * width]` (CHW rows; reshape to
    /// `[b, channels, height, width]` for convolutions) and `b` labels, where `b` is `batchSize`, or less for
    /// a kept partial last batch.
    public mutating func batch(at position: BatchPosition) -> (inputs: Tensor<Scalar>, labels: [Int]) {
        let indices = sampler.indices(at: position)
        let rows = data.images.gathering(indices, alongAxis: 0)
        let inputs = augmentation.applied(
            to: rows, channels: data.channels, height: data.height, width: data.width, examples: indices,
            epoch: position.epoch, seed: sampler.seed)
        return (inputs, indices.map { data.labels[$0] })
    }
}
