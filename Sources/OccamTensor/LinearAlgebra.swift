/// A LAPACK routine that could not finish, with what went wrong in words.
public enum LinearAlgebraError: Error, CustomStringConvertible, Equatable {
    /// Cholesky: the leading minor of `order` is not positive definite.
    case notPositiveDefinite(order: Int)
    /// An iterative routine (eigensolver, SVD) did not converge; `info` is LAPACK's count.
    case noConvergence(routine: String, info: Int)
    /// LAPACK rejected argument number `argument` (a bug in Occam, or a NaN in the input).
    case illegalArgument(routine: String, argument: Int)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let order):
            return "Cholesky factorization failed: the matrix is not positive definite "
                + "(its leading minor of order \(order) is not positive). Add a small ridge or jitter to the diagonal."
        case .noConvergence(let routine, let info):
            return "\(routine) did not converge (LAPACK info \(info)); the input may contain NaN or Inf."
        case .illegalArgument(let routine, let argument):
            return "\(routine) rejected argument \(argument) (LAPACK info -\(argument)); the input may contain NaN."
        }
    }

    static func check(_ info: Int32, routine: String, onPositive: (Int) -> LinearAlgebraError) throws {
        if info < 0 { throw illegalArgument(routine: routine, argument: Int(-info)) }
        if info > 0 { throw onPositive(Int(info)) }
    }
}

/// The result of a symmetric eigendecomposition A = V diag(values) Vᵀ.
public struct SymmetricEigendecomposition<Scalar: TensorScalar>: Sendable {
    /// Eigenvalues in ascending order: `[n]`.
    public var values: Tensor<Scalar>
    /// Orthonormal eigenvectors as columns: `[n, n]`, column j belongs to values[j].
    public var vectors: Tensor<Scalar>
}

/// The thin singular value decomposition A = U diag(s) Vᵀ of an m x n matrix, r = min(m, n).
public struct SingularValueDecomposition<Scalar: TensorScalar>: Sendable {
    /// `[m, r]`, orthonormal columns.
    public var u: Tensor<Scalar>
    /// `[r]`, descending, non-negative.
    public var singularValues: Tensor<Scalar>
    /// `[r, n]`, orthonormal rows.
    public var vt: Tensor<Scalar>
}

/// The minimum-norm least-squares solution of A x = b and how it was cut off.
public struct LeastSquaresSolution<Scalar: TensorScalar>: Sendable {
    /// `[n]` or `[n, k]`, matching b.
    public var solution: Tensor<Scalar>
    /// The number of singular values kept (above `cutoff * largest`).
    public var rank: Int
    /// The relative cutoff used.
    public var cutoff: Scalar
    /// All singular values of A, descending.
    public var singularValues: Tensor<Scalar>
}

extension Tensor {
    /// The lower Cholesky factor L with A = L Lᵀ of a symmetric positive definite `[n, n]` matrix
    /// (LAPACK potrf; only the lower triangle of A is read).
    /// - Throws: `LinearAlgebraError.notPositiveDefinite` naming the failing minor.
    public func choleskyFactor() throws -> Tensor {
        precondition(rank == 2 && shape[0] == shape[1], "choleskyFactor: shape \(shape) is not square")
        let n = shape[0]
        var factor = self
        let info = factor.withUnsafeMutablePointer { Scalar.potrf(n: n, $0, lda: n) }
        try LinearAlgebraError.check(info, routine: "potrf") { .notPositiveDefinite(order: $0) }
        // Clear the strictly upper triangle, which potrf leaves untouched.
        factor.withUnsafeMutablePointer { l in
            for row in 0..<n { for column in (row + 1)..<Swift.max(row + 1, n) { l[row * n + column] = 0 } }
        }
        return factor
    }

    /// Solves A X = B given A's lower Cholesky factor (this tensor, `[n, n]`); B is `[n]` or `[n, k]`.
    /// Two triangular solves (L Z = B, Lᵀ X = Z) in place on a copy of B; the factor is not copied and only
    /// its lower triangle is read (so the result of `factorCholeskyInPlace` works as it is).
    public func choleskySolve(_ b: Tensor) throws -> Tensor {
        precondition(rank == 2 && shape[0] == shape[1], "choleskySolve: factor shape \(shape) is not square")
        precondition(
            (b.rank == 1 || b.rank == 2) && b.shape[0] == shape[0],
            "choleskySolve: factor \(shape) and right-hand side \(b.shape) do not match")
        let n = shape[0]
        let columns = b.rank == 1 ? 1 : b.shape[1]
        var solution = b
        guard n > 0 && columns > 0 else { return solution }
        withUnsafePointer { l in
            solution.withUnsafeMutablePointer { x in
                Scalar.trsm(left: true, transposeL: false, m: n, n: columns, alpha: 1, l, lda: n, x, ldb: columns)
                Scalar.trsm(left: true, transposeL: true, m: n, n: columns, alpha: 1, l, lda: n, x, ldb: columns)
            }
        }
        return solution
    }

    /// Factors this symmetric positive definite `[n, n]` matrix in place, without a copy: the lower triangle
    /// (with the diagonal) is read and replaced by L with A = L Lᵀ; the strictly upper triangle is neither read
    /// nor written, so it can keep the original matrix. `choleskySolve` takes the result as it is.
    ///
    /// Right-looking blocked Cholesky: per block of `blockSize` columns, potrf on the diagonal block, a
    /// triangular solve for the panel below it and a syrk update of the trailing lower triangle, so that
    /// `progress` can report the fraction of the n³/3 multiply-adds done.
    /// - Throws: `LinearAlgebraError.notPositiveDefinite` naming the failing leading minor; the lower triangle
    ///   is then partly overwritten.
    public mutating func factorCholeskyInPlace(blockSize: Int = 2048, progress: (Double) -> Void = { _ in }) throws {
        precondition(rank == 2 && shape[0] == shape[1], "factorCholeskyInPlace: shape \(shape) is not square")
        precondition(blockSize >= 1, "factorCholeskyInPlace: block size \(blockSize)")
        let n = shape[0]
        try withUnsafeMutablePointer { a in
            var start = 0
            while start < n {
                let width = Swift.min(blockSize, n - start)
                let diagonal = a + start * n + start
                let info = Scalar.potrf(n: width, diagonal, lda: n)
                try LinearAlgebraError.check(info, routine: "potrf") { .notPositiveDefinite(order: start + $0) }
                let below = n - start - width
                if below > 0 {
                    let panel = a + (start + width) * n + start
                    Scalar.trsm(left: false, transposeL: true, m: below, n: width, alpha: 1, diagonal, lda: n, panel, ldb: n)
                    Scalar.syrk(
                        n: below, k: width, alpha: -1, panel, lda: n, beta: 1, panel + width, ldc: n)
                }
                start += width
                let remaining = Double(n - start) / Double(n)
                progress(1 - remaining * remaining * remaining)
            }
        }
    }

    /// Eigenvalues (ascending) and eigenvectors of a symmetric `[n, n]` matrix (LAPACK syevd; the lower
    /// triangle is read).
    /// - Throws: `LinearAlgebraError.noConvergence` when the divide-and-conquer iteration fails.
    public func symmetricEigendecomposition() throws -> SymmetricEigendecomposition<Scalar> {
        precondition(rank == 2 && shape[0] == shape[1], "symmetricEigendecomposition: shape \(shape) is not square")
        let n = shape[0]
        var vectors = self
        var values = Tensor(zeros: [n])
        let info = vectors.withUnsafeMutablePointer { a in
            values.withUnsafeMutablePointer { w in Scalar.syevd(n: n, a, lda: n, w) }
        }
        try LinearAlgebraError.check(info, routine: "syevd") { .noConvergence(routine: "syevd", info: $0) }
        return SymmetricEigendecomposition(values: values, vectors: vectors)
    }

    /// The thin SVD of an `[m, n]` matrix (LAPACK gesdd).
    /// - Throws: `LinearAlgebraError.noConvergence` when the iteration fails.
    public func singularValueDecomposition() throws -> SingularValueDecomposition<Scalar> {
        precondition(rank == 2, "singularValueDecomposition: shape \(shape) is not a matrix")
        let (m, n) = (shape[0], shape[1])
        let r = Swift.min(m, n)
        var a = self
        var s = Tensor(zeros: [r]), u = Tensor(zeros: [m, r]), vt = Tensor(zeros: [r, n])
        if r == 0 { return SingularValueDecomposition(u: u, singularValues: s, vt: vt) }
        let info = a.withUnsafeMutablePointer { pa in
            s.withUnsafeMutablePointer { ps in
                u.withUnsafeMutablePointer { pu in
                    vt.withUnsafeMutablePointer { pv in Scalar.gesdd(m: m, n: n, pa, lda: n, ps, pu, ldu: r, pv, ldvt: n) }
                }
            }
        }
        try LinearAlgebraError.check(info, routine: "gesdd") { .noConvergence(routine: "gesdd", info: $0) }
        return SingularValueDecomposition(u: u, singularValues: s, vt: vt)
    }

    /// NumPy's default relative cutoff for an m x n matrix: max(m, n) times the machine epsilon.
    public static func defaultCutoff(rows: Int, columns: Int) -> Scalar {
        Scalar(Swift.max(rows, columns)) * Scalar.ulpOfOne
    }

    /// The Moore-Penrose pseudo-inverse `[n, m]` of an `[m, n]` matrix: singular values at or below
    /// `cutoff` times the largest are treated as zero.
    public func pseudoInverse(cutoff: Scalar? = nil) throws -> Tensor {
        let svd = try singularValueDecomposition()
        let threshold = (cutoff ?? Tensor.defaultCutoff(rows: shape[0], columns: shape[1])) * (svd.singularValues.scalars.first ?? 0)
        let inverted = Tensor(svd.singularValues.scalars.map { $0 > threshold ? 1 / $0 : 0 })
        // V diag(1/s) Uᵀ
        return Tensor.matmul(svd.vt * inverted.reshaped(to: [-1, 1]), svd.u, transposeA: true, transposeB: true)
    }

    /// The minimum-norm least-squares solution of A x = b for A = self (`[m, n]`), b `[m]` or `[m, k]`,
    /// through the SVD with singular values at or below `cutoff` times the largest treated as zero.
    public func leastSquares(_ b: Tensor, cutoff: Scalar? = nil) throws -> LeastSquaresSolution<Scalar> {
        precondition(rank == 2, "leastSquares: shape \(shape) is not a matrix")
        precondition(
            (b.rank == 1 || b.rank == 2) && b.shape[0] == shape[0],
            "leastSquares: shapes \(shape) and \(b.shape) do not match")
        let relative = cutoff ?? Tensor.defaultCutoff(rows: shape[0], columns: shape[1])
        let svd = try singularValueDecomposition()
        let threshold = relative * (svd.singularValues.scalars.first ?? 0)
        let kept = svd.singularValues.scalars.filter { $0 > threshold }.count
        let inverted = Tensor(svd.singularValues.scalars.map { $0 > threshold ? 1 / $0 : 0 })
        let rhs = b.rank == 1 ? b.reshaped(to: [-1, 1]) : b
        let projected = Tensor.matmul(svd.u, rhs, transposeA: true) * inverted.reshaped(to: [-1, 1])
        var x = Tensor.matmul(svd.vt, projected, transposeA: true)
        if b.rank == 1 { x = x.reshaped(to: [-1]) }
        return LeastSquaresSolution(solution: x, rank: kept, cutoff: relative, singularValues: svd.singularValues)
    }
}
