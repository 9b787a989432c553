import OccamTensor

/// An optimizer by name with its hyperparameters: what a run's config records and the command line sets.
public struct OptimizerConfiguration: Codable, Sendable, Hashable {
    /// The optimizers `make` builds.
    public enum Kind: String, Codable, Sendable, CaseIterable { case sgd, adam, adamw }

    public var kind: Kind
    /// The base learning rate (a schedule scales it).
    public var learningRate: Double
    /// SGD's momentum (0: plain SGD).
    public var momentum: Double
    /// SGD's Nesterov momentum.
    public var nesterov: Bool
    /// L2 weight decay (SGD, Adam) or decoupled weight decay (AdamW).
    public var weightDecay: Double

    public init(kind: Kind, learningRate: Double, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
        (self.kind, self.learningRate, self.momentum, self.nesterov, self.weightDecay) = (kind, learningRate, momentum, nesterov, weightDecay)
    }

    /// A fresh optimizer (no state yet), holding `mask` if given.
    public func make<Scalar: TensorScalar>(mask: PruningMask<Scalar>? = nil, as _: Scalar.Type = Scalar.self) -> any Optimizer<Scalar> {
        switch kind {
        case .sgd: return SGD<Scalar>(momentum: momentum, weightDecay: weightDecay, nesterov: nesterov, mask: mask)
        case .adam: return Adam<Scalar>(weightDecay: weightDecay, mask: mask)
        case .adamw: return AdamW<Scalar>(weightDecay: weightDecay, mask: mask)
        }
    }
}
