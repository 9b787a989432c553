import OccamTensor

/// Where a sampler is: the epoch and the batch within it, both from 0. Small and Codable so a checkpoint can
/// store it and a resumed run continue with exactly the batches an uninterrupted run would have drawn.
public struct BatchPosition: Codable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The epoch, from 0.
    public var epoch: Int
    /// The batch within the epoch, from 0.
    public var batch: Int

    public init(epoch: Int, batch: Int) {
        precondition(epoch >= 0 && batch >= 0, "BatchPosition.init: negative epoch \(epoch) or batch \(batch)")
        self.epoch = epoch
        self.batch = batch
    }

    /// The first batch of the first epoch.
    public static let start = BatchPosition(epoch: 0, batch: 0)

    public static func < (lhs: BatchPosition, rhs: BatchPosition) -> Bool {
        (lhs.epoch, lhs.batch) < (rhs.epoch, rhs.batch)
    }

    public var description: String { "epoch \(epoch), batch \(batch)" }
}

/// Deterministic shuffled mini-batches of `count` examples.
///
/// Epoch `e` visits the examples in the order of a permutation drawn from
/// `RandomGenerator(seed: seed).stream("data-order").stream(e)`: it depends on the seed and the epoch only, not
/// on how many batches were drawn before, so any position can be computed directly and a resumed run
/// continues exactly.
///
/// Batch `b` of an epoch holds positions `b * batchSize ..< min((b + 1) * batchSize, count)` of that
/// permutation. The last batch of an epoch is kept even when it is partial (`count` not a multiple of
/// `batchSize`), so every example is visited exactly once per epoch; with `dropsLastPartialBatch` it is skipped
/// instead and every batch is full. Iterations, as OpenLTH counts them ("50000it"), run across epochs:
/// iteration `i` is batch `i % batchesPerEpoch` of epoch `i / batchesPerEpoch`.
public struct BatchSampler: Sendable {
    /// The number of examples.
    public let count: Int
    /// The number of examples in a full batch.
    public let batchSize: Int
    /// The seed of the run; the order comes from its "data-order" stream.
    public let seed: UInt64
    /// Whether a final batch smaller than `batchSize` is skipped (false: kept).
    public let dropsLastPartialBatch: Bool

    /// The order of the epoch last asked for, kept so that consecutive batches do not redraw it.
    private var cached: (epoch: Int, order: [Int])?

    /// A sampler over `count` examples; a precondition checks `count >= 1`, `batchSize >= 1`, and (when
    /// dropping the partial batch) `batchSize <= count`.
    public init(count: Int, batchSize: Int, seed: UInt64, dropsLastPartialBatch: Bool = false) {
        precondition(count >= 1, "BatchSampler.init: no examples")
        precondition(batchSize >= 1, "BatchSampler.init: batch size \(batchSize)")
        precondition(
            !dropsLastPartialBatch || batchSize <= count,
            "BatchSampler.init: batch size \(batchSize) exceeds \(count) examples and partial batches are dropped")
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
        self.dropsLastPartialBatch = dropsLastPartialBatch
    }

    /// The number of batches in one epoch: `ceil(count / batchSize)`, or `floor` when dropping partial batches.
    public var batchesPerEpoch: Int {
        dropsLastPartialBatch ? count / batchSize : (count + batchSize - 1) / batchSize
    }

    /// The order in which epoch `epoch` visits the examples: a permutation of `0..<count`.
    public func order(epoch: Int) -> [Int] {
        precondition(epoch >= 0, "BatchSampler.order: negative epoch \(epoch)")
        var random = RandomGenerator(seed: seed).stream("data-order").stream(epoch)
        return random.permutation(count)
    }

    /// The example indices of the batch at `position`: `batchSize` of them, fewer for a kept partial batch.
    /// A precondition checks `position.batch < batchesPerEpoch`.
    public mutating func indices(at position: BatchPosition) -> [Int] {
        precondition(
            position.batch < batchesPerEpoch,
            "BatchSampler.indices: batch \(position.batch) of an epoch of \(batchesPerEpoch) batches")
        if cached?.epoch != position.epoch { cached = (position.epoch, order(epoch: position.epoch)) }
        let start = position.batch * batchSize
        return Array(cached!.order[start..<min(start + batchSize, count)])
    }

    /// The position of iteration `iteration` (counted from 0 across epochs).
    public func position(ofIteration iteration: Int) -> BatchPosition {
        precondition(iteration >= 0, "BatchSampler.position: negative iteration \(iteration)")
        return BatchPosition(epoch: iteration / batchesPerEpoch, batch: iteration % batchesPerEpoch)
    }

    /// The number of batches drawn before `position`, across epochs.
    public func iteration(of position: BatchPosition) -> Int {
        position.epoch * batchesPerEpoch + position.batch
    }

    /// The position after `position`: the next batch, or the first of the next epoch.
    public func position(after position: BatchPosition) -> BatchPosition {
        position.batch + 1 < batchesPerEpoch
            ? BatchPosition(epoch: position.epoch, batch: position.batch + 1)
            : BatchPosition(epoch: position.epoch + 1, batch: 0)
    }
}
