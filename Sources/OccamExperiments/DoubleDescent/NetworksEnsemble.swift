import Foundation
import OccamData
import OccamNN
import OccamTensor

/// The ensemble of one width's replicates: `ensemble/width-<w>.json` of a width sweep run with `--ensemble`.
public struct NetworkEnsembleRecord: Codable, Sendable, Equatable {
    public var width: Int
    /// Test error (fraction, clean labels) of the mean of the replicates' softmax outputs.
    public var testError: Double
    /// Each replicate's own final test error (fraction), in replicate order.
    public var memberTestErrors: [Double]

    /// "ensemble/width-64.json": the record's path under the study.
    public static func path(width: Int) -> String { "ensemble/width-\(width).json" }
}

extension DoubleDescentNetworksStudy {
    /// Each width's ensemble record (`NetworkEnsembleRecord`) unless its file exists: the final networks of all
    /// replicates, their softmax outputs on the clean test set averaged. A stage of its own per width.
    func measureEnsembles(cleanTest: LabeledImages<Scalar>, events: (StudyEvent) throws -> Void) throws {
        for width in configuration.widths {
            let url = directory.appendingPathComponent(NetworkEnsembleRecord.path(width: width))
            let name = "width \(width) · ensemble"
            if let record = try? RunStore.readJSON(NetworkEnsembleRecord.self, from: url) {
                try events(.stageFinished(name: name, result: Self.describe(record), skipped: true))
                continue
            }
            try events(.stageStarted(name: name, detail: "mean softmax of \(configuration.replicates) replicates on \(cleanTest.count) test images"))
            let record = try ensemble(width: width, test: cleanTest)
            try ResultFiles.prepareDirectory(url.deletingLastPathComponent())
            try ResultFiles.writeJSON(record, to: url)
            try events(.stageFinished(name: name, result: Self.describe(record), skipped: false))
        }
    }

    /// The ensemble of the final networks of `width`'s replicates on `test`.
    func ensemble(width: Int, test: LabeledImages<Scalar>) throws -> NetworkEnsembleRecord {
        let model = try configuration.training(width: width, replicate: 0).buildModel(
            inputShape: test.imageShape, classes: test.classCount, as: Scalar.self)
        var average = PredictionAverage<Scalar>()
        var memberErrors: [Double] = []
        for replicate in 0..<configuration.replicates {
            let run = NetworkWidthRun(replicate: replicate, width: width)
            let final = try TrainingCheckpoint<Scalar>.read(from: directory.appendingPathComponent(run.path).appendingPathComponent("final.safetensors"))
            // In batches of 1,000 images, so that a wide convolutional network's activations stay small.
            let probabilities = Tensor.concatenating(stride(from: 0, to: test.count, by: 1000).map { start in
                let images = test.images.slice(start..<min(test.count, start + 1000), alongAxis: 0)
                return model.logits(images, parameters: final.parameters, buffers: final.buffers).softmax(alongAxis: 1)
            }, alongAxis: 0)
            memberErrors.append(classificationError(probabilities, labels: test.labels))
            average.add(probabilities)
        }
        return NetworkEnsembleRecord(width: width, testError: classificationError(average.mean!, labels: test.labels), memberTestErrors: memberErrors)
    }

    static func describe(_ record: NetworkEnsembleRecord) -> String {
        String(format: "ensemble %.2f%%, single networks %@", 100 * record.testError,
               Spread(record.memberTestErrors.map { 100 * $0 }).text(digits: 2, unit: "%"))
    }
}
