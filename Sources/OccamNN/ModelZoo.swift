import OccamTensor

/// The papers' models by name, shaped for the input ([channels, height, width]) and class count.
public enum ModelZoo {
    /// Every name `build` accepts, with a one-line description.
    public static let catalog: [(name: String, description: String)] = [
        ("lenet-300-100", "784-300-100-10 ReLU MLP, Glorot normal (Frankle & Carbin)"),
        ("lenet-5", "conv 6-16 (5x5) + max-pool, FC 120-84 (LeCun et al.)"),
        ("conv-2", "conv 64-64, pool, FC 256-256 (Frankle & Carbin)"),
        ("conv-4", "conv 64-64, pool, 128-128, pool, FC 256-256 (Frankle & Carbin)"),
        ("conv-6", "conv 64-64, pool, 128-128, pool, 256-256, pool, FC 256-256 (Frankle & Carbin)"),
        ("mlp", "ReLU MLP with --widths (Zhang et al.: 512 or 512,512,512) and optional --dropout"),
        ("mcnn", "5-layer CNN with widths k, 2k, 4k, 8k, BN, ReLU, max-pool (Nakkiran et al.)"),
        ("resnet-20", "CIFAR ResNet-20, 16/32/64 channels times --width (He et al.)"),
    ]

    /// Options some models take.
    public struct Options: Sendable {
        /// Hidden widths of `mlp`.
        public var widths: [Int] = [512]
        /// k of `mcnn`; the channel multiplier of `resnet-20`.
        public var width: Int = 1
        /// The dropout rate after each hidden layer of `mlp` (0: none).
        public var dropout: Double = 0
        public init(widths: [Int] = [512], width: Int = 1, dropout: Double = 0) {
            (self.widths, self.width, self.dropout) = (widths, width, dropout)
        }
    }

    /// An unknown model name.
    public struct UnknownModel: Error, CustomStringConvertible {
        public var name: String
        public init(name: String) { self.name = name }
        public var description: String {
            "Unknown model \"\(name)\". Known models: \(catalog.map { $0.name }.joined(separator: ", ")) (see `occam models`)."
        }
    }

    /// The model `name` for inputs of `inputShape` ([C, H, W]) and `classes` outputs.
    /// - Throws: `UnknownModel`.
    public static func build<Scalar: TensorScalar>(
        _ name: String, inputShape: [Int], classes: Int, options: Options = Options(), as _: Scalar.Type = Scalar.self
    ) throws -> Model<Scalar> {
        precondition(inputShape.count == 3, "ModelZoo: input shape \(inputShape) is not [C, H, W]")
        let (channels, height) = (inputShape[0], inputShape[1])
        let inputs = inputShape.reduce(1, *)
        func model(_ takesImages: Bool, _ layers: [(String, any Layer<Scalar>)]) -> Model<Scalar> {
            Model(name: name, inputShape: inputShape, classes: classes, takesImages: takesImages,
                  network: Sequential(layers.map { (name: $0.0, layer: $0.1) }))
        }
        switch name {
        case "lenet-300-100":
            return model(false, multilayerPerceptron(inputs: inputs, widths: [300, 100], classes: classes, initializer: .glorotNormal))
        case "mlp":
            return model(false, multilayerPerceptron(
                inputs: inputs, widths: options.widths, classes: classes, initializer: .pytorchDefault, dropout: options.dropout))
        case "lenet-5":
            // Pad a 28x28 input to LeNet's 32x32 geometry in the first convolution.
            let padding = max(0, (32 - height) / 2)
            let afterConvolutions = ((height + 2 * padding - 4) / 2 - 4) / 2
            return model(true, [
                ("conv1", Convolution2D<Scalar>(channels, 6, kernelSize: 5, padding: padding)),
                ("relu1", Activation<Scalar>(.relu)), ("pool1", MaxPool2D<Scalar>(2)),
                ("conv2", Convolution2D<Scalar>(6, 16, kernelSize: 5)),
                ("relu2", Activation<Scalar>(.relu)), ("pool2", MaxPool2D<Scalar>(2)),
                ("flatten", Flatten<Scalar>()),
                ("fc1", Dense<Scalar>(inputs: 16 * afterConvolutions * afterConvolutions, outputs: 120)),
                ("relu3", Activation<Scalar>(.relu)),
                ("fc2", Dense<Scalar>(inputs: 120, outputs: 84)), ("relu4", Activation<Scalar>(.relu)),
                ("fc3", Dense<Scalar>(inputs: 84, outputs: classes)),
            ])
        case "conv-2", "conv-4", "conv-6":
            let blocks = Int(name.dropFirst(5))! / 2
            var layers: [(String, any Layer<Scalar>)] = []
            var (inChannels, extent) = (channels, height)
            for block in 0..<blocks {
                let outChannels = 64 << block
                for i in 1...2 {
                    let index = block * 2 + i
                    layers.append(("conv\(index)", Convolution2D<Scalar>(inChannels, outChannels, kernelSize: 3, padding: 1, initializer: .glorotNormal)))
                    layers.append(("relu\(index)", Activation<Scalar>(.relu)))
                    inChannels = outChannels
                }
                layers.append(("pool\(block + 1)", MaxPool2D<Scalar>(2)))
                extent /= 2
            }
            layers.append(("flatten", Flatten<Scalar>()))
            layers += multilayerPerceptron(
                inputs: inChannels * extent * extent, widths: [256, 256], classes: classes, initializer: .glorotNormal,
                activationPrefix: "fc_relu")
            return model(true, layers)
        case "mcnn":
            let k = options.width
            var layers: [(String, any Layer<Scalar>)] = []
            var (inChannels, extent) = (channels, height)
            for (index, multiple) in [1, 2, 4, 8].enumerated() {
                layers.append(("conv\(index + 1)", Convolution2D<Scalar>(inChannels, k * multiple, kernelSize: 3, padding: 1, hasBias: false)))
                layers.append(("bn\(index + 1)", BatchNormalization<Scalar>(features: k * multiple)))
                layers.append(("relu\(index + 1)", Activation<Scalar>(.relu)))
                if index > 0 {
                    layers.append(("pool\(index)", MaxPool2D<Scalar>(2)))
                    extent /= 2
                }
                inChannels = k * multiple
            }
            // Nakkiran's final 4x4 max-pool, sized to whatever extent remains (3 for 28x28 inputs).
            layers.append(("pool4", MaxPool2D<Scalar>(extent)))
            layers.append(("flatten", Flatten<Scalar>()))
            layers.append(("fc", Dense<Scalar>(inputs: 8 * k, outputs: classes)))
            return model(true, layers)
        case "resnet-20":
            let base = 16 * options.width
            var layers: [(String, any Layer<Scalar>)] = [
                ("conv", Convolution2D<Scalar>(channels, base, kernelSize: 3, padding: 1, initializer: .heNormal, hasBias: false)),
                ("bn", BatchNormalization<Scalar>(features: base)), ("relu", Activation<Scalar>(.relu)),
            ]
            var inChannels = base
            for stage in 0..<3 {
                let outChannels = base << stage
                let blocks: [(String, any Layer<Scalar>)] = (0..<3).map { block in
                    defer { inChannels = outChannels }
                    return ("\(block)", ResidualBlock<Scalar>(inChannels, outChannels, stride: stage > 0 && block == 0 ? 2 : 1))
                }
                layers.append(("layer\(stage + 1)", Sequential(blocks.map { (name: $0.0, layer: $0.1) })))
            }
            layers.append(("pool", GlobalAveragePool<Scalar>()))
            layers.append(("fc", Dense<Scalar>(inputs: inChannels, outputs: classes)))
            return model(true, layers)
        default:
            throw UnknownModel(name: name)
        }
    }

    /// Dense layers "fc1" ... "fcK" with ReLU layers ("relu1", ...) between them.
    static func multilayerPerceptron<Scalar: TensorScalar>(
        inputs: Int, widths: [Int], classes: Int, initializer: Initializer, activationPrefix: String = "relu",
        dropout: Double = 0
    ) -> [(String, any Layer<Scalar>)] {
        var layers: [(String, any Layer<Scalar>)] = []
        var previous = inputs
        for (index, width) in widths.enumerated() {
            layers.append(("fc\(index + 1)", Dense<Scalar>(inputs: previous, outputs: width, initializer: initializer)))
            layers.append(("\(activationPrefix)\(index + 1)", Activation<Scalar>(.relu)))
            if dropout > 0 { layers.append(("dropout\(index + 1)", Dropout<Scalar>(rate: dropout))) }
            previous = width
        }
        layers.append(("fc\(widths.count + 1)", Dense<Scalar>(inputs: previous, outputs: classes, initializer: initializer)))
        return layers
    }
}
