import OccamTensor

/// Eigenpairs at both ends of a symmetric operator's spectrum, from Lanczos with full re-orthogonalization.
public struct ExtremeEigenpairs: Sendable {
    /// One Ritz pair: the eigenvalue estimate, its unit eigenvector `[dimension]`, and the residual norm
    /// ‖A x - θ x‖ (computed, or Lanczos's own estimate |β_m y_m|, equal to it in exact arithmetic).
    public struct Pair: Sendable {
        public var value: Double
        public var vector: [Double]
        public var residual: Double
    }

    /// The largest eigenvalues, descending.
    public var largest: [Pair]
    /// The smallest (most negative) eigenvalues, ascending.
    public var smallest: [Pair]
    /// Lanczos steps taken (one operator product each).
    public var iterations: Int
    /// Whether every wanted pair met the tolerance (or the Krylov space became invariant: exact). A space
    /// smaller than the pairs asked for (an operator of low rank, or few steps allowed) returns fewer pairs.
    public var converged: Bool
}

/// Lanczos iteration with full re-orthogonalization (without it, lost orthogonality makes copies of
/// converged eigenvalues: "ghosts").
public enum Lanczos {
    /// The `largest` largest and `smallest` smallest eigenpairs of `op`.
    ///
    /// With `verifyResiduals`, each returned pair's residual is ‖A x - θ x‖ with A x = Σ y_j A q_j from the stored
    /// products (no new product; Lanczos's own estimate falls far below rounding level once a pair has
    /// converged). Memory: two stored vectors per step.
    ///
    /// Iterates until each wanted Ritz pair's residual is at most `tolerance` times the largest |Ritz value|
    /// (checked every few steps), the Krylov space is invariant, or `maxIterations` steps (at most the
    /// dimension) are taken.
    /// - Parameters:
    ///   - seed: draws the starting vector.
    ///   - progress: called after each step with (steps, the largest residual among the wanted pairs relative
    ///     to the largest |Ritz value|, or nil between checks).
    /// - Throws: `LinearAlgebraError` if LAPACK fails on the tridiagonal matrix.
    public static func extremeEigenpairs(
        of op: some SymmetricOperator, largest: Int, smallest: Int = 0, tolerance: Double = 1e-6,
        maxIterations: Int? = nil, seed: UInt64 = 0, verifyResiduals: Bool = false, progress: (Int, Double?) -> Void = { _, _ in }
    ) throws -> ExtremeEigenpairs {
        let n = op.dimension
        precondition(largest >= 0 && smallest >= 0 && largest + smallest >= 1, "Lanczos: asked for \(largest) + \(smallest) eigenpairs")
        let wanted = min(largest + smallest, n)
        let limit = min(n, maxIterations ?? max(300, 4 * wanted))
        var random = RandomGenerator(seed: seed).stream("lanczos start")
        var q = (0..<n).map { _ in random.nextNormal() }
        q = scaled(q, by: 1 / norm(q))

        var basis = KrylovBasis(dimension: n)
        // A q_j for every basis vector: Ritz vectors' products (and so their true residuals) without new products.
        var products = KrylovBasis(dimension: n)
        var alphas: [Double] = [], betas: [Double] = []
        var result: (values: [Double], vectors: Tensor<Double>, residuals: [Double])?
        var converged = false
        // ‖A x - θ x‖ of Ritz pair `index` of `ritz`, from the stored products.
        func trueResidual(_ index: Int, of ritz: (values: [Double], vectors: Tensor<Double>, residuals: [Double])) -> Double {
            let coefficients = (0..<basis.count).map { ritz.vectors[$0, index] }
            var difference = products.combination(coefficients)
            addScaled(basis.combination(coefficients), -ritz.values[index], to: &difference)
            return norm(difference)
        }
        while basis.count < limit {
            basis.append(q)
            var w = op.apply(q)
            products.append(w)
            let alpha = dot(q, w)
            alphas.append(alpha)
            basis.orthogonalize(&w)
            let beta = norm(w)
            let steps = basis.count
            let invariant = beta <= 1e-12 * max(alphas.map(abs).max() ?? 0, betas.max() ?? 0, 1e-300)
            // Check at the end (an invariant space or the step limit: always, so there are pairs to return), and
            // every 5 steps once there are enough.
            if invariant || steps == limit || (steps >= wanted && (steps % 5 == 0 || steps == wanted)) {
                var ritz = try ritzPairs(alphas: alphas, betas: betas, lastBeta: invariant ? 0 : beta)
                let scale = max(ritz.values.map(abs).max() ?? 0, 1e-300)
                let chosen = wantedIndices(count: steps, largest: largest, smallest: smallest)
                var worst = chosen.map { ritz.residuals[$0] }.max() ?? 0
                // Lanczos's estimate falls below rounding level; decide on the true residuals once it passes.
                if verifyResiduals && (worst <= tolerance * scale || invariant || steps == limit) {
                    for index in chosen { ritz.residuals[index] = trueResidual(index, of: ritz) }
                    worst = chosen.map { ritz.residuals[$0] }.max() ?? 0
                }
                result = ritz
                progress(steps, worst / scale)
                if invariant || worst <= tolerance * scale {
                    converged = true
                    break
                }
            } else {
                progress(steps, nil)
            }
            if invariant { break }
            betas.append(beta)
            q = scaled(w, by: 1 / beta)
        }
        guard let result else { preconditionFailure("Lanczos: the last step always computes Ritz pairs") }
        let steps = basis.count
        func pair(_ index: Int) -> ExtremeEigenpairs.Pair {
            let coefficients = (0..<steps).map { result.vectors[$0, index] }
            let vector = basis.combination(coefficients)
            let residual = verifyResiduals ? trueResidual(index, of: result) : result.residuals[index]
            return ExtremeEigenpairs.Pair(value: result.values[index], vector: vector, residual: residual)
        }
        // Ritz values ascend; in a space smaller than largest + smallest the two ends share pairs.
        let top = (0..<min(largest, steps)).map { steps - 1 - $0 }
        let bottom = Array(0..<min(smallest, steps))
        return ExtremeEigenpairs(
            largest: top.map(pair), smallest: bottom.map(pair), iterations: steps, converged: converged)
    }

    /// Indices (into ascending Ritz values) of the wanted pairs.
    private static func wantedIndices(count: Int, largest: Int, smallest: Int) -> [Int] {
        Array(Set((0..<min(smallest, count)).map { $0 } + (0..<min(largest, count)).map { count - 1 - $0 }))
    }

    /// The eigendecomposition of the tridiagonal matrix T (diagonal `alphas`, off-diagonal `betas`), with
    /// each Ritz pair's residual |lastBeta · y_last|. Values ascend; `vectors[j, i]` is component j of pair i.
    static func ritzPairs(alphas: [Double], betas: [Double], lastBeta: Double) throws
        -> (values: [Double], vectors: Tensor<Double>, residuals: [Double])
    {
        let m = alphas.count
        var t = Tensor<Double>(zeros: [m, m])
        for i in 0..<m {
            t[i, i] = alphas[i]
            if i + 1 < m {
                t[i, i + 1] = betas[i]
                t[i + 1, i] = betas[i]
            }
        }
        let decomposition = try t.symmetricEigendecomposition()
        let values = decomposition.values.scalars
        let residuals = (0..<m).map { abs(lastBeta * decomposition.vectors[m - 1, $0]) }
        return (values, decomposition.vectors, residuals)
    }
}
