import OccamAutograd
import OccamTensor

/// A network with its input geometry: a plain value; parameters and buffers are kept apart in
/// `ParameterSet`s with PyTorch's names.
public struct Model<Scalar: TensorScalar>: Sendable {
    /// The name it was built from ("lenet-300-100").
    public var name: String
    /// One example's shape: [channels, height, width].
    public var inputShape: [Int]
    public var classes: Int
    /// Convolutional networks take `[N, C, H, W]`; the others take flattened `[N, C·H·W]`.
    public var takesImages: Bool
    public var network: Sequential<Scalar>

    public init(name: String, inputShape: [Int], classes: Int, takesImages: Bool, network: Sequential<Scalar>) {
        (self.name, self.inputShape, self.classes, self.takesImages, self.network) = (name, inputShape, classes, takesImages, network)
    }

    /// Freshly initialized parameters, drawn from `random`.
    public func initialParameters(using random: inout RandomGenerator) -> ParameterSet<Scalar> {
        ParameterSet(network.initialParameters(using: &random))
    }

    /// Initial buffers (BatchNorm running statistics); empty for networks without them.
    public func initialBuffers() -> ParameterSet<Scalar> {
        ParameterSet(network.initialBuffers())
    }

    /// Logits `[N, classes]` for inputs `[N, C·H·W]` (or `[N, C, H, W]`); see `ForwardContext`.
    public func callAsFunction(_ inputs: Variable<Scalar>, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        let n = inputs.shape[0]
        let shaped = inputs.reshaped(to: takesImages ? [n] + inputShape : [n, inputShape.reduce(1, *)])
        return network(shaped, prefix: "", context: &context)
    }

    /// Logits for `inputs` in evaluation mode, recording nothing.
    public func logits(_ inputs: Tensor<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>) -> Tensor<Scalar> {
        withoutGradients {
            var context = ForwardContext(
                parameters: Dictionary(uniqueKeysWithValues: parameters.entries.map { ($0.name, Variable($0.tensor)) }),
                buffers: buffers, isTraining: false)
            return self(Variable(inputs), context: &context).value
        }
    }
}
