import OccamData
import OccamNN
import OccamTensor

/// Loss and error of the network (1 - α)·θ_A + α·θ_B at one α.
public struct PathPoint: Codable, Sendable, Equatable {
    public var alpha: Double
    public var trainLoss: Double
    /// Fraction misclassified (0...1).
    public var trainError: Double
    public var testLoss: Double
    public var testError: Double
}

/// The straight line between two trained networks, evaluated at evenly spaced points (Frankle et al. 2020).
public struct InterpolationPath: Codable, Sendable, Equatable {
    /// From α = 0 (network A) to α = 1 (network B).
    public var points: [PathPoint]

    /// Error barrier: the maximum error along the path minus the mean of the two endpoints' errors.
    public var trainBarrier: Double { Self.barrier(points.map(\.trainError)) }
    public var testBarrier: Double { Self.barrier(points.map(\.testError)) }

    public init(points: [PathPoint]) { self.points = points }

    /// max(errors) - (first + last) / 2; 0 for fewer than two points.
    public static func barrier(_ errors: [Double]) -> Double {
        guard let first = errors.first, let last = errors.last, errors.count > 1 else { return 0 }
        return errors.max()! - (first + last) / 2
    }

    /// `count` evenly spaced α from 0 to 1, both included.
    public static func alphas(count: Int) -> [Double] {
        precondition(count >= 2, "InterpolationPath: at least 2 points (got \(count))")
        return (0..<count).map { Double($0) / Double(count - 1) }
    }

    /// (1 - α)·a + α·b for every tensor (parameters and buffers alike); same names and shapes (precondition).
    public static func interpolate<Scalar: TensorScalar>(_ a: ParameterSet<Scalar>, _ b: ParameterSet<Scalar>, alpha: Double) -> ParameterSet<Scalar> {
        precondition(a.names == b.names, "InterpolationPath.interpolate: the two sets name different tensors")
        return a.mapTensors { name, tensor in tensor * Scalar(1 - alpha) + b[name]! * Scalar(alpha) }
    }

    /// Evaluates `points` networks on the straight line from A to B on `train` and `test`.
    ///
    /// BatchNorm running statistics are interpolated like the weights (not recomputed). With a pruning mask
    /// on both ends the whole path keeps it: pruned weights are 0 at both ends and so everywhere between.
    public static func evaluate<Scalar: TensorScalar>(
        model: Model<Scalar>, from a: (parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>),
        to b: (parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>), points: Int,
        train: LabeledImages<Scalar>, test: LabeledImages<Scalar>, loss: Loss
    ) -> InterpolationPath {
        InterpolationPath(points: alphas(count: points).map { alpha in
            let parameters = interpolate(a.parameters, b.parameters, alpha: alpha)
            let buffers = interpolate(a.buffers, b.buffers, alpha: alpha)
            let onTrain = model.evaluate(parameters: parameters, buffers: buffers, inputs: train.images, labels: train.labels, loss: loss)
            let onTest = model.evaluate(parameters: parameters, buffers: buffers, inputs: test.images, labels: test.labels, loss: loss)
            return PathPoint(
                alpha: alpha, trainLoss: onTrain.loss, trainError: 1 - onTrain.accuracy, testLoss: onTest.loss,
                testError: 1 - onTest.accuracy)
        })
    }
}
