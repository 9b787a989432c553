import OccamAutograd
import OccamTensor

/// What a forward pass reads and writes besides its input: the parameters as variables, the mode, the
/// non-trainable buffers (BatchNorm's running statistics) and the random stream for dropout.
public struct ForwardContext<Scalar: TensorScalar> {
    /// Parameters by full dotted name ("fc1.weight"), as variables (leaves requiring gradients in
    /// training, constants in evaluation).
    public var parameters: [String: Variable<Scalar>]
    /// Buffers by full name ("bn1.running_mean"); training-mode BatchNorm updates them in place.
    public var buffers: ParameterSet<Scalar>
    /// Training mode: dropout drops, BatchNorm uses batch statistics and updates its running ones.
    public var isTraining: Bool
    /// Draws dropout masks.
    public var random: RandomGenerator
    /// Records dense and convolution layers' inputs and outputs when set (per-sample gradients).
    public var layerRecorder: LayerRecorder<Scalar>?

    public init(
        parameters: [String: Variable<Scalar>], buffers: ParameterSet<Scalar> = ParameterSet(), isTraining: Bool,
        random: RandomGenerator = RandomGenerator(seed: 0)
    ) {
        self.parameters = parameters
        self.buffers = buffers
        self.isTraining = isTraining
        self.random = random
    }

    /// The parameter `prefix.name`; a missing one is a programmer's error.
    public func parameter(_ prefix: String, _ name: String) -> Variable<Scalar> {
        let full = joinedName(prefix, name)
        guard let variable = parameters[full] else { preconditionFailure("ForwardContext: no parameter named \(full)") }
        return variable
    }
}

/// One building block of a model: owns named parameters and buffers, maps a variable to a variable.
///
/// Layers are plain values that know their sizes; parameters live outside them, in a `ParameterSet` keyed
/// by PyTorch's dotted names, so optimizers, masks and checkpoints handle every model alike.
public protocol Layer<Scalar>: Sendable {
    associatedtype Scalar: TensorScalar

    /// Freshly initialized parameters with local names ("weight", "bias") in PyTorch's layouts.
    func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)]

    /// Initial buffers with local names ("running_mean"); none for most layers.
    func initialBuffers() -> [(name: String, tensor: Tensor<Scalar>)]

    /// Whether, in training mode, each sample's output depends on that sample alone and no random numbers are
    /// drawn: then a batch's gradient is the sum of its parts' gradients (see `Model.splitsBatchInHalves`). False
    /// for BatchNorm (batch statistics) and dropout (its masks are drawn for the whole batch).
    var treatsSamplesIndependently: Bool { get }

    /// The output for `input`; `prefix` is this layer's name in the model ("conv1", "layer1.0").
    func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar>
}

extension Layer {
    public func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)] { [] }
    public func initialBuffers() -> [(name: String, tensor: Tensor<Scalar>)] { [] }
    /// False unless a layer says otherwise: splitting a batch is only safe for layers known to allow it.
    public var treatsSamplesIndependently: Bool { false }
}

/// "prefix.name", or "name" at the top level.
func joinedName(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : "\(prefix).\(name)"
}
