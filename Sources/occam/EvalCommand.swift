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
    @Option(help: "For a PyTorch state dict without Occam's metadata: the model it holds (see `occam models`).") var model: String?
    @Option(help: "For a PyTorch state dict: the hidden widths of mlp, comma-separated.") var widths: String?
    @Option(parsing: .unconditional, help: "For a PyTorch state dict: k of mcnn, the channel multiplier of resnet-20.") var width: Int?
    @Option(help: "For a PyTorch state dict: float32 or float64 (default: the file's dtype).") var precision: Precision?

    func validate() throws {
        if let widths { _ = try parseWidths(widths) }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        let url = URL(fileURLWithPath: checkpoint)
        let file = try SafeTensorsFile.read(from: url)
        guard file.metadata["occam.config"] == nil else {
            // A checkpoint written by occam train says what it holds.
            let stored = file.metadata["occam.precision"] ?? "float32"
            if let precision, precision.rawValue != stored {
                throw ValidationError("\(url.path) holds \(stored) tensors; drop --precision or give --precision \(stored).")
            }
            switch stored {
            case "float64": try evaluate(Double.self, url, stateDict: nil)
            default: try evaluate(Float.self, url, stateDict: nil)
            }
            return
        }
        let configuration = try stateDictConfiguration(for: url, model: model, widths: widths, width: width, dataset: dataset)
        let fileIsDouble = file.entries.contains { $0.tensor.dtype == .float64 }
        switch precision ?? (fileIsDouble ? .float64 : .float32) {
        case .float64: try evaluate(Double.self, url, stateDict: configuration)
        case .float32: try evaluate(Float.self, url, stateDict: configuration)
        }
    }

    private func evaluate<Scalar: TensorScalar>(_: Scalar.Type, _ url: URL, stateDict: TrainingConfiguration?) throws {
        let saved = try stateDict.map { try TrainingCheckpoint<Scalar>.readStateDict(from: url, configuration: $0) }
            ?? TrainingCheckpoint<Scalar>.read(from: url)
        var configuration = saved.configuration
        if let dataset {
            guard dataset.imageShape == configuration.dataset.imageShape, dataset.classCount == configuration.dataset.classCount else {
                throw ValidationError("The checkpoint's model takes \(configuration.dataset) images; \(dataset) images have another shape or class count.")
            }
            configuration.dataset = dataset
        }
        let data = try PreparedData<Scalar>(configuration.data, seed: configuration.dataSplitSeed, directory: dataDir.map { URL(fileURLWithPath: $0) })
        let model: Model<Scalar> = try configuration.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
        let origin = stateDict == nil ? "after \(saved.iteration) iterations" : "(a state dict, \(Scalar.precisionName))"
        print("\(url.lastPathComponent): \(configuration.model) \(origin), on \(configuration.dataset.displayName)")
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
