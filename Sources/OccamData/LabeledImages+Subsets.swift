import OccamTensor

extension LabeledImages {
    /// The examples at `indices`, in that order (indices may repeat): images `[indices.count, featureCount]`.
    /// A precondition checks every index is in `0..<count`.
    public func subset(_ indices: [Int]) -> LabeledImages {
        precondition(
            indices.allSatisfy { (0..<count).contains($0) },
            "LabeledImages.subset: an index lies outside 0..<\(count)")
        return LabeledImages(
            images: images.gathering(indices, alongAxis: 0), labels: indices.map { labels[$0] },
            channels: channels, height: height, width: width, classCount: classCount)
    }

    /// Holds `validationCount` examples out of this (training) set, chosen uniformly at random by the stream
    /// `RandomGenerator(seed: seed).stream("validation-split")`: the first `validationCount` entries of a
    /// random permutation of `0..<count`. Both parts keep the original order of their examples. Not stratified.
    ///
    /// The same seed and count always hold out the same examples, whatever else the run draws.
    /// - Returns: `train` with `count - validationCount` examples and `validation` with `validationCount`,
    ///   disjoint, together the whole set.
    /// - Precondition: `0 <= validationCount <= count`.
    public func holdingOut(validationCount: Int, seed: UInt64) -> (train: LabeledImages, validation: LabeledImages) {
        let indices = DataSubsets.validationIndices(count: count, validationCount: validationCount, seed: seed)
        return (subset(indices.train), subset(indices.validation))
    }

    /// A random subset of `size` examples (`--train-size`), chosen by the stream
    /// `RandomGenerator(seed: seed).stream("subset")`, in the original order of the examples.
    ///
    /// Subsets of one seed are nested: the subset of size k is contained in every larger one, so a sweep over
    /// training-set sizes adds examples rather than redrawing them.
    /// - Returns: `min(size, count)` examples.
    /// - Precondition: `size >= 0`.
    public func randomSubset(size: Int, seed: UInt64) -> LabeledImages {
        subset(DataSubsets.subsetIndices(count: count, size: size, seed: seed))
    }
}

/// The seeded choices of examples behind `LabeledImages.holdingOut` and `LabeledImages.randomSubset`, as
/// indices, for data held in other forms.
public enum DataSubsets {
    /// The indices `holdingOut(validationCount:seed:)` puts in each part, each ascending.
    public static func validationIndices(
        count: Int, validationCount: Int, seed: UInt64
    ) -> (train: [Int], validation: [Int]) {
        precondition(
            (0...count).contains(validationCount),
            "holdingOut: cannot hold out \(validationCount) of \(count) examples")
        var random = RandomGenerator(seed: seed).stream("validation-split")
        let order = random.permutation(count)
        return (order[validationCount...].sorted(), order[..<validationCount].sorted())
    }

    /// The indices `randomSubset(size:seed:)` keeps, ascending.
    public static func subsetIndices(count: Int, size: Int, seed: UInt64) -> [Int] {
        precondition(size >= 0, "randomSubset: negative size \(size)")
        if size >= count { return Array(0..<count) }
        var random = RandomGenerator(seed: seed).stream("subset")
        return random.permutation(count)[..<size].sorted()
    }
}
