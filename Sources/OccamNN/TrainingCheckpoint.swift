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
        let configuration = try TrainingConfiguration.decode(Data(try metadata("occam.config").utf8))
        guard let iteration = Int(try metadata("occam.iteration")), let step = Int(try metadata("occam.optimizer_step")) else {
            throw CheckpointError.invalidHeader(url, reason: "occam.iteration or occam.optimizer_step is not an integer")
        }
        let precision = try metadata("occam.precision")
        guard precision == Scalar.precisionName else {
            throw CheckpointError.invalidHeader(url, reason: "it holds \(precision) tensors; run with --precision \(precision)")
        }
        let model: Model<Scalar> = try configuration.buildModel(
            inputShape: configuration.dataset.imageShapeArray, classes: configuration.dataset.classCount)
        var random = RandomGenerator(seed: 0)
        let parameterNames = model.initialParameters(using: &random).names
        let bufferNames = model.initialBuffers().names
        let parameters: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, names: parameterNames)
        let buffers: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, names: bufferNames)
        let optimizerTensors: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, prefix: "optimizer.")
        let maskTensors: ParameterSet<Scalar> = try file.parameterSet(as: Scalar.self, prefix: "mask.")
        return TrainingCheckpoint(
            configuration: configuration, iteration: iteration, parameters: parameters, buffers: buffers,
            optimizerState: OptimizerState(kind: try metadata("occam.optimizer"), step: step, tensors: optimizerTensors),
            mask: maskTensors.count == 0 ? nil : try PruningMask(maskTensors))
    }
}

extension DataSetName {
    /// One image's shape as [channels, height, width].
    public var imageShapeArray: [Int] { [imageShape.channels, imageShape.height, imageShape.width] }
}
