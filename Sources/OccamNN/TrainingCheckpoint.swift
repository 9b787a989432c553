import Foundation
import OccamData
import OccamTensor

/// The complete state of a training run at one iteration, as one safetensors file.
///
/// Layout: the parameters and buffers under PyTorch's names ("fc1.weight", "bn1.running_mean"), so
/// `model.load_state_dict` takes them after dropping the other keys; the optimizer's state as
/// "optimizer.<state>.<parameter>" (for example "optimizer.exp_avg.fc1.weight"); a pruning mask as
/// "mask.<parameter>". Metadata: "format" = "pt", "occam.config" (the configuration's canonical JSON),
/// "occam.iteration", "occam.optimizer" (its kind) and "occam.optimizer_step".
public struct TrainingCheckpoint<Scalar: TensorScalar>: Sendable {
    public var configuration: TrainingConfiguration
    /// Optimizer steps taken so far.
    public var iteration: Int
    public var parameters: ParameterSet<Scalar>
    public var buffers: ParameterSet<Scalar>
    public var optimizerState: OptimizerState<Scalar>
    public var mask: PruningMask<Scalar>?
    /// The model's input shape ([C, H, W]) and class count when they differ from the data set's (synthetic
    /// data): written as "occam.input_shape" and "occam.classes"; nil: the configured data set's.
    public var inputShape: [Int]?
    public var classes: Int?
    /// The training batches seen since the last training-loss record of metrics.jsonl: written as
    /// "occam.training_window", so that a resumed run logs the same means as one that was never stopped.
    public var trainingWindow: TrainingWindow?

    public init(
        configuration: TrainingConfiguration, iteration: Int, parameters: ParameterSet<Scalar>,
        buffers: ParameterSet<Scalar>, optimizerState: OptimizerState<Scalar>, mask: PruningMask<Scalar>?
    ) {
        (self.configuration, self.iteration, self.parameters) = (configuration, iteration, parameters)
        (self.buffers, self.optimizerState, self.mask) = (buffers, optimizerState, mask)
    }

    /// Writes the checkpoint atomically to `url`.
    public func write(to url: URL) throws {
        var file = SafeTensorsFile(metadata: [
            "format": "pt",
            "occam.config": String(decoding: try configuration.canonicalJSON(), as: UTF8.self),
            "occam.iteration": String(iteration),
            "occam.optimizer": optimizerState.kind,
            "occam.optimizer_step": String(optimizerState.step),
            "occam.precision": Scalar.precisionName,
        ])
        if let inputShape, inputShape != configuration.dataset.imageShapeArray {
            file.metadata["occam.input_shape"] = inputShape.map(String.init).joined(separator: ",")
        }
        if let classes, classes != configuration.dataset.classCount { file.metadata["occam.classes"] = String(classes) }
        if let trainingWindow, trainingWindow.batches > 0 { file.metadata["occam.training_window"] = trainingWindow.text }
        file.insert(parameters)
        file.insert(buffers)
        file.insert(optimizerState.tensors, prefix: "optimizer.")
        if let mask { file.insert(mask.masks, prefix: "mask.") }
        try file.write(to: url)
    }

    /// Reads a checkpoint written by `write(to:)`.
    /// - Throws: `CheckpointError` for a missing, corrupt or foreign file (naming it and what is wrong).
    public static func read(from url: URL) throws -> TrainingCheckpoint {
        let file = try SafeTensorsFile.read(from: url)
        func metadata(_ key: String) throws -> String {
            guard let value = file.metadata[key] else {
                throw CheckpointError.incompatible(
                    url, reason: "its metadata has no \"\(key)\", so it is not a checkpoint written by occam train (a PyTorch "
                        + "state dict? `occam eval` reads one with --model NAME)")
            }
            return value
        }
        let configuration: TrainingConfiguration
        do {
            configuration = try TrainingConfiguration.decode(Data(try metadata("occam.config").utf8))
            try configuration.validate()
        } catch let error as CheckpointError {
            throw error
        } catch let error as TrainingError {
            throw CheckpointError.incompatible(url, reason: "its configuration (occam.config) is impossible: \(error)")
        } catch {
            throw CheckpointError.invalidHeader(url, reason: "occam.config is not a training configuration this version of occam reads")
        }
        guard let iteration = Int(try metadata("occam.iteration")), let step = Int(try metadata("occam.optimizer_step")),
            iteration >= 0, step >= 0
        else {
            throw CheckpointError.invalidHeader(url, reason: "occam.iteration or occam.optimizer_step is not a whole number, 0 or more")
        }
        let precision = try metadata("occam.precision")
        guard precision == Scalar.precisionName else {
            throw CheckpointError.incompatible(url, reason: "it holds \(precision) tensors; run with --precision \(precision)")
        }
        // The model's input shape and classes: the data set's, unless the file names others (synthetic data),
        // within bounds that keep a hostile file from asking for a huge model.
        var inputShape = configuration.dataset.imageShapeArray, classes = configuration.dataset.classCount
        if let text = file.metadata["occam.input_shape"] {
            let extents = text.split(separator: ",", omittingEmptySubsequences: false).compactMap { Int($0) }
            guard extents.count == 3, (1...4).contains(extents[0]), (1...256).contains(extents[1]), (1...256).contains(extents[2]) else {
                throw CheckpointError.invalidHeader(url, reason: "occam.input_shape \"\(text)\" is not C,H,W with 1-4 channels and 1-256 pixels a side")
            }
            inputShape = extents
        }
        if let text = file.metadata["occam.classes"] {
            guard let count = Int(text), (2...100_000).contains(count) else {
                throw CheckpointError.invalidHeader(url, reason: "occam.classes \"\(text)\" is not a class count from 2 to 100000")
            }
            classes = count
        }
        do {
            try configuration.checkModelSize(inputShape: inputShape, classes: classes)
        } catch {
            throw CheckpointError.incompatible(url, reason: "its configuration (occam.config) is impossible: \(error)")
        }
        let model: Model<Scalar> = try configuration.buildModel(inputShape: inputShape, classes: classes)
        var random = RandomGenerator(seed: 0)
        let parameterNames = model.initialParameters(using: &random).names
        random = RandomGenerator(seed: 0)
        let bufferNames = model.initialBuffers().names
        let expected = model.initialParameters(using: &random)
        let expectedBuffers = model.initialBuffers()
        let parameters: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, names: parameterNames)
        let buffers: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, names: bufferNames)
        let optimizerTensors: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, prefix: "optimizer.")
        let maskTensors: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, prefix: "mask.")
        // Every tensor must have the shape the configured model gives it: a tensor with the right number of
        // bytes but another shape would otherwise reach the engine's preconditions.
        func check(_ name: String, _ shape: [Int], against wanted: [Int]?, as what: String) throws {
            guard let wanted else {
                throw CheckpointError.incompatible(url, reason: "\(what) \(name) belongs to no parameter of \(configuration.model)")
            }
            guard shape == wanted else {
                throw CheckpointError.incompatible(
                    url, reason: "tensor \(name) has shape \(shape), but \(configuration.model) (as occam.config describes it) needs \(wanted)")
            }
        }
        for (name, tensor) in parameters.entries { try check(name, tensor.shape, against: expected[name]?.shape, as: "parameter") }
        for (name, tensor) in buffers.entries { try check(name, tensor.shape, against: expectedBuffers[name]?.shape, as: "buffer") }
        for (name, tensor) in optimizerTensors.entries {
            // "<state>.<parameter>", e.g. "exp_avg.fc1.weight".
            let parameter = name.split(separator: ".", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            try check("optimizer." + name, tensor.shape, against: expected[parameter]?.shape, as: "optimizer state")
        }
        for (name, tensor) in maskTensors.entries { try check("mask." + name, tensor.shape, against: expected[name]?.shape, as: "mask") }
        let kind = try metadata("occam.optimizer")
        guard kind == configuration.optimizer.kind.stateKind else {
            throw CheckpointError.incompatible(
                url, reason: "occam.optimizer is \"\(kind)\" but occam.config trains with \(configuration.optimizer.kind.rawValue)")
        }
        let mask: PruningMask<Scalar>?
        do {
            mask = maskTensors.count == 0 ? nil : try PruningMask(maskTensors)
        } catch {
            throw CheckpointError.incompatible(url, reason: "its pruning mask is invalid: \(error)")
        }
        var checkpoint = TrainingCheckpoint(
            configuration: configuration, iteration: iteration, parameters: parameters, buffers: buffers,
            optimizerState: OptimizerState(kind: kind, step: step, tensors: optimizerTensors), mask: mask)
        (checkpoint.inputShape, checkpoint.classes) = (inputShape, classes)
        if let text = file.metadata["occam.training_window"] {
            guard let window = TrainingWindow(text: text) else {
                throw CheckpointError.invalidHeader(url, reason: "occam.training_window \"\(text)\" is not BATCHES,LOSS_SUM,ACCURACY_SUM")
            }
            checkpoint.trainingWindow = window
        }
        return checkpoint
    }
}

/// Sums over the training batches since the last training-loss record: what the next record averages.
public struct TrainingWindow: Sendable, Equatable {
    public var batches = 0
    public var lossSum = 0.0
    public var accuracySum = 0.0

    public init() {}

    /// "BATCHES,LOSS_SUM,ACCURACY_SUM", every digit kept.
    var text: String { "\(batches),\(lossSum),\(accuracySum)" }

    init?(text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 3, let batches = Int(parts[0]), batches >= 0, let loss = Double(parts[1]), let accuracy = Double(parts[2]),
            loss.isFinite, accuracy.isFinite
        else { return nil }
        (self.batches, lossSum, accuracySum) = (batches, loss, accuracy)
    }
}

extension TrainingCheckpoint {
    /// Reads a plain state dict: a safetensors file of a model's parameters and buffers under PyTorch's names
    /// and layouts without Occam's metadata, as `safetensors.torch.save_file(model.state_dict(), path)` writes
    /// it. `configuration` names the model (and its widths) and the data set; the file's names, dtypes and
    /// shapes are checked against that model. Other tensors (PyTorch's `num_batches_tracked`) are ignored.
    /// The state is at iteration 0 with a fresh optimizer.
    /// - Throws: `TrainingError` for an impossible configuration; `CheckpointError` for a damaged file, a
    ///   missing tensor (listing what the model needs and what the file holds), another dtype or shape.
    public static func readStateDict(from url: URL, configuration: TrainingConfiguration) throws -> TrainingCheckpoint {
        let file = try SafeTensorsFile.read(from: url)
        try configuration.validate()
        let model: Model<Scalar> = try configuration.buildModel(
            inputShape: configuration.dataset.imageShapeArray, classes: configuration.dataset.classCount)
        var random = RandomGenerator(seed: 0)
        let expectedParameters = model.initialParameters(using: &random), expectedBuffers = model.initialBuffers()
        func take(_ expected: ParameterSet<Scalar>) throws -> ParameterSet<Scalar> {
            var result = ParameterSet<Scalar>()
            for (name, wanted) in expected.entries {
                guard let stored = file[name] else {
                    let needed = (expectedParameters.names + expectedBuffers.names).joined(separator: ", ")
                    throw CheckpointError.incompatible(
                        url, reason: "it has no tensor \(name): \(configuration.model) needs \(needed); the file holds "
                            + "\(file.names.prefix(12).joined(separator: ", "))\(file.count > 12 ? ", ..." : ""). Name the modules as "
                            + "`occam models` shows, or give the --model (and --widths/--width) the file was saved from")
                }
                guard let tensor = stored.tensor(as: Scalar.self) else {
                    throw CheckpointError.incompatible(
                        url, reason: "tensor \(name) is stored as \(stored.dtype.rawValue), not \(Scalar.precisionName); "
                            + "use --precision \(stored.dtype == .float64 ? "float64" : "float32")")
                }
                guard tensor.shape == wanted.shape else {
                    throw CheckpointError.incompatible(
                        url, reason: "tensor \(name) has shape \(tensor.shape), but \(configuration.model) needs \(wanted.shape)")
                }
                result.insert(tensor, named: name)
            }
            return result
        }
        var checkpoint = TrainingCheckpoint(
            configuration: configuration, iteration: 0, parameters: try take(expectedParameters), buffers: try take(expectedBuffers),
            optimizerState: OptimizerState(kind: configuration.optimizer.kind.stateKind, step: 0, tensors: ParameterSet()), mask: nil)
        (checkpoint.inputShape, checkpoint.classes) = (model.inputShape, model.classes)
        return checkpoint
    }
}

extension DataSetName {
    /// One image's shape as [channels, height, width].
    public var imageShapeArray: [Int] { [imageShape.channels, imageShape.height, imageShape.width] }
}
