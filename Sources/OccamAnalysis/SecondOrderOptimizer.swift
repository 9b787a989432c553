import OccamTensor

/// Which curvature a second-order step divides by.
public enum SecondOrderMethod: String, Codable, Sendable, CaseIterable {
    /// -H (H² + λ² I)⁻¹ g: Newton's step, damped where the curvature vanishes; attracted to saddles.
    case dampedNewton = "newton"
    /// -(|H| + λ I)⁻¹ g (Dauphin et al. 2014): repelled by saddles.
    case saddleFreeNewton = "saddle-free-newton"
}

/// One step of a `SecondOrderOptimizer`: where it started and what it saw there.
public struct SecondOrderStep: Sendable {
    /// The point after the step.
    public var point: [Double]
    /// f and ‖∇f‖ before the step.
    public var value: Double
    public var gradientNorm: Double
    /// The smallest eigenvalue of the Hessian before the step (exact for the dense Hessian; the smallest Ritz
    /// value of the Krylov subspace otherwise, an upper bound on it).
    public var smallestEigenvalue: Double
    public var largestEigenvalue: Double
    /// The step's length before the cap, and whether the cap shortened it.
    public var stepNorm: Double
    public var capped: Bool
}

/// Damped Newton or saddle-free Newton on a `TwiceDifferentiableFunction`, with the exact Hessian (dense
/// eigendecomposition) or, with `krylovDimension` k, in the Krylov subspace span{g, Hg, ..., H^(k-1) g} built by
/// Lanczos (k Hessian-vector products), as Dauphin et al. do for larger models: H ≈ Q T Qᵀ, T = Y Θ Yᵀ, and the
/// step is Q Y c(Θ) Yᵀ Qᵀ g.
///
/// Steps are taken whole (no line search: the methods differ in their curvature alone), shortened to
/// `maxStepNorm` when longer.
public struct SecondOrderOptimizer: Sendable {
    public var method: SecondOrderMethod
    /// λ, in the units of the eigenvalues.
    public var damping: Double
    public var maxStepNorm: Double
    /// nil: the exact dense Hessian; k: a k-dimensional Krylov subspace.
    public var krylovDimension: Int?

    public init(method: SecondOrderMethod, damping: Double, maxStepNorm: Double = .infinity, krylovDimension: Int? = nil) {
        precondition(damping >= 0 && maxStepNorm > 0 && (krylovDimension ?? 1) >= 1, "SecondOrderOptimizer: invalid settings")
        (self.method, self.damping, self.maxStepNorm, self.krylovDimension) = (method, damping, maxStepNorm, krylovDimension)
    }

    /// The scalar c(λ) of the step V diag(c) Vᵀ g.
    func coefficient(_ λ: Double) -> Double {
        switch method {
        case .saddleFreeNewton:
            let denominator = abs(λ) + damping
            return denominator > 0 ? -1 / denominator : 0
        case .dampedNewton:
            let denominator = λ * λ + damping * damping
            return denominator > 0 ? -λ / denominator : 0
        }
    }

    /// One step from x.
    /// - Throws: `LinearAlgebraError` when an eigendecomposition fails.
    public func step(_ f: some TwiceDifferentiableFunction, at x: [Double]) throws -> SecondOrderStep {
        let (value, g) = f.valueAndGradient(at: x)
        var s: [Double]
        let (smallest, largest): (Double, Double)
        if let k = krylovDimension {
            (s, smallest, largest) = try krylovStep(f.hessianOperator(at: x), gradient: g, dimension: k)
        } else {
            let steps = try NewtonSteps(hessian: f.hessian(at: x), gradient: g)
            s = steps.step(coefficient)
            (smallest, largest) = (steps.eigenvalues.first ?? 0, steps.eigenvalues.last ?? 0)
        }
        let length = norm(s)
        let capped = length > maxStepNorm
        if capped { s = scaled(s, by: maxStepNorm / length) }
        var next = x
        addScaled(s, 1, to: &next)
        return SecondOrderStep(
            point: next, value: value, gradientNorm: norm(g), smallestEigenvalue: smallest, largestEigenvalue: largest,
            stepNorm: length, capped: capped)
    }

    /// The step in the Krylov subspace of g: Lanczos from q₁ = g/‖g‖ with full re-orthogonalization.
    func krylovStep(_ op: some SymmetricOperator, gradient g: [Double], dimension k: Int) throws
        -> (step: [Double], smallest: Double, largest: Double)
    {
        let gradientNorm = norm(g)
        guard gradientNorm > 0 else { return ([Double](repeating: 0, count: g.count), 0, 0) }
        var basis = KrylovBasis(dimension: g.count)
        var alphas: [Double] = [], betas: [Double] = []
        var q = scaled(g, by: 1 / gradientNorm)
        while basis.count < min(k, g.count) {
            basis.append(q)
            var w = op.apply(q)
            alphas.append(dot(q, w))
            basis.orthogonalize(&w)
            let beta = norm(w)
            if beta <= 1e-12 * max(alphas.map(abs).max() ?? 0, 1e-300) || basis.count == min(k, g.count) { break }
            betas.append(beta)
            q = scaled(w, by: 1 / beta)
        }
        let (values, vectors, _) = try Lanczos.ritzPairs(alphas: alphas, betas: betas, lastBeta: 0)
        let m = alphas.count
        // Qᵀ g = ‖g‖ e₁, so Yᵀ Qᵀ g = ‖g‖ (row 0 of Y).
        var coefficients = [Double](repeating: 0, count: m)
        for i in 0..<m {
            let weight = coefficient(values[i]) * gradientNorm * vectors[0, i]
            for j in 0..<m { coefficients[j] += vectors[j, i] * weight }
        }
        return (basis.combination(coefficients), values.first ?? 0, values.last ?? 0)
    }
}
