import Foundation
import OccamTensor

/// How one random input of one network resists bit flips (De Palma, Kiani and Lloyd, NeurIPS 2019).
public struct RobustnessMeasurement: Codable, Sendable, Equatable {
    /// The Hamming distance to the nearest differently classified string, by search in order of distance;
    /// nil when the search budget ran out first.
    public var exactDistance: Int?
    /// Strings the exact search evaluated.
    public var searched: Int
    /// The largest distance all of whose strings keep the class: the nearest distance is more than this
    /// (exactDistance - 1 when the search finished).
    public var clearedDistance: Int
    /// The distance reached by greedy descent (each step flips the not yet flipped bit that brings the output
    /// closest to the other class): an upper bound on the nearest distance; nil if all n flips keep the class.
    public var greedyDistance: Int?
    /// Random bit flips (a random order, each bit once) until the class changes; nil if it never does.
    public var randomFlips: Int?
}

/// A random ReLU network n-w-w-1 (weights N(0, σ_w² / fanIn), biases N(0, σ_b²)) classifying ±1 strings of
/// length n by the sign of its output, with the three measurements of `RobustnessMeasurement`.
///
/// Flipping bit i of x changes the first layer's preactivation by -2 x_i W1[i, :], so every candidate string is
/// the input's preactivation plus a few such rows; the other layers run as one GEMM over a batch of candidates.
public struct HammingRobustness {
    public let shape: ReLUNetworkShape
    private let parameters: [Float]
    private let offsets: [Int]

    public init(inputSize: Int, width: Int, weightScale: Float, biasScale: Float, generator: RandomGenerator) {
        shape = ReLUNetworkShape(inputSize: inputSize, hiddenWidths: [width, width])
        var normal = ZigguratNormal(generator)
        var values = [Float](repeating: 0, count: shape.parameterCount)
        let shape = self.shape
        values.withUnsafeMutableBufferPointer {
            shape.draw(into: $0.baseAddress!, normal: &normal, weightScale: weightScale, biasScale: biasScale)
        }
        parameters = values
        offsets = shape.weightOffsets
    }

    private var width: Int { shape.hiddenWidths[0] }

    /// The first layer's preactivation of the ±1 string `x`: `[w]`.
    func firstLayer(_ x: [Float]) -> [Float] {
        let (n, w) = (shape.inputSize, width)
        var result = Array(parameters[(n * w)..<(n * w + w)])
        for i in 0..<n {
            for j in 0..<w { result[j] += x[i] * parameters[i * w + j] }
        }
        return result
    }

    /// The outputs of the strings whose first-layer preactivations are the `rows` rows of `first` (`[rows, w]`,
    /// overwritten).
    func outputs(first: inout [Float], rows: Int) -> [Float] {
        var scratch = [Float](repeating: 0, count: rows * shape.maximumWidth)
        var output = [Float](repeating: 0, count: rows)
        let shape = self.shape, offsets = self.offsets
        parameters.withUnsafeBufferPointer { p in
            first.withUnsafeMutableBufferPointer { f in
                scratch.withUnsafeMutableBufferPointer { s in
                    output.withUnsafeMutableBufferPointer { o in
                        shape.forward(
                            firstPreactivations: f.baseAddress!, rows: rows, parameters: p.baseAddress!, scratch: s.baseAddress!, offsets: offsets,
                            output: o.baseAddress!)
                    }
                }
            }
        }
        return output
    }

    /// The output for the ±1 string `x`.
    public func output(_ x: [Float]) -> Float {
        var first = firstLayer(x)
        return outputs(first: &first, rows: 1)[0]
    }

    /// Measures `x` (a ±1 string of length n); `budget` caps the exact search, `generator` orders the random flips.
    public func measure(_ x: [Float], budget: Int, generator: inout RandomGenerator) -> RobustnessMeasurement {
        let (n, w) = (shape.inputSize, width)
        let base = firstLayer(x)
        var baseFirst = base
        let positive = outputs(first: &baseFirst, rows: 1)[0] > 0
        // delta[i]: the change of the first layer's preactivation when bit i flips.
        var delta = [Float](repeating: 0, count: n * w)
        for i in 0..<n { for j in 0..<w { delta[i * w + j] = -2 * x[i] * parameters[i * w + j] } }

        // Exact: every string at distance 1, 2, ..., a whole distance at a time while the budget allows.
        var exact: Int?, searched = 0
        var distance = 1
        search: while distance <= n, searched + binomial(n, distance) <= budget {
            var subsets = Combinations(n: n, k: distance)
            let batch = 2048
            var first = [Float](repeating: 0, count: batch * w)
            while true {
                var rows = 0
                while rows < batch, let subset = subsets.next() {
                    for j in 0..<w { first[rows * w + j] = base[j] }
                    for i in subset { for j in 0..<w { first[rows * w + j] += delta[i * w + j] } }
                    rows += 1
                }
                if rows == 0 { break }
                searched += rows
                if outputs(first: &first, rows: rows).contains(where: { ($0 > 0) != positive }) { exact = distance; break search }
            }
            distance += 1
        }

        // Greedy descent: from the current string, try every bit not yet flipped.
        var greedy: Int?
        var current = base
        var free = Array(0..<n)
        for step in 1...n {
            var first = [Float](repeating: 0, count: free.count * w)
            for (row, i) in free.enumerated() { for j in 0..<w { first[row * w + j] = current[j] + delta[i * w + j] } }
            let values = outputs(first: &first, rows: free.count)
            if values.contains(where: { ($0 > 0) != positive }) { greedy = step; break }
            // The flip that brings the output closest to the other class.
            let best = values.indices.min { positive ? values[$0] < values[$1] : values[$0] > values[$1] }!
            for j in 0..<w { current[j] += delta[free[best] * w + j] }
            free.remove(at: best)
        }

        // Random flips: the strings after 1, 2, ..., n flips in a random order, all in one batch.
        let order = generator.permutation(n)
        var walk = [Float](repeating: 0, count: n * w)
        var running = base
        for (row, i) in order.enumerated() {
            for j in 0..<w { running[j] += delta[i * w + j] }
            for j in 0..<w { walk[row * w + j] = running[j] }
        }
        let flips = outputs(first: &walk, rows: n).firstIndex(where: { ($0 > 0) != positive }).map { $0 + 1 }
        return RobustnessMeasurement(
            exactDistance: exact, searched: searched, clearedDistance: (exact ?? distance) - 1, greedyDistance: greedy, randomFlips: flips)
    }
}

/// n choose k, saturating at Int.max.
func binomial(_ n: Int, _ k: Int) -> Int {
    guard k >= 0, k <= n else { return 0 }
    var result = 1
    for i in 0..<min(k, n - k) {
        let (product, overflow) = result.multipliedReportingOverflow(by: n - i)
        if overflow { return Int.max }
        result = product / (i + 1)
    }
    return result
}

/// The k-subsets of 0..<n in lexicographic order.
struct Combinations: IteratorProtocol {
    let n: Int
    private var current: [Int]
    private var started = false

    init(n: Int, k: Int) { (self.n, current) = (n, Array(0..<k)) }

    mutating func next() -> [Int]? {
        if !started { started = true; return current.count <= n ? current : nil }
        let k = current.count
        var i = k - 1
        while i >= 0 && current[i] == n - k + i { i -= 1 }
        if i < 0 { return nil }
        current[i] += 1
        for j in (i + 1)..<k { current[j] = current[j - 1] + 1 }
        return current
    }
}
