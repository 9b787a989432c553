import OccamAnalysis

/// A Boolean function on {0,1}^n for n ≤ 7, as its truth table packed in 128 bits: bit x is f at the input
/// whose coordinate i is bit i of x (x = 0 is the all-zero input, x = 2^n - 1 the all-one input).
public struct TruthTable: Hashable, Sendable, Comparable {
    /// Bits 0-63 and 64-127.
    public var low: UInt64
    public var high: UInt64

    public init(low: UInt64 = 0, high: UInt64 = 0) { (self.low, self.high) = (low, high) }

    /// The largest input size a truth table holds.
    public static let maximumInputSize = 7

    /// The function's value at input `x`.
    @inline(__always)
    public func bit(_ x: Int) -> Bool { x < 64 ? (low >> UInt64(x)) & 1 == 1 : (high >> UInt64(x - 64)) & 1 == 1 }

    /// Sets f(x) = 1.
    @inline(__always)
    public mutating func set(_ x: Int) {
        if x < 64 { low |= 1 << UInt64(x) } else { high |= 1 << UInt64(x - 64) }
    }

    /// How many inputs map to 1.
    public var ones: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    /// The 2^n values f(0), f(1), ..., in input order.
    public func bits(inputSize: Int) -> [Bool] { (0..<(1 << inputSize)).map(bit) }

    /// K_LZ of the 2^n-bit string (`LempelZivComplexity.symmetrized`).
    public func complexity(inputSize: Int) -> Double { LempelZivComplexity.symmetrized(low: low, high: high, length: 1 << inputSize) }

    /// The truth table of coordinate `i` (f(x) = x_i) on {0,1}^n.
    public static func coordinate(_ i: Int, inputSize: Int) -> TruthTable {
        var table = TruthTable()
        for x in 0..<(1 << inputSize) where (x >> i) & 1 == 1 { table.set(x) }
        return table
    }

    /// The table with every bit of {0,1}^n flipped (the negated function).
    public func negated(inputSize: Int) -> TruthTable {
        let count = 1 << inputSize
        let lowMask: UInt64 = count >= 64 ? ~0 : (1 << UInt64(count)) - 1
        let highMask: UInt64 = count >= 128 ? ~0 : count > 64 ? (1 << UInt64(count - 64)) - 1 : 0
        return TruthTable(low: ~low & lowMask, high: ~high & highMask)
    }

    /// 2^n / 4 hex digits (at least one), most significant (input 2^n - 1) first: the hex number whose bit x is f(x).
    public func hex(inputSize: Int) -> String {
        let digits = max(1, (1 << inputSize) / 4)
        let text = String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
        return String(text.suffix(digits))
    }

    /// The 2^n characters "0"/"1" of f(0), f(1), ... in input order.
    public func binary(inputSize: Int) -> String { String(bits(inputSize: inputSize).map { $0 ? "1" : "0" }) }

    /// A short name when the function is a constant, a coordinate or a negated coordinate ("x3", "not x3"), else nil.
    public func name(inputSize: Int) -> String? {
        if self == TruthTable() { return "constant 0" }
        if self == TruthTable().negated(inputSize: inputSize) { return "constant 1" }
        for i in 0..<inputSize {
            let c = TruthTable.coordinate(i, inputSize: inputSize)
            if self == c { return "x\(i)" }
            if self == c.negated(inputSize: inputSize) { return "not x\(i)" }
        }
        return nil
    }

    public static func < (a: TruthTable, b: TruthTable) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
