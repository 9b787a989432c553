import OccamAutograd
import OccamTensor

/// Layers applied in order; each is named (its parameters are "name.weight", ...).
public struct Sequential<Scalar: TensorScalar>: Layer {
    public var layers: [(name: String, layer: any Layer<Scalar>)]

    public init(_ layers: [(name: String, layer: any Layer<Scalar>)]) {
        precondition(Set(layers.map { $0.name }).count == layers.count, "Sequential: layer names repeat")
        self.layers = layers
    }

    public func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)] {
        layers.flatMap { entry in
            entry.layer.initialParameters(using: &random).map { (joinedName(entry.name, $0.name), $0.tensor) }
        }
    }

    public func initialBuffers() -> [(name: String, tensor: Tensor<Scalar>)] {
        layers.flatMap { entry in entry.layer.initialBuffers().map { (joinedName(entry.name, $0.name), $0.tensor) } }
    }

    public var treatsSamplesIndependently: Bool { layers.allSatisfy { $0.layer.treatsSamplesIndependently } }

    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        var x = input
        for entry in layers { x = entry.layer(x, prefix: joinedName(prefix, entry.name), context: &context) }
        return x
    }
}

/// ResNet's basic block (He et al. 2016, CIFAR variant): conv3x3-BN-ReLU-conv3x3-BN plus a shortcut, then
/// ReLU. The shortcut is the identity, or a strided 1x1 convolution with BN ("shortcut.0", "shortcut.1")
/// when the shape changes.
public struct ResidualBlock<Scalar: TensorScalar>: Layer {
    public var inputChannels: Int
    public var outputChannels: Int
    public var stride: Int

    public init(_ inputChannels: Int, _ outputChannels: Int, stride: Int = 1) {
        (self.inputChannels, self.outputChannels, self.stride) = (inputChannels, outputChannels, stride)
    }

    var needsProjection: Bool { stride != 1 || inputChannels != outputChannels }

    var body: Sequential<Scalar> {
        Sequential([
            ("conv1", Convolution2D<Scalar>(inputChannels, outputChannels, kernelSize: 3, stride: stride, padding: 1, initializer: .heNormal, hasBias: false)),
            ("bn1", BatchNormalization<Scalar>(features: outputChannels)),
            ("relu1", Activation<Scalar>(.relu)),
            ("conv2", Convolution2D<Scalar>(outputChannels, outputChannels, kernelSize: 3, padding: 1, initializer: .heNormal, hasBias: false)),
            ("bn2", BatchNormalization<Scalar>(features: outputChannels)),
        ])
    }

    var shortcut: Sequential<Scalar> {
        Sequential(needsProjection ? [
            ("0", Convolution2D<Scalar>(inputChannels, outputChannels, kernelSize: 1, stride: stride, initializer: .heNormal, hasBias: false)),
            ("1", BatchNormalization<Scalar>(features: outputChannels)),
        ] : [])
    }

    public func initialParameters(using random: inout RandomGenerator) -> [(name: String, tensor: Tensor<Scalar>)] {
        body.initialParameters(using: &random)
            + shortcut.initialParameters(using: &random).map { (joinedName("shortcut", $0.name), $0.tensor) }
    }

    public func initialBuffers() -> [(name: String, tensor: Tensor<Scalar>)] {
        body.initialBuffers() + shortcut.initialBuffers().map { (joinedName("shortcut", $0.name), $0.tensor) }
    }

    public var treatsSamplesIndependently: Bool { body.treatsSamplesIndependently && shortcut.treatsSamplesIndependently }

    public func callAsFunction(_ input: Variable<Scalar>, prefix: String, context: inout ForwardContext<Scalar>) -> Variable<Scalar> {
        let main = body(input, prefix: prefix, context: &context)
        let skip = shortcut(input, prefix: joinedName(prefix, "shortcut"), context: &context)
        return (main + skip).relu()
    }
}
