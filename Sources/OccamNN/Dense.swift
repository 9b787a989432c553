import OccamAutograd
import OccamTensor

/// A fully connected layer y = x Wᵀ + b: input `[N, inputs]`, output `[N, outputs]`; weight `[outputs, inputs]`.
public struct Dense<Scalar: TensorScalar>: Layer {
    public var inputs: Int
    public var outputs: Int
    public var initializer: Initializer
    public var hasBias: Bool

    public init(inputs: Int, outputs: Int, initializer: Initializer = .pytorchDefault, hasBias: Bool = true) {
        (self.inputs, self.outputs, self.initializer, self.hasBias) = (inputs, outputs, initializer, hasBias)
    }

    public func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)] {
        let weight: Tensor<Scalar> = initializer.weight([outputs, inputs], using: &random)
        guard hasBias else { return [("weight", weight)] }
        return [("weight", weight), ("bias", initializer.bias(outputs, weightShape: [outputs, inputs], using: &random))]
    }

    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        precondition(input.rank == 2 && input.shape[1] == inputs, "Dense \(prefix): input \(input.shape) is not [N, \(inputs)]")
        let product = Variable.matmul(input, context.parameter(prefix, "weight"), transposeB: true)
        let output = hasBias ? product + context.parameter(prefix, "bias") : product
        context.layerRecorder?.record(prefix, .dense, input: input, output: output)
        return output
    }
}

/// A 2-D convolution as PyTorch's Conv2d: input `[N, C, H, W]`, weight `[O, C, k, k]`, bias `[O]`.
public struct Convolution2D<Scalar: TensorScalar>: Layer {
    public var inputChannels: Int
    public var outputChannels: Int
    public var kernelSize: Int
    public var stride: Int
    public var padding: Int
    public var initializer: Initializer
    public var hasBias: Bool

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        initializer: Initializer = .pytorchDefault, hasBias: Bool = true
    ) {
        (self.inputChannels, self.outputChannels, self.kernelSize) = (inputChannels, outputChannels, kernelSize)
        (self.stride, self.padding, self.initializer, self.hasBias) = (stride, padding, initializer, hasBias)
    }

    var weightShape: [Int] { [outputChannels, inputChannels, kernelSize, kernelSize] }

    public func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)] {
        let weight: Tensor<Scalar> = initializer.weight(weightShape, using: &random)
        guard hasBias else { return [("weight", weight)] }
        return [("weight", weight), ("bias", initializer.bias(outputChannels, weightShape: weightShape, using: &random))]
    }

    public var treatsSamplesIndependently: Bool { true }
    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        let output = Variable.convolution2D(
            input, weight: context.parameter(prefix, "weight"),
            bias: hasBias ? context.parameter(prefix, "bias") : nil, stride: stride, padding: padding)
        context.layerRecorder?.record(
            prefix, .convolution(kernelSize: kernelSize, stride: stride, padding: padding), input: input, output: output)
        return output
    }

    /// The output's height or width for an input extent.
    public func outputExtent(_ extent: Int) -> Int { (extent + 2 * padding - kernelSize) / stride + 1 }
}
