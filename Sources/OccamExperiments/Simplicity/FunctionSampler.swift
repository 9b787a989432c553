import OccamTensor

/// Draws random ReLU networks and computes the Boolean function each one computes on all 2^n inputs of
/// {0,1}^n: f(x) = [output(x) > 0], a `TruthTable`.
///
/// The first layer is evaluated by subset sums (the preactivation of input x is that of x without its lowest
/// set bit plus that bit's weight row: one addition per unit and input instead of n multiply-adds); each
/// further hidden layer is one single-threaded Float32 GEMM, `[2^n, fanIn] x [fanIn, fanOut]`, over all
/// inputs at once, and the output unit a dot product per input. The normals come from a ziggurat
/// (`ZigguratNormal`). A bias-free network (σ_b = 0) without hidden layers is the perceptron of the exact check.
public struct FunctionSampler: Sendable {
    public var shape: ReLUNetworkShape
    public var weightScale: Float
    public var biasScale: Float

    public init(shape: ReLUNetworkShape, weightScale: Float, biasScale: Float) {
        precondition(
            (1...TruthTable.maximumInputSize).contains(shape.inputSize),
            "FunctionSampler: input size \(shape.inputSize) is not in 1...\(TruthTable.maximumInputSize)")
        (self.shape, self.weightScale, self.biasScale) = (shape, weightScale, biasScale)
    }

    /// Calls `body` with the truth table of each of `count` networks drawn in turn from `generator`'s stream.
    public func forEachFunction(count: Int, generator: RandomGenerator, _ body: (TruthTable) -> Void) {
        let rows = 1 << shape.inputSize
        let width = shape.widths[0], inputs = shape.inputSize
        let hasHidden = !shape.hiddenWidths.isEmpty
        let offsets = shape.weightOffsets
        var normal = ZigguratNormal(generator)
        let parameters = UnsafeMutablePointer<Float>.allocate(capacity: shape.parameterCount)
        let preactivations = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        let hidden = UnsafeMutablePointer<Float>.allocate(capacity: rows * shape.maximumWidth)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * shape.maximumWidth)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: rows)
        defer { [parameters, preactivations, hidden, scratch, output].forEach { $0.deallocate() } }
        for _ in 0..<count {
            shape.draw(into: parameters, normal: &normal, weightScale: weightScale, biasScale: biasScale)
            // Subset sums: row x = biases + the weight rows of x's set bits; the hidden layer is their ReLU.
            let biases = parameters + inputs * width
            preactivations.update(from: biases, count: width)
            for j in 0..<width { hidden[j] = biases[j] > 0 ? biases[j] : 0 }
            for x in 1..<rows {
                let destination = preactivations + x * width, activation = hidden + x * width
                let source = preactivations + (x & (x - 1)) * width
                let row = parameters + x.trailingZeroBitCount * width
                for j in 0..<width {
                    let v = source[j] + row[j]
                    destination[j] = v
                    activation[j] = v > 0 ? v : 0
                }
            }
            if hasHidden {
                shape.forward(hidden: hidden, rows: rows, parameters: parameters, scratch: scratch, offsets: offsets, output: output)
            } else {
                output.update(from: preactivations, count: rows)
            }
            var table = TruthTable()
            for x in 0..<rows where output[x] > 0 { table.set(x) }
            body(table)
        }
    }

    /// How often each function occurs among `count` networks drawn from `generator`'s stream.
    public func count(_ count: Int, generator: RandomGenerator) -> [TruthTable: UInt64] {
        var counts: [TruthTable: UInt64] = [:]
        forEachFunction(count: count, generator: generator) { counts[$0, default: 0] += 1 }
        return counts
    }
}
