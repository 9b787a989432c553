import OccamTensor

/// Vectors of one length kept side by side in one buffer (`[count, dimension]`, row-major), so projections
/// onto all of them are two matrix-vector products (BLAS) instead of a loop of dot products: the
/// orthogonalization of a Lanczos step reads the basis twice, not once per vector.
struct KrylovBasis {
    let dimension: Int
    private(set) var count = 0
    private var storage: [Double] = []

    init(dimension: Int) { self.dimension = dimension }

    mutating func append(_ vector: [Double]) {
        precondition(vector.count == dimension, "KrylovBasis.append: vector of \(vector.count) for dimension \(dimension)")
        storage.append(contentsOf: vector)
        count += 1
    }

    /// Row `index`.
    subscript(index: Int) -> [Double] { Array(storage[index * dimension..<(index + 1) * dimension]) }

    /// Σ_j coefficients[j] row_j: `[dimension]`.
    func combination(_ coefficients: [Double]) -> [Double] {
        precondition(coefficients.count == count, "KrylovBasis.combination: \(coefficients.count) coefficients for \(count) vectors")
        var result = [Double](repeating: 0, count: dimension)
        guard count > 0 else { return result }
        storage.withUnsafeBufferPointer { q in
            coefficients.withUnsafeBufferPointer { c in
                result.withUnsafeMutableBufferPointer { r in
                    Double.gemm(transposeA: true, transposeB: false, m: dimension, n: 1, k: count, alpha: 1,
                                q.baseAddress!, lda: dimension, c.baseAddress!, ldb: 1, beta: 0, r.baseAddress!, ldc: 1)
                }
            }
        }
        return result
    }

    /// The inner products of every row with `vector`: `[count]`.
    func projections(of vector: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: count)
        guard count > 0 else { return result }
        storage.withUnsafeBufferPointer { q in
            vector.withUnsafeBufferPointer { v in
                result.withUnsafeMutableBufferPointer { r in
                    Double.gemm(transposeA: false, transposeB: false, m: count, n: 1, k: dimension, alpha: 1,
                                q.baseAddress!, lda: dimension, v.baseAddress!, ldb: 1, beta: 0, r.baseAddress!, ldc: 1)
                }
            }
        }
        return result
    }

    /// Removes from `w` its components along the rows, which must be orthonormal: classical Gram-Schmidt
    /// twice ("twice is enough" to keep orthogonality at rounding level).
    func orthogonalize(_ w: inout [Double]) {
        guard count > 0 else { return }
        for _ in 0..<2 {
            let c = projections(of: w)
            addScaled(combination(c), -1, to: &w)
        }
    }
}
