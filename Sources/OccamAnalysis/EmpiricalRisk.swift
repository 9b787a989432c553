import OccamAutograd
import OccamNN
import OccamTensor

/// The mean loss of a model over a fixed set of labelled inputs, as a function of the parameter coordinates
/// in `subspace` (the other parameters held at their values): the function whose curvature is measured.
///
/// The model runs in evaluation mode (no dropout; BatchNorm uses its running statistics), so the function
/// is deterministic and each sample's loss depends on that sample alone. Work is done in batches of
/// `batchSize`; a full-data quantity is the size-weighted mean of batch quantities, so a short last batch
/// and the batch size change nothing but rounding.
public struct EmpiricalRisk<Scalar: TensorScalar> {
    public let model: Model<Scalar>
    /// The point: all of the model's parameters.
    public let parameters: ParameterSet<Scalar>
    public let buffers: ParameterSet<Scalar>
    /// `[N, C·H·W]` (or `[N, C, H, W]`).
    public let inputs: Tensor<Scalar>
    /// N class indices.
    public let labels: [Int]
    public let loss: Loss
    public let subspace: ParameterSubspace
    public let batchSize: Int

    public init(
        model: Model<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, inputs: Tensor<Scalar>,
        labels: [Int], loss: Loss, subspace: ParameterSubspace, batchSize: Int = 500
    ) {
        precondition(inputs.shape.first == labels.count, "EmpiricalRisk: \(inputs.shape) inputs for \(labels.count) labels")
        precondition(!labels.isEmpty, "EmpiricalRisk: no samples")
        precondition(batchSize >= 1, "EmpiricalRisk: batch size \(batchSize)")
        (self.model, self.parameters, self.buffers, self.inputs, self.labels) = (model, parameters, buffers, inputs, labels)
        (self.loss, self.subspace, self.batchSize) = (loss, subspace, batchSize)
    }

    /// The number of samples N.
    public var count: Int { labels.count }

    /// The batches' index ranges, in order.
    public var batches: [Range<Int>] {
        stride(from: 0, to: count, by: batchSize).map { $0..<min(count, $0 + batchSize) }
    }

    /// One batch's forward pass with the subspace's parameters as leaves that require gradients.
    /// - Returns: the logits `[b, classes]` (recorded) and one variable per subspace block, in block order.
    func forward(_ batch: Range<Int>, recorder: LayerRecorder<Scalar>? = nil)
        -> (logits: Variable<Scalar>, variables: [Variable<Scalar>])
    {
        withGradients {
            var byName: [String: Variable<Scalar>] = [:]
            for (name, tensor) in parameters.entries { byName[name] = Variable(tensor) }
            let variables = subspace.blocks.map { block in
                let variable = Variable(parameters[block.name]!, requiresGradient: true)
                byName[block.name] = variable
                return variable
            }
            var context = ForwardContext(parameters: byName, buffers: buffers, isTraining: false)
            context.layerRecorder = recorder
            let logits = model(Variable(inputs.slice(batch, alongAxis: 0)), context: &context)
            return (logits, variables)
        }
    }

    /// The gradient `[dimension]` of the mean loss over the images of `batch` alone.
    public func batchGradient(_ batch: Range<Int>) -> [Double] {
        let (logits, variables) = forward(batch)
        let mean = loss.perSample(logits, labels: Array(labels[batch])).mean()
        return subspace.flatten(blockTensors: gradient(of: mean, wrt: variables).map(\.value))
    }

    /// The mean loss, the accuracy and the gradient `[dimension]` of the mean loss in the subspace.
    public func valueAndGradient() -> (loss: Double, accuracy: Double, gradient: [Double]) {
        var total = 0.0, correct = 0.0
        var gradientSum = [Double](repeating: 0, count: subspace.dimension)
        for batch in batches {
            let (logits, variables) = forward(batch)
            let batchLabels = Array(labels[batch])
            let losses = loss.perSample(logits, labels: batchLabels)
            let sum = losses.sum()
            total += Double(sum.value.scalar)
            correct += accuracy(logits.value, labels: batchLabels) * Double(batch.count)
            let gradients = gradient(of: sum, wrt: variables).map(\.value)
            addScaled(subspace.flatten(blockTensors: gradients), 1, to: &gradientSum)
        }
        let n = Double(count)
        return (total / n, correct / n, gradientSum.map { $0 / n })
    }

    /// The logits `[N, classes]` at the point (evaluation mode), in batches.
    public func logits() -> Tensor<Scalar> {
        Tensor.concatenating(batches.map { batch in
            model.logits(inputs.slice(batch, alongAxis: 0), parameters: parameters, buffers: buffers)
        }, alongAxis: 0)
    }
}
