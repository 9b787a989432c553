import OccamAutograd
import OccamTensor

/// Collects, during one forward pass, the input and output variables of every dense and convolution layer:
/// what per-sample gradients need (a dense layer's per-sample weight gradient is the outer product of the
/// gradient at its output and its input). Set it as `ForwardContext.layerRecorder`; nil records nothing.
public final class LayerRecorder<Scalar: TensorScalar> {
    /// How a recorded layer maps its input to its output.
    public enum Kind: Equatable, Sendable {
        /// y = x Wᵀ + b: input `[N, in]`, output `[N, out]`.
        case dense
        /// PyTorch's Conv2d: input `[N, C, H, W]`, output `[N, O, Ho, Wo]`, square kernel.
        case convolution(kernelSize: Int, stride: Int, padding: Int)
    }

    /// One layer's call: its name in the model ("fc1"), kind, and the variables that went in and came out.
    public struct Record {
        public var prefix: String
        public var kind: Kind
        public var input: Variable<Scalar>
        public var output: Variable<Scalar>
    }

    public private(set) var records: [Record] = []

    public init() {}

    func record(_ prefix: String, _ kind: Kind, input: Variable<Scalar>, output: Variable<Scalar>) {
        records.append(Record(prefix: prefix, kind: kind, input: input, output: output))
    }
}
