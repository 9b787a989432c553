import OccamTensor

/// Gradients of `output` with respect to each of `inputs`, by one reverse pass over the recorded graph.
///
/// - Parameters:
///   - output: any shape; a non-scalar output is differentiated as if summed (or weighted by `seed`).
///   - inputs: the variables to differentiate with respect to; one that `output` does not depend on gets
///     a zero gradient.
///   - seed: the output's cotangent, of `output`'s shape (default: ones).
///   - createGraph: record the backward pass itself, so the gradients can be differentiated again
///     (needed for Hessian-vector products). Without it the gradients are constants.
/// - Returns: one gradient per input, each of that input's shape.
public func gradient<Scalar>(
    of output: Variable<Scalar>, wrt inputs: [Variable<Scalar>], seed: Variable<Scalar>? = nil,
    createGraph: Bool = false
) -> [Variable<Scalar>] {
    if let seed {
        precondition(seed.shape == output.shape, "gradient: seed \(seed.shape) does not match output \(output.shape)")
    }
    let order = reverseTopologicalOrder(from: output)
    let wanted = Set(inputs.map(ObjectIdentifier.init))
    var gradients: [ObjectIdentifier: Variable<Scalar>] = [:]
    gradients[ObjectIdentifier(output)] = seed ?? Variable(Tensor(ones: output.shape))
    GradientRecording.$isEnabled.withValue(createGraph) {
        for node in order {
            let id = ObjectIdentifier(node)
            guard let pullback = node.pullback, let outputGradient = gradients[id] else { continue }
            if !wanted.contains(id) { gradients[id] = nil }  // no longer needed: free it early
            let inputGradients = pullback(outputGradient, node)
            for (input, contribution) in zip(node.inputs, inputGradients) {
                guard let contribution, input.requiresGradient else { continue }
                precondition(
                    contribution.shape == input.shape,
                    "gradient: a pullback returned shape \(contribution.shape) for an input of shape \(input.shape)")
                let inputID = ObjectIdentifier(input)
                if let existing = gradients[inputID] {
                    gradients[inputID] = existing + contribution
                } else {
                    gradients[inputID] = contribution
                }
            }
        }
    }
    return inputs.map { gradients[ObjectIdentifier($0)] ?? Variable(Tensor(zeros: $0.shape)) }
}

/// Nodes that require gradients and lead to `output`, each after every node that consumes it.
private func reverseTopologicalOrder<Scalar>(from output: Variable<Scalar>) -> [Variable<Scalar>] {
    var order: [Variable<Scalar>] = []
    var visited = Set<ObjectIdentifier>()
    // Iterative depth-first search: deep graphs (long training unrolls) must not overflow the stack.
    var stack: [(node: Variable<Scalar>, expanded: Bool)] = [(output, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded {
            order.append(node)
            continue
        }
        let id = ObjectIdentifier(node)
        if visited.contains(id) || !node.requiresGradient { continue }
        visited.insert(id)
        stack.append((node, true))
        for input in node.inputs where input.requiresGradient && !visited.contains(ObjectIdentifier(input)) {
            stack.append((input, false))
        }
    }
    return order.reversed()
}

/// The value of `f` at `point` and its gradient with respect to every input tensor.
///
/// - Parameter f: maps variables of the inputs' shapes to a scalar (rank-0 or one-element) variable.
/// - Returns: f's value and one gradient per input, of that input's shape.
public func valueAndGradient<Scalar>(
    at point: [Tensor<Scalar>], of f: ([Variable<Scalar>]) -> Variable<Scalar>
) -> (value: Tensor<Scalar>, gradient: [Tensor<Scalar>]) {
    withGradients {
        let inputs = point.map { Variable($0, requiresGradient: true) }
        let output = f(inputs)
        precondition(output.count == 1, "valueAndGradient: f returned shape \(output.shape), not a scalar")
        return (output.value, gradient(of: output, wrt: inputs).map { $0.value })
    }
}

/// The gradient of a scalar function `f` at `point`; see `valueAndGradient(at:of:)`.
public func gradient<Scalar>(at point: [Tensor<Scalar>], of f: ([Variable<Scalar>]) -> Variable<Scalar>)
    -> [Tensor<Scalar>]
{
    valueAndGradient(at: point, of: f).gradient
}

/// The exact Hessian-vector product H v of a scalar function `f` at `point`, by differentiating
/// <grad f, v> (reverse over reverse). `direction` has one tensor per input, of that input's shape.
public func hessianVectorProduct<Scalar>(
    at point: [Tensor<Scalar>], along direction: [Tensor<Scalar>], of f: ([Variable<Scalar>]) -> Variable<Scalar>
) -> [Tensor<Scalar>] {
    withGradients {
        let inputs = point.map { Variable($0, requiresGradient: true) }
        return hessianVectorProduct(of: f(inputs), wrt: inputs, along: direction)
    }
}

/// The exact Hessian-vector product of an already computed scalar `output` with respect to `inputs`
/// (parameters), along `direction` (one tensor per input). `output` must have been recorded.
public func hessianVectorProduct<Scalar>(
    of output: Variable<Scalar>, wrt inputs: [Variable<Scalar>], along direction: [Tensor<Scalar>]
) -> [Tensor<Scalar>] {
    precondition(output.count == 1, "hessianVectorProduct: output shape \(output.shape) is not a scalar")
    precondition(direction.count == inputs.count, "hessianVectorProduct: \(direction.count) directions for \(inputs.count) inputs")
    return withGradients {
        let gradients = gradient(of: output, wrt: inputs, createGraph: true)
        var inner: Variable<Scalar>?
        for (g, v) in zip(gradients, direction) {
            precondition(g.shape == v.shape, "hessianVectorProduct: direction \(v.shape) for an input of shape \(g.shape)")
            let term = (g * Variable(v)).sum()
            inner = inner.map { $0 + term } ?? term
        }
        guard let inner else { return [] }
        return gradient(of: inner, wrt: inputs).map { $0.value }
    }
}

/// The vector-Jacobian product uᵀ J of `f` at `point`: one tensor per input.
public func vectorJacobianProduct<Scalar>(
    at point: [Tensor<Scalar>], cotangent: Tensor<Scalar>, of f: ([Variable<Scalar>]) -> Variable<Scalar>
) -> (value: Tensor<Scalar>, products: [Tensor<Scalar>]) {
    withGradients {
        let inputs = point.map { Variable($0, requiresGradient: true) }
        let output = f(inputs)
        return (output.value, gradient(of: output, wrt: inputs, seed: Variable(cotangent)).map { $0.value })
    }
}

/// The Jacobian-vector product J v of an already recorded `output` with respect to `inputs` (leaves that
/// require gradients) along `direction` (one tensor per input, of its shape), by the double-VJP trick: g(u) = Jᵀu
/// is linear in u, so J v is the gradient of <g(u), v> in u.
/// - Returns: J v, of `output`'s shape (zeros where `output` does not depend on `inputs`).
public func jacobianVectorProduct<Scalar>(
    of output: Variable<Scalar>, wrt inputs: [Variable<Scalar>], along direction: [Tensor<Scalar>]
) -> Tensor<Scalar> {
    precondition(direction.count == inputs.count, "jacobianVectorProduct: \(direction.count) directions for \(inputs.count) inputs")
    return withGradients {
        let cotangent = Variable(Tensor<Scalar>(zeros: output.shape), requiresGradient: true)
        let pulled = gradient(of: output, wrt: inputs, seed: cotangent, createGraph: true)
        var inner: Variable<Scalar>?
        for (g, v) in zip(pulled, direction) {
            precondition(g.shape == v.shape, "jacobianVectorProduct: direction \(v.shape) for an input of shape \(g.shape)")
            let term = (g * Variable(v)).sum()
            inner = inner.map { $0 + term } ?? term
        }
        guard let inner, inner.requiresGradient else { return Tensor(zeros: output.shape) }
        return gradient(of: inner, wrt: [cotangent])[0].value
    }
}

/// The Jacobian-vector product J v of `f` at `point` along `direction` (one tensor per input), computed
/// exactly by the double-VJP trick: g(u) = Jᵀu is linear in u, so J v is the gradient of <g(u), v> in u.
/// - Returns: f's value and J v, of f's output shape.
public func jacobianVectorProduct<Scalar>(
    at point: [Tensor<Scalar>], along direction: [Tensor<Scalar>], of f: ([Variable<Scalar>]) -> Variable<Scalar>
) -> (value: Tensor<Scalar>, product: Tensor<Scalar>) {
    precondition(direction.count == point.count, "jacobianVectorProduct: \(direction.count) directions for \(point.count) inputs")
    return withGradients {
        let inputs = point.map { Variable($0, requiresGradient: true) }
        let output = f(inputs)
        return (output.value, jacobianVectorProduct(of: output, wrt: inputs, along: direction))
    }
}
