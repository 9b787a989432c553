import Foundation
import OccamTensor

/// A kernel k(x, y) on feature vectors, evaluated a block of rows at a time through one GEMM.
///
/// With σ the bandwidth:
/// - gaussian: exp(-‖x - y‖² / (2σ²))
/// - laplacian: exp(-‖x - y‖ / σ)
/// - polynomial: (1 + x·y / σ²)^degree
/// - linear: x·y (rank at most the feature count, so it cannot interpolate more points than that)
public struct KernelFunction: Codable, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable, CaseIterable { case gaussian, laplacian, polynomial, linear }

    public var kind: Kind
    public var bandwidth: Double
    /// The exponent of `polynomial` (ignored by the others).
    public var degree: Int

    public init(kind: Kind, bandwidth: Double = 5, degree: Int = 2) {
        (self.kind, self.bandwidth, self.degree) = (kind, bandwidth, degree)
    }

    public var description: String {
        switch kind {
        case .gaussian: return "Gaussian kernel exp(-‖x-y‖²/(2·\(bandwidth)²))"
        case .laplacian: return "Laplacian kernel exp(-‖x-y‖/\(bandwidth))"
        case .polynomial: return "polynomial kernel (1 + x·y/\(bandwidth)²)^\(degree)"
        case .linear: return "linear kernel x·y"
        }
    }
}

/// Evaluates `function` between any rows and a fixed set of `points` (`[n, d]`), writing rows of the
/// kernel matrix straight into caller memory.
struct KernelRows<Scalar: TensorScalar> {
    let function: KernelFunction
    /// `[n, d]`.
    let points: Tensor<Scalar>
    /// ‖points_j‖², `[n]`.
    let pointNorms: Tensor<Scalar>

    /// Subtracted from every input of a distance kernel: distances do not change, and ‖x‖² + ‖y‖² - 2 x·y
    /// loses fewer digits to cancellation near the origin. `[1, d]`, or nil for the dot-product kernels.
    let center: Tensor<Scalar>?

    init(_ function: KernelFunction, points: Tensor<Scalar>) {
        precondition(points.rank == 2, "KernelRows: points \(points.shape) are not [n, d]")
        self.function = function
        switch function.kind {
        case .gaussian, .laplacian:
            let center = points.sum(alongAxes: [0], keepingDimensions: true) * Scalar(1 / Double(max(points.shape[0], 1)))
            self.center = center
            self.points = points - center
        case .polynomial, .linear:
            self.center = nil
            self.points = points
        }
        self.pointNorms = (self.points * self.points).sum(alongAxes: [1])
    }

    var count: Int { points.shape[0] }

    /// k(inputs_i, points_j) for every row i of `inputs` (`[m, d]`) into `output[i * stride + j]`.
    func write(_ inputs: Tensor<Scalar>, into output: UnsafeMutablePointer<Scalar>, stride: Int) {
        writeCentered(center.map { inputs - $0 } ?? inputs, into: output, stride: stride)
    }

    /// k(points_i, points_j) for i in `range` into `output[(i - range.lowerBound) * stride + j]`.
    func writePoints(_ range: Range<Int>, into output: UnsafeMutablePointer<Scalar>, stride: Int) {
        writeCentered(points.slice(range, alongAxis: 0), into: output, stride: stride)
    }

    private func writeCentered(_ inputs: Tensor<Scalar>, into output: UnsafeMutablePointer<Scalar>, stride: Int) {
        let (m, n, d) = (inputs.shape[0], count, points.shape[1])
        precondition(inputs.rank == 2 && inputs.shape[1] == d, "KernelRows: inputs \(inputs.shape), points \(points.shape)")
        let inputNorms = (inputs * inputs).sum(alongAxes: [1]).scalars
        let sigma = Scalar(function.bandwidth)
        // The GEMM's scale, chosen so that the rest of each row's transform is as few passes as possible.
        let alpha: Scalar
        switch function.kind {
        case .gaussian: alpha = 1 / (sigma * sigma)  // x·y/σ², then minus (‖x‖² + ‖y‖²)/(2σ²)
        case .laplacian: alpha = -2  // ‖x‖² + ‖y‖² - 2 x·y
        case .polynomial: alpha = 1 / (sigma * sigma)
        case .linear: alpha = 1
        }
        inputs.withUnsafePointer { x in
            points.withUnsafePointer { y in
                Scalar.gemm(
                    transposeA: false, transposeB: true, m: m, n: n, k: d, alpha: alpha, x, lda: d, y, ldb: d, beta: 0,
                    output, ldc: stride)
            }
        }
        if function.kind == .linear { return }
        let halfScaledNorms = function.kind == .gaussian ? pointNorms * (1 / (2 * sigma * sigma)) : pointNorms
        nonisolated(unsafe) let rows = output
        halfScaledNorms.withUnsafePointer { yNorms in
            nonisolated(unsafe) let yNorms = yNorms
            let halves = m >= 64 ? 2 : 1
            DispatchQueue.concurrentPerform(iterations: halves) { half in
                for i in (half * m / halves)..<((half + 1) * m / halves) {
                    transformRow(rows + i * stride, count: n, inputNorm: inputNorms[i], yNorms: yNorms, sigma: sigma)
                }
            }
        }
    }

    /// Turns one row of the GEMM's output into kernel values, in place (the row stays in cache).
    private func transformRow(
        _ row: UnsafeMutablePointer<Scalar>, count n: Int, inputNorm: Scalar, yNorms: UnsafePointer<Scalar>, sigma: Scalar
    ) {
        func binary(_ op: BinaryOperation, _ b: UnsafePointer<Scalar>, stride: Int) {
            Scalar.binaryKernel(op, row, aStride: 1, b, bStride: stride, row, count: n)
        }
        func binary(_ op: BinaryOperation, _ value: Scalar) {
            withUnsafePointer(to: value) { binary(op, $0, stride: 0) }
        }
        switch function.kind {
        case .gaussian:
            binary(.subtract, yNorms, stride: 1)
            binary(.subtract, inputNorm / (2 * sigma * sigma))
            binary(.minimum, 0)  // rounding can make a squared distance slightly negative
            Scalar.unaryKernel(.exp, row, row, count: n)
        case .laplacian:
            binary(.add, yNorms, stride: 1)
            binary(.add, inputNorm)
            binary(.maximum, 0)
            Scalar.unaryKernel(.sqrt, row, row, count: n)
            binary(.multiply, -1 / sigma)
            Scalar.unaryKernel(.exp, row, row, count: n)
        case .polynomial:
            binary(.add, 1)
            binary(.power, Scalar(function.degree))
        case .linear:
            break
        }
    }

    /// The kernel matrix `[m, n]` between `inputs` (`[m, d]`) and the points.
    func matrix(_ inputs: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor(shape: [inputs.shape[0], count]) { output, _ in write(inputs, into: output, stride: count) }
    }

    /// K(inputs, points) · coefficients for `inputs` `[m, d]` and coefficients `[n, k]`: predictions `[m, k]`,
    /// computed a block of rows at a time (at most 2²⁴ kernel values) so the kernel rows never exist all at once.
    func predictions(
        _ inputs: Tensor<Scalar>, coefficients: Tensor<Scalar>, progress: (Double) -> Void = { _ in }
    ) -> Tensor<Scalar> {
        let (m, n, k) = (inputs.shape[0], count, coefficients.shape[1])
        precondition(coefficients.shape[0] == n, "KernelRows: coefficients \(coefficients.shape) for \(n) points")
        let rowsPerBlock = max(1, min(m, (1 << 24) / max(n, 1)))
        // One block of kernel rows, reused: fresh memory per block would be page-faulted in every time.
        var block = Tensor<Scalar>(zeros: [rowsPerBlock, n])
        return Tensor(shape: [m, k]) { output, _ in
            block.withUnsafeMutablePointer { kernel in
                var start = 0
                while start < m {
                    let end = min(m, start + rowsPerBlock)
                    write(inputs.slice(start..<end, alongAxis: 0), into: kernel, stride: n)
                    coefficients.withUnsafePointer { a in
                        Scalar.gemm(
                            transposeA: false, transposeB: false, m: end - start, n: k, k: n, alpha: 1, kernel, lda: n,
                            a, ldb: k, beta: 0, output + start * k, ldc: k)
                    }
                    start = end
                    progress(Double(start) / Double(m))
                }
            }
        }
    }
}
