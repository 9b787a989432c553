import OccamTensor

/// A symmetric linear map on flat vectors `[dimension]`: a Hessian, a Gauss-Newton matrix, a Fisher, or a
/// dense matrix. The algorithms (Lanczos, Hutchinson, stochastic Lanczos quadrature, dense
/// materialization) take any of them.
public protocol SymmetricOperator {
    /// The length of the vectors it maps.
    var dimension: Int { get }
    /// A v for `v` of length `dimension`.
    func apply(_ v: [Double]) -> [Double]
}

/// A symmetric matrix held densely, `[n, n]` row-major: the ground truth in tests, and the operator behind
/// `--dense` after materialization.
public struct DenseSymmetricOperator: SymmetricOperator, Sendable {
    public let matrix: Tensor<Double>
    public var dimension: Int { matrix.shape[0] }

    public init(_ matrix: Tensor<Double>) {
        precondition(matrix.rank == 2 && matrix.shape[0] == matrix.shape[1], "DenseSymmetricOperator: shape \(matrix.shape) is not square")
        self.matrix = matrix
    }

    public func apply(_ v: [Double]) -> [Double] {
        precondition(v.count == dimension, "DenseSymmetricOperator.apply: vector of \(v.count) for dimension \(dimension)")
        return Tensor.matmul(matrix, Tensor(shape: [dimension, 1], scalars: v)).scalars
    }
}

/// Counts the products an operator computes and reports each one: the progress line's "matvecs done".
public final class CountingOperator<Base: SymmetricOperator>: SymmetricOperator {
    public let base: Base
    public private(set) var count = 0
    private let onProduct: (Int) -> Void

    public init(_ base: Base, onProduct: @escaping (Int) -> Void = { _ in }) {
        (self.base, self.onProduct) = (base, onProduct)
    }

    public var dimension: Int { base.dimension }

    public func apply(_ v: [Double]) -> [Double] {
        let result = base.apply(v)
        count += 1
        onProduct(count)
        return result
    }
}

/// Builds the dense matrix of `operator` column by column from products with the unit vectors, then
/// symmetrizes it ((A + Aᵀ) / 2, removing rounding asymmetry). `[n, n]`, n = `operator.dimension`.
public func denseMatrix(of op: some SymmetricOperator) -> Tensor<Double> {
    let n = op.dimension
    var columns = [Double](repeating: 0, count: n * n)
    var unit = [Double](repeating: 0, count: n)
    for j in 0..<n {
        unit[j] = 1
        let column = op.apply(unit)
        unit[j] = 0
        for i in 0..<n { columns[j * n + i] = column[i] }  // stored transposed: row j is column j
    }
    var symmetric = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n { symmetric[i * n + j] = 0.5 * (columns[i * n + j] + columns[j * n + i]) }
    }
    return Tensor(shape: [n, n], scalars: symmetric)
}
