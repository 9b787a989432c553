import Dispatch
import Foundation

/// Element-wise functions of one tensor.
public enum UnaryOperation: Sendable {
    case negate, exp, log, sqrt, abs, relu, sigmoid, tanh, reciprocal, square, sin, cos
    /// 1 where x > 0, else 0 (the derivative of relu).
    case step
    /// -1, 0 or 1.
    case sign
}

/// Element-wise functions of two tensors. Comparisons give 1 where true and 0 where false.
public enum BinaryOperation: Sendable {
    case add, subtract, multiply, divide, power, maximum, minimum
    case greater, greaterOrEqual, less, lessOrEqual, equal, notEqual
}

/// Elements below this count run on one thread; above it, element-wise kernels split across cores.
let parallelElementThreshold = 1 << 17
let coreCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Calls `body(start, end)` on disjoint chunks covering 0..<count, in parallel when the work is large.
@inline(__always)
func inParallelChunks(_ count: Int, _ body: (Int, Int) -> Void) {
    if count < parallelElementThreshold || coreCount == 1 || CoreSharing.confinesThisThread {
        body(0, count)
        return
    }
    let chunks = coreCount
    // Chunks start at multiples of 8, so a vectorized kernel's groups of 8 and scalar tail are the same elements
    // whatever the number of cores.
    let chunkSize = ((count + chunks - 1) / chunks + 7) & ~7
    withoutActuallyEscaping(body) { body in
        // Each chunk touches disjoint memory, so sharing the closure across threads is safe.
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * chunkSize
            let end = min(count, start + chunkSize)
            if start < end { work(start, end) }
        }
    }
}

@inline(__always)
func applyUnary<T: TensorScalar>(_ op: UnaryOperation, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int) {
    switch op {
    case .negate: for i in 0..<count { y[i] = -x[i] }
    case .exp: for i in 0..<count { y[i] = T.exp(x[i]) }
    case .log: for i in 0..<count { y[i] = T.log(x[i]) }
    case .sqrt: for i in 0..<count { y[i] = x[i].squareRoot() }
    case .abs: for i in 0..<count { y[i] = Swift.abs(x[i]) }
    case .relu: for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
    case .sigmoid:
        for i in 0..<count {
            let v = x[i]
            if v >= 0 {
                y[i] = 1 / (1 + T.exp(-v))
            } else {
                let e = T.exp(v)
                y[i] = e / (1 + e)
            }
        }
    case .tanh: for i in 0..<count { y[i] = T.tanh(x[i]) }
    case .reciprocal: for i in 0..<count { y[i] = 1 / x[i] }
    case .square: for i in 0..<count { y[i] = x[i] * x[i] }
    case .sin: for i in 0..<count { y[i] = T.sin(x[i]) }
    case .cos: for i in 0..<count { y[i] = T.cos(x[i]) }
    case .step: for i in 0..<count { y[i] = x[i] > 0 ? 1 : 0 }
    case .sign: for i in 0..<count { y[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
    }
}

/// The binary loop for one stride pattern; the pattern is fixed per call so the loop vectorizes.
@inline(__always)
func binaryLoop<T: TensorScalar>(
    _ a: UnsafePointer<T>, _ aStride: Int, _ b: UnsafePointer<T>, _ bStride: Int, _ z: UnsafeMutablePointer<T>,
    _ count: Int, _ f: (T, T) -> T
) {
    switch (aStride, bStride) {
    case (1, 1): for i in 0..<count { z[i] = f(a[i], b[i]) }
    case (1, 0):
        let bv = b[0]
        for i in 0..<count { z[i] = f(a[i], bv) }
    case (0, 1):
        let av = a[0]
        for i in 0..<count { z[i] = f(av, b[i]) }
    default:
        for i in 0..<count { z[i] = f(a[i * aStride], b[i * bStride]) }
    }
}

@inline(__always)
func applyBinary<T: TensorScalar>(
    _ op: BinaryOperation, _ a: UnsafePointer<T>, _ aStride: Int, _ b: UnsafePointer<T>, _ bStride: Int,
    _ z: UnsafeMutablePointer<T>, count: Int
) {
    switch op {
    case .add: binaryLoop(a, aStride, b, bStride, z, count) { $0 + $1 }
    case .subtract: binaryLoop(a, aStride, b, bStride, z, count) { $0 - $1 }
    case .multiply: binaryLoop(a, aStride, b, bStride, z, count) { $0 * $1 }
    case .divide: binaryLoop(a, aStride, b, bStride, z, count) { $0 / $1 }
    case .power: binaryLoop(a, aStride, b, bStride, z, count) { T.pow($0, $1) }
    // NaN propagates, as in NumPy's maximum/minimum.
    case .maximum: binaryLoop(a, aStride, b, bStride, z, count) { $0.isNaN || $0 >= $1 ? $0 : $1 }
    case .minimum: binaryLoop(a, aStride, b, bStride, z, count) { $0.isNaN || $0 <= $1 ? $0 : $1 }
    case .greater: binaryLoop(a, aStride, b, bStride, z, count) { $0 > $1 ? 1 : 0 }
    case .greaterOrEqual: binaryLoop(a, aStride, b, bStride, z, count) { $0 >= $1 ? 1 : 0 }
    case .less: binaryLoop(a, aStride, b, bStride, z, count) { $0 < $1 ? 1 : 0 }
    case .lessOrEqual: binaryLoop(a, aStride, b, bStride, z, count) { $0 <= $1 ? 1 : 0 }
    case .equal: binaryLoop(a, aStride, b, bStride, z, count) { $0 == $1 ? 1 : 0 }
    case .notEqual: binaryLoop(a, aStride, b, bStride, z, count) { $0 != $1 ? 1 : 0 }
    }
}

/// Sum with eight independent accumulators: vectorizes, and its rounding error grows more slowly than a
/// single running sum's.
@inline(__always)
func blockedSum<T: TensorScalar>(_ x: UnsafePointer<T>, count: Int) -> T {
    var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0, s4: T = 0, s5: T = 0, s6: T = 0, s7: T = 0
    var i = 0
    while i + 8 <= count {
        s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]
        s4 += x[i + 4]; s5 += x[i + 5]; s6 += x[i + 6]; s7 += x[i + 7]
        i += 8
    }
    var total = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    while i < count {
        total += x[i]
        i += 1
    }
    return total
}
