import OccamTensor

/// The mean of several models' predictions on the same examples: an ensemble's prediction. The random-features
/// study averages its draws' outputs `f(x)`; the width sweep averages its replicates' softmax probabilities.
struct PredictionAverage<Scalar: TensorScalar> {
    private var sum: Tensor<Scalar>?
    /// How many predictions were added.
    private(set) var count = 0

    /// Adds one model's predictions `[examples, outputs]`; every one must have the first one's shape.
    mutating func add(_ predictions: Tensor<Scalar>) {
        if let sum {
            precondition(sum.shape == predictions.shape, "PredictionAverage: predictions \(predictions.shape) after \(sum.shape)")
            self.sum = sum + predictions
        } else {
            sum = predictions
        }
        count += 1
    }

    /// The mean `[examples, outputs]` of the predictions added; nil before the first.
    var mean: Tensor<Scalar>? { sum.map { $0 / Scalar(count) } }
}
