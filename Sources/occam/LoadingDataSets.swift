import Foundation
import OccamData
import OccamTensor

/// The whole training and test splits of `dataset` (pixels in [0, 1]) from `--data-dir`, else the default places.
func loadTrainingAndTestSets<Scalar: TensorScalar>(
    _ dataset: DataSetName, dataDir: String?
) throws -> (train: LabeledImages<Scalar>, test: LabeledImages<Scalar>) {
    let directory = dataDir.map { URL(fileURLWithPath: $0) }
    return (try loadDataSet(dataset, split: .train, directory: directory), try loadDataSet(dataset, split: .test, directory: directory))
}
