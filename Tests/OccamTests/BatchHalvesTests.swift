import OccamAutograd
import OccamNN
import OccamTensor
import Testing

/// A training step on a network that treats samples independently computes the batch's gradient as the sum of its
/// two halves' gradients, side by side on two cores where there are two.
@Suite("Training gradients from two halves of the batch")
struct BatchHalvesTests {
    /// The batch gradient through the whole-batch path: the mean loss as an arbitrary objective, which is never split.
    static func wholeBatch<Scalar>(
        _ model: Model<Scalar>, _ parameters: ParameterSet<Scalar>, inputs: Tensor<Scalar>, labels: [Int]
    ) -> BatchGradients<Scalar> {
        var buffers = model.initialBuffers()
        var random = RandomGenerator(seed: 3)
        return model.gradients(at: parameters, buffers: &buffers, inputs: inputs, labels: labels, random: &random) {
            Loss.crossEntropy.mean($0, labels: labels)
        }
    }

    static func halves<Scalar>(
        _ model: Model<Scalar>, _ parameters: ParameterSet<Scalar>, inputs: Tensor<Scalar>, labels: [Int]
    ) -> BatchGradients<Scalar> {
        var buffers = model.initialBuffers()
        var random = RandomGenerator(seed: 3)
        return model.gradients(at: parameters, buffers: &buffers, inputs: inputs, labels: labels, loss: .crossEntropy, random: &random)
    }

    /// LeNet-5 in float64 on an odd batch (halves of 3 and 4): loss, accuracy and every gradient agree with the
    /// whole batch's to rounding.
    @Test func halvesGiveTheWholeBatchsGradient() throws {
        let model = try ModelZoo.build("lenet-5", inputShape: [1, 28, 28], classes: 10, as: Double.self)
        #expect(model.splitsBatchInHalves(7))
        var random = RandomGenerator(seed: 8)
        let parameters = model.initialParameters(using: &random)
        let inputs = Tensor<Double>.randomUniform([7, 784], using: &random)
        let labels = [3, 1, 4, 1, 5, 9, 2]
        let whole = Self.wholeBatch(model, parameters, inputs: inputs, labels: labels)
        let split = Self.halves(model, parameters, inputs: inputs, labels: labels)
        #expect(split.gradients != whole.gradients, "the halves were not taken: this test compares nothing")
        #expect(abs(split.loss - whole.loss) <= 1e-14 * abs(whole.loss))
        #expect(split.accuracy == whole.accuracy)
        #expect(split.gradients.names == whole.gradients.names)
        for name in whole.gradients.names {
            let (a, b) = (split.gradients[name]!, whole.gradients[name]!)
            let scale = b.scalars.map(abs).max()!
            #expect(scale > 0, "\(name): a zero gradient tests nothing")
            #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-13 * scale }, "\(name) differs")
        }
    }

    /// Evaluation takes each batch's halves side by side too: the mean loss and accuracy agree with the whole
    /// batch's logits to rounding.
    @Test func evaluationInHalvesAgreesWithTheWholeBatch() throws {
        let model = try ModelZoo.build("lenet-5", inputShape: [1, 28, 28], classes: 10, as: Double.self)
        var random = RandomGenerator(seed: 10)
        let parameters = model.initialParameters(using: &random)
        let inputs = Tensor<Double>.randomUniform([9, 784], using: &random)
        let labels = [0, 1, 2, 3, 4, 5, 6, 7, 8]
        let measured = model.evaluate(parameters: parameters, buffers: ParameterSet(), inputs: inputs, labels: labels, loss: .crossEntropy, batchSize: 5)
        let logits = model.logits(inputs, parameters: parameters, buffers: ParameterSet())
        let wholeLoss = withoutGradients { Loss.crossEntropy.mean(Variable(logits), labels: labels).value.scalar }
        #expect(abs(measured.loss - wholeLoss) <= 1e-14 * abs(wholeLoss))
        #expect(measured.accuracy == accuracy(logits, labels: labels))
    }

    /// The same bits whether the halves run side by side or one after the other on one thread (as on one core, or
    /// when the second core is busy): a run's results do not depend on the machine's load. Evaluation's halves of
    /// 500 hold products above 256³ multiply-adds, which OpenBLAS would round differently on two threads.
    @Test(.enabled(if: runsSideBySide, "needs two cores and two BLAS threads"))
    func sideBySideAndInTurnGiveTheSameBits() throws {
        let model = try ModelZoo.build("lenet-5", inputShape: [1, 28, 28], classes: 10, as: Float.self)
        var random = RandomGenerator(seed: 9)
        let parameters = model.initialParameters(using: &random)
        let inputs = Tensor<Float>.randomUniform([1000, 784], using: &random)
        let labels = (0..<1000).map { _ in random.nextInt(below: 10) }
        let batch = inputs.slice(0..<60, alongAxis: 0), batchLabels = Array(labels[0..<60])
        let sideBySide = Self.halves(model, parameters, inputs: batch, labels: batchLabels)
        let evaluated = model.evaluate(parameters: parameters, buffers: ParameterSet(), inputs: inputs, labels: labels, loss: .crossEntropy)
        let (inTurn, evaluatedInTurn) = CoreSharing.$confinesThisThread.withValue(true) {
            #expect(!runsSideBySide)
            return (
                Self.halves(model, parameters, inputs: batch, labels: batchLabels),
                model.evaluate(parameters: parameters, buffers: ParameterSet(), inputs: inputs, labels: labels, loss: .crossEntropy))
        }
        #expect(sideBySide.loss == inTurn.loss && sideBySide.accuracy == inTurn.accuracy)
        #expect(sideBySide.gradients == inTurn.gradients)
        #expect(evaluated.loss == evaluatedInTurn.loss && evaluated.accuracy == evaluatedInTurn.accuracy)
    }

    /// BatchNorm uses the batch's statistics and dropout draws one mask for the batch, and a dense network's step is
    /// faster whole: these keep the whole-batch path, bit for bit, and their random stream moves as before.
    @Test func denseBatchNormAndDropoutNetworksKeepTheWholeBatch() throws {
        #expect(try !ModelZoo.build("mcnn", inputShape: [3, 8, 8], classes: 10, options: .init(width: 1), as: Float.self).splitsBatchInHalves(60))
        #expect(try !ModelZoo.build("lenet-300-100", inputShape: [1, 28, 28], classes: 10, as: Float.self).splitsBatchInHalves(60))
        #expect(try !ModelZoo.build("lenet-5", inputShape: [1, 28, 28], classes: 10, as: Float.self).splitsBatchInHalves(1))
        #expect(try ModelZoo.build("conv-2", inputShape: [1, 28, 28], classes: 10, as: Float.self).splitsBatchInHalves(2))
        func convolutional(_ layer: any Layer<Float>) -> Model<Float> {
            Model(name: "conv", inputShape: [1, 4, 4], classes: 2, takesImages: true, network: Sequential([
                ("conv", Convolution2D<Float>(1, 2, kernelSize: 3)), ("extra", layer), ("flatten", Flatten<Float>()),
                ("fc", Dense<Float>(inputs: 8, outputs: 2)),
            ]))
        }
        #expect(convolutional(Activation<Float>(.relu)).splitsBatchInHalves(8))
        #expect(!convolutional(Dropout<Float>(rate: 0.5)).splitsBatchInHalves(8))
        #expect(convolutional(Dropout<Float>(rate: 0)).splitsBatchInHalves(8))
        #expect(!convolutional(BatchNormalization<Float>(features: 2)).splitsBatchInHalves(8))

        let model = try ModelZoo.build("mlp", inputShape: [1, 4, 4], classes: 3, options: .init(widths: [5], dropout: 0.5), as: Double.self)
        var random = RandomGenerator(seed: 5)
        let parameters = model.initialParameters(using: &random)
        let inputs = Tensor<Double>.randomUniform([6, 16], using: &random)
        let labels = [0, 1, 2, 0, 1, 2]
        var (buffers, dropout) = (model.initialBuffers(), RandomGenerator(seed: 4))
        let viaLoss = model.gradients(at: parameters, buffers: &buffers, inputs: inputs, labels: labels, loss: .crossEntropy, random: &dropout)
        var (otherBuffers, otherDropout) = (model.initialBuffers(), RandomGenerator(seed: 4))
        let viaObjective = model.gradients(at: parameters, buffers: &otherBuffers, inputs: inputs, labels: labels, random: &otherDropout) {
            Loss.crossEntropy.mean($0, labels: labels)
        }
        #expect(viaLoss.gradients == viaObjective.gradients && viaLoss.loss == viaObjective.loss)
        #expect(dropout.nextInt(below: 1 << 30) == otherDropout.nextInt(below: 1 << 30))
    }
}
