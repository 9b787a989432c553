import OccamAutograd
import OccamTensor

/// An element-wise non-linearity.
public enum ActivationFunction: String, Codable, Sendable, CaseIterable {
    case relu, tanh, sigmoid
}

/// An element-wise activation layer; any input shape.
public struct Activation<Scalar: TensorScalar>: Layer {
    public var function: ActivationFunction
    public init(_ function: ActivationFunction) { self.function = function }

    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        switch function {
        case .relu: return input.relu()
        case .tanh: return input.tanh()
        case .sigmoid: return input.sigmoid()
        }
    }
}

/// `[N, ...]` → `[N, product of the rest]`.
public struct Flatten<Scalar: TensorScalar>: Layer {
    public init() {}
    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        input.reshaped(to: [input.shape[0], -1])
    }
}

/// Max pooling of `[N, C, H, W]` with a square window (stride defaults to the window).
public struct MaxPool2D<Scalar: TensorScalar>: Layer {
    public var kernelSize: Int, stride: Int, padding: Int
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
    }
    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        input.maxPooled2D(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Average pooling of `[N, C, H, W]` with a square window (padding counts as zeros).
public struct AveragePool2D<Scalar: TensorScalar>: Layer {
    public var kernelSize: Int, stride: Int, padding: Int
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
    }
    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        input.averagePooled2D(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// `[N, C, H, W]` → `[N, C]`: the mean over each channel's plane.
public struct GlobalAveragePool<Scalar: TensorScalar>: Layer {
    public init() {}
    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        precondition(input.rank == 4, "GlobalAveragePool \(prefix): input \(input.shape) is not [N, C, H, W]")
        return input.mean(alongAxes: [2, 3])
    }
}

/// Inverted dropout: in training, zeroes each element with probability `rate` and scales the rest by
/// 1 / (1 - rate); the identity in evaluation.
public struct Dropout<Scalar: TensorScalar>: Layer {
    public var rate: Double
    public init(rate: Double) {
        precondition((0..<1).contains(rate), "Dropout: rate \(rate) is not in [0, 1)")
        self.rate = rate
    }
    public var treatsSamplesIndependently: Bool { rate == 0 }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        guard context.isTraining && rate > 0 else { return input }
        let keep = Tensor<Scalar>.randomBernoulli(input.shape, probability: 1 - rate, using: &context.random)
        return input * Variable(keep * Scalar(1 / (1 - rate)))
    }
}
