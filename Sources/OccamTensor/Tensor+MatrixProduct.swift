extension Tensor {
    /// The matrix product op(a) op(b), where op transposes the last two axes when asked (BLAS gemm).
    ///
    /// - a: `[..., m, k]` (or `[..., k, m]` with `transposeA`); b: `[..., k, n]` (or `[..., n, k]`).
    /// - Leading (batch) axes must be equal, or one operand is a plain matrix shared by every batch.
    /// - Returns: `[..., m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false)
        -> Tensor
    {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: shapes \(a.shape) and \(b.shape) need at least 2 axes each")
        let (aRows, aColumns) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bColumns) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let m = transposeA ? aColumns : aRows
        let k = transposeA ? aRows : aColumns
        let kB = transposeB ? bColumns : bRows
        let n = transposeB ? bRows : bColumns
        precondition(
            k == kB,
            "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") have inner extents \(k) and \(kB)")
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        precondition(
            aBatch == bBatch || aBatch.isEmpty || bBatch.isEmpty,
            "matmul: batch axes of \(a.shape) and \(b.shape) differ")
        let batch = aBatch.isEmpty ? bBatch : aBatch
        let batchCount = batch.reduce(1, *)
        let aStep = aBatch.isEmpty ? 0 : aRows * aColumns
        let bStep = bBatch.isEmpty ? 0 : bRows * bColumns
        return a.withUnsafePointer { pa in
            b.withUnsafePointer { pb in
                Tensor(shape: batch + [m, n]) { c, _ in
                    if k == 0 {
                        c.initialize(repeating: 0, count: batchCount * m * n)
                        return
                    }
                    // A shared left matrix against a batch of right matrices is one product per batch;
                    // a shared right matrix against a batch of left matrices is one product in all.
                    if bBatch.isEmpty && !transposeA && batchCount > 1 {
                        gemm(
                            transposeA: false, transposeB: transposeB, m: batchCount * m, n: n, k: k,
                            pa, lda: aColumns, pb, ldb: bColumns, c, ldc: n)
                        return
                    }
                    for i in 0..<batchCount {
                        gemm(
                            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                            pa + i * aStep, lda: aColumns, pb + i * bStep, ldb: bColumns, c + i * m * n, ldc: n)
                    }
                }
            }
        }
    }

    /// C = op(A) op(B) for row-major matrices. Mid-size products (between `BLASThreads.splitThreshold` and
    /// `BLASThreads.multiThreadThreshold` multiply-adds) are always two single-threaded products: on the two halves
    /// of C's rows when it has at least 128 (each half contiguous, close to the half of a weight gradient that
    /// the same core's optimizer update reads next), else on the two halves of its columns when it has at least 64.
    /// They run side by side, one on the calling thread and one on `SpinningWorker`, when a second core is free,
    /// else one after the other. OpenBLAS rounds a product of part of C differently from the whole one, so the split
    /// depends on the shapes alone: the bits do not depend on the machine or its load. Smaller products run on one
    /// thread and larger ones on OpenBLAS's own threads.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Scalar>, lda: Int,
        _ b: UnsafePointer<Scalar>, ldb: Int, _ c: UnsafeMutablePointer<Scalar>, ldc: Int
    ) {
        /// The product's rows in `rows` and columns in `columns`.
        func part(rows: Range<Int> = 0..<m, columns: Range<Int> = 0..<n) {
            Scalar.gemm(
                transposeA: transposeA, transposeB: transposeB, m: rows.count, n: columns.count, k: k, alpha: 1,
                transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda,
                transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound, ldb: ldb, beta: 0,
                c + rows.lowerBound * ldc + columns.lowerBound, ldc: ldc)
        }
        let work = m * n * k
        guard work >= BLASThreads.splitThreshold && work < BLASThreads.multiThreadThreshold && (m >= 128 || n >= 64) else {
            return part()
        }
        BLASThreads.prepare(forMultiplyAdds: 0)
        let allowed = BLASThreads.maximum > 1
        if m >= 128 {
            return onTwoCoresWhenFree({ part(rows: 0..<m / 2) }, { part(rows: m / 2..<m) }, allowed: allowed)
        }
        let left = (n / 2 + 7) & ~7  // a multiple of 8 columns, for the kernels' vector width
        onTwoCoresWhenFree({ part(columns: 0..<left) }, { part(columns: left..<n) }, allowed: allowed)
    }

    /// The inner product of two rank-1 tensors of equal length.
    public static func dot(_ a: Tensor, _ b: Tensor) -> Scalar {
        precondition(a.rank == 1 && a.shape == b.shape, "dot: shapes \(a.shape) and \(b.shape) are not equal vectors")
        return matmul(a.reshaped(to: [1, a.count]), b.reshaped(to: [b.count, 1])).scalar
    }

    /// The outer product a bᵀ of two rank-1 tensors: `[a.count, b.count]`.
    public static func outer(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 1 && b.rank == 1, "outer: shapes \(a.shape) and \(b.shape) are not both vectors")
        return matmul(a.reshaped(to: [a.count, 1]), b.reshaped(to: [1, b.count]))
    }
}
