import Foundation
import OccamData
import OccamNN
import OccamTensor

/// Training on Gaussian blobs (6 features, 3 classes) with an MLP of widths 16 and 8: fast enough for
/// whole studies in a test.
func blobTraining(steps: Int = 30) -> TrainingConfiguration {
    var configuration = TrainingConfiguration()
    configuration.model = "mlp"
    configuration.widths = [16, 8]
    configuration.validationCount = 40
    configuration.steps = TrainingDuration(iterations: steps)
    configuration.batchSize = 16
    configuration.optimizer = OptimizerConfiguration(kind: .adam, learningRate: 0.01)
    configuration.evaluateEvery = TrainingDuration(iterations: 10)
    configuration.seed = 3
    return configuration
}

/// The blob data set split for `seed`, as a study's data provider.
func blobData(_ configuration: TrainingConfiguration) -> (UInt64) -> PreparedData<Double> {
    let blobs = SyntheticClassification.gaussianBlobs(count: 290, classCount: 3, dimensions: 6, separation: 3, seed: 1, as: Double.self).data
    let train = blobs.subset(Array(0..<200)), test = blobs.subset(Array(200..<290))
    return { seed in PreparedData(fullTrain: train, test: test, configuration: configuration.data, seed: seed) }
}

/// A fresh directory under the system's temporary directory; remove it when done.
func makeTemporaryDirectory(_ purpose: String) throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-\(purpose)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Every file under `directory` (relative path -> contents).
func contentsOfFiles(under directory: URL) throws -> [String: Data] {
    let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])?
        .compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true } ?? []
    return try Dictionary(uniqueKeysWithValues: files.map {
        (String($0.standardizedFileURL.path.dropFirst(directory.standardizedFileURL.path.count)), try Data(contentsOf: $0))
    })
}
