import OccamTensor

// Element-wise operations with NumPy broadcasting. Each pullback sums the gradient over the axes an input
// was broadcast along (`summed(toShape:)`), so inputs of shape [300] added to [60, 300] get [300].

extension Variable {
    public static func + (a: Variable, b: Variable) -> Variable {
        recording(a.value + b.value, [a, b]) { g, _ in
            [a.requiresGradient ? g.summed(toShape: a.shape) : nil,
             b.requiresGradient ? g.summed(toShape: b.shape) : nil]
        }
    }

    public static func - (a: Variable, b: Variable) -> Variable {
        recording(a.value - b.value, [a, b]) { g, _ in
            [a.requiresGradient ? g.summed(toShape: a.shape) : nil,
             b.requiresGradient ? (-g).summed(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Variable, b: Variable) -> Variable {
        recording(a.value * b.value, [a, b]) { g, _ in
            [a.requiresGradient ? (g * b).summed(toShape: a.shape) : nil,
             b.requiresGradient ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Variable, b: Variable) -> Variable {
        recording(a.value / b.value, [a, b]) { g, _ in
            [a.requiresGradient ? (g / b).summed(toShape: a.shape) : nil,
             b.requiresGradient ? (-g * a / (b * b)).summed(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (a: Variable) -> Variable {
        recording(-a.value, [a]) { g, _ in [-g] }
    }

    public static func + (a: Variable, b: Scalar) -> Variable {
        recording(a.value + b, [a]) { g, _ in [g] }
    }
    public static func - (a: Variable, b: Scalar) -> Variable { a + (-b) }
    public static func + (a: Scalar, b: Variable) -> Variable { b + a }
    public static func - (a: Scalar, b: Variable) -> Variable { -b + a }

    public static func * (a: Variable, b: Scalar) -> Variable {
        recording(a.value * b, [a]) { g, _ in [g * b] }
    }
    public static func * (a: Scalar, b: Variable) -> Variable { b * a }
    public static func / (a: Variable, b: Scalar) -> Variable { a * (1 / b) }
    public static func / (a: Scalar, b: Variable) -> Variable { Variable(Tensor(a)) / b }

    /// x raised to a constant power: pullback g p x^(p-1).
    public func pow(_ exponent: Scalar) -> Variable {
        Variable.recording(value.pow(exponent), [self]) { g, _ in [g * (self.pow(exponent - 1) * exponent)] }
    }

    /// a raised to b element-wise, broadcasting: pullbacks g b a^(b-1) and g a^b log(a).
    public func pow(_ exponent: Variable) -> Variable {
        Variable.recording(value.pow(exponent.value), [self, exponent]) { g, y in
            [self.requiresGradient ? (g * exponent * self.pow(exponent - 1)).summed(toShape: self.shape) : nil,
             exponent.requiresGradient ? (g * y * self.log()).summed(toShape: exponent.shape) : nil]
        }
    }

    public func exp() -> Variable {
        Variable.recording(value.exp(), [self]) { g, y in [g * y] }
    }

    public func log() -> Variable {
        Variable.recording(value.log(), [self]) { g, _ in [g / self] }
    }

    public func sqrt() -> Variable {
        Variable.recording(value.sqrt(), [self]) { g, y in [g / (y * 2)] }
    }

    public func squared() -> Variable {
        Variable.recording(value.squared(), [self]) { g, _ in [g * self * 2] }
    }

    /// |x|; its derivative sign(x) is taken as 0 at 0.
    public func abs() -> Variable {
        Variable.recording(value.abs(), [self]) { g, _ in [g * Variable(self.value.sign())] }
    }

    /// max(x, 0); its derivative is taken as 0 at 0.
    public func relu() -> Variable {
        Variable.recording(value.relu(), [self]) { g, _ in [g * Variable(self.value.applying(.step))] }
    }

    public func sigmoid() -> Variable {
        Variable.recording(value.sigmoid(), [self]) { g, y in [g * y * (1 - y)] }
    }

    public func tanh() -> Variable {
        Variable.recording(value.tanh(), [self]) { g, y in [g * (1 - y * y)] }
    }

    public func sin() -> Variable {
        Variable.recording(value.sin(), [self]) { g, _ in [g * self.cos()] }
    }

    public func cos() -> Variable {
        Variable.recording(value.cos(), [self]) { g, _ in [-(g * self.sin())] }
    }

    /// The element-wise maximum, broadcasting; where a == b the gradient goes to a.
    public static func maximum(_ a: Variable, _ b: Variable) -> Variable {
        let takesA = Variable(a.value.isGreaterOrEqual(to: b.value))
        return select(takesA, a, b, value: Tensor.maximum(a.value, b.value))
    }

    /// The element-wise minimum, broadcasting; where a == b the gradient goes to a.
    public static func minimum(_ a: Variable, _ b: Variable) -> Variable {
        let takesA = Variable(a.value.isLessOrEqual(to: b.value))
        return select(takesA, a, b, value: Tensor.minimum(a.value, b.value))
    }

    /// Elements of `a` where `mask` is non-zero and of `b` elsewhere (NumPy where); the mask is constant.
    public static func select(_ mask: Tensor<Scalar>, _ a: Variable, _ b: Variable) -> Variable {
        select(Variable(Tensor.combining(mask, Tensor(0), .notEqual)), a, b, value: Tensor.select(mask, a.value, b.value))
    }

    /// `value` given, computed as mask ? a : b with a 0/1 mask; the gradient follows the mask.
    private static func select(_ mask01: Variable, _ a: Variable, _ b: Variable, value: Tensor<Scalar>) -> Variable {
        recording(value, [a, b]) { g, _ in
            [a.requiresGradient ? (g * mask01).summed(toShape: a.shape) : nil,
             b.requiresGradient ? (g * (1 - mask01)).summed(toShape: b.shape) : nil]
        }
    }
}
