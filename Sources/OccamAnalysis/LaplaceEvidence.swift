import Foundation

/// The Laplace approximation to the log marginal likelihood (the evidence) of a model with an isotropic
/// Gaussian prior θ ~ N(0, δ⁻¹ I) over P parameters, at a point θ*:
///
///     log p(D) ≈ log p(D | θ*) - ½ Σ_i log(1 + λ_i / δ) - (δ/2) ‖θ*‖²
///
/// with λ_i the eigenvalues of the Hessian (or Gauss-Newton matrix) of the negative log-likelihood
/// -log p(D | θ) = Σ_n -log p(y_n | x_n, θ) at θ* (the *sum* over the data: N times the mean loss's curvature).
///
/// This is the whole Laplace approximation, with no constant left out: expanding the log joint
/// log p(D | θ) + log p(θ) to second order around θ* and integrating the Gaussian gives
/// log p(D | θ*) + log p(θ*) + (P/2) log 2π - ½ log det(H + δ I), and the prior's normalization
/// log p(θ*) = (P/2) log(δ / 2π) - (δ/2) ‖θ*‖² cancels the (P/2) log 2π and turns - ½ log det(H + δ I) into
/// - ½ Σ log((λ_i + δ) / δ). The three parts are the fit `logLikelihood`, the Occam factor `occamFactor`
/// (a direction of curvature λ costs ½ log(1 + λ/δ) nats; one twice as wide, ½ log 2 less) and the prior term
/// `priorTerm`. The expansion assumes θ* is a maximum of the log joint (its gradient, -∇L - δ θ*, zero); at a
/// network trained without weight decay it is not exactly, and the caller should report the gradient.
///
/// Eigenvalues not supplied (a top-k Lanczos run) count as zero: they add nothing to the Occam factor or to
/// γ. Negative eigenvalues (a Hessian away from a minimum) have no Gaussian to integrate; they are clipped
/// to zero and counted in `clippedEigenvalues`.
public struct LaplaceEvidence: Codable, Sendable, Equatable {
    /// log p(D | θ*), in nats.
    public var logLikelihood: Double
    /// δ, the prior's precision.
    public var priorPrecision: Double
    /// ‖θ*‖² over the P coordinates the prior covers.
    public var squaredNorm: Double
    /// P: the coordinates the prior covers.
    public var dimension: Int
    /// How many eigenvalues were supplied (the rest of the P count as zero).
    public var eigenvalueCount: Int
    /// Supplied eigenvalues below zero, counted as zero.
    public var clippedEigenvalues: Int
    /// -½ Σ_i log(1 + λ_i / δ) ≤ 0.
    public var occamFactor: Double
    /// -(δ/2) ‖θ*‖² ≤ 0.
    public var priorTerm: Double
    /// The sum of the three parts: the approximate log p(D), in nats.
    public var logEvidence: Double
    /// MacKay's γ = Σ_i λ_i / (λ_i + δ) = N_eff(H, δ): the number of well-determined directions.
    public var effectiveDimensionality: Double

    /// - Parameters:
    ///   - logLikelihood: log p(D | θ*).
    ///   - eigenvalues: eigenvalues of the negative log-likelihood's curvature, any order, at most `dimension`.
    ///   - squaredNorm: ‖θ*‖².
    ///   - dimension: P.
    ///   - priorPrecision: δ > 0.
    public init(logLikelihood: Double, eigenvalues: [Double], squaredNorm: Double, dimension: Int, priorPrecision: Double) {
        precondition(priorPrecision > 0 && priorPrecision.isFinite, "LaplaceEvidence: prior precision \(priorPrecision)")
        precondition(eigenvalues.count <= dimension, "LaplaceEvidence: \(eigenvalues.count) eigenvalues for dimension \(dimension)")
        (self.logLikelihood, self.priorPrecision, self.squaredNorm, self.dimension) = (logLikelihood, priorPrecision, squaredNorm, dimension)
        eigenvalueCount = eigenvalues.count
        clippedEigenvalues = eigenvalues.filter { $0 < 0 }.count
        occamFactor = Self.contributions(eigenvalues, priorPrecision: priorPrecision).reduce(0, +)
        priorTerm = -0.5 * priorPrecision * squaredNorm
        logEvidence = logLikelihood + occamFactor + priorTerm
        effectiveDimensionality = Self.effectiveDimensionality(eigenvalues, scale: priorPrecision)
    }

    /// Each direction's part of the Occam factor, -½ log(1 + max(λ_i, 0) / δ), in the order given.
    public static func contributions(_ eigenvalues: [Double], priorPrecision delta: Double) -> [Double] {
        eigenvalues.map { -0.5 * log1p(max($0, 0) / delta) }
    }

    /// N_eff(H, z) = Σ_i λ_i / (λ_i + z) (Maddox, Benton & Wilson 2020), negative eigenvalues counted as zero.
    public static func effectiveDimensionality(_ eigenvalues: [Double], scale z: Double) -> Double {
        precondition(z > 0, "effectiveDimensionality: scale \(z)")
        return eigenvalues.reduce(0) { sum, value in
            let lambda = max(value, 0)
            return sum + lambda / (lambda + z)
        }
    }

    /// The prior precision at MacKay's fixed point δ = γ(δ) / ‖θ*‖², γ(δ) = Σ λ_i / (λ_i + δ): the δ at which the
    /// approximate evidence, with θ* and the eigenvalues held fixed, is largest (d log p(D) / dδ =
    /// (γ(δ)/δ - ‖θ*‖²) / 2, which falls from positive to negative as δ grows).
    ///
    /// Solved by bisection on log δ between bounds that bracket the root (γ is at most the number k of positive
    /// eigenvalues, so δ ≤ k / ‖θ*‖²), to a relative accuracy of 1e-13; MacKay's plain iteration
    /// δ ← γ(δ) / ‖θ*‖² reaches the same point when it converges.
    /// - Returns: nil when no eigenvalue is positive or ‖θ*‖² is 0 (there is no finite maximum).
    public static func macKayPrecision(eigenvalues: [Double], squaredNorm: Double) -> Double? {
        let positive = eigenvalues.filter { $0 > 0 }
        guard !positive.isEmpty, squaredNorm > 0, squaredNorm.isFinite else { return nil }
        // f(δ) = γ(δ) - δ ‖θ*‖², strictly decreasing; f > 0 below the root, < 0 above it.
        func f(_ delta: Double) -> Double { effectiveDimensionality(positive, scale: delta) - delta * squaredNorm }
        var high = Double(positive.count) / squaredNorm
        // At the root δ = γ(δ)/s ≥ γ(k/s)/s, since γ decreases and δ ≤ k/s.
        var low = effectiveDimensionality(positive, scale: high) / squaredNorm
        guard f(high) <= 0 else { return high }
        guard f(low) >= 0 else { return low }
        while high / low > 1 + 1e-13 {
            let middle = (low * high).squareRoot()
            if f(middle) > 0 { low = middle } else { high = middle }
        }
        return (low * high).squareRoot()
    }
}
