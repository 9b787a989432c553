import Foundation
import OccamData
import OccamTensor

/// One line of metrics.jsonl: an evaluation of one split at one step.
public struct EvaluationRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var epoch: Double
    /// "validation", "test", "train" (the whole training split), another evaluated split, or "train-batches":
    /// the mean loss and accuracy of the training batches since the previous such record (`batches` of them),
    /// as the optimizer saw them (with augmentation and dropout), logged every `Trainer.logTrainingEvery`.
    public var split: String
    public var loss: Double
    public var accuracy: Double
    /// The learning rate of the last step in a "train-batches" record; nil for evaluations.
    public var learningRate: Double? = nil
    /// How many training batches a "train-batches" record averages; nil for evaluations.
    public var batches: Int? = nil
    /// A probe's named measurements (split "fisher": the Fisher trace and its standard error, ...); nil for
    /// evaluations. `loss` and `accuracy` are then those of the probe's images.
    public var values: [String: Double]? = nil
}

/// A measurement taken during training every `every` (and at the start and the end), written to metrics.jsonl
/// as an `EvaluationRecord` of split `name` with the probe's `values`. It must not change the state, and should
/// depend only on the state and the iteration, so that a resumed run writes the same bits.
public struct TrainingProbe<Scalar: TensorScalar>: Sendable {
    /// What a probe sees: the run's model and training split, and the state at `iteration`.
    public struct Input {
        public var model: Model<Scalar>
        public var train: LabeledImages<Scalar>
        public var parameters: ParameterSet<Scalar>
        public var buffers: ParameterSet<Scalar>
        public var iteration: Int
        /// The training batch size.
        public var batchSize: Int
    }

    public var name: String
    public var every: TrainingDuration
    /// The record's loss, accuracy and named values.
    public var measure: @Sendable (Input) -> (loss: Double, accuracy: Double, values: [String: Double])

    public init(
        name: String, every: TrainingDuration,
        measure: @escaping @Sendable (Input) -> (loss: Double, accuracy: Double, values: [String: Double])
    ) {
        (self.name, self.every, self.measure) = (name, every, measure)
    }
}

/// What a finished run reports (summary.json).
public struct TrainingSummary: Codable, Sendable {
    public var iterations: Int
    public var epochs: Double
    public var finalValidation: EvaluationRecord?
    public var finalTest: EvaluationRecord?
    /// The step of minimum validation loss (Frankle & Carbin's early-stopping iteration).
    public var earlyStoppingIteration: Int?
    /// Test accuracy at that step.
    public var earlyStoppingTestAccuracy: Double?
    /// The first evaluation at which training accuracy reached `stopAtTrainingAccuracy` (nil: not set, or
    /// not reached within `steps`).
    public var fitIteration: Int?
    /// Training samples per second over this session (excluding evaluation).
    public var samplesPerSecond: Double
    public var wallSeconds: Double
    /// The part of `wallSeconds` spent evaluating the splits (nil in summaries written before it was measured).
    public var evaluationSeconds: Double?
    /// The iteration this session started from (non-zero when resumed, or when started from rewound weights).
    public var resumedFrom: Int
    /// Set when the loss (or an evaluation's loss) became NaN or infinite: the run stopped there.
    public var divergence: Divergence?
}

/// Where and how a run diverged: its loss became NaN or infinite.
public struct Divergence: Codable, Sendable, Equatable {
    /// The iteration whose parameters gave the non-finite loss.
    public var iteration: Int
    /// "nan", "inf" or "-inf" (JSON has no such numbers).
    public var loss: String
    /// Where the loss was measured: "training batch" or the evaluated split ("validation", "test").
    public var measuredOn: String
    /// The learning rate of the step that led there.
    public var learningRate: Double
    /// The last checkpoint with finite weights ("final.safetensors" when the diverging state's weights are
    /// still finite), relative to the run's directory; nil when there is none.
    public var lastFiniteCheckpoint: String?

    public init(iteration: Int, loss: Double, measuredOn: String, learningRate: Double, lastFiniteCheckpoint: String?) {
        self.iteration = iteration
        self.loss = loss.isNaN ? "nan" : loss > 0 ? "inf" : "-inf"
        self.measuredOn = measuredOn
        self.learningRate = learningRate
        self.lastFiniteCheckpoint = lastFiniteCheckpoint
    }

    /// What happened and the likely cause, for a message.
    public var explanation: String {
        "training diverged: the loss on the \(measuredOn) became \(loss) at iteration \(iteration) (learning rate "
            + "\(learningRate)); the learning rate is likely too high for this model and optimizer: try a smaller --lr"
            + (lastFiniteCheckpoint.map { ". The last checkpoint with finite weights is \($0)" } ?? "")
    }
}

/// Where a run is, for progress lines.
public struct TrainingProgress: Sendable {
    public var iteration: Int
    public var totalIterations: Int
    public var iterationsPerEpoch: Int
    /// Mean training loss and accuracy since the last report.
    public var trainingLoss: Double
    public var trainingAccuracy: Double
    public var samplesPerSecond: Double
    /// Evaluations made at this iteration (empty most of the time).
    public var evaluations: [EvaluationRecord]
}

/// Trains a model as a `TrainingConfiguration` says, writing metrics, checkpoints and a summary to a
/// directory, and resuming bit-identically from the latest checkpoint there.
///
/// Determinism: initialization draws from the seed's "init" stream; the batch at iteration i is fixed by
/// the seed and i (`BatchLoader`); dropout at iteration i draws from stream "dropout" / i. So the state at
/// iteration i is the same whether the run got there in one go or through a checkpoint.
public struct Trainer<Scalar: TensorScalar> {
    public var configuration: TrainingConfiguration
    public var data: PreparedData<Scalar>
    public var model: Model<Scalar>
    /// Results go here (metrics.jsonl, config.json, checkpoint-<n>it.safetensors, final.safetensors, summary.json);
    /// nil keeps everything in memory.
    public var directory: URL?
    /// Applied to the initial weights and kept by the optimizer (pruned weights stay exactly zero).
    public var mask: PruningMask<Scalar>?
    /// The starting weights; nil draws them from the seed's "init" stream.
    public var initialParameters: ParameterSet<Scalar>?
    /// The starting buffers (BatchNorm statistics); nil: the model's initial buffers.
    public var initialBuffers: ParameterSet<Scalar>?
    /// The iteration a fresh run starts at: training from weights rewound to iteration k of another run
    /// continues that run's data order and schedule from k, with a fresh optimizer (as OpenLTH does).
    public var startIteration = 0
    /// More splits evaluated beside validation and test, by name ("test-corrupted": test images with corrupted labels).
    public var extraEvaluationSplits: [(name: String, images: LabeledImages<Scalar>)] = []
    /// Save a checkpoint this often (in iterations) to resume from, keeping only the latest of these; nil: only
    /// the configured checkpoints and the end. It changes no result, so it is not part of the configuration.
    public var resumeCheckpointEvery: Int?
    /// Also save such a resume checkpoint when this many seconds of wall time have passed since the last
    /// checkpoint (default 5 minutes), so that a killed run loses at most that much work; nil: never by time.
    public var resumeCheckpointSeconds: Double? = 300
    /// Asked at every step boundary; a non-nil answer (the reason, e.g. "SIGTERM") stops the run there after
    /// writing a resume checkpoint, with `TrainingError.interrupted`. Default: a stopping signal received since
    /// `Interruption.install()` (which `run` calls when writing to a directory).
    public var stopRequest: @Sendable () -> String? = { Interruption.requestedSignal }
    /// Log the mean training loss and accuracy of the batches since the last such record, and the learning
    /// rate, to metrics.jsonl (split "train-batches") this often, and at the end; nil: never. It changes no
    /// result, so it is not part of the configuration.
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)
    /// Measurements logged to metrics.jsonl during training (the Fisher trace); they change no result, so they
    /// are not part of the configuration.
    public var probes: [TrainingProbe<Scalar>] = []
    /// Trains on a teacher's soft targets (`DistillationLoss`, the teacher run on each training batch) instead
    /// of `configuration.loss`; evaluations still use `configuration.loss`. nil: the labels alone.
    public var teacher: Teacher<Scalar>?

    public init(configuration: TrainingConfiguration, data: PreparedData<Scalar>, directory: URL?) throws {
        self.configuration = configuration
        self.data = data
        self.directory = directory
        try configuration.validate()
        model = try configuration.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
    }

    /// The final checkpoint's path in `directory`.
    public var finalCheckpointURL: URL? { directory?.appendingPathComponent("final.safetensors") }

    /// The path of the checkpoint saved at `iteration`.
    public func checkpointURL(iteration: Int) -> URL? {
        directory?.appendingPathComponent("checkpoint-\(iteration)it.safetensors")
    }

    /// Runs to the end, resuming from the latest checkpoint in `directory` when `resume` is set.
    /// - Parameter progress: called after every iteration.
    /// - Returns: the summary and the final state.
    public func run(resume: Bool = true, progress: (TrainingProgress) -> Void = { _ in })
        throws -> (summary: TrainingSummary, checkpoint: TrainingCheckpoint<Scalar>)
    {
        var loader = BatchLoader(
            data.train, batchSize: configuration.batchSize, seed: configuration.seed, augmentation: configuration.augmentation)
        let perEpoch = loader.batchesPerEpoch
        let total = configuration.steps.iterations(perEpoch: perEpoch)
        let evaluateEvery = max(1, configuration.evaluateEvery.iterations(perEpoch: perEpoch))
        if let perDecade = configuration.evaluationsPerDecade, perDecade < 1 {
            throw TrainingError.impossibleConfiguration("\(perDecade) evaluations per decade is too few; use at least 1")
        }
        let logSpacedEvaluations = configuration.evaluationsPerDecade.map {
            Set(TrainingConfiguration.logSpacedIterations(perDecade: $0, through: total))
        }
        let checkpointIterations = Set(configuration.checkpoints.map { $0.iterations(perEpoch: perEpoch) })
        guard total >= 1 else { throw TrainingError.impossibleConfiguration("--steps \(configuration.steps) is zero iterations") }
        guard configuration.batchSize <= data.train.count else {
            throw TrainingError.impossibleConfiguration(
                "--batch-size \(configuration.batchSize) is larger than the training set (\(data.train.count) images); use at most \(data.train.count)")
        }
        for checkpoint in configuration.checkpoints where checkpoint.iterations(perEpoch: perEpoch) > total {
            throw TrainingError.impossibleConfiguration(
                "--checkpoint-at \(checkpoint) (\(checkpoint.iterations(perEpoch: perEpoch)) iterations) is beyond the end of training at \(total) iterations (--steps \(configuration.steps))")
        }
        guard !configuration.schedule.lacksCosineLength else {
            throw TrainingError.impossibleConfiguration(
                "the cosine schedule has no length; set it to the training length (\(total) iterations) before training")
        }
        if directory != nil { Interruption.install() }
        guard startIteration < total else {
            throw TrainingError.impossibleConfiguration(
                "training starts at iteration \(startIteration) but ends at \(total) (--steps \(configuration.steps)); start earlier or train longer")
        }

        var state = try startingState(resume: resume, total: total)
        var records = try existingRecords(upTo: state.iteration)
        if let directory {
            try ResultFiles.writeJSON(
                TrainingRunFile(configuration: configuration, precision: Scalar.precisionName), to: directory.appendingPathComponent("config.json"))
        }
        var optimizer = configuration.optimizer.make(mask: state.mask, as: Scalar.self)
        if !state.optimizerState.tensors.names.isEmpty || state.optimizerState.step > 0 {
            try optimizer.restore(state.optimizerState, parameters: state.parameters)
        }
        let resumedFrom = state.iteration
        // A resume checkpoint is deleted once a later one is written, unless it is a configured one or the end.
        let isOnlyForResuming = { (iteration: Int) in !checkpointIterations.contains(iteration) && iteration != total }
        // The resume checkpoint to delete when the next one is written (the one resumed from, if it is one).
        var periodicCheckpoint: Int? = resumedFrom > startIteration && isOnlyForResuming(resumedFrom) ? resumedFrom : nil
        var lastCheckpointTime = Date()
        var divergence: Divergence?
        // Marks the run diverged at `iteration`: the weights of `state` are kept as the final checkpoint when
        // they are finite; otherwise the latest checkpoint on disk stays the last finite one.
        func diverge(loss: Double, on split: String, learningRate: Double) throws {
            var lastFinite: String? = periodicCheckpoint.flatMap { checkpointURL(iteration: $0)?.lastPathComponent }
            if state.parameters.entries.allSatisfy({ $0.tensor.scalars.allSatisfy(\.isFinite) }) {
                state.optimizerState = optimizer.state
                if let url = finalCheckpointURL {
                    try state.write(to: url)
                    lastFinite = url.lastPathComponent
                }
            } else if lastFinite == nil {
                lastFinite = try latestCheckpoint()?.lastPathComponent
            }
            divergence = Divergence(
                iteration: state.iteration, loss: loss, measuredOn: split, learningRate: learningRate, lastFiniteCheckpoint: lastFinite)
        }
        // The probes due at `iteration` (every probe at the start and at the end).
        func probeRecords(_ state: TrainingCheckpoint<Scalar>) -> [EvaluationRecord] {
            probes.filter { probe in
                let every = max(1, probe.every.iterations(perEpoch: perEpoch))
                return state.iteration % every == 0 || state.iteration == total || state.iteration == startIteration
            }.compactMap { probe in
                let result = probe.measure(.init(
                    model: model, train: data.train, parameters: state.parameters, buffers: state.buffers, iteration: state.iteration,
                    batchSize: configuration.batchSize))
                // A diverging run's probe is left out: the divergence itself is recorded by the evaluations.
                guard result.loss.isFinite, result.values.values.allSatisfy(\.isFinite) else { return nil }
                return EvaluationRecord(
                    step: state.iteration, epoch: Double(state.iteration) / Double(perEpoch), split: probe.name, loss: result.loss,
                    accuracy: result.accuracy, values: result.values)
            }
        }
        if state.iteration == startIteration {
            let evaluations = evaluate(state, iteration: state.iteration, perEpoch: perEpoch)
            if let bad = evaluations.first(where: { !$0.loss.isFinite }) {
                try diverge(loss: bad.loss, on: bad.split, learningRate: configuration.optimizer.learningRate)
            } else {
                records += evaluations
                try appendRecords(evaluations + probeRecords(state))
            }
        }

        let root = RandomGenerator(seed: configuration.seed)
        var trainingSeconds = 0.0, evaluationSeconds = 0.0
        var windowLoss = 0.0, windowAccuracy = 0.0, windowCount = 0
        let started = Date()
        // A run that fit before it stopped (a resumed one, or a target met at the start) trains no further.
        var fitted = fitIteration(in: records) != nil
        var previousRate = configuration.optimizer.learningRate
        let trainsNow = state.iteration < total && !fitted && divergence == nil
        while state.iteration < total && !fitted && divergence == nil {
            if let reason = stopRequest() {
                // A step boundary: save what is done, so that the same command resumes from here.
                state.optimizerState = optimizer.state
                let url = checkpointURL(iteration: state.iteration)
                if let url {
                    try state.write(to: url)
                    if let previous = periodicCheckpoint, previous != state.iteration, let old = checkpointURL(iteration: previous) {
                        try? FileManager.default.removeItem(at: old)
                    }
                }
                throw TrainingError.interrupted(reason: reason, iteration: state.iteration, checkpoint: url)
            }
            let clock = DispatchTime.now().uptimeNanoseconds
            var batch = loader.batch(at: loader.sampler.position(ofIteration: state.iteration))
            if let deficit = configuration.deficit, deficit.isActive(epoch: state.iteration / perEpoch) {
                let train = data.train
                batch.inputs = deficit.applied(to: batch.inputs, channels: train.channels, height: train.height, width: train.width)
            }
            var dropout = root.stream("dropout").stream(state.iteration)
            let result = teacher.map { teacher in
                let targets = teacher.loss.softTargets(teacher.model.logits(batch.inputs, parameters: teacher.parameters, buffers: teacher.buffers))
                return model.gradients(at: state.parameters, buffers: &state.buffers, inputs: batch.inputs, labels: batch.labels, random: &dropout) {
                    teacher.loss.mean($0, softTargets: targets, labels: batch.labels)
                }
            } ?? model.gradients(
                at: state.parameters, buffers: &state.buffers, inputs: batch.inputs, labels: batch.labels,
                loss: configuration.loss, labelSmoothing: configuration.labelSmoothing, random: &dropout)
            let rate = configuration.schedule.learningRate(
                base: configuration.optimizer.learningRate, step: state.iteration, stepsPerEpoch: perEpoch)
            guard result.loss.isFinite else {
                try diverge(loss: result.loss, on: "training batch", learningRate: state.iteration == 0 ? rate : previousRate)
                break
            }
            previousRate = rate
            optimizer.step(&state.parameters, gradients: result.gradients, learningRate: rate)
            state.iteration += 1
            trainingSeconds += Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
            windowLoss += result.loss
            windowAccuracy += result.accuracy
            windowCount += 1
            var window = state.trainingWindow ?? TrainingWindow()
            (window.batches, window.lossSum, window.accuracySum) = (window.batches + 1, window.lossSum + result.loss, window.accuracySum + result.accuracy)
            if let every = logTrainingEvery.map({ max(1, $0.iterations(perEpoch: perEpoch)) }), state.iteration % every == 0 || state.iteration == total {
                try appendRecords([EvaluationRecord(
                    step: state.iteration, epoch: Double(state.iteration) / Double(perEpoch), split: "train-batches",
                    loss: window.lossSum / Double(window.batches), accuracy: window.accuracySum / Double(window.batches),
                    learningRate: rate, batches: window.batches)])
                window = TrainingWindow()
            }
            state.trainingWindow = window

            var evaluations: [EvaluationRecord] = []
            let evaluates = logSpacedEvaluations.map { $0.contains(state.iteration) }
                ?? (state.iteration % evaluateEvery == 0 || state.iteration == total)
            if evaluates {
                let evaluationClock = DispatchTime.now().uptimeNanoseconds
                evaluations = evaluate(state, iteration: state.iteration, perEpoch: perEpoch)
                evaluationSeconds += Double(DispatchTime.now().uptimeNanoseconds - evaluationClock) * 1e-9
                if let bad = evaluations.first(where: { !$0.loss.isFinite }) {
                    try diverge(loss: bad.loss, on: bad.split, learningRate: rate)
                    break
                }
                records += evaluations
                try appendRecords(evaluations)
            }
            try appendRecords(probeRecords(state))
            fitted = fitIteration(in: evaluations) != nil
            let periodic = (resumeCheckpointEvery.map { state.iteration % max(1, $0) == 0 } ?? false)
                || (directory != nil && resumeCheckpointSeconds.map { Date().timeIntervalSince(lastCheckpointTime) >= $0 } ?? false)
            if checkpointIterations.contains(state.iteration) || (state.iteration == total && !fitted) || (periodic && !fitted) {
                state.optimizerState = optimizer.state
                if let url = checkpointURL(iteration: state.iteration) { try state.write(to: url) }
                if let previous = periodicCheckpoint, let url = checkpointURL(iteration: previous) { try? FileManager.default.removeItem(at: url) }
                periodicCheckpoint = isOnlyForResuming(state.iteration) ? state.iteration : nil
                lastCheckpointTime = Date()
            }
            progress(TrainingProgress(
                iteration: state.iteration, totalIterations: total, iterationsPerEpoch: perEpoch,
                trainingLoss: windowLoss / Double(windowCount), trainingAccuracy: windowAccuracy / Double(windowCount),
                samplesPerSecond: Double((state.iteration - resumedFrom) * configuration.batchSize) / max(trainingSeconds, 1e-9),
                evaluations: evaluations))
            // The progress line's mean restarts at each evaluation, and at least once an epoch.
            if !evaluations.isEmpty || windowCount >= perEpoch { (windowLoss, windowAccuracy, windowCount) = (0, 0, 0) }
            if fitted { break }
        }
        // A finished run run again trains nothing: its files, summary.json's timing included, stay as they are.
        if !trainsNow, divergence == nil, let directory,
            let existing = try? JSONDecoder().decode(
                TrainingSummary.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json"))),
            existing.iterations == state.iteration, existing.divergence == nil,
            let url = finalCheckpointURL, FileManager.default.fileExists(atPath: url.path)
        {
            return (existing, state)
        }
        state.optimizerState = optimizer.state
        if divergence == nil {
            if let url = finalCheckpointURL { try state.write(to: url) }
            if let previous = periodicCheckpoint, let url = checkpointURL(iteration: previous) { try? FileManager.default.removeItem(at: url) }
        }

        let validation = records.filter { $0.split == "validation" }
        let best = validation.min { $0.loss < $1.loss }
        let summary = TrainingSummary(
            iterations: state.iteration, epochs: Double(state.iteration) / Double(perEpoch),
            finalValidation: validation.last, finalTest: records.last { $0.split == "test" },
            earlyStoppingIteration: best?.step,
            earlyStoppingTestAccuracy: best.flatMap { best in records.first { $0.split == "test" && $0.step == best.step }?.accuracy },
            fitIteration: fitIteration(in: records),
            samplesPerSecond: Double((state.iteration - resumedFrom) * configuration.batchSize) / max(trainingSeconds, 1e-9),
            wallSeconds: Date().timeIntervalSince(started), evaluationSeconds: evaluationSeconds, resumedFrom: resumedFrom,
            divergence: divergence)
        if let directory { try ResultFiles.writeJSON(summary, to: directory.appendingPathComponent("summary.json")) }
        return (summary, state)
    }

    /// The first of `records` whose training accuracy reached `stopAtTrainingAccuracy`.
    private func fitIteration(in records: [EvaluationRecord]) -> Int? {
        guard let target = configuration.stopAtTrainingAccuracy else { return nil }
        return records.first { $0.split == "train" && $0.accuracy >= target }?.step
    }

    /// Loss and accuracy on the validation and test splits, the extra splits, and the training split when
    /// training stops at a training accuracy. Splits with the same images (a test split with corrupted labels)
    /// share one forward pass.
    public func evaluate(_ state: TrainingCheckpoint<Scalar>, iteration: Int, perEpoch: Int) -> [EvaluationRecord] {
        let train = configuration.stopAtTrainingAccuracy == nil ? [] : [("train", data.train)]
        let splits = (train + [("validation", data.validation), ("test", data.test)] + extraEvaluationSplits).filter { $0.1.count > 0 }
        var groups: [(images: Tensor<Scalar>, members: [Int])] = []
        for (index, split) in splits.enumerated() {
            if let group = groups.firstIndex(where: { $0.images == split.1.images }) {
                groups[group].members.append(index)
            } else {
                groups.append((split.1.images, [index]))
            }
        }
        var results = [(loss: Double, accuracy: Double)](repeating: (.nan, .nan), count: splits.count)
        for group in groups {
            let measured = model.evaluate(
                parameters: state.parameters, buffers: state.buffers, inputs: group.images,
                labelSets: group.members.map { splits[$0].1.labels }, loss: configuration.loss)
            for (member, result) in zip(group.members, measured) { results[member] = result }
        }
        return zip(splits, results).map { split, result in
            EvaluationRecord(
                step: iteration, epoch: Double(iteration) / Double(perEpoch), split: split.0, loss: result.loss, accuracy: result.accuracy)
        }
    }

    /// A fresh state, or the latest checkpoint in `directory` with the same configuration.
    private func startingState(resume: Bool, total: Int) throws -> TrainingCheckpoint<Scalar> {
        if resume, let latest = try latestCheckpoint() {
            let checkpoint = try TrainingCheckpoint<Scalar>.read(from: latest)
            guard checkpoint.configuration == configuration else {
                throw TrainingError.cannotResume(
                    "\(latest.path) was written by a run with another configuration; use another --out directory or delete it")
            }
            return checkpoint
        }
        var random = RandomGenerator(seed: configuration.seed).stream("init")
        var parameters = initialParameters ?? model.initialParameters(using: &random)
        if let mask {
            parameters = parameters.mapTensors { name, tensor in mask[name].map { tensor * $0 } ?? tensor }
        }
        var checkpoint = TrainingCheckpoint(
            configuration: configuration, iteration: startIteration, parameters: parameters,
            buffers: initialBuffers ?? model.initialBuffers(),
            optimizerState: OptimizerState(kind: configuration.optimizer.kind.stateKind, step: 0, tensors: ParameterSet()),
            mask: mask)
        (checkpoint.inputShape, checkpoint.classes) = (model.inputShape, model.classes)
        return checkpoint
    }

    /// The checkpoint in `directory` with the most iterations, if any.
    private func latestCheckpoint() throws -> URL? {
        guard let directory, FileManager.default.fileExists(atPath: directory.path) else { return nil }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let iterations = names.compactMap { name -> Int? in
            guard name.hasPrefix("checkpoint-"), name.hasSuffix("it.safetensors") else { return nil }
            return Int(name.dropFirst("checkpoint-".count).dropLast("it.safetensors".count))
        }
        return iterations.max().flatMap { checkpointURL(iteration: $0) }
    }

    /// Metrics already written up to `iteration` (later ones belong to a run that was cut short and are
    /// dropped, so the file ends up as if the run had never stopped).
    private func existingRecords(upTo iteration: Int) throws -> [EvaluationRecord] {
        guard let url = directory?.appendingPathComponent("metrics.jsonl") else { return [] }
        guard iteration > startIteration, let text = try? String(contentsOf: url, encoding: .utf8) else {
            try? FileManager.default.removeItem(at: url)
            return []
        }
        let decoder = JSONDecoder()
        let kept = text.split(separator: "\n").compactMap { try? decoder.decode(EvaluationRecord.self, from: Data($0.utf8)) }
            .filter { $0.step <= iteration }
        try ResultFiles.writeJSONLines(kept, to: url)
        return kept
    }

    private func appendRecords(_ records: [EvaluationRecord]) throws {
        guard let url = directory?.appendingPathComponent("metrics.jsonl"), !records.isEmpty else { return }
        try ResultFiles.appendJSONLines(records, to: url)
    }
}

extension OptimizerConfiguration.Kind {
    /// The `OptimizerState.kind` this optimizer writes.
    var stateKind: String { rawValue }
}
