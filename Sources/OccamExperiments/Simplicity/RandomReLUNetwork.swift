import OccamTensor

/// The layout of a fully connected ReLU network n-h1-...-hL-1 with its parameters in one flat Float array:
/// layer l's weights `[fanIn, fanOut]` (row-major) and then its biases `[fanOut]`, layer after layer.
///
/// Parameters are drawn as weights ~ N(0, σ_w² / fanIn) and biases ~ N(0, σ_b²), in storage order, from one
/// `ZigguratNormal` stream: the same stream gives the same network.
public struct ReLUNetworkShape: Sendable, Equatable {
    public var inputSize: Int
    public var hiddenWidths: [Int]

    public init(inputSize: Int, hiddenWidths: [Int]) { (self.inputSize, self.hiddenWidths) = (inputSize, hiddenWidths) }

    /// Every layer's output width: the hidden widths, then 1.
    public var widths: [Int] { hiddenWidths + [1] }
    /// Every layer's input width.
    public var fanIns: [Int] { [inputSize] + hiddenWidths }
    /// Where layer l's weights start in the flat array; its biases follow them.
    public var weightOffsets: [Int] {
        var offsets: [Int] = [], offset = 0
        for (fanIn, fanOut) in zip(fanIns, widths) {
            offsets.append(offset)
            offset += fanIn * fanOut + fanOut
        }
        return offsets
    }
    public var parameterCount: Int { zip(fanIns, widths).reduce(0) { $0 + $1.0 * $1.1 + $1.1 } }
    /// The widest layer (scratch buffers hold rows x this).
    public var maximumWidth: Int { widths.max()! }

    /// Draws one network's parameters into `parameters` (`parameterCount` Floats).
    @inline(__always)
    public func draw(into parameters: UnsafeMutablePointer<Float>, normal: inout ZigguratNormal, weightScale: Float, biasScale: Float) {
        var offset = 0
        for (fanIn, fanOut) in zip(fanIns, widths) {
            normal.fill(parameters + offset, count: fanIn * fanOut, scale: weightScale / Float(fanIn).squareRoot())
            offset += fanIn * fanOut
            if biasScale == 0 {
                (parameters + offset).update(repeating: 0, count: fanOut)
            } else {
                normal.fill(parameters + offset, count: fanOut, scale: biasScale)
            }
            offset += fanOut
        }
    }

    /// The network's outputs for `rows` inputs, given their first hidden layer's activations.
    ///
    /// - Parameters:
    ///   - hidden: `[rows, widths[0]]` activations of the first hidden layer (after ReLU); overwritten.
    ///   - scratch: room for `rows * maximumWidth` Floats.
    ///   - output: `[rows]`, the output preactivations.
    /// - Precondition: the network has a hidden layer.
    @inline(__always)
    public func forward(
        hidden: UnsafeMutablePointer<Float>, rows: Int, parameters: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        offsets: [Int], output: UnsafeMutablePointer<Float>
    ) {
        let widths = self.widths
        var current = hidden, next = scratch
        for layer in 1..<(widths.count - 1) {
            let fanIn = widths[layer - 1], fanOut = widths[layer]
            let weights = parameters + offsets[layer]
            Float.gemm(
                transposeA: false, transposeB: false, m: rows, n: fanOut, k: fanIn, alpha: 1, current, lda: fanIn, weights, ldb: fanOut,
                beta: 0, next, ldc: fanOut)
            addBiasAndRectify(next, rows: rows, width: fanOut, biases: weights + fanIn * fanOut)
            swap(&current, &next)
        }
        // The output unit: one dot product per row.
        let fanIn = widths[widths.count - 2]
        let weights = parameters + offsets[widths.count - 1]
        let bias = weights[fanIn]
        for row in 0..<rows { output[row] = bias + dot(current + row * fanIn, weights, count: fanIn) }
    }

    /// Outputs for `rows` inputs given their first layer's preactivations (`[rows, widths[0]]`, overwritten):
    /// ReLU, then `forward(hidden:...)`; a network without hidden layers returns them as they are.
    public func forward(
        firstPreactivations first: UnsafeMutablePointer<Float>, rows: Int, parameters: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, offsets: [Int], output: UnsafeMutablePointer<Float>
    ) {
        if hiddenWidths.isEmpty {
            output.update(from: first, count: rows)
            return
        }
        addBiasAndRectify(first, rows: rows, width: widths[0], biases: nil)
        forward(hidden: first, rows: rows, parameters: parameters, scratch: scratch, offsets: offsets, output: output)
    }
}

/// x[row, j] = max(x[row, j] + biases[j], 0) for a row-major `[rows, width]` x (no biases: max(x, 0)).
@inline(__always)
func addBiasAndRectify(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, biases: UnsafePointer<Float>?) {
    for row in 0..<rows {
        let r = x + row * width
        if let biases {
            for j in 0..<width { let v = r[j] + biases[j]; r[j] = v > 0 ? v : 0 }
        } else {
            for j in 0..<width { let v = r[j]; r[j] = v > 0 ? v : 0 }
        }
    }
}

/// The dot product of two Float vectors, 8 lanes at a time.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var sum = SIMD8<Float>()
    var i = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    while i + 8 <= count {
        sum += rawA.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * rawB.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        i += 8
    }
    var total = sum.sum()
    while i < count { total += a[i] * b[i]; i += 1 }
    return total
}
