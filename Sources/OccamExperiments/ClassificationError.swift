import OccamTensor

/// The fraction of rows of `predictions` (`[m, classes]`) whose largest entry is not at `labels` (`[m]`).
func classificationError<Scalar: TensorScalar>(_ predictions: Tensor<Scalar>, labels: [Int]) -> Double {
    precondition(predictions.rank == 2 && predictions.shape[0] == labels.count,
                 "classificationError: predictions \(predictions.shape) do not match \(labels.count) labels")
    let predicted = predictions.argmax(alongAxis: 1)
    return Double(zip(predicted, labels).filter { $0 != $1 }.count) / Double(max(labels.count, 1))
}
