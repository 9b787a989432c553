import OccamAutograd
import OccamTensor

/// Batch normalization as PyTorch's BatchNorm1d (input `[N, C]`) and BatchNorm2d (input `[N, C, H, W]`).
///
/// Parameters "weight" and "bias" `[C]`; buffers "running_mean", "running_var" `[C]` and
/// "num_batches_tracked" `[]`. Training normalizes with the batch's mean and biased variance and moves the
/// running statistics by `momentum` (the running variance takes the unbiased batch variance); evaluation
/// normalizes with the running statistics.
public struct BatchNormalization<Scalar: TensorScalar>: Layer {
    public var features: Int
    public var momentum: Double
    public var epsilon: Double

    public init(features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5) {
        (self.features, self.momentum, self.epsilon) = (features, momentum, epsilon)
    }

    public var treatsSamplesIndependently: Bool { false }

    public func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)] {
        [("weight", Tensor(ones: [features])), ("bias", Tensor(zeros: [features]))]
    }

    public func initialBuffers() -> [(name: String, tensor: Tensor<Scalar>)] {
        [("running_mean", Tensor(zeros: [features])), ("running_var", Tensor(ones: [features])),
         ("num_batches_tracked", Tensor(0))]
    }

    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        precondition(
            (input.rank == 2 || input.rank == 4) && input.shape[1] == features,
            "BatchNormalization \(prefix): input \(input.shape) is not [N, \(features)] or [N, \(features), H, W]")
        let axes = input.rank == 2 ? [0] : [0, 2, 3]
        let statisticsShape = input.rank == 2 ? [1, features] : [1, features, 1, 1]
        let weight = context.parameter(prefix, "weight").reshaped(to: statisticsShape)
        let bias = context.parameter(prefix, "bias").reshaped(to: statisticsShape)
        let eps = Scalar(epsilon)
        if context.isTraining {
            let mean = input.mean(alongAxes: axes, keepingDimensions: true)
            let centered = input - mean
            let variance = centered.squared().mean(alongAxes: axes, keepingDimensions: true)
            updateRunningStatistics(mean: mean.value, variance: variance.value, count: input.count / features, prefix: prefix, context: &context)
            return centered / (variance + eps).sqrt() * weight + bias
        }
        let runningMean = Variable(context.buffers[joinedName(prefix, "running_mean")]!.reshaped(to: statisticsShape))
        let runningVariance = context.buffers[joinedName(prefix, "running_var")]!.reshaped(to: statisticsShape)
        return (input - runningMean) * Variable((runningVariance + eps).sqrt().applying(.reciprocal)) * weight + bias
    }

    private func updateRunningStatistics(
        mean: Tensor<Scalar>, variance: Tensor<Scalar>, count: Int, prefix: String, context: inout ForwardContext<Scalar>
    ) {
        let m = Scalar(momentum)
        let unbiased = variance.reshaped(to: [features]) * Scalar(Double(count) / Double(max(count - 1, 1)))
        let meanName = joinedName(prefix, "running_mean"), varianceName = joinedName(prefix, "running_var")
        let trackedName = joinedName(prefix, "num_batches_tracked")
        context.buffers[meanName] = context.buffers[meanName]! * (1 - m) + mean.reshaped(to: [features]) * m
        context.buffers[varianceName] = context.buffers[varianceName]! * (1 - m) + unbiased * m
        context.buffers[trackedName] = context.buffers[trackedName]! + 1
    }
}
