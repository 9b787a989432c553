import Foundation
import OccamTensor

/// Kernel regression on one-hot targets: solves (K + λI) A = Y for the coefficients A, exactly
/// interpolating the training targets when the ridge λ is 0 (Zhang et al. 2017, Section 5).
///
/// K is built a block of rows at a time through GEMM straight into one `[n, n]` buffer and factored in place
/// (blocked Cholesky), so the only large allocation is K itself: n² scalars (14.4 GB for n = 60,000 in
/// Float32). When K is numerically not positive definite (Float32 at large n, or a linear kernel with more
/// points than features), the factorization starts again with a jitter added to the diagonal, 10 ε mean(diag K)
/// and ten times more after each failure, and the jitter is reported. K is built once: the factorization writes
/// only the lower triangle, so a retry restores it from the upper one. (Keeping the rows already factored and
/// raising the diagonal only from the failing block on was tried: on all 60,000 MNIST images with Gabor features
/// the unjittered leading rows left the trailing Schur complement so inaccurate that a jitter of 1.2e-2 still
/// failed, where 1.2e-4 on the whole diagonal succeeds.)
public struct KernelInterpolation<Scalar: TensorScalar> {
    public var function: KernelFunction
    /// λ: 0 interpolates exactly.
    public var ridge: Double
    /// Columns per block of the Cholesky factorization.
    public var blockSize = 2048
    /// Tries with a growing jitter before giving up.
    public var maximumJitterAttempts = 6

    public init(function: KernelFunction, ridge: Double = 0) {
        precondition(ridge >= 0, "KernelInterpolation: negative ridge \(ridge)")
        self.function = function
        self.ridge = ridge
    }

    /// Bytes of the `[n, n]` kernel matrix.
    public static func matrixBytes(points n: Int) -> Int { n * n * MemoryLayout<Scalar>.stride }

    /// Fits coefficients `[n, k]` for `inputs` `[n, d]` and `targets` `[n, k]`.
    /// - Parameter progress: the phase and the fraction of it done.
    /// - Throws: `KernelInterpolationError.notPositiveDefinite` when even the largest jitter fails.
    public func fit(
        inputs: Tensor<Scalar>, targets: Tensor<Scalar>, progress: (KernelPhase, Double) -> Void = { _, _ in }
    ) throws -> KernelFit<Scalar> {
        let n = inputs.shape[0]
        precondition(targets.rank == 2 && targets.shape[0] == n, "KernelInterpolation: inputs \(inputs.shape), targets \(targets.shape)")
        let rows = KernelRows(function, points: inputs)
        var timings = KernelTimings()
        var clock = Date()
        var matrix = buildMatrix(rows, progress: progress)
        let diagonal = (0..<n).map { matrix[$0, $0] }
        timings.build = Date().timeIntervalSince(clock)
        let meanDiagonal = diagonal.reduce(0.0) { $0 + Double($1) } / Double(max(n, 1))
        var jitter = 0.0, largestTried = 0.0
        for attempt in 0..<maximumJitterAttempts {
            largestTried = jitter
            clock = Date()
            // The factorization overwrites the lower triangle only: a retry restores it from the upper one.
            if attempt > 0 { restoreLowerTriangle(&matrix, diagonal: diagonal) }
            addToDiagonal(&matrix, ridge + jitter)
            timings.build += Date().timeIntervalSince(clock)
            clock = Date()
            do {
                try matrix.factorCholeskyInPlace(blockSize: blockSize) { progress(.factor, $0) }
                timings.factor += Date().timeIntervalSince(clock)
                clock = Date()
                let coefficients = try matrix.choleskySolve(targets)
                timings.solve = Date().timeIntervalSince(clock)
                return KernelFit(coefficients: coefficients, jitter: jitter, attempts: attempt + 1, timings: timings)
            } catch LinearAlgebraError.notPositiveDefinite(let order) {
                timings.factor += Date().timeIntervalSince(clock)
                let next = jitter == 0 ? 10 * Double(Scalar.ulpOfOne) * meanDiagonal : jitter * 10
                progress(.jitter(failedOrder: order, next: next), 0)
                jitter = next
            }
        }
        throw KernelInterpolationError.notPositiveDefinite(points: n, largestJitter: largestTried, function: function)
    }

    /// K `[n, n]` between the points themselves, a block of rows at a time.
    private func buildMatrix(_ rows: KernelRows<Scalar>, progress: (KernelPhase, Double) -> Void) -> Tensor<Scalar> {
        let n = rows.count
        let rowsPerBlock = max(1, min(n, (1 << 24) / max(n, 1)))
        return Tensor(shape: [n, n]) { matrix, _ in
            var start = 0
            while start < n {
                let end = min(n, start + rowsPerBlock)
                rows.writePoints(start..<end, into: matrix + start * n, stride: n)
                start = end
                progress(.build, Double(start) / Double(n))
            }
        }
    }

    /// Adds `value` to every diagonal entry.
    private func addToDiagonal(_ matrix: inout Tensor<Scalar>, _ value: Double) {
        let n = matrix.shape[0]
        matrix.withUnsafeMutablePointer { k in
            for i in 0..<n { k[i * n + i] += Scalar(value) }
        }
    }

    /// Copies the strictly upper triangle (K as built: the factorization never touches it) onto the lower one and
    /// writes `diagonal` back, in 64 x 64 tiles so the transposed reads stay in cache.
    private func restoreLowerTriangle(_ matrix: inout Tensor<Scalar>, diagonal: [Scalar]) {
        let n = matrix.shape[0], tile = 64
        matrix.withUnsafeMutablePointer { k in
            for rowTile in stride(from: 0, to: n, by: tile) {
                for columnTile in stride(from: 0, through: rowTile, by: tile) {
                    for i in rowTile..<min(rowTile + tile, n) {
                        for j in columnTile..<min(columnTile + tile, i) { k[i * n + j] = k[j * n + i] }
                    }
                }
            }
            for i in 0..<n { k[i * n + i] = diagonal[i] }
        }
    }
}

/// A phase of `KernelInterpolation.fit`, for progress output.
public enum KernelPhase: Sendable, Equatable {
    case build, factor
    /// The factorization failed at a leading minor; it starts again with the `next` jitter.
    case jitter(failedOrder: Int, next: Double)
}

/// Seconds spent in each phase of a fit (summed over jitter attempts; a retry's restoring of K counts as build).
public struct KernelTimings: Codable, Sendable, Equatable {
    public var build = 0.0
    public var factor = 0.0
    public var solve = 0.0
}

/// What `KernelInterpolation.fit` found.
public struct KernelFit<Scalar: TensorScalar>: Sendable {
    /// A with (K + (λ + jitter) I) A = Y: `[n, k]`.
    public var coefficients: Tensor<Scalar>
    /// The jitter added to the diagonal besides the ridge (0 when K factored as it was).
    public var jitter: Double
    /// Factorizations tried.
    public var attempts: Int
    public var timings: KernelTimings
}

public enum KernelInterpolationError: Error, CustomStringConvertible {
    case notPositiveDefinite(points: Int, largestJitter: Double, function: KernelFunction)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let points, let jitter, let function):
            return "The \(points) x \(points) matrix of the \(function) stayed numerically not positive definite "
                + "with a diagonal jitter of \(jitter). Use --precision float64, a positive --ridge, or fewer points "
                + "(a linear kernel has rank at most the number of features)."
        }
    }
}
