import ArgumentParser
import Foundation
import OccamData
import OccamNN
import OccamTensor

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Loss and accuracy of a checkpoint on each split of a data set.")

    @Option(help: "A checkpoint written by occam train (.safetensors).") var checkpoint: String
    @Option(help: "Data set (default: the one the checkpoint was trained on).") var dataset: DataSetName?
    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, then /usr/share/datasets).") var dataDir: String?

    func run() throws {
        let url = URL(fileURLWithPath: checkpoint)
        let file = try SafeTensorsFile.read(from: url)
        switch file.metadata["occam.precision"] {
        case "float64": try evaluate(Double.self, url)
        default: try evaluate(Float.self, url)
        }
    }

    private func evaluate<Scalar: TensorScalar>(_: Scalar.Type, _ url: URL) throws {
        let saved = try TrainingCheckpoint<Scalar>.read(from: url)
        var configuration = saved.configuration
        if let dataset {
            guard dataset.imageShape == configuration.dataset.imageShape, dataset.classCount == configuration.dataset.classCount else {
                throw ValidationError("The checkpoint's model takes \(configuration.dataset) images; \(dataset) images have another shape or class count.")
            }
            configuration.dataset = dataset
        }
        let data = try PreparedData<Scalar>(configuration.data, seed: configuration.dataSplitSeed, directory: dataDir.map { URL(fileURLWithPath: $0) })
        let model: Model<Scalar> = try configuration.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
        print("\(url.lastPathComponent): \(configuration.model) after \(saved.iteration) iterations, on \(configuration.dataset.displayName)")
        print("split         images   loss      accuracy")
        for (name, split) in [("train", data.train), ("validation", data.validation), ("test", data.test)] where split.count > 0 {
            let result = model.evaluate(
                parameters: saved.parameters, buffers: saved.buffers, inputs: split.images, labels: split.labels, loss: configuration.loss)
            print(name.padding(toLength: 14, withPad: " ", startingAt: 0)
                  + String(split.count).padding(toLength: 9, withPad: " ", startingAt: 0)
                  + String(format: "%-10.4f%.2f%%", result.loss, 100 * result.accuracy))
        }
    }
}
