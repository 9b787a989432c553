/// Plain loops over flat vectors: the compiler vectorizes them, and they are far from the cost of one
/// operator product.

/// Σ x_i y_i.
func dot(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count)")
    return x.withUnsafeBufferPointer { a in
        y.withUnsafeBufferPointer { b in
            var sum = 0.0
            for i in 0..<a.count { sum += a[i] * b[i] }
            return sum
        }
    }
}

/// The Euclidean norm.
func norm(_ x: [Double]) -> Double { dot(x, x).squareRoot() }

/// y += a x.
func addScaled(_ x: [Double], _ a: Double, to y: inout [Double]) {
    precondition(x.count == y.count, "addScaled: lengths \(x.count) and \(y.count)")
    x.withUnsafeBufferPointer { source in
        y.withUnsafeMutableBufferPointer { target in
            for i in 0..<source.count { target[i] += a * source[i] }
        }
    }
}

/// a x.
func scaled(_ x: [Double], by a: Double) -> [Double] { x.map { a * $0 } }
