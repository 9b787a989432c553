import OccamNN
import OccamTensor

/// A scalar function of a flat vector `[dimension]` with its gradient and exact Hessian: the loss of a network
/// in its parameters, or a closed-form test function. The critical-point search and the second-order optimizers
/// take any of them.
public protocol TwiceDifferentiableFunction {
    /// The length of the points.
    var dimension: Int { get }
    /// f(x) and ∇f(x) `[dimension]`.
    func valueAndGradient(at x: [Double]) -> (value: Double, gradient: [Double])
    /// ∇²f(x) as a symmetric operator (products only: the Krylov variant of saddle-free Newton needs no more).
    func hessianOperator(at x: [Double]) -> any SymmetricOperator
    /// ∇²f(x), dense and symmetric, `[dimension, dimension]`.
    func hessian(at x: [Double]) -> Tensor<Double>
}

extension TwiceDifferentiableFunction {
    public func hessian(at x: [Double]) -> Tensor<Double> { denseMatrix(of: hessianOperator(at: x)) }
    public func value(at x: [Double]) -> Double { valueAndGradient(at: x).value }
}

/// The mean loss of a network over fixed images as a function of the coordinates of `base.subspace`: point x
/// replaces those coordinates of `base.parameters` (the other parameters stay as they are).
public struct RiskFunction<Scalar: TensorScalar>: TwiceDifferentiableFunction {
    /// The network, images and coordinates; its own parameters are the ones outside the subspace.
    public let base: EmpiricalRisk<Scalar>

    public init(_ base: EmpiricalRisk<Scalar>) { self.base = base }

    public var dimension: Int { base.subspace.dimension }

    /// The risk at point x `[dimension]`.
    public func risk(at x: [Double]) -> EmpiricalRisk<Scalar> {
        EmpiricalRisk(
            model: base.model, parameters: base.subspace.replacing(x, in: base.parameters), buffers: base.buffers,
            inputs: base.inputs, labels: base.labels, loss: base.loss, subspace: base.subspace, batchSize: base.batchSize)
    }

    /// The mean loss, the accuracy and the gradient at x.
    public func evaluate(at x: [Double]) -> (loss: Double, accuracy: Double, gradient: [Double]) {
        risk(at: x).valueAndGradient()
    }

    public func valueAndGradient(at x: [Double]) -> (value: Double, gradient: [Double]) {
        let (loss, _, gradient) = evaluate(at: x)
        return (loss, gradient)
    }

    public func hessianOperator(at x: [Double]) -> any SymmetricOperator { LossCurvature(.hessian, of: risk(at: x)) }
}
