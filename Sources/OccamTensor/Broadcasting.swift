/// NumPy's broadcasting rules: shapes are aligned at their last axis; an extent of 1 stretches to match.
public enum Broadcasting {
    /// The shape both operands broadcast to. Precondition failure naming `op` and both shapes if they can't.
    public static func shape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let x = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
            let y = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
            precondition(x == y || x == 1 || y == 1, "\(op): shapes \(a) and \(b) do not broadcast")
            result[axis] = x == 1 ? y : x
        }
        return result
    }

    /// Whether `shape` broadcasts to `target` without changing `target`.
    public static func canBroadcast(_ shape: [Int], to target: [Int]) -> Bool {
        guard shape.count <= target.count else { return false }
        let offset = target.count - shape.count
        return shape.indices.allSatisfy { shape[$0] == 1 || shape[$0] == target[$0 + offset] }
    }

    /// Row-major strides of `shape` as seen from `target`: 0 on axes that are broadcast (or missing).
    static func strides(of shape: [Int], in target: [Int]) -> [Int] {
        let offset = target.count - shape.count
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis + offset] = shape[axis] == 1 ? 0 : step
            step *= shape[axis]
        }
        return strides
    }
}

/// Row-major strides of a contiguous tensor of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = step
        step *= shape[axis]
    }
    return strides
}

/// Visits every row of the last axis of `shape`, passing the offsets of that row in each operand given
/// their strides. Shapes of rank 0 visit one row of length 1.
///
/// Adjacent axes that every operand walks contiguously (or all broadcast) are merged first, as NumPy's
/// iterator does, so [60, 6, 28, 28] + [1, 6, 1, 1] runs 360 rows of 784, not 10,080 rows of 28. The
/// innermost stride of each operand is unchanged by the merging.
@inline(__always)
func forEachRow(shape originalShape: [Int], strides originalStrides: [[Int]], _ body: (_ offsets: [Int], _ rowLength: Int) -> Void) {
    var shape = originalShape
    var strides = originalStrides
    var axis = shape.count - 2
    while axis >= 0 {
        if strides.allSatisfy({ $0[axis] == $0[axis + 1] * shape[axis + 1] }) {
            shape[axis] *= shape[axis + 1]
            shape.remove(at: axis + 1)
            for k in strides.indices {
                strides[k][axis] = strides[k][axis + 1]
                strides[k].remove(at: axis + 1)
            }
        }
        axis -= 1
    }
    let rank = shape.count
    if rank == 0 {
        body([Int](repeating: 0, count: strides.count), 1)
        return
    }
    if shape.contains(0) { return }
    let rowLength = shape[rank - 1]
    let rows = shape.dropLast().reduce(1, *)
    var index = [Int](repeating: 0, count: max(rank - 1, 0))
    var offsets = [Int](repeating: 0, count: strides.count)
    for _ in 0..<rows {
        body(offsets, rowLength)
        // Advance the multi-index over the outer axes, updating each operand's offset.
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            for k in 0..<strides.count { offsets[k] += strides[k][axis] }
            if index[axis] < shape[axis] { break }
            for k in 0..<strides.count { offsets[k] -= strides[k][axis] * shape[axis] }
            index[axis] = 0
            axis -= 1
        }
    }
}
