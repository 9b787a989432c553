import OccamAutograd
import OccamNN
import OccamTensor
import Testing

/// A layer, an input shape and the mode to check it in.
struct LayerCase: Sendable, CustomStringConvertible {
    var description: String
    var layer: any Layer<Double>
    var inputShape: [Int]
    var isTraining: Bool
}

let layerCases: [LayerCase] = [
    LayerCase(description: "dense", layer: Dense<Double>(inputs: 4, outputs: 3), inputShape: [5, 4], isTraining: true),
    LayerCase(description: "dense without bias, Glorot", layer: Dense<Double>(inputs: 4, outputs: 3, initializer: .glorotNormal, hasBias: false), inputShape: [2, 4], isTraining: true),
    LayerCase(description: "conv2d stride 2 padding 1", layer: Convolution2D<Double>(2, 3, kernelSize: 3, stride: 2, padding: 1), inputShape: [2, 2, 5, 5], isTraining: true),
    LayerCase(description: "batch norm 1d training", layer: BatchNormalization<Double>(features: 3), inputShape: [6, 3], isTraining: true),
    LayerCase(description: "batch norm 2d training", layer: BatchNormalization<Double>(features: 2), inputShape: [3, 2, 3, 3], isTraining: true),
    LayerCase(description: "batch norm 2d evaluation", layer: BatchNormalization<Double>(features: 2), inputShape: [3, 2, 3, 3], isTraining: false),
    LayerCase(description: "dropout training", layer: Dropout<Double>(rate: 0.3), inputShape: [4, 5], isTraining: true),
    LayerCase(description: "tanh", layer: Activation<Double>(.tanh), inputShape: [3, 4], isTraining: true),
    LayerCase(description: "max pool", layer: MaxPool2D<Double>(2), inputShape: [2, 2, 4, 4], isTraining: true),
    LayerCase(description: "average pool", layer: AveragePool2D<Double>(3, stride: 2, padding: 1), inputShape: [1, 2, 5, 5], isTraining: true),
    LayerCase(description: "global average pool", layer: GlobalAveragePool<Double>(), inputShape: [2, 3, 3, 2], isTraining: true),
    LayerCase(description: "residual block with projection", layer: ResidualBlock<Double>(2, 3, stride: 2), inputShape: [2, 2, 4, 4], isTraining: true),
    LayerCase(description: "residual block identity, evaluation", layer: ResidualBlock<Double>(2, 2), inputShape: [2, 2, 3, 3], isTraining: false),
]

@Suite("Layers: first and second derivatives against finite differences")
struct LayerGradientTests {
    @Test(arguments: layerCases)
    func layerDerivatives(_ testCase: LayerCase) {
        var random = RandomGenerator(seed: 12)
        let parameters = ParameterSet(testCase.layer.initialParameters(using: &random))
        // Non-trivial buffers, so evaluation-mode BatchNorm is not the identity.
        let buffers = ParameterSet(testCase.layer.initialBuffers()).mapTensors { name, tensor in
            name.hasSuffix("running_var") ? tensor + 0.5 : (name.hasSuffix("running_mean") ? tensor + 0.3 : tensor)
        }
        // Inputs away from zero so relu and max-pool kinks are not crossed by the finite differences.
        var inputs = Inputs(seed: 13)
        let x = inputs.awayFromZero(testCase.inputShape)
        let layer = testCase.layer
        let names = parameters.names
        GradientChecker().check(testCase.description, at: [x] + parameters.entries.map { $0.tensor }) { variables in
            var context = ForwardContext(
                parameters: Dictionary(uniqueKeysWithValues: zip(names, variables.dropFirst())),
                buffers: buffers, isTraining: testCase.isTraining, random: RandomGenerator(seed: 99))
            return layer(variables[0], prefix: "", context: &context)
        }
    }

    @Test func batchNormTrainingMatchesPyTorchFormulas() {
        let layer = BatchNormalization<Double>(features: 2, momentum: 0.1)
        var random = RandomGenerator(seed: 1)
        let parameters = ParameterSet(layer.initialParameters(using: &random))
        let x = Tensor<Double>(shape: [4, 2], scalars: [1, 10, 2, 20, 3, 30, 4, 40])
        var context = ForwardContext(
            parameters: Dictionary(uniqueKeysWithValues: parameters.entries.map { ($0.name, Variable($0.tensor)) }),
            buffers: ParameterSet(layer.initialBuffers()), isTraining: true)
        let y = layer(Variable(x), prefix: "", context: &context).value
        // Column 0: mean 2.5, biased variance 1.25, unbiased 5/3.
        #expect(abs(y[0, 0] - (1 - 2.5) / (1.25 + 1e-5).squareRoot()) < 1e-12)
        #expect(abs(context.buffers["running_mean"]!.scalars[0] - 0.25) < 1e-12)
        #expect(abs(context.buffers["running_var"]!.scalars[0] - (0.9 + 0.1 * 5 / 3)) < 1e-12)
        #expect(context.buffers["num_batches_tracked"]!.scalar == 1)
    }

    @Test func crossEntropyAndMeanSquaredError() {
        let logits = Variable(Tensor<Double>(rows: [[1, 2, 3], [0, 0, 0]]))
        let ce = Loss.crossEntropy.perSample(logits, labels: [2, 0]).value
        #expect(abs(ce.scalars[0] - (Double.log(Double.exp(1) + Double.exp(2) + Double.exp(3)) - 3)) < 1e-12)
        #expect(abs(ce.scalars[1] - Double.log(3)) < 1e-12)
        let smoothed = Loss.crossEntropy.perSample(logits, labels: [0, 0], labelSmoothing: 0.3).value
        #expect(abs(smoothed.scalars[1] - Double.log(3)) < 1e-12)  // uniform logits: any target gives log 3
        let mse = Loss.meanSquaredError.perSample(logits, labels: [2, 0]).value
        #expect(mse.scalars == [1 + 4 + 4, 1])
        #expect(accuracy(logits.value, labels: [2, 1]) == 0.5)
        var inputs = Inputs(seed: 3)
        GradientChecker().check("cross-entropy with smoothing", at: [inputs.normal([4, 5])]) {
            Loss.crossEntropy.mean($0[0], labels: [0, 4, 2, 2], labelSmoothing: 0.1)
        }
    }
}

@Suite("The model zoo")
struct ModelZooTests {
    @Test func parameterCountsMatchThePapers() throws {
        func count(_ name: String, _ shape: [Int], _ options: ModelZoo.Options = .init()) throws -> Int {
            var random = RandomGenerator(seed: 0)
            return try ModelZoo.build(name, inputShape: shape, classes: 10, options: options, as: Float.self)
                .initialParameters(using: &random).scalarCount
        }
        // LeNet-300-100: 266,200 weights plus 410 biases.
        #expect(try count("lenet-300-100", [1, 28, 28]) == 266_610)
        #expect(try count("lenet-5", [1, 28, 28]) == 61_706)
        // Conv-2 on CIFAR-10: 4.3M weights (Frankle & Carbin, Table 1) plus 650 biases.
        #expect(try count("conv-2", [3, 32, 32]) == 4_300_992 + 650)
        #expect(try count("mlp", [3, 32, 32], .init(widths: [512, 512, 512])) == 3072 * 512 + 512 * 512 * 2 + 5120 + 1536 + 10)
        #expect(throws: ModelZoo.UnknownModel.self) { try count("vgg-19", [3, 32, 32]) }
    }

    @Test(arguments: ["lenet-300-100", "lenet-5", "conv-2", "conv-4", "conv-6", "mlp", "mcnn", "resnet-20"])
    func everyModelRunsOnBothInputGeometries(_ name: String) throws {
        for shape in [[1, 28, 28], [3, 32, 32]] {
            let model = try ModelZoo.build(name, inputShape: shape, classes: 7, options: .init(widths: [16], width: 2), as: Float.self)
            var random = RandomGenerator(seed: 0)
            let parameters = model.initialParameters(using: &random)
            let x = Tensor<Float>.randomNormal([2, shape.reduce(1, *)], using: &random)
            let logits = model.logits(x, parameters: parameters, buffers: model.initialBuffers())
            #expect(logits.shape == [2, 7], "\(name) on \(shape)")
            #expect(logits.scalars.allSatisfy { $0.isFinite })
        }
    }
}
