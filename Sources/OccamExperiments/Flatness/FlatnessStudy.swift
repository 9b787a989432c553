import Foundation
import OccamAnalysis
import OccamAutograd
import OccamData
import OccamNN
import OccamTensor

/// One trained network of a flatness study and what was measured on it: network.json in its run directory.
public struct FlatnessNetwork: Codable, Sendable {
    public var run: FlatnessRun
    public var learningRate: Double
    public var iterations: Int
    /// Over the whole training set (the labels it trained on) and the whole test set.
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double
    public var testAccuracy: Double
    /// On the first `curvatureSamples` training images.
    public var curvature: NetworkCurvature
    /// The same network rescaled by each α.
    public var rescaled: [RescaledNetwork]

    public var trainError: Double { 1 - trainAccuracy }
    public var testError: Double { 1 - testAccuracy }
}

/// A network after Dinh et al.'s rescaling, with the check that it computes the same function.
public struct RescaledNetwork: Codable, Sendable {
    public var alpha: Double
    /// The largest |logit change| over the test set, and the largest |logit| there.
    public var largestLogitDifference: Double
    public var logitScale: Double
    /// Test images whose predicted class changed.
    public var changedPredictions: Int
    public var testAccuracy: Double
    public var curvature: NetworkCurvature
}

/// Runs a `FlatnessConfiguration` in its run directory: `replicate-<r>/batch-<B>/`, each a Trainer run, and
/// then network.json beside it with its curvature summary before and after each rescaling. A network whose
/// network.json exists is read back, so an interrupted study continues network by network. Its units
/// (`UnitStudy`) are the networks, in `configuration.runs` order: each trains, is measured and rescaled alone.
public struct FlatnessStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: FlatnessConfiguration
    public var directory: URL
    /// The prepared data for a seed.
    public var data: (UInt64) throws -> PreparedData<Scalar>
    /// Networks trained and measured at once; BLAS is single-threaded in each, so results do not depend on it.
    public var jobs = 1
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)

    public init(configuration: FlatnessConfiguration, directory: URL, data: @escaping (UInt64) throws -> PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    /// Stages the progress output counts: per network, its training and its curvature.
    public var stageCount: Int { 2 * configuration.runs.count }

    /// Trains and measures every network not yet done; returns them in `configuration.runs` order.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [FlatnessNetwork] {
        let runs = configuration.runs
        // Largest batches last: they are the quickest to train.
        return try measure(order: runs.indices.sorted { (runs[$0].batchSize, $0) < (runs[$1].batchSize, $1) }, events: events)
    }

    /// "replicate 0 · batch 64", ...: one unit per network of `configuration.runs`.
    public var unitNames: [String] { configuration.runs.map(\.name) }

    public func isFinished(unit: Int) -> Bool { FileManager.default.fileExists(atPath: networkFile(configuration.runs[unit]).path) }

    /// Trains and measures network `unit` of `configuration.runs` unless its network.json exists.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws { _ = try measure(order: [unit], events: events) }

    /// Trains and measures the networks at the indices `order`, in that order (`jobs` at a time); them in index order.
    private func measure(order: [Int], events: (StudyEvent) throws -> Void) throws -> [FlatnessNetwork] {
        try configuration.validate()
        let runs = configuration.runs
        let replicates = Set(order.map { runs[$0].replicate })
        let prepared = try Dictionary(uniqueKeysWithValues: replicates.map { ($0, try data(configuration.seed(ofReplicate: $0))) })
        return try runStudyJobs(order: order, jobs: jobs, events: events) { index, emit in
            let run = runs[index]
            return try network(run, data: prepared[run.replicate]!, parallel: jobs > 1, emit: emit)
        }
    }

    /// network.json of `run`: its measurements, written last.
    private func networkFile(_ run: FlatnessRun) -> URL { directory.appendingPathComponent(run.path).appendingPathComponent("network.json") }

    /// Trains (or reads back) one network and measures it, unless its network.json exists.
    private func network(
        _ run: FlatnessRun, data: PreparedData<Scalar>, parallel: Bool, emit: (StudyEvent) throws -> Void
    ) throws -> FlatnessNetwork {
        let runDirectory = directory.appendingPathComponent(run.path)
        let file = networkFile(run)
        let curvatureStage = "\(run.name) · curvature"
        if FileManager.default.fileExists(atPath: file.path) {
            try emit(.stageFinished(name: run.name, result: "trained", skipped: true))
            try emit(.stageFinished(name: curvatureStage, result: "measured", skipped: true))
            return try RunStore.readJSON(FlatnessNetwork.self, from: file)
        }
        let training = configuration.training(batchSize: run.batchSize, replicate: run.replicate)
        var trainer = try Trainer(configuration: training, data: data, directory: runDirectory)
        trainer.logTrainingEvery = logTrainingEvery
        let total = training.steps.iterations(perEpoch: training.iterationsPerEpoch(trainCount: data.train.count))
        trainer.resumeCheckpointEvery = max(1, total / 10)
        let stage = TrainingStage(
            name: run.name,
            detail: "\(total) iterations (\(training.steps)) at batch \(run.batchSize), learning rate \(String(format: "%.3g", training.optimizer.learningRate))",
            trainer: trainer)
        let (summary, final, _) = try stage.run(namingProgress: parallel, events: emit)

        try emit(.stageStarted(name: curvatureStage, detail: "\(configuration.curvature.operatorKind.rawValue), \(configuration.alphas.count + 1) measurements"))
        let model: Model<Scalar> = try training.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
        let curvatureImages = data.train.subset(Array(0..<configuration.curvatureSamples))
        func risk(_ parameters: ParameterSet<Scalar>, _ images: LabeledImages<Scalar>) throws -> EmpiricalRisk<Scalar> {
            EmpiricalRisk(
                model: model, parameters: parameters, buffers: final.buffers, inputs: images.images, labels: images.labels,
                loss: training.loss, subspace: try ParameterSubspace(of: parameters, selection: configuration.parameters), batchSize: 1000)
        }
        let options = configuration.curvature
        func measure(_ risk: EmpiricalRisk<Scalar>, _ label: String) throws -> NetworkCurvature {
            try withoutActuallyEscaping(emit) { emit in
                nonisolated(unsafe) let send = emit
                return try NetworkCurvature.measure(risk, options: options) { progress in
                    if case .progress(let phase, let fraction)? = progress.studyEvent(options: options, dimension: risk.subspace.dimension) {
                        try? send(.progress(phase: "\(label) \(phase)", fraction: fraction))
                    }
                }
            }
        }
        let curvature = try measure(try risk(final.parameters, curvatureImages), "original network,")
        let trainPoint = try risk(final.parameters, data.train).valueAndGradient()
        let test = evaluate(model, final.parameters, final.buffers, data.test, loss: training.loss)
        var rescaled: [RescaledNetwork] = []
        for alpha in configuration.alphas {
            let layers = FlatnessConfiguration.rescaledLayers
            let parameters = ReLURescaling.rescaled(final.parameters, first: layers.first, second: layers.second, alpha: alpha)
            let after = evaluate(model, parameters, final.buffers, data.test, loss: training.loss)
            let (difference, scale) = ReLURescaling.largestDifference(test.logits, after.logits)
            let changed = zip(test.predictions, after.predictions).filter { $0 != $1 }.count
            rescaled.append(RescaledNetwork(
                alpha: alpha, largestLogitDifference: difference, logitScale: scale, changedPredictions: changed,
                testAccuracy: after.accuracy,
                curvature: try measure(try risk(parameters, curvatureImages), "rescaled by α = \(String(format: "%g", alpha)),")))
        }
        let network = FlatnessNetwork(
            run: run, learningRate: training.optimizer.learningRate, iterations: summary.iterations, trainLoss: trainPoint.loss,
            trainAccuracy: trainPoint.accuracy, testLoss: test.loss, testAccuracy: test.accuracy, curvature: curvature, rescaled: rescaled)
        try ResultFiles.writeJSON(network, to: file)
        try emit(.stageFinished(
            name: curvatureStage,
            result: String(format: "largest eigenvalue %.4g, N_eff %.4g, log evidence %.6g", curvature.topEigenvalue ?? .nan,
                           curvature.effectiveDimensionality, curvature.evidence?.logEvidence ?? .nan),
            skipped: false))
        return network
    }

    /// Mean loss, accuracy, logits `[N, classes]` and predicted classes of a network on `images` (evaluation mode).
    private func evaluate(
        _ model: Model<Scalar>, _ parameters: ParameterSet<Scalar>, _ buffers: ParameterSet<Scalar>, _ images: LabeledImages<Scalar>, loss: Loss
    ) -> (loss: Double, accuracy: Double, logits: Tensor<Scalar>, predictions: [Int]) {
        let n = images.labels.count
        let logits = Tensor.concatenating(stride(from: 0, to: n, by: 1000).map { start in
            model.logits(images.images.slice(start..<min(n, start + 1000), alongAxis: 0), parameters: parameters, buffers: buffers)
        }, alongAxis: 0)
        let losses = withoutGradients { loss.perSample(Variable(logits), labels: images.labels).value }
        let classes = logits.shape[1]
        let values = logits.scalars
        let predictions = (0..<n).map { row in (0..<classes).max { values[row * classes + $0] < values[row * classes + $1] }! }
        let correct = zip(predictions, images.labels).filter { $0 == $1 }.count
        return (losses.scalars.reduce(0) { $0 + Double($1) } / Double(n), Double(correct) / Double(n), logits, predictions)
    }
}
