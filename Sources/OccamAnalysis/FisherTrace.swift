import OccamAutograd
import OccamData
import OccamNN
import OccamTensor

/// The trace of the Fisher information and its relatives on a fixed set of images, from per-sample gradients
/// (Achille, Rovere & Soatto 2019): not the norm of a mini-batch gradient, which is another quantity.
public struct FisherTraceEstimate: Sendable, Equatable {
    /// tr F = E_x E_{y~p(y|x)} ‖∇ log p(y|x)‖², one label drawn from the model per image; unbiased.
    public var trace: Double
    public var traceStandardError: Double?
    /// The empirical Fisher's trace, E_x ‖∇ ℓ(x, y_true)‖².
    public var empiricalTrace: Double
    public var empiricalTraceStandardError: Double?
    /// The mean norm of the gradient of mini-batches of `batchSize` of the images (the last may be short),
    /// and its standard error over batches.
    public var batchGradientNorm: Double
    public var batchGradientNormStandardError: Double?
    /// Mean loss and accuracy on the images.
    public var loss: Double
    public var accuracy: Double
    public var samples: Int

    /// The values of a metrics.jsonl record (standard errors omitted where undefined).
    public var values: [String: Double] {
        var values: [String: Double] = [
            "fisher_trace": trace, "empirical_fisher_trace": empiricalTrace, "batch_gradient_norm": batchGradientNorm,
            "samples": Double(samples),
        ]
        values["fisher_trace_se"] = traceStandardError
        values["empirical_fisher_trace_se"] = empiricalTraceStandardError
        values["batch_gradient_norm_se"] = batchGradientNormStandardError
        return values
    }
}

public enum FisherTrace {
    /// Estimates the traces at the risk's point over all of its images (its subspace's coordinates), drawing
    /// each image's model label from `random`.
    /// - Parameter batchSize: the mini-batch size of the batch gradient norm (the training batch size).
    public static func estimate<Scalar: TensorScalar>(
        _ risk: EmpiricalRisk<Scalar>, batchSize: Int, random: inout RandomGenerator
    ) -> FisherTraceEstimate {
        precondition(risk.loss == .crossEntropy, "FisherTrace: the Fisher of a categorical likelihood needs cross-entropy")
        let logits = risk.logits()
        let sampled = sampleLabels(logits, random: &random)
        let modelNorms = PerSampleGradients.squaredNorms(risk, labels: sampled)
        let trueNorms = PerSampleGradients.squaredNorms(risk)
        let (trace, traceError) = TraceEstimation.meanAndStandardError(modelNorms)
        let (empirical, empiricalError) = TraceEstimation.meanAndStandardError(trueNorms)
        let batchRisk = EmpiricalRisk(
            model: risk.model, parameters: risk.parameters, buffers: risk.buffers, inputs: risk.inputs, labels: risk.labels,
            loss: risk.loss, subspace: risk.subspace, batchSize: batchSize)
        let batchNorms = batchRisk.batches.map { batch in norm(batchRisk.batchGradient(batch)) }
        let (batchNorm, batchNormError) = TraceEstimation.meanAndStandardError(batchNorms)
        let losses = withoutGradients { risk.loss.perSample(Variable(logits), labels: risk.labels).value.scalars }
        return FisherTraceEstimate(
            trace: trace, traceStandardError: traceError, empiricalTrace: empirical, empiricalTraceStandardError: empiricalError,
            batchGradientNorm: batchNorm, batchGradientNormStandardError: batchNormError,
            loss: losses.reduce(0.0) { $0 + Double($1) } / Double(risk.count), accuracy: accuracy(logits, labels: risk.labels),
            samples: risk.count)
    }

    /// A training probe named "fisher" that estimates the traces every `every` on a fixed subset of `samples`
    /// training images (drawn from `seed`), over all parameters, with the model's labels drawn from a stream of
    /// the iteration (so a resumed run logs the same bits). The batch gradient norm uses the training batch size.
    public static func probe<Scalar: TensorScalar>(every: TrainingDuration, samples: Int, seed: UInt64) -> TrainingProbe<Scalar> {
        TrainingProbe(name: "fisher", every: every) { input in
            let indices = DataSubsets.subsetIndices(count: input.train.count, size: min(samples, input.train.count), seed: seed)
            let images = input.train.subset(indices)
            // Every parameter is selected: a model with parameters always has a non-empty subspace.
            let subspace = try! ParameterSubspace(of: input.parameters)
            let risk = EmpiricalRisk(
                model: input.model, parameters: input.parameters, buffers: input.buffers, inputs: images.images, labels: images.labels,
                loss: .crossEntropy, subspace: subspace, batchSize: 64)
            var random = RandomGenerator(seed: seed).stream("fisher labels").stream(input.iteration)
            let estimate = estimate(risk, batchSize: input.batchSize, random: &random)
            return (estimate.loss, estimate.accuracy, estimate.values)
        }
    }
}
