import OccamNN
import OccamTensor

/// Dinh et al.'s (2017) reparametrization of a ReLU network: the layer `first` (weight and bias) times α and the
/// next dense layer's weight `second` times 1/α. Since relu(α z) = α relu(z) for α > 0, the network computes the
/// same function, while the curvature along `first`'s coordinates shrinks by 1/α² and along `second`'s grows by α².
public enum ReLURescaling {
    /// `parameters` with "<first>.weight", "<first>.bias" (if present) times `alpha` and "<second>.weight" times 1/`alpha`.
    public static func rescaled<Scalar: TensorScalar>(
        _ parameters: ParameterSet<Scalar>, first: String, second: String, alpha: Double
    ) -> ParameterSet<Scalar> {
        precondition(alpha > 0, "ReLURescaling: alpha \(alpha) must be positive")
        precondition(parameters["\(first).weight"] != nil && parameters["\(second).weight"] != nil,
                     "ReLURescaling: no \(first).weight or \(second).weight in \(parameters.names)")
        var result = parameters
        for name in ["\(first).weight", "\(first).bias"] {
            if let tensor = parameters[name] { result[name] = tensor * Scalar(alpha) }
        }
        result["\(second).weight"] = parameters["\(second).weight"]! * Scalar(1 / alpha)
        return result
    }

    /// The largest |a - b| over two logit tensors of the same shape, and the largest |a|: how far a rescaled
    /// network's outputs moved, against their size.
    public static func largestDifference<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> (difference: Double, scale: Double) {
        precondition(a.shape == b.shape, "ReLURescaling.largestDifference: shapes \(a.shape) and \(b.shape)")
        let x = a.scalars, y = b.scalars
        var difference = 0.0, scale = 0.0
        for i in x.indices {
            difference = max(difference, abs(Double(x[i]) - Double(y[i])))
            scale = max(scale, abs(Double(x[i])))
        }
        return (difference, scale)
    }
}
