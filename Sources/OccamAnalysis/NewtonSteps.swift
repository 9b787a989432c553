import OccamTensor

/// Second-order steps from the eigendecomposition H = V diag(λ) Vᵀ of a symmetric Hessian `[n, n]` and a
/// gradient g `[n]`: each is V diag(c(λ)) Vᵀ g for a scalar function c of the curvature, so one
/// eigendecomposition (LAPACK syevd) gives them all.
public struct NewtonSteps: Sendable {
    /// Ascending eigenvalues `[n]`.
    public let eigenvalues: [Double]
    /// Eigenvectors as columns, `[n, n]`.
    public let eigenvectors: Tensor<Double>
    /// Vᵀ g: the gradient's coordinates in the eigenbasis `[n]`.
    public let gradientCoordinates: [Double]

    /// - Throws: `LinearAlgebraError` when the eigendecomposition fails (NaN in H).
    public init(hessian: Tensor<Double>, gradient: [Double]) throws {
        precondition(hessian.rank == 2 && hessian.shape == [gradient.count, gradient.count],
                     "NewtonSteps: Hessian \(hessian.shape) for a gradient of \(gradient.count)")
        let decomposition = try hessian.symmetricEigendecomposition()
        eigenvalues = decomposition.values.scalars
        eigenvectors = decomposition.vectors
        gradientCoordinates = Tensor.matmul(decomposition.vectors, Tensor(shape: [gradient.count, 1], scalars: gradient), transposeA: true).scalars
    }

    /// V diag(c(λ_i)) Vᵀ g `[n]`.
    public func step(_ coefficient: (Double) -> Double) -> [Double] {
        let n = eigenvalues.count
        let scaled = (0..<n).map { coefficient(eigenvalues[$0]) * gradientCoordinates[$0] }
        return Tensor.matmul(eigenvectors, Tensor(shape: [n, 1], scalars: scaled)).scalars
    }

    /// Saddle-free Newton (Dauphin et al. 2014): -(|H| + λ I)⁻¹ g, |H| = V diag(|λ_i|) Vᵀ. Moves downhill along
    /// directions of negative curvature instead of towards the saddle.
    public func saddleFreeNewton(damping: Double) -> [Double] {
        precondition(damping >= 0, "saddleFreeNewton: negative damping \(damping)")
        return step { λ in
            let denominator = abs(λ) + damping
            return denominator > 0 ? -1 / denominator : 0
        }
    }

    /// Damped Newton: -H (H² + λ² I)⁻¹ g, the Tikhonov-damped -H⁻¹ g: equal to it where |λ_i| ≫ λ, bounded where
    /// the curvature vanishes, and with the sign of H, so that along negative curvature it moves up (a root
    /// finder for ∇f = 0: attracted to saddles).
    public func dampedNewton(damping: Double) -> [Double] {
        precondition(damping >= 0, "dampedNewton: negative damping \(damping)")
        return step { λ in
            let denominator = λ * λ + damping * damping
            return denominator > 0 ? -λ / denominator : 0
        }
    }

    /// Levenberg-Marquardt on ½‖∇f‖²: its Gauss-Newton matrix is HᵀH = H², so the step is -(H² + μ I)⁻¹ H g.
    public func gradientNormStep(damping μ: Double) -> [Double] {
        precondition(μ >= 0, "gradientNormStep: negative damping \(μ)")
        return step { λ in
            let denominator = λ * λ + μ
            return denominator > 0 ? -λ / denominator : 0
        }
    }

    /// The predicted ‖∇f(x + s)‖² of the linear model ∇f(x + s) ≈ g + H s for a step s = V diag(c) Vᵀ g.
    public func predictedGradientNormSquared(_ coefficient: (Double) -> Double) -> Double {
        zip(eigenvalues, gradientCoordinates).reduce(0) { total, pair in
            let r = (1 + pair.0 * coefficient(pair.0)) * pair.1
            return total + r * r
        }
    }
}

/// How the spectrum of a Hessian reads at a point: its index and the eigenvalues that count as zero.
public struct HessianIndex: Codable, Sendable, Equatable {
    /// The fraction of eigenvalues below -`threshold`: the index α of Dauphin et al.
    public var index: Double
    public var negative: Int
    public var positive: Int
    /// Eigenvalues within ±`threshold`: zero to the stated precision.
    public var zero: Int
    public var threshold: Double

    /// Counts `eigenvalues` against ±`threshold`.
    public init(eigenvalues: [Double], threshold: Double) {
        precondition(!eigenvalues.isEmpty, "HessianIndex: no eigenvalues")
        precondition(threshold >= 0, "HessianIndex: negative threshold \(threshold)")
        negative = eigenvalues.filter { $0 < -threshold }.count
        positive = eigenvalues.filter { $0 > threshold }.count
        zero = eigenvalues.count - negative - positive
        index = Double(negative) / Double(eigenvalues.count)
        self.threshold = threshold
    }

    /// The share of ‖g‖² in the eigendirections counted as zero curvature (|λ| ≤ `threshold`): near 1 in a
    /// gradient-flat region, where the gradient lies in the Hessian's (near) kernel and Newton-type steps stall.
    public static func flatGradientShare(_ steps: NewtonSteps, threshold: Double) -> Double {
        let total = steps.gradientCoordinates.reduce(0) { $0 + $1 * $1 }
        guard total > 0 else { return 0 }
        let flat = zip(steps.eigenvalues, steps.gradientCoordinates).filter { abs($0.0) <= threshold }.reduce(0) { $0 + $1.1 * $1.1 }
        return flat / total
    }
}
