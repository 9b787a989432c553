import OccamTensor

/// How a layer's weights are drawn. Fans follow PyTorch: a dense weight [out, in] has fan-in `in` and fan-out
/// `out`; a convolution weight [O, C, kh, kw] has fan-in C·kh·kw and fan-out O·kh·kw.
public enum Initializer: String, Codable, Sendable, CaseIterable {
    /// N(0, 2 / (fan_in + fan_out)) (Frankle & Carbin's LeNet).
    case glorotNormal = "glorot-normal"
    /// U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
    case glorotUniform = "glorot-uniform"
    /// N(0, 2 / fan_in) (Kaiming, for ReLU).
    case heNormal = "he-normal"
    /// U(-a, a), a = sqrt(6 / fan_in).
    case heUniform = "he-uniform"
    /// PyTorch's default for Linear and Conv2d: kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    case pytorchDefault = "pytorch"

    /// A weight of `shape` ([out, in] or [O, C, kh, kw]).
    public func weight<Scalar: TensorScalar>(_ shape: [Int], using random: inout RandomGenerator) -> Tensor<Scalar> {
        let (fanIn, fanOut) = fans(shape)
        switch self {
        case .glorotNormal:
            return .randomNormal(shape, standardDeviation: Scalar((2 / Double(fanIn + fanOut)).squareRoot()), using: &random)
        case .glorotUniform:
            let a = Scalar((6 / Double(fanIn + fanOut)).squareRoot())
            return .randomUniform(shape, low: -a, high: a, using: &random)
        case .heNormal:
            return .randomNormal(shape, standardDeviation: Scalar((2 / Double(fanIn)).squareRoot()), using: &random)
        case .heUniform:
            let a = Scalar((6 / Double(fanIn)).squareRoot())
            return .randomUniform(shape, low: -a, high: a, using: &random)
        case .pytorchDefault:
            let a = Scalar(1 / Double(fanIn).squareRoot())
            return .randomUniform(shape, low: -a, high: a, using: &random)
        }
    }

    /// A bias of `count` for a weight of `weightShape`: PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
    /// default initializer, zeros otherwise.
    public func bias<Scalar: TensorScalar>(_ count: Int, weightShape: [Int], using random: inout RandomGenerator) -> Tensor<Scalar> {
        guard self == .pytorchDefault else { return Tensor(zeros: [count]) }
        let a = Scalar(1 / Double(fans(weightShape).fanIn).squareRoot())
        return .randomUniform([count], low: -a, high: a, using: &random)
    }

    private func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "Initializer: weight shape \(shape) needs at least 2 axes")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }
}
