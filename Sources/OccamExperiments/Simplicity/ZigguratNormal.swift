import Foundation
import OccamTensor

/// Standard normal Float variates by Marsaglia and Tsang's ziggurat (2000, 128 layers), drawn from a
/// `RandomGenerator` stream: a few ns each against some 20 ns for Box-Muller, which matters when a random
/// network needs 2,001 of them.
///
/// Each variate takes one 64-bit word: its low 7 bits pick the layer and its top 25 bits (signed, as a 32-bit
/// position whose low 7 bits are zero) the position in it, so layer and value come from different bits (the
/// original shares them). About 1.3% of draws fall outside their layer's rectangle and are resolved exactly
/// (the wedge test, or the tail by Marsaglia's exponential method), so the distribution is the normal one up
/// to the 2^-24 resolution of the position, Float's own.
public struct ZigguratNormal {
    public var generator: RandomGenerator
    private let tables = ZigguratTables.shared

    public init(_ generator: RandomGenerator) { self.generator = generator }

    /// The layer and the position that `word` encodes.
    @inline(__always)
    static func decode(_ word: UInt64) -> (layer: Int, position: Int32) {
        (Int(word & 127), Int32(truncatingIfNeeded: word >> 32) & ~127)
    }

    /// The next standard normal variate.
    @inline(__always)
    public mutating func next() -> Float {
        let (layer, position) = Self.decode(generator.next())
        if Int64(position).magnitude < tables.k[layer] { return Float(Double(position) * tables.w[layer]) }
        return slowPath(position: position, layer: layer)
    }

    /// Fills `count` values at `destination` with `scale` times standard normal variates, in two passes: the raw
    /// words first (so the generator's state stays in registers), then their conversion. The values are those
    /// of `count` calls of `next()` except where the slow path draws extra words (here after the batch's).
    @inline(__always)
    public mutating func fill(_ destination: UnsafeMutablePointer<Float>, count: Int, scale: Float) {
        var g = generator
        let words = UnsafeMutableRawPointer(destination)
        // The encoded layer and position fit in 32 bits: position | layer.
        for i in 0..<count {
            let word = g.next()
            let (layer, position) = Self.decode(word)
            words.storeBytes(of: UInt32(bitPattern: position) | UInt32(layer), toByteOffset: 4 * i, as: UInt32.self)
        }
        generator = g
        let k = tables.kPointer, w = tables.wPointer
        for i in 0..<count {
            let bits = words.load(fromByteOffset: 4 * i, as: UInt32.self)
            let layer = Int(bits & 127), position = Int32(bitPattern: bits & ~127)
            let value = Int64(position).magnitude < k[layer] ? Float(Double(position) * w[layer]) : slowPath(position: position, layer: layer)
            destination[i] = scale * value
        }
    }

    /// A uniform Double in (0, 1).
    private mutating func uniform() -> Double { (Double(generator.next() >> 11) + 0.5) * 0x1.0p-53 }

    @inline(never)
    private mutating func slowPath(position startPosition: Int32, layer startLayer: Int) -> Float {
        var (position, layer) = (startPosition, startLayer)
        while true {
            let x = Double(position) * tables.w[layer]
            if layer == 0 {
                // The tail beyond r: Marsaglia's method from two exponentials.
                var tailX = 0.0, y = 0.0
                repeat {
                    tailX = -Foundation.log(uniform()) / ZigguratTables.r
                    y = -Foundation.log(uniform())
                } while y + y < tailX * tailX
                return Float(position > 0 ? ZigguratTables.r + tailX : -ZigguratTables.r - tailX)
            }
            // The wedge between the layer's rectangle and the curve.
            if tables.f[layer] + uniform() * (tables.f[layer - 1] - tables.f[layer]) < Foundation.exp(-0.5 * x * x) { return Float(x) }
            (layer, position) = Self.decode(generator.next())
            if Int64(position).magnitude < tables.k[layer] { return Float(Double(position) * tables.w[layer]) }
        }
    }
}

/// The ziggurat's layer tables (Marsaglia and Tsang 2000, 128 layers, for 32-bit signed positions).
final class ZigguratTables: Sendable {
    static let shared = ZigguratTables()
    /// The start of the tail.
    static let r = 3.442619855899
    /// |position| below k[i] is inside layer i's rectangle.
    let k: [UInt64]
    /// Position to value: x = position * w[i].
    let w: [Double]
    /// exp(-x_i² / 2) at each layer's edge.
    let f: [Double]
    /// `k` and `w` in memory that lives as long as the process (the hot loop reads them without bounds checks).
    nonisolated(unsafe) let kPointer: UnsafeMutablePointer<UInt64>
    nonisolated(unsafe) let wPointer: UnsafeMutablePointer<Double>

    private init() {
        let m1 = 2147483648.0, area = 9.91256303526217e-3
        var dn = Self.r, tn = dn
        let q = area / Foundation.exp(-0.5 * dn * dn)
        var k = [UInt64](repeating: 0, count: 128), w = [Double](repeating: 0, count: 128), f = [Double](repeating: 0, count: 128)
        k[0] = UInt64((dn / q) * m1)
        k[1] = 0
        w[0] = q / m1
        w[127] = dn / m1
        f[0] = 1
        f[127] = Foundation.exp(-0.5 * dn * dn)
        for i in stride(from: 126, through: 1, by: -1) {
            dn = (-2 * Foundation.log(area / dn + Foundation.exp(-0.5 * dn * dn))).squareRoot()
            k[i + 1] = UInt64((dn / tn) * m1)
            tn = dn
            f[i] = Foundation.exp(-0.5 * dn * dn)
            w[i] = dn / m1
        }
        (self.k, self.w, self.f) = (k, w, f)
        kPointer = .allocate(capacity: 128)
        kPointer.initialize(from: k, count: 128)
        wPointer = .allocate(capacity: 128)
        wPointer.initialize(from: w, count: 128)
    }
}
