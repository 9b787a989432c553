extension Tensor {
    /// `op` applied to every element; the result has this tensor's shape.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func applying(_ op: UnaryOperation) -> Tensor {
        withUnsafePointer { x in
            Tensor(shape: shape) { y, count in Scalar.unaryKernel(op, x, y, count: count) }
        }
    }

    /// `op` applied element-wise to `a` and `b` broadcast together (NumPy rules).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public static func combining(_ a: Tensor, _ b: Tensor, _ op: BinaryOperation, name: String = "elementwise")
        -> Tensor
    {
        // Fast paths: equal shapes, or one operand a single element that does not raise the rank.
        let contiguousShape: [Int]? =
            a.shape == b.shape ? a.shape
            : (b.count == 1 && b.rank <= a.rank) ? a.shape
            : (a.count == 1 && a.rank <= b.rank) ? b.shape : nil
        if let shape = contiguousShape {
            return a.withUnsafePointer { pa in
                b.withUnsafePointer { pb in
                    Tensor(shape: shape) { z, count in
                        Scalar.binaryKernel(
                            op, pa, aStride: a.count == 1 ? 0 : 1, pb, bStride: b.count == 1 ? 0 : 1, z, count: count)
                    }
                }
            }
        }
        let shape = Broadcasting.shape(a.shape, b.shape, op: name)
        let strides = [Broadcasting.strides(of: a.shape, in: shape), Broadcasting.strides(of: b.shape, in: shape)]
        let outStrides = contiguousStrides(shape)
        let lastA = strides[0].last ?? 0
        let lastB = strides[1].last ?? 0
        return a.withUnsafePointer { pa in
            b.withUnsafePointer { pb in
                Tensor(shape: shape) { z, _ in
                    forEachRow(shape: shape, strides: strides + [outStrides]) { offsets, length in
                        Scalar.binaryKernel(
                            op, pa + offsets[0], aStride: lastA, pb + offsets[1], bStride: lastB, z + offsets[2],
                            count: length)
                    }
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { combining(a, b, .add, name: "add") }
    public static func - (a: Tensor, b: Tensor) -> Tensor { combining(a, b, .subtract, name: "subtract") }
    public static func * (a: Tensor, b: Tensor) -> Tensor { combining(a, b, .multiply, name: "multiply") }
    public static func / (a: Tensor, b: Tensor) -> Tensor { combining(a, b, .divide, name: "divide") }
    public static func + (a: Tensor, b: Scalar) -> Tensor { a + Tensor(b) }
    public static func - (a: Tensor, b: Scalar) -> Tensor { a - Tensor(b) }
    public static func * (a: Tensor, b: Scalar) -> Tensor { a * Tensor(b) }
    public static func / (a: Tensor, b: Scalar) -> Tensor { a / Tensor(b) }
    public static func + (a: Scalar, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Scalar, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Scalar, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Scalar, b: Tensor) -> Tensor { Tensor(a) / b }
    public static prefix func - (a: Tensor) -> Tensor { a.applying(.negate) }
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Scalar) { a = a * b }

    public func exp() -> Tensor { applying(.exp) }
    public func log() -> Tensor { applying(.log) }
    public func sqrt() -> Tensor { applying(.sqrt) }
    public func abs() -> Tensor { applying(.abs) }
    public func relu() -> Tensor { applying(.relu) }
    public func sigmoid() -> Tensor { applying(.sigmoid) }
    public func tanh() -> Tensor { applying(.tanh) }
    public func squared() -> Tensor { applying(.square) }
    public func sin() -> Tensor { applying(.sin) }
    public func cos() -> Tensor { applying(.cos) }
    public func sign() -> Tensor { applying(.sign) }
    /// x raised to `exponent` element-wise.
    public func pow(_ exponent: Scalar) -> Tensor { Tensor.combining(self, Tensor(exponent), .power, name: "pow") }
    /// x raised to `exponent` element-wise, broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor { Tensor.combining(self, exponent, .power, name: "pow") }

    /// The element-wise maximum of `a` and `b`, broadcasting.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { combining(a, b, .maximum, name: "maximum") }
    /// The element-wise minimum of `a` and `b`, broadcasting.
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { combining(a, b, .minimum, name: "minimum") }

    /// 1 where self > other, else 0 (a mask of this precision), broadcasting.
    public func isGreater(than other: Tensor) -> Tensor { Tensor.combining(self, other, .greater, name: "greater") }
    /// 1 where self >= other, else 0, broadcasting.
    public func isGreaterOrEqual(to other: Tensor) -> Tensor {
        Tensor.combining(self, other, .greaterOrEqual, name: "greaterOrEqual")
    }
    /// 1 where self < other, else 0, broadcasting.
    public func isLess(than other: Tensor) -> Tensor { Tensor.combining(self, other, .less, name: "less") }
    /// 1 where self <= other, else 0, broadcasting.
    public func isLessOrEqual(to other: Tensor) -> Tensor {
        Tensor.combining(self, other, .lessOrEqual, name: "lessOrEqual")
    }
    /// 1 where self == other, else 0, broadcasting.
    public func isEqual(to other: Tensor) -> Tensor { Tensor.combining(self, other, .equal, name: "equal") }

    /// Elements of `a` where `mask` is non-zero and of `b` elsewhere; all three broadcast together.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Broadcasting.shape(Broadcasting.shape(mask.shape, a.shape, op: "where"), b.shape, op: "where")
        let m = mask.broadcast(to: shape), x = a.broadcast(to: shape), y = b.broadcast(to: shape)
        var scalars = y.scalars
        for i in scalars.indices where m.scalars[i] != 0 { scalars[i] = x.scalars[i] }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// This tensor repeated along broadcast axes to `target` (NumPy broadcast_to, materialized).
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(
            Broadcasting.canBroadcast(shape, to: target), "broadcast: shape \(shape) does not broadcast to \(target)")
        return Tensor.combining(self, Tensor(zeros: target), .add, name: "broadcast")
    }

    /// Whether every element is within `tolerance` of `other`'s (absolute, or relative to the larger).
    public func isClose(to other: Tensor, relativeTolerance: Scalar = 1e-5, absoluteTolerance: Scalar = 1e-8)
        -> Bool
    {
        guard shape == other.shape else { return false }
        for (x, y) in zip(scalars, other.scalars) {
            if Swift.abs(x - y) > absoluteTolerance + relativeTolerance * Swift.abs(y) { return false }
        }
        return true
    }
}
