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
                throw CheckpointError.invalidHeader(url, reason: "metadata \"\(key)\" is missing: not a checkpoint written by occam train")
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
            throw CheckpointError.invalidHeader(url, reason: "its configuration (occam.config) is impossible: \(error)")
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
            throw CheckpointError.invalidHeader(url, reason: "it holds \(precision) tensors; run with --precision \(precision)")
        }
        let model: Model<Scalar> = try configuration.buildModel(
            inputShape: configuration.dataset.imageShapeArray, classes: configuration.dataset.classCount)
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
                throw CheckpointError.invalidHeader(url, reason: "\(what) \(name) belongs to no parameter of \(configuration.model)")
            }
            guard shape == wanted else {
                throw CheckpointError.invalidHeader(
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
            throw CheckpointError.invalidHeader(
                url, reason: "occam.optimizer is \"\(kind)\" but occam.config trains with \(configuration.optimizer.kind.rawValue)")
        }
        let mask: PruningMask<Scalar>?
        do {
            mask = maskTensors.count == 0 ? nil : try PruningMask(maskTensors)
        } catch {
            throw CheckpointError.invalidHeader(url, reason: "its pruning mask is invalid: \(error)")
        }
        return TrainingCheckpoint(
            configuration: configuration, iteration: iteration, parameters: parameters, buffers: buffers,
            optimizerState: OptimizerState(kind: kind, step: step, tensors: optimizerTensors), mask: mask)
    }
}

extension DataSetName {
    /// One image's shape as [channels, height, width].
    public var imageShapeArray: [Int] { [imageShape.channels, imageShape.height, imageShape.width] }
}
