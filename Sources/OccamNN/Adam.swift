import COccamKernels
import Foundation
import OccamTensor

/// Adam with L2 weight decay added to the gradient, as `torch.optim.Adam` (amsgrad off).
///
/// For each parameter `p` with gradient `g` (masked), at step `t` (1 for the first step):
/// ```
/// g = g + weightDecay * p
/// m = m + (1 - beta1) * (g - m)                      (torch's lerp; beta1 <= 0.5 uses its other form)
/// v = beta2 * v + (1 - beta2) * g * g
/// p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
/// ```
/// State: "exp_avg.<name>", "exp_avg_sq.<name>" (after the first step) and the step counter.
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// The decay rates of the first and second moment estimates.
    public let beta1, beta2: Double
    /// Added to the denominator, outside the square root.
    public let epsilon: Double
    /// The L2 penalty coefficient added to the gradient.
    public let weightDecay: Double
    public var mask: PruningMask<Scalar>?
    public private(set) var stepCount = 0
    private var moments = ParameterStateBuffers<Scalar>(kinds: ["exp_avg", "exp_avg_sq"])
    private var spares = SpareParameterBuffers<Scalar>()

    /// An Adam optimizer; arguments and defaults as in `torch.optim.Adam`. Preconditions: betas in [0, 1),
    /// `epsilon` and `weightDecay` finite and >= 0.
    public init(
        beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
        mask: PruningMask<Scalar>? = nil
    ) {
        checkAdamHyperparameters("Adam", beta1, beta2, epsilon, weightDecay)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.mask = mask
    }

    public var state: OptimizerState<Scalar> {
        OptimizerState(kind: "adam", step: stepCount, tensors: moments.parameterSet)
    }

    public mutating func restore(
        _ state: OptimizerState<Scalar>, parameters: ParameterSet<Scalar>
    ) throws(OptimizerStateError) {
        (moments, stepCount) = try restoreAdamState(state, kind: "adam", kinds: moments.kinds, parameters: parameters)
    }

    public mutating func step(
        _ parameters: inout ParameterSet<Scalar>, gradients: ParameterSet<Scalar>, learningRate: Double
    ) {
        adamStep(
            "Adam", &parameters, gradients: gradients, learningRate: learningRate, mask: mask, moments: &moments,
            spares: &spares, stepCount: &stepCount, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            decoupled: false)
    }
}

/// AdamW: Adam with decoupled weight decay, as `torch.optim.AdamW` (amsgrad off).
///
/// Each step first shrinks the parameter, `p = p * (1 - lr * weightDecay)`, then takes Adam's step without an L2
/// term. State: "exp_avg.<name>", "exp_avg_sq.<name>" (after the first step) and the step counter.
public struct AdamW<Scalar: TensorScalar>: Optimizer {
    /// The decay rates of the first and second moment estimates.
    public let beta1, beta2: Double
    /// Added to the denominator, outside the square root.
    public let epsilon: Double
    /// The decoupled weight decay coefficient (multiplied by the learning rate).
    public let weightDecay: Double
    public var mask: PruningMask<Scalar>?
    public private(set) var stepCount = 0
    private var moments = ParameterStateBuffers<Scalar>(kinds: ["exp_avg", "exp_avg_sq"])
    private var spares = SpareParameterBuffers<Scalar>()

    /// An AdamW optimizer; arguments and defaults as in `torch.optim.AdamW` (weight decay 0.01). Preconditions:
    /// betas in [0, 1), `epsilon` and `weightDecay` finite and >= 0.
    public init(
        beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 1e-2,
        mask: PruningMask<Scalar>? = nil
    ) {
        checkAdamHyperparameters("AdamW", beta1, beta2, epsilon, weightDecay)
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.mask = mask
    }

    public var state: OptimizerState<Scalar> {
        OptimizerState(kind: "adamw", step: stepCount, tensors: moments.parameterSet)
    }

    public mutating func restore(
        _ state: OptimizerState<Scalar>, parameters: ParameterSet<Scalar>
    ) throws(OptimizerStateError) {
        (moments, stepCount) = try restoreAdamState(state, kind: "adamw", kinds: moments.kinds, parameters: parameters)
    }

    public mutating func step(
        _ parameters: inout ParameterSet<Scalar>, gradients: ParameterSet<Scalar>, learningRate: Double
    ) {
        adamStep(
            "AdamW", &parameters, gradients: gradients, learningRate: learningRate, mask: mask, moments: &moments,
            spares: &spares, stepCount: &stepCount, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            decoupled: true)
    }
}

private func checkAdamHyperparameters(_ op: String, _ beta1: Double, _ beta2: Double, _ eps: Double, _ wd: Double) {
    precondition(beta1 >= 0 && beta1 < 1, "\(op): beta1 \(beta1) is not in [0, 1)")
    precondition(beta2 >= 0 && beta2 < 1, "\(op): beta2 \(beta2) is not in [0, 1)")
    precondition(eps.isFinite && eps >= 0, "\(op): epsilon \(eps) is not >= 0")
    precondition(wd.isFinite && wd >= 0, "\(op): weight decay \(wd) is not >= 0")
}

private func restoreAdamState<Scalar>(
    _ state: OptimizerState<Scalar>, kind: String, kinds: [String], parameters: ParameterSet<Scalar>
) throws(OptimizerStateError) -> (ParameterStateBuffers<Scalar>, Int) {
    guard state.kind == kind else { throw .wrongKind(expected: kind, found: state.kind) }
    guard state.step >= 0 else { throw .negativeStep(state.step) }
    let moments = try ParameterStateBuffers.read(
        state.tensors, kinds: kinds, present: state.step > 0, parameters: parameters)
    return (moments, state.step)
}

private func adamStep<Scalar>(
    _ op: String, _ parameters: inout ParameterSet<Scalar>, gradients: ParameterSet<Scalar>, learningRate lr: Double,
    mask: PruningMask<Scalar>?, moments: inout ParameterStateBuffers<Scalar>,
    spares: inout SpareParameterBuffers<Scalar>, stepCount: inout Int,
    beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decoupled: Bool
) {
    checkStepArguments(
        op, parameters: parameters, gradients: gradients, mask: mask,
        stateNames: moments.isEmpty ? nil : moments.names, learningRate: lr)
    if moments.isEmpty { moments.initialize(like: parameters) }
    // Python-side scalars are computed in Double, as torch does, and rounded once to the tensors' precision.
    let t = Double(stepCount + 1)
    let biasCorrection1 = 1 - Foundation.pow(beta1, t)
    let biasCorrection2 = 1 - Foundation.pow(beta2, t)
    // C takes them as Double: each rounded to Scalar first, so widening back is exact.
    func rounded(_ value: Double) -> Double { Double(Scalar(value)) }
    let lerpWeight = Scalar(1 - beta1)
    let constants = OccamAdamConstants(
        decay: rounded(1 - lr * weightDecay), l2: rounded(weightDecay),
        lerpWeight: Double(lerpWeight), lerpComplement: Double(1 - lerpWeight),
        beta2: rounded(beta2), oneMinusBeta2: rounded(1 - beta2), biasCorrection2Sqrt: rounded(biasCorrection2.squareRoot()),
        epsilon: rounded(epsilon), negativeStepSize: rounded(-(lr / biasCorrection1)),
        lerpWeightIsSmall: abs(lerpWeight) < 0.5 ? 1 : 0,
        decoupled: decoupled && weightDecay != 0 ? 1 : 0, coupled: !decoupled && weightDecay != 0 ? 1 : 0)
    for (i, name) in parameters.names.enumerated() {
        let gradient = gradients[name]!
        let maskTensor = mask?[name]
        var expAvgTensor = moments.take(0, i), expAvgSqTensor = moments.take(1, i)
        spares.update(&parameters, index: i, name: name) { p, out, count in
            gradient.withUnsafePointer { g in
                withOptionalPointer(maskTensor) { m in
                    expAvgTensor.withUnsafeMutablePointer { expAvg in
                        expAvgSqTensor.withUnsafeMutablePointer { expAvgSq in
                            adamKernel(count, p, g, m, expAvg, expAvgSq, out, constants)
                        }
                    }
                }
            }
        }
        moments.put(expAvgTensor, 0, i)
        moments.put(expAvgSqTensor, 1, i)
    }
    stepCount += 1
}

/// One Adam(W) update of `count` elements: reads `p`, `g` and the 0/1 mask `m`; updates the moments `expAvg` and
/// `expAvgSq`; writes the new parameter to `out`. The element-wise loop is C (COccamKernels), vectorized for the
/// machine's widest instructions, and a large tensor is split between two cores; every element is computed alone,
/// so the result does not depend on either.
func adamKernel<Scalar: TensorScalar>(
    _ count: Int, _ p: UnsafePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ m: UnsafePointer<Scalar>?,
    _ expAvg: UnsafeMutablePointer<Scalar>, _ expAvgSq: UnsafeMutablePointer<Scalar>,
    _ out: UnsafeMutablePointer<Scalar>, _ c: OccamAdamConstants
) {
    var constants = c
    let block = 64  // elements per split unit: whole cache lines and vectors on both sides
    let blocks = (count + block - 1) / block
    inTwoHalves(blocks, work: 8 * count) { range in
        let start = range.lowerBound * block, end = min(range.upperBound * block, count)
        if Scalar.self == Float.self {
            occam_adam_float(start, end, rebound(p), rebound(g), rebound(m) as UnsafePointer<Float>?, rebound(expAvg), rebound(expAvgSq), rebound(out), &constants)
        } else if Scalar.self == Double.self {
            occam_adam_double(start, end, rebound(p), rebound(g), rebound(m) as UnsafePointer<Double>?, rebound(expAvg), rebound(expAvgSq), rebound(out), &constants)
        } else {
            preconditionFailure("optimizers run on Float and Double tensors, not \(Scalar.self)")
        }
    }
}
