import OccamTensor

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as `torch.optim.SGD`.
///
/// For each parameter `p` with gradient `g` (masked), on each step:
/// ```
/// d = g + weightDecay * p
/// buf = d                                           (first step)
/// buf = momentum * buf + (1 - dampening) * d        (later steps)
/// d = nesterov ? d + momentum * buf : buf           (when momentum != 0)
/// p = p - lr * d
/// ```
/// State: "momentum_buffer.<name>" (only with momentum, only after the first step).
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// The momentum factor (0: plain SGD).
    public let momentum: Double
    /// The dampening of the gradient added to the momentum buffer.
    public let dampening: Double
    /// The L2 penalty coefficient added to the gradient.
    public let weightDecay: Double
    /// Whether to use Nesterov momentum.
    public let nesterov: Bool
    public var mask: PruningMask<Scalar>?
    public private(set) var stepCount = 0
    private var buffers = ParameterStateBuffers<Scalar>(kinds: ["momentum_buffer"])
    private var spares = SpareParameterBuffers<Scalar>()

    /// An SGD optimizer; arguments as in `torch.optim.SGD`. Preconditions: `momentum`, `dampening` and
    /// `weightDecay` are finite and >= 0; Nesterov needs `momentum > 0` and `dampening == 0`.
    public init(
        momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false,
        mask: PruningMask<Scalar>? = nil
    ) {
        precondition(momentum.isFinite && momentum >= 0, "SGD: momentum \(momentum) is not >= 0")
        precondition(dampening.isFinite && dampening >= 0, "SGD: dampening \(dampening) is not >= 0")
        precondition(weightDecay.isFinite && weightDecay >= 0, "SGD: weight decay \(weightDecay) is not >= 0")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0, dampening 0")
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.mask = mask
    }

    public var state: OptimizerState<Scalar> {
        OptimizerState(kind: "sgd", step: stepCount, tensors: buffers.parameterSet)
    }

    public mutating func restore(
        _ state: OptimizerState<Scalar>, parameters: ParameterSet<Scalar>
    ) throws(OptimizerStateError) {
        guard state.kind == "sgd" else { throw .wrongKind(expected: "sgd", found: state.kind) }
        guard state.step >= 0 else { throw .negativeStep(state.step) }
        buffers = try .read(
            state.tensors, kinds: buffers.kinds, present: momentum != 0 && state.step > 0, parameters: parameters)
        stepCount = state.step
    }

    public mutating func step(
        _ parameters: inout ParameterSet<Scalar>, gradients: ParameterSet<Scalar>, learningRate: Double
    ) {
        checkStepArguments(
            "SGD", parameters: parameters, gradients: gradients, mask: mask,
            stateNames: buffers.isEmpty ? nil : buffers.names, learningRate: learningRate)
        let first = buffers.isEmpty
        if momentum != 0 && first { buffers.initialize(like: parameters) }
        let constants = SGDConstants<Scalar>(
            weightDecay: Scalar(weightDecay), momentum: Scalar(momentum), gradientWeight: Scalar(1 - dampening),
            negativeLearningRate: Scalar(-learningRate), useMomentum: momentum != 0, firstStep: first,
            nesterov: nesterov)
        for (i, name) in parameters.names.enumerated() {
            let gradient = gradients[name]!
            let maskTensor = mask?[name]
            var buffer = constants.useMomentum ? buffers.take(0, i) : nil
            spares.update(&parameters, index: i, name: name) { p, out, count in
                gradient.withUnsafePointer { g in
                    withOptionalPointer(maskTensor) { m in
                        if buffer != nil {
                            buffer!.withUnsafeMutablePointer { buf in sgdKernel(count, p, g, m, buf, out, constants) }
                        } else {
                            sgdKernel(count, p, g, m, nil, out, constants)
                        }
                    }
                }
            }
            if let buffer { buffers.put(buffer, 0, i) }
        }
        stepCount += 1
    }
}

struct SGDConstants<Scalar: TensorScalar> {
    var weightDecay, momentum, gradientWeight, negativeLearningRate: Scalar
    var useMomentum, firstStep, nesterov: Bool
}

/// One SGD update of `count` elements: reads `p`, `g` and the 0/1 mask `m`; updates `buf` (nil without momentum);
/// writes the new parameter to `out`. Dispatches to code compiled for Float or Double.
func sgdKernel<Scalar: TensorScalar>(
    _ count: Int, _ p: UnsafePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ m: UnsafePointer<Scalar>?,
    _ buf: UnsafeMutablePointer<Scalar>?, _ out: UnsafeMutablePointer<Scalar>, _ c: SGDConstants<Scalar>
) {
    if Scalar.self == Float.self {
        sgdKernelFloat(
            count, rebound(p), rebound(g), rebound(m), rebound(buf), rebound(out),
            unsafeBitCast(c, to: SGDConstants<Float>.self))
    } else if Scalar.self == Double.self {
        sgdKernelDouble(
            count, rebound(p), rebound(g), rebound(m), rebound(buf), rebound(out),
            unsafeBitCast(c, to: SGDConstants<Double>.self))
    } else {
        preconditionFailure("optimizers run on Float and Double tensors, not \(Scalar.self)")
    }
}

private func sgdKernelFloat(
    _ count: Int, _ p: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafePointer<Float>?,
    _ buf: UnsafeMutablePointer<Float>?, _ out: UnsafeMutablePointer<Float>, _ c: SGDConstants<Float>
) { sgdKernelBody(count, p, g, m, buf, out, c) }

private func sgdKernelDouble(
    _ count: Int, _ p: UnsafePointer<Double>, _ g: UnsafePointer<Double>, _ m: UnsafePointer<Double>?,
    _ buf: UnsafeMutablePointer<Double>?, _ out: UnsafeMutablePointer<Double>, _ c: SGDConstants<Double>
) { sgdKernelBody(count, p, g, m, buf, out, c) }

@inline(__always)
private func sgdKernelBody<Scalar: TensorScalar & SIMDScalar>(
    _ count: Int, _ p: UnsafePointer<Scalar>, _ g: UnsafePointer<Scalar>, _ m: UnsafePointer<Scalar>?,
    _ buf: UnsafeMutablePointer<Scalar>?, _ out: UnsafeMutablePointer<Scalar>, _ c: SGDConstants<Scalar>
) {
    // Eight lanes at a time; each line is one PyTorch tensor op, rounded as it rounds: `x.add(y, alpha: a)` is
    // `x + a * y`. Lanes are independent, so the result does not depend on the vector width.
    var i = 0
    while i < count {
        let n = min(Lanes<Scalar>.scalarCount, count - i)
        var d: Lanes<Scalar> = loadLanes(g, i, n)
        let param: Lanes<Scalar> = loadLanes(p, i, n)
        if c.weightDecay != 0 { d = d + c.weightDecay * param }  // grad.add(param, alpha=weight_decay)
        if let buf {
            let b: Lanes<Scalar>
            if c.firstStep {
                b = d  // buf = clone(grad)
            } else {
                let old: Lanes<Scalar> = loadLanes(buf, i, n)
                b = old * c.momentum + c.gradientWeight * d  // buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            }
            d = c.nesterov ? d + c.momentum * b : b  // grad.add(buf, alpha=momentum) or buf
            storeLanes(b, buf, i, n)
        }
        let updated = param + c.negativeLearningRate * d  // param.add_(grad, alpha=-lr)
        storeLanes(updated, out, i, n)
        i += n
    }
    // The mask. The update is element-wise, so zeroing the pruned entries of the result and the buffer gives
    // exactly what masking the gradient first would (it also keeps a NaN gradient there from leaking in).
    if let m {
        zeroPruned(count, m, out)
        if let buf { zeroPruned(count, m, buf) }
    }
}
