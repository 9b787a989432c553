import OccamAutograd
import OccamTensor

/// Training objectives on logits `[N, classes]` and integer labels.
public enum Loss: String, Codable, Sendable, CaseIterable {
    /// Softmax cross-entropy, computed stably through log-softmax.
    case crossEntropy = "cross-entropy"
    /// Mean squared error against one-hot targets, summed over classes (Belkin et al.).
    case meanSquaredError = "mse"

    /// The loss of each sample: `[N]`. `labelSmoothing` ε mixes the one-hot target with the uniform
    /// distribution, (1 - ε) onehot + ε / classes (cross-entropy only).
    public func perSample<Scalar>(_ logits: Variable<Scalar>, labels: [Int], labelSmoothing: Double = 0) -> Variable<Scalar> {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count,
                     "Loss: logits \(logits.shape) for \(labels.count) labels")
        let classes = logits.shape[1]
        var targets = Tensor<Scalar>.oneHot(labels, classes: classes)
        switch self {
        case .crossEntropy:
            if labelSmoothing > 0 {
                targets = targets * Scalar(1 - labelSmoothing) + Scalar(labelSmoothing / Double(classes))
            }
            return -(logits.logSoftmax(alongAxis: 1) * Variable(targets)).sum(alongAxes: [1])
        case .meanSquaredError:
            return (logits - Variable(targets)).squared().sum(alongAxes: [1])
        }
    }

    /// The mean over the batch: rank 0.
    public func mean<Scalar>(_ logits: Variable<Scalar>, labels: [Int], labelSmoothing: Double = 0) -> Variable<Scalar> {
        perSample(logits, labels: labels, labelSmoothing: labelSmoothing).mean()
    }
}

/// The fraction of rows whose largest logit is at the label.
public func accuracy<Scalar>(_ logits: Tensor<Scalar>, labels: [Int]) -> Double {
    let predictions = logits.argmax(alongAxis: 1)
    return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(max(labels.count, 1))
}
