import OccamTensor

/// A tensor that remembers how it was computed, so gradients can flow back to the variables it came from.
///
/// Each operation on variables computes its value with `Tensor` and, when recording is on and an input
/// requires a gradient, keeps its inputs and a pullback: a closure that maps the gradient of the output to
/// the gradients of the inputs. Pullbacks are written with operations on `Variable`, so when the backward
/// pass itself records (`createGraph: true`), a gradient is an ordinary function of the inputs and can be
/// differentiated again: that is how Hessian-vector products are exact.
public final class Variable<Scalar: TensorScalar> {
    /// The value this variable holds.
    public let value: Tensor<Scalar>
    /// Whether gradients flow to this variable (true for parameters and anything computed from them).
    public let requiresGradient: Bool
    let inputs: [Variable]
    /// Maps (gradient of the output, the output itself) to the gradients of `inputs`; nil where an input
    /// needs none.
    let pullback: ((Variable, Variable) -> [Variable?])?

    /// A leaf variable: a constant, or a parameter when `requiresGradient` is true.
    public init(_ value: Tensor<Scalar>, requiresGradient: Bool = false) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.inputs = []
        self.pullback = nil
    }

    init(value: Tensor<Scalar>, inputs: [Variable], pullback: @escaping (Variable, Variable) -> [Variable?]) {
        self.value = value
        self.requiresGradient = true
        self.inputs = inputs
        self.pullback = pullback
    }

    /// The result of an operation: records `inputs` and `pullback` only when recording is on and some
    /// input requires a gradient; otherwise a constant.
    static func recording(
        _ value: Tensor<Scalar>, _ inputs: [Variable], pullback: @escaping (Variable, Variable) -> [Variable?]
    ) -> Variable {
        if GradientRecording.isEnabled && inputs.contains(where: { $0.requiresGradient }) {
            return Variable(value: value, inputs: inputs, pullback: pullback)
        }
        return Variable(value)
    }

    public var shape: [Int] { value.shape }
    public var rank: Int { value.rank }
    public var count: Int { value.count }

    /// This variable's value as a constant: gradients do not flow through it.
    public var detached: Variable { Variable(value) }
}

/// Whether operations on variables record what they need for gradients.
public enum GradientRecording {
    @TaskLocal static var isEnabled = true

    /// Whether operations record right now.
    public static var isRecording: Bool { isEnabled }
}

/// Runs `body` in inference mode: no operation records inputs or pullbacks, so nothing is kept for a
/// backward pass and results are constants.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientRecording.$isEnabled.withValue(false) { try body() }
}

/// Runs `body` with recording on, even inside `withoutGradients`.
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientRecording.$isEnabled.withValue(true) { try body() }
}
