import ArgumentParser
import Foundation
import OccamData
import OccamNN
import OccamTensor

/// A checkpoint's model, weights, buffers, mask and data settings in `Scalar`: occam's own checkpoints from their
/// metadata, a PyTorch state dict from `model`, `widths` and `width` (see `stateDictConfiguration`).
/// - Throws: `ValidationError` when `model` contradicts the checkpoint's own.
func loadCheckpoint<Scalar: TensorScalar>(
    _: Scalar.Type, file: SafeTensorsFile, url: URL, model: String?, widths: String?, width: Int?, dataset: DataSetName?
) throws -> LoadedCheckpoint<Scalar> {
    if file.metadata["occam.config"] != nil {
        let saved: LoadedCheckpoint<Scalar> = file.metadata["occam.precision"] == "float64"
            ? try LoadedCheckpoint(TrainingCheckpoint<Double>.read(from: url)) : try LoadedCheckpoint(TrainingCheckpoint<Float>.read(from: url))
        if let model, model != saved.training.model {
            throw ValidationError("--model \(model) does not match the checkpoint's model \(saved.training.model).")
        }
        return saved
    }
    let training = try stateDictConfiguration(for: url, model: model, widths: widths, width: width, dataset: dataset)
    // Read in the file's own dtype, then convert to the measurement's precision.
    return file.entries.contains { $0.tensor.dtype == .float64 }
        ? try LoadedCheckpoint(TrainingCheckpoint<Double>.readStateDict(from: url, configuration: training))
        : try LoadedCheckpoint(TrainingCheckpoint<Float>.readStateDict(from: url, configuration: training))
}

/// The precision a checkpoint file stores: its metadata's, else float64 when any tensor is.
func storedPrecision(of file: SafeTensorsFile) -> String {
    file.metadata["occam.precision"] ?? (file.entries.contains { $0.tensor.dtype == .float64 } ? "float64" : "float32")
}

/// The first `samples` images of `split` of the run's data set, normalized with the statistics the run trained
/// with when it normalized (fitted on its training split, as `occam train` prepared it).
func measurementImages<Scalar: TensorScalar>(
    _ training: TrainingConfiguration, split: DataSplit, samples: Int, dataDirectory: URL?
) throws -> LabeledImages<Scalar> {
    let all: LabeledImages<Scalar> = try loadDataSet(training.dataset, split: split, directory: dataDirectory)
    var images = all.subset(Array(0..<samples))
    if training.normalize {
        let prepared = try PreparedData<Scalar>(training.data, seed: training.dataSplitSeed, directory: dataDirectory)
        if let normalization = prepared.normalization { images = normalization.applied(to: images) }
    }
    return images
}
