import OccamTensor

/// Small seeded classification sets for tests and quick experiments. Each is returned as `LabeledImages` of
/// 1x1x`dimensions` "images" (rows of `[n, dimensions]`), so splits, normalization and batching apply as to
/// real images. Values are computed in Double and converted, so labels do not depend on the precision.
public enum SyntheticClassification {
    /// Gaussian blobs: `classCount` centres drawn uniformly on the sphere of radius `separation` in
    /// `dimensions` dimensions, and `count` points, point `i` of class `i % classCount` (balanced), each its
    /// class centre plus standard normal noise.
    ///
    /// Streams of `RandomGenerator(seed: seed).stream("gaussian-blobs")`: "centers", then "points" (so the
    /// first points are the same whatever `count`).
    /// - Returns: inputs `[count, dimensions]`, labels in `0..<classCount`; and the centres
    ///   `[classCount, dimensions]`.
    public static func gaussianBlobs<Scalar: TensorScalar>(
        count: Int, classCount: Int, dimensions: Int, separation: Double, seed: UInt64,
        as _: Scalar.Type = Scalar.self
    ) -> (data: LabeledImages<Scalar>, centers: Tensor<Scalar>) {
        precondition(count >= 0 && classCount >= 1 && dimensions >= 1, "gaussianBlobs: \(count) points, "
            + "\(classCount) classes, \(dimensions) dimensions")
        let root = RandomGenerator(seed: seed).stream("gaussian-blobs")
        var centerStream = root.stream("centers"), pointStream = root.stream("points")
        var centers: [Double] = []
        for _ in 0..<classCount {
            let direction = (0..<dimensions).map { _ in centerStream.nextNormal() }
            let length = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            centers += direction.map { $0 / max(length, .leastNormalMagnitude) * separation }
        }
        var points: [Scalar] = []
        points.reserveCapacity(count * dimensions)
        let labels = (0..<count).map { $0 % classCount }
        for label in labels {
            for j in 0..<dimensions {
                points.append(Scalar(centers[label * dimensions + j] + pointStream.nextNormal()))
            }
        }
        let data = LabeledImages(
            images: Tensor(shape: [count, dimensions], scalars: points), labels: labels,
            height: 1, width: dimensions, classCount: classCount)
        return (data, Tensor(shape: [classCount, dimensions], scalars: centers.map { Scalar($0) }))
    }

    /// A random two-layer ReLU teacher, `f(x) = W2 relu(W1 x)` with `W1` `[hiddenWidth, dimensions]` of
    /// entries N(0, 1/dimensions) and `W2` `[classCount, hiddenWidth]` of entries N(0, 1/hiddenWidth) (no
    /// biases), labels `count` standard normal inputs by the argmax of its outputs (the first on a tie).
    ///
    /// Streams of `RandomGenerator(seed: seed).stream("teacher-student")`: "teacher" (W1 row-major, then W2)
    /// and "inputs" (so the teacher is the same whatever `count`, and the first inputs too).
    /// - Returns: inputs `[count, dimensions]` with their teacher labels in `0..<classCount` (classes need
    ///   not be balanced); and the teacher's weights in PyTorch's `[out, in]` layout.
    public static func teacherStudent<Scalar: TensorScalar>(
        count: Int, classCount: Int, dimensions: Int, hiddenWidth: Int, seed: UInt64,
        as _: Scalar.Type = Scalar.self
    ) -> (data: LabeledImages<Scalar>, teacher: (w1: Tensor<Scalar>, w2: Tensor<Scalar>)) {
        precondition(count >= 0 && classCount >= 1 && dimensions >= 1 && hiddenWidth >= 1, "teacherStudent: "
            + "\(count) points, \(classCount) classes, \(dimensions) dimensions, hidden width \(hiddenWidth)")
        let root = RandomGenerator(seed: seed).stream("teacher-student")
        var teacherStream = root.stream("teacher"), inputStream = root.stream("inputs")
        let scale1 = (1 / Double(dimensions)).squareRoot(), scale2 = (1 / Double(hiddenWidth)).squareRoot()
        let w1 = (0..<(hiddenWidth * dimensions)).map { _ in teacherStream.nextNormal() * scale1 }
        let w2 = (0..<(classCount * hiddenWidth)).map { _ in teacherStream.nextNormal() * scale2 }

        var inputs: [Double] = []
        inputs.reserveCapacity(count * dimensions)
        var labels: [Int] = []
        labels.reserveCapacity(count)
        var hidden = [Double](repeating: 0, count: hiddenWidth)
        for _ in 0..<count {
            let x = (0..<dimensions).map { _ in inputStream.nextNormal() }
            inputs += x
            for h in 0..<hiddenWidth {
                var sum = 0.0
                for j in 0..<dimensions { sum += w1[h * dimensions + j] * x[j] }
                hidden[h] = max(sum, 0)
            }
            var best = 0, bestValue = -Double.infinity
            for k in 0..<classCount {
                var sum = 0.0
                for h in 0..<hiddenWidth { sum += w2[k * hiddenWidth + h] * hidden[h] }
                if sum > bestValue { (best, bestValue) = (k, sum) }
            }
            labels.append(best)
        }
        let data = LabeledImages(
            images: Tensor(shape: [count, dimensions], scalars: inputs.map { Scalar($0) }), labels: labels,
            height: 1, width: dimensions, classCount: classCount)
        let teacher = (
            w1: Tensor(shape: [hiddenWidth, dimensions], scalars: w1.map { Scalar($0) }),
            w2: Tensor(shape: [classCount, hiddenWidth], scalars: w2.map { Scalar($0) }))
        return (data, teacher)
    }
}
