import COpenBLAS
import Foundation

/// The element types a `Tensor` can hold: `Float` and `Double`.
///
/// Each conformance provides scalar math and bulk kernels. The kernels are written once, generically, in
/// `ElementwiseKernels.swift` and `LinearAlgebraKernels.swift`; the conformances below instantiate them for
/// their concrete type inside this module, so the hot loops are specialized and vectorized, and generic code
/// elsewhere pays one dynamic dispatch per tensor operation, not per element.
public protocol TensorScalar: BinaryFloatingPoint, Codable, Sendable, LosslessStringConvertible
where Self.RawSignificand: FixedWidthInteger {
    /// A short name for output and file metadata: "float32" or "float64".
    static var precisionName: String { get }

    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self

    /// y[i] = op(x[i]) for i in 0..<count.
    static func unaryKernel(
        _ op: UnaryOperation, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, count: Int)

    /// z[i] = op(a[i * aStride], b[i * bStride]) for i in 0..<count; strides are 0 or 1.
    static func binaryKernel(
        _ op: BinaryOperation, _ a: UnsafePointer<Self>, aStride: Int, _ b: UnsafePointer<Self>, bStride: Int,
        _ z: UnsafeMutablePointer<Self>, count: Int)

    /// The sum of `count` contiguous elements.
    static func sumKernel(_ x: UnsafePointer<Self>, count: Int) -> Self

    /// y[i] = x[indices[i]], or 0 where indices[i] < 0, for i in 0..<count.
    static func gatherKernel(_ x: UnsafePointer<Self>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Self>, count: Int)

    /// y[indices[i]] += x[i] for i in 0..<count, skipping indices[i] < 0.
    static func scatterAddKernel(_ x: UnsafePointer<Self>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Self>, count: Int)

    /// y[i] = x[i * stride] for i in 0..<count.
    static func stridedCopyKernel(_ x: UnsafePointer<Self>, stride: Int, _ y: UnsafeMutablePointer<Self>, count: Int)

    /// im2col: writes the `geometry.columnsShape` columns of the `[N, C, H, W]` input x into y (padding entries
    /// are left as they are: zero them first), for the images (indices along N) in `images`.
    static func imageToColumnsKernel(
        _ x: UnsafePointer<Self>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<Self>, images: Range<Int>)

    /// col2im: adds each column entry of x onto the input position of y it came from, for `images`.
    static func columnsToImageKernel(
        _ x: UnsafePointer<Self>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<Self>, images: Range<Int>)

    /// For max pooling: the flat input index of each window's first maximum (NaN wins), in output order, for
    /// the (image, channel) planes in `planes`.
    static func maxPoolingKernel(
        _ x: UnsafePointer<Self>, _ geometry: WindowGeometry, _ result: UnsafeMutablePointer<Int>, planes: Range<Int>)

    /// C = alpha * op(A) * op(B) + beta * C on row-major matrices (cblas_?gemm).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        _ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int, beta: Self,
        _ c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Cholesky factor of a row-major symmetric matrix in place: reads the lower triangle and overwrites it
    /// with L (A = L Lᵀ); the strictly upper triangle is neither read nor written. Returns LAPACK's info.
    ///
    /// A row-major lower triangle is a column-major upper one, so this calls ?potrf column-major with "U" on
    /// the same memory: LAPACKE's row-major path would allocate a transposed copy as large as the matrix.
    static func potrf(n: Int, _ a: UnsafeMutablePointer<Self>, lda: Int) -> Int32
    /// B = alpha op(L)⁻¹ B (left) or B = alpha B op(L)⁻¹ (right) for a row-major lower triangular L
    /// (cblas_?trsm, no copies).
    static func trsm(
        left: Bool, transposeL: Bool, m: Int, n: Int, alpha: Self, _ l: UnsafePointer<Self>, lda: Int,
        _ b: UnsafeMutablePointer<Self>, ldb: Int)
    /// The lower triangle of C = alpha A Aᵀ + beta C for a row-major `[n, k]` A (cblas_?syrk).
    static func syrk(
        n: Int, k: Int, alpha: Self, _ a: UnsafePointer<Self>, lda: Int, beta: Self, _ c: UnsafeMutablePointer<Self>,
        ldc: Int)
    /// LAPACKE_?syevd, row-major, eigenvectors wanted, lower triangle. Returns LAPACK's info.
    static func syevd(n: Int, _ a: UnsafeMutablePointer<Self>, lda: Int, _ w: UnsafeMutablePointer<Self>) -> Int32
    /// LAPACKE_?gesdd, row-major, thin SVD (jobz = "S"). Returns LAPACK's info.
    static func gesdd(
        m: Int, n: Int, _ a: UnsafeMutablePointer<Self>, lda: Int, _ s: UnsafeMutablePointer<Self>,
        _ u: UnsafeMutablePointer<Self>, ldu: Int, _ vt: UnsafeMutablePointer<Self>, ldvt: Int
    ) -> Int32
}

extension Float: TensorScalar {
    public static var precisionName: String { "float32" }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
    @inline(__always) public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.powf(x, y) }
    @inline(__always) public static func sin(_ x: Float) -> Float { Foundation.sinf(x) }
    @inline(__always) public static func cos(_ x: Float) -> Float { Foundation.cosf(x) }

    public static func unaryKernel(
        _ op: UnaryOperation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        inParallelChunks(count) { start, end in
            if op == .exp {
                exponentials(x + start, y + start, count: end - start)
            } else {
                applyUnary(op, x + start, y + start, count: end - start)
            }
        }
    }

    public static func binaryKernel(
        _ op: BinaryOperation, _ a: UnsafePointer<Float>, aStride: Int, _ b: UnsafePointer<Float>, bStride: Int,
        _ z: UnsafeMutablePointer<Float>, count: Int
    ) {
        inParallelChunks(count) { start, end in
            applyBinary(op, a + start * aStride, aStride, b + start * bStride, bStride, z + start, count: end - start)
        }
    }

    public static func sumKernel(_ x: UnsafePointer<Float>, count: Int) -> Float { blockedSum(x, count: count) }

    public static func gatherKernel(_ x: UnsafePointer<Float>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        gatherLoop(x, indices, y, count: count)
    }
    public static func scatterAddKernel(_ x: UnsafePointer<Float>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        scatterAddLoop(x, indices, y, count: count)
    }
    public static func stridedCopyKernel(_ x: UnsafePointer<Float>, stride: Int, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = x[i * stride] }
    }
    public static func imageToColumnsKernel(
        _ x: UnsafePointer<Float>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<Float>, images: Range<Int>
    ) {
        imageToColumnsLoop(x, geometry, y, images: images)
    }
    public static func columnsToImageKernel(
        _ x: UnsafePointer<Float>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<Float>, images: Range<Int>
    ) {
        columnsToImageLoop(x, geometry, y, images: images)
    }
    public static func maxPoolingKernel(
        _ x: UnsafePointer<Float>, _ geometry: WindowGeometry, _ result: UnsafeMutablePointer<Int>, planes: Range<Int>
    ) {
        maxPoolingLoop(x, geometry, result, planes: planes)
    }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float,
        _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLASThreads.prepare(forMultiplyAdds: m * n * k)
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }

    public static func potrf(n: Int, _ a: UnsafeMutablePointer<Float>, lda: Int) -> Int32 {
        BLASThreads.prepare(forMultiplyAdds: n * n * n / 3)
        return LAPACKE_spotrf(LAPACK_COL_MAJOR, lapackChar("U"), lapackInt(n), a, lapackInt(lda))
    }
    public static func trsm(
        left: Bool, transposeL: Bool, m: Int, n: Int, alpha: Float, _ l: UnsafePointer<Float>, lda: Int,
        _ b: UnsafeMutablePointer<Float>, ldb: Int
    ) {
        BLASThreads.prepare(forMultiplyAdds: m * n * (left ? m : n))
        cblas_strsm(
            CblasRowMajor, left ? CblasLeft : CblasRight, CblasLower, transposeL ? CblasTrans : CblasNoTrans,
            CblasNonUnit, blasInt(m), blasInt(n), alpha, l, blasInt(lda), b, blasInt(ldb))
    }
    public static func syrk(
        n: Int, k: Int, alpha: Float, _ a: UnsafePointer<Float>, lda: Int, beta: Float, _ c: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        BLASThreads.prepare(forMultiplyAdds: n * n * k)
        cblas_ssyrk(
            CblasRowMajor, CblasLower, CblasNoTrans, blasInt(n), blasInt(k), alpha, a, blasInt(lda), beta, c,
            blasInt(ldc))
    }
    public static func syevd(n: Int, _ a: UnsafeMutablePointer<Float>, lda: Int, _ w: UnsafeMutablePointer<Float>)
        -> Int32
    {
        BLASThreads.prepare(forMultiplyAdds: n * n * n)
        return LAPACKE_ssyevd(LAPACK_ROW_MAJOR, lapackChar("V"), lapackChar("L"), lapackInt(n), a, lapackInt(lda), w)
    }
    public static func gesdd(
        m: Int, n: Int, _ a: UnsafeMutablePointer<Float>, lda: Int, _ s: UnsafeMutablePointer<Float>,
        _ u: UnsafeMutablePointer<Float>, ldu: Int, _ vt: UnsafeMutablePointer<Float>, ldvt: Int
    ) -> Int32 {
        BLASThreads.prepare(forMultiplyAdds: m * n * min(m, n))
        return LAPACKE_sgesdd(
            LAPACK_ROW_MAJOR, lapackChar("S"), lapackInt(m), lapackInt(n), a, lapackInt(lda), s, u, lapackInt(ldu),
            vt, lapackInt(ldvt))
    }
}

extension Double: TensorScalar {
    public static var precisionName: String { "float64" }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    @inline(__always) public static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    @inline(__always) public static func cos(_ x: Double) -> Double { Foundation.cos(x) }

    public static func unaryKernel(
        _ op: UnaryOperation, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, count: Int
    ) {
        inParallelChunks(count) { start, end in applyUnary(op, x + start, y + start, count: end - start) }
    }

    public static func binaryKernel(
        _ op: BinaryOperation, _ a: UnsafePointer<Double>, aStride: Int, _ b: UnsafePointer<Double>,
        bStride: Int, _ z: UnsafeMutablePointer<Double>, count: Int
    ) {
        inParallelChunks(count) { start, end in
            applyBinary(op, a + start * aStride, aStride, b + start * bStride, bStride, z + start, count: end - start)
        }
    }

    public static func sumKernel(_ x: UnsafePointer<Double>, count: Int) -> Double { blockedSum(x, count: count) }

    public static func gatherKernel(_ x: UnsafePointer<Double>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        gatherLoop(x, indices, y, count: count)
    }
    public static func scatterAddKernel(_ x: UnsafePointer<Double>, _ indices: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Double>, count: Int) {
        scatterAddLoop(x, indices, y, count: count)
    }
    public static func stridedCopyKernel(_ x: UnsafePointer<Double>, stride: Int, _ y: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { y[i] = x[i * stride] }
    }
    public static func imageToColumnsKernel(
        _ x: UnsafePointer<Double>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<Double>, images: Range<Int>
    ) {
        imageToColumnsLoop(x, geometry, y, images: images)
    }
    public static func columnsToImageKernel(
        _ x: UnsafePointer<Double>, _ geometry: WindowGeometry, _ y: UnsafeMutablePointer<Double>, images: Range<Int>
    ) {
        columnsToImageLoop(x, geometry, y, images: images)
    }
    public static func maxPoolingKernel(
        _ x: UnsafePointer<Double>, _ geometry: WindowGeometry, _ result: UnsafeMutablePointer<Int>, planes: Range<Int>
    ) {
        maxPoolingLoop(x, geometry, result, planes: planes)
    }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int, beta: Double,
        _ c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLASThreads.prepare(forMultiplyAdds: m * n * k)
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }

    public static func potrf(n: Int, _ a: UnsafeMutablePointer<Double>, lda: Int) -> Int32 {
        BLASThreads.prepare(forMultiplyAdds: n * n * n / 3)
        return LAPACKE_dpotrf(LAPACK_COL_MAJOR, lapackChar("U"), lapackInt(n), a, lapackInt(lda))
    }
    public static func trsm(
        left: Bool, transposeL: Bool, m: Int, n: Int, alpha: Double, _ l: UnsafePointer<Double>, lda: Int,
        _ b: UnsafeMutablePointer<Double>, ldb: Int
    ) {
        BLASThreads.prepare(forMultiplyAdds: m * n * (left ? m : n))
        cblas_dtrsm(
            CblasRowMajor, left ? CblasLeft : CblasRight, CblasLower, transposeL ? CblasTrans : CblasNoTrans,
            CblasNonUnit, blasInt(m), blasInt(n), alpha, l, blasInt(lda), b, blasInt(ldb))
    }
    public static func syrk(
        n: Int, k: Int, alpha: Double, _ a: UnsafePointer<Double>, lda: Int, beta: Double, _ c: UnsafeMutablePointer<Double>,
        ldc: Int
    ) {
        BLASThreads.prepare(forMultiplyAdds: n * n * k)
        cblas_dsyrk(
            CblasRowMajor, CblasLower, CblasNoTrans, blasInt(n), blasInt(k), alpha, a, blasInt(lda), beta, c,
            blasInt(ldc))
    }
    public static func syevd(
        n: Int, _ a: UnsafeMutablePointer<Double>, lda: Int, _ w: UnsafeMutablePointer<Double>
    ) -> Int32 {
        BLASThreads.prepare(forMultiplyAdds: n * n * n)
        return LAPACKE_dsyevd(LAPACK_ROW_MAJOR, lapackChar("V"), lapackChar("L"), lapackInt(n), a, lapackInt(lda), w)
    }
    public static func gesdd(
        m: Int, n: Int, _ a: UnsafeMutablePointer<Double>, lda: Int, _ s: UnsafeMutablePointer<Double>,
        _ u: UnsafeMutablePointer<Double>, ldu: Int, _ vt: UnsafeMutablePointer<Double>, ldvt: Int
    ) -> Int32 {
        BLASThreads.prepare(forMultiplyAdds: m * n * min(m, n))
        return LAPACKE_dgesdd(
            LAPACK_ROW_MAJOR, lapackChar("S"), lapackInt(m), lapackInt(n), a, lapackInt(lda), s, u, lapackInt(ldu),
            vt, lapackInt(ldvt))
    }
}

@inline(__always) func blasInt(_ value: Int) -> Int32 { Int32(value) }
@inline(__always) func lapackInt(_ value: Int) -> Int32 { Int32(value) }
@inline(__always) func lapackChar(_ character: Unicode.Scalar) -> CChar { CChar(character.value) }
