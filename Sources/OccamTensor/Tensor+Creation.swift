extension Tensor {
    /// A tensor of zeros.
    public init(zeros shape: [Int]) { self.init(repeating: 0, shape: shape) }

    /// A tensor of ones.
    public init(ones shape: [Int]) { self.init(repeating: 1, shape: shape) }

    /// 0, 1, ..., count - 1 as a rank-1 tensor (NumPy arange).
    public static func arange(_ count: Int) -> Tensor {
        Tensor(shape: [count], scalars: (0..<count).map { Scalar($0) })
    }

    /// start, start + step, ... below `end` (NumPy arange).
    public static func arange(from start: Scalar, to end: Scalar, by step: Scalar) -> Tensor {
        precondition(step != 0, "arange: step must not be zero")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor(shape: [count], scalars: (0..<count).map { start + Scalar($0) * step })
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (NumPy linspace).
    public static func linspace(from start: Scalar, to end: Scalar, count: Int) -> Tensor {
        precondition(count >= 1, "linspace: count \(count) must be at least 1")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(count - 1)
        return Tensor(shape: [count], scalars: (0..<count).map { $0 == count - 1 ? end : start + Scalar($0) * step })
    }

    /// The n x n identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        var result = Tensor(zeros: [n, n])
        for i in 0..<n { result.scalars[i * n + i] = 1 }
        return result
    }

    /// Normal samples with the given mean and standard deviation, drawn from `generator`.
    public static func randomNormal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, using generator: inout RandomGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var scalars = [Scalar]()
        scalars.reserveCapacity(count)
        for _ in 0..<count { scalars.append(mean + standardDeviation * Scalar(generator.nextNormal())) }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Uniform samples in [low, high), drawn from `generator`.
    public static func randomUniform(
        _ shape: [Int], low: Scalar = 0, high: Scalar = 1, using generator: inout RandomGenerator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var scalars = [Scalar]()
        scalars.reserveCapacity(count)
        let width = Double(high - low)
        for _ in 0..<count {
            // Rounding to Float can reach `high`; keep the interval half-open.
            let value = low + Scalar(generator.nextUniform() * width)
            scalars.append(value < high ? value : low)
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// 1 with probability `probability`, else 0, drawn from `generator`.
    public static func randomBernoulli(
        _ shape: [Int], probability: Double, using generator: inout RandomGenerator
    ) -> Tensor {
        precondition((0...1).contains(probability), "randomBernoulli: probability \(probability) is not in [0, 1]")
        let count = shape.reduce(1, *)
        var scalars = [Scalar]()
        scalars.reserveCapacity(count)
        for _ in 0..<count { scalars.append(generator.nextUniform() < probability ? 1 : 0) }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Rows of the identity: `[labels.count, classes]` with a 1 at each label's column.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var result = Tensor(zeros: [labels.count, classes])
        for (row, label) in labels.enumerated() {
            precondition(label >= 0 && label < classes, "oneHot: label \(label) is outside 0..<\(classes)")
            result.scalars[row * classes + label] = 1
        }
        return result
    }
}
