import OccamAutograd
import OccamTensor
import Testing

/// Finite-difference checks of first and second derivatives, in Float64 (as JAX's check_grads).
///
/// A function f of several tensors is turned into a scalar F(x) = sum(R ⊙ f(x)) + sum(S ⊙ f(x)²) / 2 with
/// fixed random R and S, so that the second derivative exercises the op's pullback being differentiated
/// again (even for linear ops, F has curvature through f²). Then along a random direction v:
/// - first order: <∇F(x), v> against (F(x + hv) - F(x - hv)) / 2h;
/// - second order: H v against (∇F(x + hv) - ∇F(x - hv)) / 2h;
/// - symmetry: uᵀ H v against vᵀ H u.
struct GradientChecker {
    typealias Function = ([Variable<Double>]) -> Variable<Double>
    var step = 1e-5
    var tolerance = 1e-6

    /// Runs all three checks of `f` at `point`; `seed` fixes the directions and weights.
    func check(_ name: String, at point: [Tensor<Double>], seed: UInt64 = 7, _ f: @escaping Function) {
        var random = RandomGenerator(seed: seed)
        let outputShape = withoutGradients { f(point.map { Variable($0) }).shape }
        let r = Tensor<Double>.randomNormal(outputShape, using: &random)
        let s = Tensor<Double>.randomNormal(outputShape, using: &random)
        let scalarized: Function = { inputs in
            let y = f(inputs)
            return (y * Variable(r)).sum() + (y * y * Variable(s)).sum() * 0.5
        }
        let v = point.map { Tensor<Double>.randomNormal($0.shape, using: &random) }
        let u = point.map { Tensor<Double>.randomNormal($0.shape, using: &random) }

        // First order.
        let gradient = OccamAutograd.gradient(at: point, of: scalarized)
        let analytic = innerProduct(gradient, v)
        let plus = value(of: scalarized, at: shifted(point, v, step))
        let minus = value(of: scalarized, at: shifted(point, v, -step))
        let numeric = (plus - minus) / (2 * step)
        #expect(
            abs(analytic - numeric) <= tolerance * max(1, abs(analytic), abs(numeric)),
            "\(name): directional derivative \(analytic) vs finite difference \(numeric)")

        // Second order.
        let hv = hessianVectorProduct(at: point, along: v, of: scalarized)
        let gradientPlus = OccamAutograd.gradient(at: shifted(point, v, step), of: scalarized)
        let gradientMinus = OccamAutograd.gradient(at: shifted(point, v, -step), of: scalarized)
        let fd = zip(gradientPlus, gradientMinus).map { ($0 - $1) / (2 * step) }
        let difference = zip(hv, fd).map { ($0 - $1) }
        let scale = max(1, norm(hv), norm(fd))
        #expect(
            norm(difference) <= 10 * tolerance * scale,
            "\(name): Hessian-vector product differs from finite differences of gradients by \(norm(difference)) (scale \(scale))")

        // Symmetry of the Hessian.
        let hu = hessianVectorProduct(at: point, along: u, of: scalarized)
        let uHv = innerProduct(u, hv), vHu = innerProduct(v, hu)
        #expect(
            abs(uHv - vHu) <= 1e-9 * max(1, abs(uHv)),
            "\(name): uᵀHv = \(uHv) but vᵀHu = \(vHu)")
    }

    private func value(of f: Function, at point: [Tensor<Double>]) -> Double {
        withoutGradients { f(point.map { Variable($0) }).value.scalar }
    }
}

func shifted(_ point: [Tensor<Double>], _ direction: [Tensor<Double>], _ scale: Double) -> [Tensor<Double>] {
    zip(point, direction).map { $0 + $1 * scale }
}

func innerProduct(_ a: [Tensor<Double>], _ b: [Tensor<Double>]) -> Double {
    zip(a, b).map { ($0 * $1).sum().scalar }.reduce(0, +)
}

func norm(_ tensors: [Tensor<Double>]) -> Double {
    tensors.map { ($0 * $0).sum().scalar }.reduce(0, +).squareRoot()
}

/// Random Float64 test inputs.
struct Inputs {
    var random: RandomGenerator
    init(seed: UInt64 = 1) { random = RandomGenerator(seed: seed) }

    mutating func normal(_ shape: [Int]) -> Tensor<Double> { Tensor.randomNormal(shape, using: &random) }
    /// Values in [0.5, 2): away from the singularities of log, sqrt and pow.
    mutating func positive(_ shape: [Int]) -> Tensor<Double> {
        Tensor.randomUniform(shape, low: 0.5, high: 2, using: &random)
    }
    /// Values with |x| in [0.2, 1.2): away from the kinks of relu and abs.
    mutating func awayFromZero(_ shape: [Int]) -> Tensor<Double> {
        let magnitude = Tensor<Double>.randomUniform(shape, low: 0.2, high: 1.2, using: &random)
        let sign = Tensor<Double>.randomBernoulli(shape, probability: 0.5, using: &random) * 2 - 1
        return magnitude * sign
    }
}
