import OccamTensor

extension Variable {
    /// The matrix product op(a) op(b) (see `Tensor.matmul`): a `[..., m, k]`, b `[..., k, n]` → `[..., m, n]`.
    ///
    /// With C = A'B' (A' = op(A), B' = op(B)): dA' = G B'ᵀ and dB' = A'ᵀ G; transposed operands take the
    /// transpose of those, and a matrix shared across a batch sums its batch of gradients.
    public static func matmul(_ a: Variable, _ b: Variable, transposeA: Bool = false, transposeB: Bool = false)
        -> Variable
    {
        let product = Tensor.matmul(a.value, b.value, transposeA: transposeA, transposeB: transposeB)
        return recording(product, [a, b]) { g, _ in
            var gradientA: Variable?
            var gradientB: Variable?
            if a.requiresGradient {
                let full = transposeA
                    ? matmul(b, g, transposeA: transposeB, transposeB: true)
                    : matmul(g, b, transposeA: false, transposeB: !transposeB)
                gradientA = full.summedOverBatch(to: a.shape)
            }
            if b.requiresGradient {
                let full = transposeB
                    ? matmul(g, a, transposeA: true, transposeB: transposeA)
                    : matmul(a, g, transposeA: !transposeA, transposeB: false)
                gradientB = full.summedOverBatch(to: b.shape)
            }
            return [gradientA, gradientB]
        }
    }

    /// The inner product of two vectors: rank 0.
    public static func dot(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.rank == 1 && a.shape == b.shape, "dot: shapes \(a.shape) and \(b.shape) are not equal vectors")
        return (a * b).sum()
    }

    /// The outer product a bᵀ of two vectors: `[a.count, b.count]`.
    public static func outer(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.rank == 1 && b.rank == 1, "outer: shapes \(a.shape) and \(b.shape) are not both vectors")
        return matmul(a.reshaped(to: [a.count, 1]), b.reshaped(to: [1, b.count]))
    }

    /// A batched gradient of a matrix that was shared across the batch, summed over the batch axes.
    private func summedOverBatch(to target: [Int]) -> Variable {
        guard shape != target else { return self }
        return reshaped(to: [-1] + target).sum(alongAxes: [0])
    }
}
