import OccamAutograd
import OccamNN
import OccamTensor

/// Which curvature matrix of the mean loss L(θ) = (1/N) Σ_i ℓ(f(x_i; θ), y_i) an operator applies.
public enum CurvatureKind: String, Codable, Sendable, CaseIterable {
    /// ∇²L, exact, by differentiating the gradient (reverse over reverse).
    case hessian
    /// The generalized Gauss-Newton (1/N) Σ_i J_iᵀ H_i J_i, J_i = ∂f(x_i)/∂θ, H_i = ∂²ℓ/∂f² (for softmax
    /// cross-entropy diag(p) - p pᵀ; for squared error 2 I). Positive semi-definite.
    case ggn
    /// The true Fisher E_x E_{y~p(y|x)} ∇log p ∇log pᵀ, computed exactly: for cross-entropy (a categorical
    /// likelihood) and squared error (a Gaussian one) it equals the GGN.
    case fisher
    /// The Monte-Carlo Fisher (1/N) Σ_i g_i g_iᵀ with g_i the gradient of ℓ at one label drawn from the model
    /// per sample (drawn once, from the seed, so the operator is a fixed matrix).
    case monteCarloFisher = "fisher-mc"
    /// The empirical Fisher (1/N) Σ_i g_i g_iᵀ with g_i the gradient of ℓ at the true label.
    case empiricalFisher = "empirical-fisher"

    /// Its name in prose: "Hessian", "generalized Gauss-Newton matrix", ...
    public var displayName: String {
        switch self {
        case .hessian: "Hessian"
        case .ggn: "generalized Gauss-Newton matrix"
        case .fisher: "Fisher information"
        case .monteCarloFisher: "Monte-Carlo Fisher"
        case .empiricalFisher: "empirical Fisher"
        }
    }

    /// Whether every eigenvalue is >= 0 by construction.
    public var isPositiveSemidefinite: Bool { self != .hessian }
}

/// A curvature matrix of an `EmpiricalRisk` as a `SymmetricOperator` over its subspace's flat vectors.
///
/// Every product is accumulated over the risk's batches as the size-weighted mean, in Double. The Gauss-Newton
/// family is computed as Jᵀ (M (J v)) with J v from one Jacobian-vector product through the tape and M the
/// per-sample curvature in logit space, so no per-sample gradient is ever formed.
public struct LossCurvature<Scalar: TensorScalar>: SymmetricOperator {
    public let risk: EmpiricalRisk<Scalar>
    public let kind: CurvatureKind
    /// For the outer-product kinds: per sample, the gradient of ℓ with respect to the logits, `[N, classes]`.
    private let logitGradients: Tensor<Scalar>?

    /// - Parameter seed: draws the Monte-Carlo Fisher's labels (ignored by the other kinds).
    public init(_ kind: CurvatureKind, of risk: EmpiricalRisk<Scalar>, seed: UInt64 = 0) {
        (self.risk, self.kind) = (risk, kind)
        switch kind {
        case .hessian, .ggn, .fisher: logitGradients = nil
        case .monteCarloFisher:
            var random = RandomGenerator(seed: seed).stream("fisher-mc labels")
            logitGradients = LossCurvature.sampledLogitGradients(risk.logits(), loss: risk.loss, random: &random)
        case .empiricalFisher:
            logitGradients = LossCurvature.logitGradients(risk.logits(), labels: risk.labels, loss: risk.loss)
        }
    }

    public var dimension: Int { risk.subspace.dimension }

    public func apply(_ v: [Double]) -> [Double] {
        let direction: [Tensor<Scalar>] = risk.subspace.expand(v)
        var result = [Double](repeating: 0, count: dimension)
        let n = Double(risk.count)
        for batch in risk.batches {
            let (logits, variables) = risk.forward(batch)
            let product: [Tensor<Scalar>]
            switch kind {
            case .hessian:
                let batchLoss = risk.loss.perSample(logits, labels: Array(risk.labels[batch])).sum()
                product = hessianVectorProduct(of: batchLoss, wrt: variables, along: direction)
            case .ggn, .fisher, .monteCarloFisher, .empiricalFisher:
                let jv = jacobianVectorProduct(of: logits, wrt: variables, along: direction)
                let weighted = logitCurvatureProduct(jv, logits: logits.value, batch: batch)
                product = gradient(of: logits, wrt: variables, seed: Variable(weighted)).map(\.value)
            }
            addScaled(risk.subspace.flatten(blockTensors: product), 1 / n, to: &result)
        }
        return result
    }

    /// M u per sample, `[b, classes]`, for u = J v on one batch.
    private func logitCurvatureProduct(_ u: Tensor<Scalar>, logits: Tensor<Scalar>, batch: Range<Int>) -> Tensor<Scalar> {
        if let logitGradients {
            // (g gᵀ) u = g (g · u), row by row.
            let g = logitGradients.slice(batch, alongAxis: 0)
            return g * (g * u).sum(alongAxes: [1], keepingDimensions: true)
        }
        switch risk.loss {
        case .crossEntropy:
            let p = logits.softmax(alongAxis: 1)
            return p * u - p * (p * u).sum(alongAxes: [1], keepingDimensions: true)
        case .meanSquaredError:
            return u * Scalar(2)
        }
    }

    /// ∂ℓ/∂logits at the true labels: p - onehot(y) (cross-entropy) or 2 (f - onehot(y)) (squared error).
    static func logitGradients(_ logits: Tensor<Scalar>, labels: [Int], loss: Loss) -> Tensor<Scalar> {
        let targets = Tensor<Scalar>.oneHot(labels, classes: logits.shape[1])
        switch loss {
        case .crossEntropy: return logits.softmax(alongAxis: 1) - targets
        case .meanSquaredError: return (logits - targets) * Scalar(2)
        }
    }

    /// ∂ℓ/∂logits at targets drawn from the model's own likelihood: a class y ~ softmax(f) (cross-entropy),
    /// or y = f + ε with ε ~ N(0, I/2), the Gaussian whose negative log-density is the squared error, giving
    /// -2ε (squared error).
    static func sampledLogitGradients(_ logits: Tensor<Scalar>, loss: Loss, random: inout RandomGenerator) -> Tensor<Scalar> {
        switch loss {
        case .crossEntropy:
            return logitGradients(logits, labels: sampleLabels(logits, random: &random), loss: loss)
        case .meanSquaredError:
            let noise = (0..<logits.count).map { _ in Scalar(-2 * random.nextNormal() * 0.5.squareRoot()) }
            return Tensor(shape: logits.shape, scalars: noise)
        }
    }
}

/// One class per row of `logits` `[N, classes]`, drawn from softmax(row).
public func sampleLabels<Scalar: TensorScalar>(_ logits: Tensor<Scalar>, random: inout RandomGenerator) -> [Int] {
    let probabilities = logits.softmax(alongAxis: 1).scalars
    let classes = logits.shape[1]
    return (0..<logits.shape[0]).map { row in
        let u = random.nextUniform()
        var cumulative = 0.0
        for c in 0..<classes {
            cumulative += Double(probabilities[row * classes + c])
            if u < cumulative { return c }
        }
        return classes - 1
    }
}
