import OccamTensor

/// A first-order optimizer that updates a model's parameters from their gradients.
///
/// Optimizers follow `torch.optim` exactly: the same update formulas, the same state tensors under the same
/// names, and the same order of floating-point operations as PyTorch's CPU kernels where that decides the rounding
/// (PyTorch's vectorized kernels fuse some multiply-adds; ours do not, so Float32 results may differ from PyTorch's
/// in the last bit, Float64 results agree to about 1e-15).
///
/// A pruning `mask` is part of the update: after every step the pruned weights and their state (momentum buffers,
/// moment estimates) are exactly `+0`. The updates are element-wise, so this equals masking the gradient before the
/// update and the result after it; a NaN or infinite gradient at a pruned weight has no effect.
///
/// Steps run vectorized loops (Float and Double) and, in steady state, allocate nothing: new parameters are written
/// into spare buffers that hold the previous step's parameters (copy-on-write keeps any copy the caller holds).
///
/// All state is in `state` (tensors plus a step counter); `restore(_:parameters:)` on a freshly made optimizer with
/// the same hyperparameters continues bit-identically to an uninterrupted run. The learning rate is an argument
/// of `step` (a schedule is a pure function of the step), so it is not state.
public protocol Optimizer<Scalar>: Sendable {
    associatedtype Scalar: TensorScalar

    /// The pruning mask applied on every step; nil for a dense model. Its names must be parameter names, with the
    /// parameters' shapes (checked by precondition on the next `step`).
    var mask: PruningMask<Scalar>? { get set }

    /// The number of steps taken (restored with the state).
    var stepCount: Int { get }

    /// A copy of all state: tensors named "<kind>.<parameter name>" (e.g. "exp_avg.fc1.weight", each with its
    /// parameter's shape) and the step counter.
    var state: OptimizerState<Scalar> { get }

    /// Replaces all state with `state`, checked against the model's `parameters` (names and shapes).
    ///
    /// - Throws: `OptimizerStateError` when `state` belongs to another optimizer, lacks or adds a tensor, or a
    ///   tensor's shape differs from its parameter's. The optimizer is unchanged when it throws.
    mutating func restore(_ state: OptimizerState<Scalar>, parameters: ParameterSet<Scalar>) throws(OptimizerStateError)

    /// Takes one step: updates every tensor of `parameters` from the tensor of the same name in `gradients`.
    ///
    /// - Parameters:
    ///   - parameters: the model's parameters; after the step, pruned elements are exactly `+0`.
    ///   - gradients: the gradient of the loss for each parameter, same names and shapes (precondition).
    ///   - learningRate: the step size for this step, usually from a `LearningRateSchedule`.
    /// The parameter names must stay the same from step to step (precondition).
    mutating func step(_ parameters: inout ParameterSet<Scalar>, gradients: ParameterSet<Scalar>, learningRate: Double)
}

/// An optimizer's complete state, ready for a checkpoint.
///
/// `tensors` names each state tensor "<kind>.<parameter name>", with the parameter's shape, following PyTorch's state
/// keys: "momentum_buffer.fc1.weight" for SGD, "exp_avg.fc1.weight" and "exp_avg_sq.fc1.weight" for Adam and AdamW.
/// Before the first step there are no tensors (PyTorch creates its state lazily, too).
public struct OptimizerState<Scalar: TensorScalar>: Sendable, Equatable {
    /// Which optimizer wrote it: "sgd", "adam" or "adamw".
    public var kind: String
    /// The number of steps taken.
    public var step: Int
    /// The state tensors, in the parameters' order, grouped by kind.
    public var tensors: ParameterSet<Scalar>

    public init(kind: String, step: Int, tensors: ParameterSet<Scalar>) {
        self.kind = kind
        self.step = step
        self.tensors = tensors
    }
}

/// Why a saved optimizer state cannot be restored into an optimizer for a given model.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    /// The state was written by another kind of optimizer.
    case wrongKind(expected: String, found: String)
    /// The step counter is negative.
    case negativeStep(Int)
    /// A state tensor the optimizer needs is missing.
    case missingTensor(String)
    /// The state holds a tensor the optimizer does not use (a parameter the model lacks, or another optimizer's).
    case unexpectedTensor(String)
    /// A state tensor's shape differs from its parameter's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case let .wrongKind(expected, found):
            "optimizer state was written by \(found), not \(expected); resume with the same optimizer"
        case let .negativeStep(step): "optimizer state has a negative step count \(step)"
        case let .missingTensor(name): "optimizer state lacks the tensor \(name)"
        case let .unexpectedTensor(name): "optimizer state holds \(name), which this optimizer and model do not use"
        case let .shapeMismatch(name, expected, found):
            "optimizer state tensor \(name) has shape \(found); its parameter has shape \(expected)"
        }
    }
}

/// Per-parameter state tensors of one optimizer: `buffers[k][i]` is the tensor of kind `kinds[k]` for parameter
/// `names[i]`. Empty until the first step.
struct ParameterStateBuffers<Scalar: TensorScalar>: Sendable, Equatable {
    let kinds: [String]
    private(set) var names: [String] = []
    var buffers: [[Tensor<Scalar>]]

    init(kinds: [String]) {
        self.kinds = kinds
        buffers = kinds.map { _ in [] }
    }

    var isEmpty: Bool { names.isEmpty }

    /// Moves tensor `kinds[k]` of parameter `i` out (leaving an empty placeholder), so it can be written in place
    /// alongside others; `put` returns it.
    mutating func take(_ k: Int, _ i: Int) -> Tensor<Scalar> {
        let tensor = buffers[k][i]
        buffers[k][i] = Tensor(zeros: [0])
        return tensor
    }

    /// Puts back a tensor moved out by `take`.
    mutating func put(_ tensor: Tensor<Scalar>, _ k: Int, _ i: Int) { buffers[k][i] = tensor }

    /// Zeros for every parameter of `parameters`.
    mutating func initialize(like parameters: ParameterSet<Scalar>) {
        names = parameters.names
        buffers = kinds.map { _ in parameters.entries.map { Tensor(zeros: $0.tensor.shape) } }
    }

    /// The tensors named "<kind>.<name>", grouped by kind.
    var parameterSet: ParameterSet<Scalar> {
        var set = ParameterSet<Scalar>()
        for (k, kind) in kinds.enumerated() {
            for (i, name) in names.enumerated() { set.insert(buffers[k][i], named: "\(kind).\(name)") }
        }
        return set
    }

    /// Buffers read from `tensors`, checked against `parameters`; all of them when `present`, none otherwise.
    static func read(
        _ tensors: ParameterSet<Scalar>, kinds: [String], present: Bool, parameters: ParameterSet<Scalar>
    ) throws(OptimizerStateError) -> ParameterStateBuffers {
        var result = ParameterStateBuffers(kinds: kinds)
        guard present else {
            if let name = tensors.names.first { throw .unexpectedTensor(name) }
            return result
        }
        var expected = Set<String>()
        for (k, kind) in kinds.enumerated() {
            for (name, parameter) in parameters.entries {
                let key = "\(kind).\(name)"
                expected.insert(key)
                guard let tensor = tensors[key] else { throw .missingTensor(key) }
                guard tensor.shape == parameter.shape else {
                    throw .shapeMismatch(name: key, expected: parameter.shape, found: tensor.shape)
                }
                result.buffers[k].append(tensor)
            }
        }
        if let extra = tensors.names.first(where: { !expected.contains($0) }) { throw .unexpectedTensor(extra) }
        result.names = parameters.names
        return result
    }
}

/// Checks a step's arguments (programmer's errors, so preconditions that name the op and both shapes).
func checkStepArguments<Scalar>(
    _ op: String, parameters: ParameterSet<Scalar>, gradients: ParameterSet<Scalar>, mask: PruningMask<Scalar>?,
    stateNames: [String]?, learningRate: Double
) {
    precondition(learningRate.isFinite && learningRate >= 0, "\(op).step: learning rate \(learningRate) is not >= 0")
    if let stateNames {
        precondition(
            stateNames == parameters.names,
            "\(op).step: parameters \(parameters.names) differ from those of earlier steps \(stateNames)")
    }
    precondition(
        gradients.count == parameters.count,
        "\(op).step: \(gradients.count) gradients for \(parameters.count) parameters")
    for (name, parameter) in parameters.entries {
        guard let gradient = gradients[name] else { preconditionFailure("\(op).step: no gradient for \(name)") }
        precondition(
            gradient.shape == parameter.shape,
            "\(op).step: gradient of \(name) has shape \(gradient.shape), parameter has shape \(parameter.shape)")
    }
    if let mask {
        for (name, m) in mask.masks.entries {
            guard let parameter = parameters[name] else { preconditionFailure("\(op).step: mask \(name) names no parameter") }
            precondition(
                m.shape == parameter.shape,
                "\(op).step: mask of \(name) has shape \(m.shape), parameter has shape \(parameter.shape)")
        }
    }
}

/// Calls `body` with the elements of `tensor`, or with nil.
func withOptionalPointer<Scalar, R>(_ tensor: Tensor<Scalar>?, _ body: (UnsafePointer<Scalar>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafePointer { body($0) }
}

/// `pointer` viewed as pointing to `T`; only for `T` equal to the pointee type (checked by the caller).
@inline(__always)
func rebound<Scalar, T>(_ pointer: UnsafePointer<Scalar>) -> UnsafePointer<T> {
    UnsafeRawPointer(pointer).assumingMemoryBound(to: T.self)
}

/// `pointer` viewed as pointing to `T`; only for `T` equal to the pointee type (checked by the caller).
@inline(__always)
func rebound<Scalar, T>(_ pointer: UnsafeMutablePointer<Scalar>) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: T.self)
}

/// Spare parameter-sized tensors that make steady-state steps allocation-free: a step writes each new parameter
/// into its spare and keeps the old parameter as the next step's spare. When the caller still holds the old
/// parameters (a copy of the set), copy-on-write makes the next write allocate instead, so nothing is overwritten.
struct SpareParameterBuffers<Scalar: TensorScalar>: Sendable {
    private var spares: [Tensor<Scalar>] = []

    /// Replaces `parameters[name]` (the `i`th parameter) by a tensor of the same shape whose elements `write`
    /// stores, given the old elements, the output and the element count. `write` must store every element.
    mutating func update(
        _ parameters: inout ParameterSet<Scalar>, index i: Int, name: String,
        _ write: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void
    ) {
        let old = parameters[name]!
        while spares.count <= i { spares.append(Tensor(zeros: [0])) }
        var new = spares[i]
        spares[i] = Tensor(zeros: [0])
        if new.shape == old.shape {
            let count = old.count
            old.withUnsafePointer { p in new.withUnsafeMutablePointer { out in write(p, out, count) } }
        } else {
            new = old.withUnsafePointer { p in Tensor(shape: old.shape) { out, count in write(p, out, count) } }
        }
        parameters[name] = new
        spares[i] = old
    }
}

/// `pointer` viewed as pointing to `T`, or nil.
@inline(__always)
func rebound<Scalar, T>(_ pointer: UnsafePointer<Scalar>?) -> UnsafePointer<T>? {
    pointer.map { UnsafeRawPointer($0).assumingMemoryBound(to: T.self) }
}

/// `pointer` viewed as pointing to `T`, or nil.
@inline(__always)
func rebound<Scalar, T>(_ pointer: UnsafeMutablePointer<Scalar>?) -> UnsafeMutablePointer<T>? {
    pointer.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: T.self) }
}

/// The vector optimizers work in: eight lanes (two or four SSE registers, one or two AVX registers).
typealias Lanes<Scalar: SIMDScalar> = SIMD8<Scalar>

/// Lanes `i..<i+n` of `pointer` (n <= 8), the rest zero.
@inline(__always)
func loadLanes<Scalar: SIMDScalar>(_ pointer: UnsafePointer<Scalar>, _ i: Int, _ n: Int) -> Lanes<Scalar> {
    if n == Lanes<Scalar>.scalarCount { return UnsafeRawPointer(pointer + i).loadUnaligned(as: Lanes<Scalar>.self) }
    var lanes = Lanes<Scalar>()
    for k in 0..<n { lanes[k] = pointer[i + k] }
    return lanes
}

@inline(__always)
func loadLanes<Scalar: SIMDScalar>(_ pointer: UnsafeMutablePointer<Scalar>, _ i: Int, _ n: Int) -> Lanes<Scalar> {
    loadLanes(UnsafePointer(pointer), i, n)
}

/// Stores the first `n` lanes (n <= 8) at `pointer + i`.
@inline(__always)
func storeLanes<Scalar: SIMDScalar>(_ lanes: Lanes<Scalar>, _ pointer: UnsafeMutablePointer<Scalar>, _ i: Int, _ n: Int) {
    if n == Lanes<Scalar>.scalarCount {
        UnsafeMutableRawPointer(pointer + i).storeBytes(of: lanes, as: Lanes<Scalar>.self)
    } else {
        for k in 0..<n { pointer[i + k] = lanes[k] }
    }
}

/// Sets `x[i]` to `+0` wherever the 0/1 mask `m[i]` is 0.
@inline(__always)
func zeroPruned<Scalar: BinaryFloatingPoint>(
    _ count: Int, _ m: UnsafePointer<Scalar>, _ x: UnsafeMutablePointer<Scalar>
) {
    if Scalar.self == Float.self {
        zeroPrunedFloat(count, rebound(m), rebound(x))
    } else if Scalar.self == Double.self {
        zeroPrunedDouble(count, rebound(m), rebound(x))
    } else {
        for i in 0..<count where m[i] == 0 { x[i] = 0 }
    }
}

// Concrete vector types, so that the comparison is one vector instruction, not a lane-by-lane loop.

private func zeroPrunedFloat(_ count: Int, _ m: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>) {
    typealias Vector = SIMD8<Float>
    var i = 0
    while i + Vector.scalarCount <= count {
        let keep = UnsafeRawPointer(m + i).loadUnaligned(as: Vector.self)
        let value = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
        UnsafeMutableRawPointer(x + i).storeBytes(of: value.replacing(with: 0, where: keep .== 0), as: Vector.self)
        i += Vector.scalarCount
    }
    for j in i..<count where m[j] == 0 { x[j] = 0 }
}

private func zeroPrunedDouble(_ count: Int, _ m: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>) {
    typealias Vector = SIMD4<Double>
    var i = 0
    while i + Vector.scalarCount <= count {
        let keep = UnsafeRawPointer(m + i).loadUnaligned(as: Vector.self)
        let value = UnsafeRawPointer(x + i).loadUnaligned(as: Vector.self)
        UnsafeMutableRawPointer(x + i).storeBytes(of: value.replacing(with: 0, where: keep .== 0), as: Vector.self)
        i += Vector.scalarCount
    }
    for j in i..<count where m[j] == 0 { x[j] = 0 }
}
