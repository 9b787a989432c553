import OccamAutograd
import OccamTensor

/// The loss, accuracy and parameter gradients of one batch.
public struct BatchGradients<Scalar: TensorScalar> {
    /// The mean loss over the batch.
    public var loss: Double
    /// The fraction of the batch classified correctly.
    public var accuracy: Double
    /// d loss / d parameter, for every parameter, same names and shapes.
    public var gradients: ParameterSet<Scalar>
}

extension Model {
    /// One forward and backward pass in training mode on a batch, of the mean `loss`; for the networks of
    /// `splitsBatchInHalves`, as the sum of its two halves' passes.
    ///
    /// - Parameters:
    ///   - inputs: `[N, C·H·W]` (or `[N, C, H, W]`).
    ///   - labels: N class indices.
    ///   - buffers: BatchNorm running statistics, updated as PyTorch does in training mode.
    ///   - random: draws dropout masks; advanced.
    public func gradients(
        at parameters: ParameterSet<Scalar>, buffers: inout ParameterSet<Scalar>, inputs: Tensor<Scalar>, labels: [Int],
        loss: Loss, labelSmoothing: Double = 0, random: inout RandomGenerator
    ) -> BatchGradients<Scalar> {
        guard splitsBatchInHalves(labels.count) else {
            return gradients(at: parameters, buffers: &buffers, inputs: inputs, labels: labels, random: &random) {
                loss.mean($0, labels: labels, labelSmoothing: labelSmoothing)
            }
        }
        // The sum of the two halves' gradients, on every machine (so results do not depend on it), side by side
        // where there are two cores: one synchronization a step instead of one or two per operation.
        let n = labels.count
        let halves = [0..<n / 2, n / 2..<n]
        var first: BatchGradients<Scalar>?, second: BatchGradients<Scalar>?
        func part(_ range: Range<Int>) -> BatchGradients<Scalar> {
            halfGradients(
                at: parameters, buffers: buffers, inputs: inputs.slice(range, alongAxis: 0), labels: Array(labels[range]),
                batchSize: n, loss: loss, labelSmoothing: labelSmoothing, random: random)
        }
        sideBySide({ first = part(halves[0]) }, { second = part(halves[1]) })
        guard let first, let second else { preconditionFailure("gradients: a half of the batch was not computed") }
        return BatchGradients(
            loss: first.loss + second.loss, accuracy: (first.accuracy + second.accuracy) / Double(n),
            gradients: first.gradients.mapTensors { name, tensor in tensor + second.gradients[name]! })
    }

    /// Evaluation-mode logits of one batch; for the networks of `splitsBatchInHalves`, of its two halves side by side.
    private func logitsOfBatch(_ inputs: Tensor<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>) -> Tensor<Scalar> {
        let n = inputs.shape[0]
        guard splitsBatchInHalves(n) else { return logits(inputs, parameters: parameters, buffers: buffers) }
        var first: Tensor<Scalar>?, second: Tensor<Scalar>?
        sideBySide(
            { first = logits(inputs.slice(0..<n / 2, alongAxis: 0), parameters: parameters, buffers: buffers) },
            { second = logits(inputs.slice(n / 2..<n, alongAxis: 0), parameters: parameters, buffers: buffers) })
        guard let first, let second else { preconditionFailure("evaluate: a half of the batch was not computed") }
        return Tensor.concatenating([first, second], alongAxis: 0)
    }

    /// Whether a training step on a batch of `batchSize` computes its gradient as the sum of the gradients of its two
    /// halves (side by side on two cores, see `sideBySide`): for convolutional networks that treat samples
    /// independently. Their steps are many small operations on large activations, and the halves made a LeNet-5
    /// step 1.4x faster on two cores. A dense network's step is bound by the memory traffic of its weight gradients,
    /// which two halves double: LeNet-300-100 was 15% slower, so dense networks keep the whole batch.
    public func splitsBatchInHalves(_ batchSize: Int) -> Bool {
        batchSize >= 2 && takesImages && network.treatsSamplesIndependently
    }

    /// One part of a batch of `batchSize` for a network that treats samples independently: its share of the
    /// batch's mean loss (the sum of its samples' losses over `batchSize`), the number of its samples classified
    /// correctly (as `accuracy`), and the gradient of that share.
    private func halfGradients(
        at parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, inputs: Tensor<Scalar>, labels: [Int],
        batchSize: Int, loss: Loss, labelSmoothing: Double, random: RandomGenerator
    ) -> BatchGradients<Scalar> {
        withGradients {
            let variables = parameters.entries.map { (name: $0.name, variable: Variable($0.tensor, requiresGradient: true)) }
            var context = ForwardContext(
                parameters: Dictionary(uniqueKeysWithValues: variables.map { ($0.name, $0.variable) }), buffers: buffers,
                isTraining: true, random: random)
            let logits = self(Variable(inputs), context: &context)
            let share = loss.perSample(logits, labels: labels, labelSmoothing: labelSmoothing).sum() * (1 / Scalar(batchSize))
            let grads = gradient(of: share, wrt: variables.map { $0.variable })
            return BatchGradients(
                loss: Double(share.value.scalar), accuracy: (accuracy(logits.value, labels: labels) * Double(labels.count)).rounded(),
                gradients: ParameterSet(zip(variables, grads).map { ($0.name, $1.value) }))
        }
    }

    /// The same pass with any `objective` of the logits `[N, classes]` (rank 0): a distillation loss against a
    /// teacher's soft targets.
    public func gradients(
        at parameters: ParameterSet<Scalar>, buffers: inout ParameterSet<Scalar>, inputs: Tensor<Scalar>, labels: [Int],
        random: inout RandomGenerator, objective: (Variable<Scalar>) -> Variable<Scalar>
    ) -> BatchGradients<Scalar> {
        let variables = parameters.entries.map { (name: $0.name, variable: Variable($0.tensor, requiresGradient: true)) }
        var context = ForwardContext(
            parameters: Dictionary(uniqueKeysWithValues: variables.map { ($0.name, $0.variable) }), buffers: buffers,
            isTraining: true, random: random)
        let logits = self(Variable(inputs), context: &context)
        let objective = objective(logits)
        let grads = gradient(of: objective, wrt: variables.map { $0.variable })
        buffers = context.buffers
        random = context.random
        return BatchGradients(
            loss: Double(objective.value.scalar), accuracy: accuracy(logits.value, labels: labels),
            gradients: ParameterSet(zip(variables, grads).map { ($0.name, $1.value) }))
    }

    /// Mean loss and accuracy over `inputs` in evaluation mode, in batches of `batchSize`.
    public func evaluate(
        parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, inputs: Tensor<Scalar>, labels: [Int], loss: Loss,
        batchSize: Int = 1000
    ) -> (loss: Double, accuracy: Double) {
        evaluate(parameters: parameters, buffers: buffers, inputs: inputs, labelSets: [labels], loss: loss, batchSize: batchSize)[0]
    }

    /// Mean loss and accuracy over `inputs` against each of `labelSets` (the same images with clean and with
    /// corrupted labels), with one forward pass per batch of `batchSize` for all of them.
    public func evaluate(
        parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, inputs: Tensor<Scalar>, labelSets: [[Int]], loss: Loss,
        batchSize: Int = 1000
    ) -> [(loss: Double, accuracy: Double)] {
        let n = inputs.shape[0]
        precondition(labelSets.allSatisfy { $0.count == n }, "evaluate: \(n) inputs but label sets of \(labelSets.map(\.count))")
        guard n > 0 else { return labelSets.map { _ in (.nan, .nan) } }
        var totalLoss = [Double](repeating: 0, count: labelSets.count), correct = totalLoss
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            let logits = logitsOfBatch(inputs.slice(start..<end, alongAxis: 0), parameters: parameters, buffers: buffers)
            for (set, labels) in labelSets.enumerated() {
                let batchLabels = Array(labels[start..<end])
                let losses = withoutGradients { loss.perSample(Variable(logits), labels: batchLabels).value }
                totalLoss[set] += Double(losses.sum().scalar)
                correct[set] += accuracy(logits, labels: batchLabels) * Double(end - start)
            }
            start = end
        }
        return zip(totalLoss, correct).map { ($0 / Double(n), $1 / Double(n)) }
    }
}
