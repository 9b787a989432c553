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
        // One half: its share of the batch's mean loss (its samples' losses over n) and that share's gradient.
        func half(_ range: Range<Int>) -> BatchGradients<Scalar> {
            var (halfBuffers, halfRandom) = (buffers, random)  // neither moves: no BatchNorm, no dropout
            let halfLabels = Array(labels[range])
            return withGradients {
                gradients(
                    at: parameters, buffers: &halfBuffers, inputs: inputs.slice(range, alongAxis: 0), labels: halfLabels,
                    random: &halfRandom
                ) { loss.perSample($0, labels: halfLabels, labelSmoothing: labelSmoothing).sum() * (1 / Scalar(n)) }
            }
        }
        let (first, second) = sideBySide({ half(0..<n / 2) }, { half(n / 2..<n) })
        return BatchGradients(
            loss: first.loss + second.loss,
            accuracy: ((first.accuracy * Double(n / 2)).rounded() + (second.accuracy * Double(n - n / 2)).rounded()) / Double(n),
            gradients: first.gradients.mapTensors { name, tensor in tensor + second.gradients[name]! })
    }

    /// Evaluation-mode logits of one batch; for the networks of `splitsBatchInHalves`, of its two halves side by side.
    private func logitsOfBatch(_ inputs: Tensor<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>) -> Tensor<Scalar> {
        let n = inputs.shape[0]
        guard splitsBatchInHalves(n) else { return logits(inputs, parameters: parameters, buffers: buffers) }
        let (first, second) = sideBySide(
            { logits(inputs.slice(0..<n / 2, alongAxis: 0), parameters: parameters, buffers: buffers) },
            { logits(inputs.slice(n / 2..<n, alongAxis: 0), parameters: parameters, buffers: buffers) })
        return Tensor.concatenating([first, second], alongAxis: 0)
    }

    /// Whether a batch of `batchSize` is taken in two halves, in a training step (its gradient is the sum of the
    /// halves' gradients) and in evaluation (its logits are the halves' logits), side by side on two cores (see
    /// `sideBySide`): for convolutional networks that treat samples independently. Their steps are many small
    /// operations on large activations, and the halves made a LeNet-5 step 1.4x faster on two cores. A dense network's
    /// step is bound by the memory traffic of its weight gradients, which two halves double: LeNet-300-100 was 15%
    /// slower, so dense networks keep the whole batch.
    public func splitsBatchInHalves(_ batchSize: Int) -> Bool {
        batchSize >= 2 && takesImages && network.treatsSamplesIndependently
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
