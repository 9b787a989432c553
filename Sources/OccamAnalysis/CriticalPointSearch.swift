import OccamTensor

/// Where a critical-point search stopped, and why the point is or is not counted as critical.
public enum CriticalPointKind: String, Codable, Sendable, CaseIterable {
    /// ‖∇f‖ reached the tolerance.
    case critical
    /// The search stopped above the tolerance with most of ‖∇f‖² in directions of curvature too small for it to
    /// resolve (|λ| below √μ of its last damping, or zero to `zeroTolerance`): a
    /// gradient-flat region (Frye et al. 2021), where Newton-type steps on ‖∇f‖² stall. Not a critical point.
    case gradientFlat = "gradient-flat"
    /// The search stopped above the tolerance for another reason (iterations spent, or no step lowered ‖∇f‖).
    case notConverged = "not-converged"
}

/// One iteration of the search.
public struct CriticalPointIteration: Codable, Sendable, Equatable {
    public var iteration: Int
    public var value: Double
    public var gradientNorm: Double
    /// The Levenberg-Marquardt damping μ the accepted step used (relative to the largest λ²); nil at the start.
    public var damping: Double?
}

/// The point a search reached, with its full Hessian spectrum there.
public struct CriticalPointResult: Sendable {
    public var point: [Double]
    public var value: Double
    public var gradientNorm: Double
    public var kind: CriticalPointKind
    /// Ascending eigenvalues of the Hessian at `point`.
    public var eigenvalues: [Double]
    /// The share of ‖∇f‖² in directions whose |λ| is at most `flatThreshold`.
    public var flatGradientShare: Double
    /// The threshold below which |λ| counts as zero: `zeroTolerance` times the largest |λ|.
    public var zeroThreshold: Double
    /// The curvature the search could not resolve: max(`zeroThreshold`, √μ) for the damping μ of its last accepted
    /// step (LM barely moves along directions with λ² ≪ μ). `flatGradientShare` is measured below it.
    public var flatThreshold: Double
    public var iterations: [CriticalPointIteration]
    /// Dense Hessians built (each costs `dimension` Hessian-vector products) and gradients evaluated.
    public var hessians: Int
    public var gradients: Int
}

/// Finds critical points (∇f = 0, of any index) by minimizing ½‖∇f‖² with Levenberg-Marquardt: the
/// Gauss-Newton matrix of ½‖∇f‖² is H², so each step is -(H² + μ I)⁻¹ H g from one dense Hessian and its
/// eigendecomposition. Unlike gradient descent on f, it is attracted to saddles as much as to minima.
///
/// A trial step is accepted when it lowers ‖∇f‖ (μ shrinks 3x), else μ grows 4x and a new trial costs only a
/// gradient. The search ends when ‖∇f‖ ≤ `gradientTolerance`, after `maxIterations` accepted steps, or when
/// μ passes 10¹⁰ times the largest λ² (no step lowers ‖∇f‖).
public struct CriticalPointSearch: Sendable {
    public var gradientTolerance: Double
    public var maxIterations: Int
    /// |λ| ≤ `zeroTolerance` · max|λ| counts as zero curvature (the index and the gradient-flat test).
    public var zeroTolerance: Double
    /// A stopped point is gradient-flat when at least this share of ‖∇f‖² lies in zero-curvature directions.
    public var flatShare: Double

    public init(gradientTolerance: Double, maxIterations: Int, zeroTolerance: Double = 1e-6, flatShare: Double = 0.5) {
        precondition(gradientTolerance > 0 && maxIterations >= 0 && zeroTolerance >= 0, "CriticalPointSearch: invalid settings")
        (self.gradientTolerance, self.maxIterations, self.zeroTolerance, self.flatShare) = (gradientTolerance, maxIterations, zeroTolerance, flatShare)
    }

    /// Searches from `start` `[f.dimension]`.
    /// - Parameter progress: called after each accepted step.
    /// - Throws: `LinearAlgebraError` when an eigendecomposition fails (NaN in the Hessian).
    public func search(
        _ f: some TwiceDifferentiableFunction, from start: [Double], progress: (CriticalPointIteration) -> Void = { _ in }
    ) throws -> CriticalPointResult {
        var x = start
        var (value, g) = f.valueAndGradient(at: x)
        var gradientNorm = norm(g)
        var iterations = [CriticalPointIteration(iteration: 0, value: value, gradientNorm: gradientNorm, damping: nil)]
        var (hessians, gradients) = (0, 1)
        var relativeDamping = 1e-3
        var acceptedDamping = 0.0  // absolute μ of the last accepted step
        var steps: NewtonSteps?  // at x
        var stalled = false
        while gradientNorm > gradientTolerance && iterations.count <= maxIterations && !stalled {
            let current = try NewtonSteps(hessian: f.hessian(at: x), gradient: g)
            hessians += 1
            steps = current
            let scale = max(current.eigenvalues.map { $0 * $0 }.max() ?? 0, 1e-300)
            var accepted = false
            while !accepted {
                let s = current.gradientNormStep(damping: relativeDamping * scale)
                var trial = x
                addScaled(s, 1, to: &trial)
                let (trialValue, trialGradient) = f.valueAndGradient(at: trial)
                gradients += 1
                let trialNorm = norm(trialGradient)
                if trialNorm.isFinite && trialNorm < gradientNorm {
                    (x, value, g, gradientNorm) = (trial, trialValue, trialGradient, trialNorm)
                    acceptedDamping = relativeDamping * scale
                    steps = nil
                    accepted = true
                    let record = CriticalPointIteration(
                        iteration: iterations.count, value: value, gradientNorm: gradientNorm, damping: relativeDamping)
                    iterations.append(record)
                    progress(record)
                    relativeDamping = max(relativeDamping / 3, 1e-15)
                } else {
                    relativeDamping *= 4
                    if relativeDamping > 1e10 {
                        stalled = true
                        break
                    }
                }
            }
        }
        let final: NewtonSteps
        if let steps { final = steps } else {
            final = try NewtonSteps(hessian: f.hessian(at: x), gradient: g)
            hessians += 1
        }
        let threshold = zeroTolerance * (final.eigenvalues.map(abs).max() ?? 0)
        let flatThreshold = max(threshold, acceptedDamping.squareRoot())
        let share = HessianIndex.flatGradientShare(final, threshold: flatThreshold)
        let kind: CriticalPointKind = gradientNorm <= gradientTolerance ? .critical : share >= flatShare ? .gradientFlat : .notConverged
        return CriticalPointResult(
            point: x, value: value, gradientNorm: gradientNorm, kind: kind, eigenvalues: final.eigenvalues,
            flatGradientShare: share, zeroThreshold: threshold, flatThreshold: flatThreshold, iterations: iterations, hessians: hessians, gradients: gradients)
    }
}
