import OccamAutograd
import OccamTensor

/// Hinton, Vinyals & Dean (2015): a student's loss against a teacher's soft targets at temperature T, optionally
/// mixed with the cross-entropy on the hard labels.
///
/// Per sample, with q = softmax(teacher / T) and p_T = softmax(student / T):
/// (1 - α) T² Σ_k -q_k log p_T,k + α Σ_k -onehot_k log softmax(student)_k.
/// The T² keeps the soft term's gradient, T (p_T - q) with respect to the student's logits, the same size
/// whatever T (Hinton et al., Sec. 2); α is `hardLabelWeight`.
public struct DistillationLoss: Codable, Sendable, Hashable {
    public var temperature: Double
    /// α: the hard-label cross-entropy's share, in [0, 1]; 0 trains on the soft targets alone.
    public var hardLabelWeight: Double

    public init(temperature: Double, hardLabelWeight: Double = 0) {
        precondition(temperature > 0 && (0...1).contains(hardLabelWeight), "DistillationLoss: T \(temperature) must be positive and α \(hardLabelWeight) in [0, 1]")
        (self.temperature, self.hardLabelWeight) = (temperature, hardLabelWeight)
    }

    /// The teacher's soft targets softmax(teacherLogits / T): `[N, classes]` for logits `[N, classes]`.
    public func softTargets<Scalar>(_ teacherLogits: Tensor<Scalar>) -> Tensor<Scalar> {
        (teacherLogits / Scalar(temperature)).softmax(alongAxis: 1)
    }

    /// The loss of each sample, `[N]`, for student logits `[N, classes]`, the teacher's soft targets `[N, classes]`
    /// (`softTargets`) and hard labels `[N]`.
    public func perSample<Scalar>(_ studentLogits: Variable<Scalar>, softTargets: Tensor<Scalar>, labels: [Int]) -> Variable<Scalar> {
        precondition(studentLogits.rank == 2 && studentLogits.shape == softTargets.shape && labels.count == studentLogits.shape[0],
                     "DistillationLoss: student logits \(studentLogits.shape), soft targets \(softTargets.shape), \(labels.count) labels")
        let t = Scalar(temperature)
        let soft = -((studentLogits / t).logSoftmax(alongAxis: 1) * Variable(softTargets)).sum(alongAxes: [1]) * (t * t)
        guard hardLabelWeight > 0 else { return soft }
        let hard = Loss.crossEntropy.perSample(studentLogits, labels: labels)
        return soft * Scalar(1 - hardLabelWeight) + hard * Scalar(hardLabelWeight)
    }

    /// The mean over the batch: rank 0.
    public func mean<Scalar>(_ studentLogits: Variable<Scalar>, softTargets: Tensor<Scalar>, labels: [Int]) -> Variable<Scalar> {
        perSample(studentLogits, softTargets: softTargets, labels: labels).mean()
    }
}

/// A trained network whose soft targets a student trains on (`Trainer.teacher`).
public struct Teacher<Scalar: TensorScalar>: Sendable {
    public var model: Model<Scalar>
    public var parameters: ParameterSet<Scalar>
    public var buffers: ParameterSet<Scalar>
    public var loss: DistillationLoss

    public init(model: Model<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, loss: DistillationLoss) {
        (self.model, self.parameters, self.buffers, self.loss) = (model, parameters, buffers, loss)
    }
}
