import OccamAutograd
import OccamNN
import OccamTensor

/// The gradient of each sample's own loss ℓ(f(x_i; θ), y_i) (not divided by N) in a risk's subspace: what
/// Fisher traces, gradient noise and the empirical Fisher are made of.
///
/// Fast path: when every selected parameter belongs to a dense or convolution layer called once, one
/// backward pass gives each layer's output gradients g and the per-sample weight gradient is the outer
/// product g_iᵀ x_i (dense) or g_i colsᵀ(x_i) (convolution; im2col of the sample's input), the bias gradient
/// Σ g_i. Otherwise (BatchNorm scales, shared layers) a loop of single-sample backward passes.
public enum PerSampleGradients {
    public enum Method: String, Sendable {
        /// The fast path where it applies, else the loop.
        case automatic
        /// One backward pass per sample: the reference.
        case loop
    }

    /// `[b, dimension]`: row i is the gradient of sample `batch.lowerBound + i`'s loss at `labels[i]` (default:
    /// the risk's labels).
    public static func compute<Scalar: TensorScalar>(
        _ risk: EmpiricalRisk<Scalar>, batch: Range<Int>, labels: [Int]? = nil, method: Method = .automatic
    ) -> Tensor<Scalar> {
        let batchLabels = labels ?? Array(risk.labels[batch])
        precondition(batchLabels.count == batch.count, "PerSampleGradients: \(batchLabels.count) labels for a batch of \(batch.count)")
        if method == .automatic, let rows = outerProducts(risk, batch: batch, labels: batchLabels) { return rows }
        return loop(risk, batch: batch, labels: batchLabels)
    }

    /// One backward pass per sample.
    static func loop<Scalar: TensorScalar>(_ risk: EmpiricalRisk<Scalar>, batch: Range<Int>, labels: [Int]) -> Tensor<Scalar> {
        var rows: [Scalar] = []
        rows.reserveCapacity(batch.count * risk.subspace.dimension)
        for (i, sample) in batch.enumerated() {
            let (logits, variables) = risk.forward(sample..<sample + 1)
            let sampleLoss = risk.loss.perSample(logits, labels: [labels[i]]).sum()
            let gradients = gradient(of: sampleLoss, wrt: variables).map(\.value)
            rows += risk.subspace.flatten(blockTensors: gradients).map { Scalar($0) }
        }
        return Tensor(shape: [batch.count, risk.subspace.dimension], scalars: rows)
    }

    /// The fast path, or nil where it does not apply.
    static func outerProducts<Scalar: TensorScalar>(_ risk: EmpiricalRisk<Scalar>, batch: Range<Int>, labels: [Int]) -> Tensor<Scalar>? {
        let recorder = LayerRecorder<Scalar>()
        let (logits, _) = risk.forward(batch, recorder: recorder)
        let records = recorder.records
        let byPrefix = Dictionary(grouping: records.indices, by: { records[$0].prefix })
        var owners: [(record: Int, isBias: Bool)] = []
        for block in risk.subspace.blocks {
            let isBias = block.name.hasSuffix(".bias")
            guard isBias || block.name.hasSuffix(".weight") else { return nil }
            let prefix = String(block.name.dropLast(isBias ? 5 : 7))
            guard let calls = byPrefix[prefix], calls.count == 1 else { return nil }
            owners.append((calls[0], isBias))
        }
        let sum = risk.loss.perSample(logits, labels: labels).sum()
        let outputGradients = gradient(of: sum, wrt: records.map(\.output)).map(\.value)

        let b = batch.count, dimension = risk.subspace.dimension
        var rows = Tensor<Scalar>(zeros: [b, dimension])
        for (block, owner) in zip(risk.subspace.blocks, owners) {
            let record = records[owner.record]
            let full = perSampleTensor(
                kind: record.kind, input: record.input.value, outputGradient: outputGradients[owner.record], bias: owner.isBias)
            let width = full.count / b  // the block's full size
            rows.withUnsafeMutablePointer { target in
                full.withUnsafePointer { source in
                    for i in 0..<b {
                        let row = target + i * dimension + block.offset
                        let sample = source + i * width
                        if let kept = block.keptIndices {
                            for (j, index) in kept.enumerated() { row[j] = sample[index] }
                        } else {
                            for j in 0..<width { row[j] = sample[j] }
                        }
                    }
                }
            }
        }
        return rows
    }

    /// Per-sample gradients of one layer's weight or bias, `[b, parameter size]` (row-major per sample).
    static func perSampleTensor<Scalar: TensorScalar>(
        kind: LayerRecorder<Scalar>.Kind, input: Tensor<Scalar>, outputGradient g: Tensor<Scalar>, bias: Bool
    ) -> Tensor<Scalar> {
        let b = g.shape[0]
        switch kind {
        case .dense:
            if bias { return g }
            let (outputs, inputs) = (g.shape[1], input.shape[1])
            return (g.reshaped(to: [b, outputs, 1]) * input.reshaped(to: [b, 1, inputs])).reshaped(to: [b, outputs * inputs])
        case .convolution(let kernelSize, let stride, let padding):
            let outputs = g.shape[1]
            let locations = g.count / (b * outputs)
            if bias { return g.reshaped(to: [b, outputs, locations]).sum(alongAxes: [2]) }
            let perSample = (0..<b).map { i -> Tensor<Scalar> in
                let image = input.slice(i..<i + 1, alongAxis: 0)
                let geometry = WindowGeometry(
                    inputShape: image.shape, kernelHeight: kernelSize, kernelWidth: kernelSize, stride: stride, padding: padding)
                let columns = image.imageToColumns(geometry)  // [C k k, locations]
                let gradient = g.slice(i..<i + 1, alongAxis: 0).reshaped(to: [outputs, locations])
                return Tensor.matmul(gradient, columns, transposeB: true).reshaped(to: [1, -1])  // [1, O C k k]
            }
            return Tensor.concatenating(perSample, alongAxis: 0)
        }
    }

    /// |g_i|² for every sample of the risk, `[N]`, in the risk's batches, at `labels` (default: the risk's).
    public static func squaredNorms<Scalar: TensorScalar>(_ risk: EmpiricalRisk<Scalar>, labels: [Int]? = nil) -> [Double] {
        risk.batches.flatMap { batch -> [Double] in
            let rows = compute(risk, batch: batch, labels: labels.map { Array($0[batch]) })
            let d = risk.subspace.dimension
            return rows.withUnsafePointer { p in
                (0..<batch.count).map { i in (0..<d).reduce(0.0) { $0 + Double(p[i * d + $1]) * Double(p[i * d + $1]) } }
            }
        }
    }
}
