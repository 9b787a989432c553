import Foundation
import OccamData

extension TrainingConfiguration {
    /// The largest training length, evaluation interval or checkpoint accepted, in iterations or epochs: far
    /// beyond any real run, and small enough that no count of iterations derived from it overflows.
    public static let maximumDurationAmount = 1_000_000_000_000

    /// Checks every field before anything is built or trained, so that an impossible value (from the command
    /// line or from a file) gives a message naming the option and the fix instead of a crash or a silently
    /// different run.
    ///
    /// Checked: the model name; `widths`, `width` and the memory the model's weights and optimizer state need;
    /// sizes and counts; training length, evaluation interval and checkpoints; the optimizer's learning rate,
    /// momentum and weight decay (finite and in range); the schedule's parameters; label smoothing, dropout,
    /// the stopping accuracy and evaluations per decade.
    /// - Throws: `TrainingError.impossibleConfiguration`, naming the option.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw TrainingError.impossibleConfiguration(message()) }
        }
        try require(ModelZoo.catalog.contains { $0.name == model }, ModelZoo.UnknownModel(name: model).description)
        if model == "mlp" {
            try require(!widths.isEmpty && widths.allSatisfy { $0 >= 1 }, "--widths must be positive whole numbers (got \(widths))")
        }
        if model == "mcnn" || model == "resnet-20" {
            try require(width >= 1, "--width must be at least 1 (got \(width))")
        }
        try require(trainSize.map { $0 >= 1 } ?? true, "--train-size must be at least 1 (got \(trainSize ?? 0))")
        try require(validationCount >= 0, "--validation-count must not be negative (got \(validationCount))")
        try require(augmentation.cropPadding >= 0, "--crop-padding must not be negative (got \(augmentation.cropPadding))")
        try require(
            augmentation.cropPadding <= dataset.imageShape.height,
            "--crop-padding \(augmentation.cropPadding) is larger than the images (\(dataset.imageShape.height) pixels)")
        try require(batchSize >= 1, "--batch-size must be at least 1 (got \(batchSize))")

        for (option, duration) in [("--steps", steps), ("--eval-every", evaluateEvery)] + checkpoints.map({ ("--checkpoint-at", $0) }) {
            try require(
                (0...Self.maximumDurationAmount).contains(duration.amount),
                "\(option) \(duration) is out of range (at most \(Self.maximumDurationAmount) iterations or epochs)")
        }
        try require(steps.amount >= 1, "--steps \(steps) is zero: train for at least 1 iteration")
        for checkpoint in checkpoints where checkpoint.unit == steps.unit {
            try require(checkpoint.amount <= steps.amount, "--checkpoint-at \(checkpoint) is beyond the end of training (--steps \(steps))")
        }

        try optimizer.validate()
        try schedule.validate()
        try require(labelSmoothing.isFinite && (0..<1).contains(labelSmoothing), "--label-smoothing must be at least 0 and below 1 (got \(labelSmoothing))")
        if let dropout {
            try require(dropout.isFinite && (0..<1).contains(dropout), "--dropout must be at least 0 and below 1 (got \(dropout))")
            try require(model == "mlp", "--dropout applies to --model mlp only (the other models have no dropout layer)")
        }
        if let target = stopAtTrainingAccuracy {
            try require(target.isFinite && target >= 0 && target <= 1, "the training accuracy to stop at must be between 0 and 1 (got \(target))")
        }
        if let perDecade = evaluationsPerDecade {
            try require(perDecade >= 1, "--evaluations-per-decade must be at least 1 (got \(perDecade))")
        }
        if let deficit {
            try require(deficit.startEpoch >= 0, "a deficit must start at epoch 0 or later (got \(deficit.startEpoch))")
            try require(deficit.endEpoch >= deficit.startEpoch, "a deficit must not end (epoch \(deficit.endEpoch)) before it starts (epoch \(deficit.startEpoch))")
            let shape = dataset.imageShape
            try require(
                deficit.kind != .blur || (1...min(shape.height, shape.width)).contains(deficit.blurFactor),
                "--blur-factor must be between 1 and the image size (\(min(shape.height, shape.width)) pixels; got \(deficit.blurFactor))")
        }
        try checkModelSize()
    }

    /// About how many parameters the model has (weights and biases), computed without building it, in
    /// floating point so that no width overflows; nil for the fixed-size models.
    public var estimatedParameterCount: Double? {
        estimatedParameterCount(inputShape: dataset.imageShapeArray, classes: dataset.classCount)
    }

    /// About how many parameters the model has for inputs of `inputShape` ([C, H, W]) and `classes` outputs.
    public func estimatedParameterCount(inputShape: [Int], classes classCount: Int) -> Double? {
        let shape = (channels: inputShape[0], height: inputShape[1], width: inputShape[2])
        let classes = Double(classCount)
        switch model {
        case "mlp":
            var previous = Double(shape.channels * shape.height * shape.width), count = 0.0
            for width in widths.map(Double.init) {
                count += previous * width + width
                previous = width
            }
            return count + previous * classes + classes
        case "mcnn":
            let k = Double(width)
            var (previous, count) = (Double(shape.channels), 0.0)
            for multiple in [1.0, 2, 4, 8] {
                count += 9 * previous * k * multiple + 2 * k * multiple
                previous = k * multiple
            }
            return count + 8 * k * classes + classes
        case "resnet-20":
            // 0.27M parameters at width 1; convolutions grow with the square of the width.
            let k = Double(width)
            return 270_000 * k * k + 64 * k * classes
        default:
            return nil
        }
    }

    /// Refuses a model whose weights, gradients and optimizer state (four copies in float32, the least) would
    /// not fit in this machine's memory, saying how much they would need.
    /// - Throws: `TrainingError.impossibleConfiguration`.
    public func checkModelSize(inputShape: [Int]? = nil, classes: Int? = nil) throws {
        guard let parameters = estimatedParameterCount(
            inputShape: inputShape ?? dataset.imageShapeArray, classes: classes ?? dataset.classCount)
        else { return }
        let needed = parameters * 4 * 4
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard needed.isFinite, needed < available else {
            let option = model == "mlp" ? "--widths \(widths.map(String.init).joined(separator: ","))" : "--width \(width)"
            throw TrainingError.impossibleConfiguration(
                "\(option) gives \(model) about \(String(format: "%.3g", parameters)) parameters; training it needs at least "
                    + "\(formatBytes(needed)) of memory (weights, gradients and optimizer state in float32), and this machine has "
                    + "\(formatBytes(available)): choose smaller widths")
        }
    }
}

extension OptimizerConfiguration {
    /// Checks the learning rate (finite, positive), momentum (finite, in [0, 1)), weight decay (finite, not
    /// negative) and that Nesterov momentum comes with SGD and a momentum above 0.
    /// - Throws: `TrainingError.impossibleConfiguration`, naming the option.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw TrainingError.impossibleConfiguration(message()) }
        }
        try require(learningRate.isFinite && learningRate > 0, "--lr must be a positive finite number (got \(learningRate))")
        try require(momentum.isFinite && (0..<1).contains(momentum), "--momentum must be at least 0 and below 1 (got \(momentum))")
        try require(weightDecay.isFinite && weightDecay >= 0, "--weight-decay must be a finite number, 0 or more (got \(weightDecay))")
        try require(
            !nesterov || (kind == .sgd && momentum > 0), "--nesterov needs --optimizer sgd and --momentum above 0")
    }
}

extension LearningRateSchedule {
    /// Checks that every factor is finite and positive, every milestone and step count is not negative, and a
    /// cosine's minimum is finite and not negative.
    /// - Throws: `TrainingError.impossibleConfiguration`, naming the schedule.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw TrainingError.impossibleConfiguration("--schedule: " + message()) }
        }
        switch self {
        case .constant:
            break
        case let .multiStep(milestones, gamma):
            try require(!milestones.isEmpty && milestones.allSatisfy { $0 >= 0 }, "step milestones must be iterations, 0 or more (got \(milestones))")
            try require(gamma.isFinite && gamma > 0, "the step factor GAMMA must be a positive finite number (got \(gamma))")
        case let .exponentialPerEpoch(gamma):
            try require(gamma.isFinite && gamma > 0, "the exponential factor GAMMA must be a positive finite number (got \(gamma))")
        case let .cosine(totalSteps, minimum):
            try require(totalSteps >= 0, "a cosine schedule's length must not be negative (got \(totalSteps))")
            try require(minimum.isFinite && minimum >= 0, "a cosine schedule's MIN must be a finite number, 0 or more (got \(minimum))")
        case let .linearWarmup(steps, then):
            try require(steps >= 0, "warmup steps must not be negative (got \(steps))")
            try then.validate()
        case let .restarted(step, then):
            try require(step >= 0, "a restart must be at iteration 0 or later (got \(step))")
            try then.validate()
        }
    }
}

extension LearningRateSchedule {
    /// Whether a cosine schedule in it still has no length (0 iterations, as parsed before the training
    /// length is known); such a schedule cannot give a learning rate.
    public var lacksCosineLength: Bool {
        switch self {
        case .cosine(let total, _): total < 1
        case .linearWarmup(_, let then), .restarted(_, let then): then.lacksCosineLength
        default: false
        }
    }
}

/// "1.5 GB", "940 TB": a byte count in decimal units.
func formatBytes(_ bytes: Double) -> String {
    guard bytes.isFinite else { return "more than any machine has" }
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
    var (value, unit) = (bytes, 0)
    while value >= 1000 && unit < units.count - 1 { (value, unit) = (value / 1000, unit + 1) }
    return unit == 0 ? "\(Int(value)) bytes" : "\(String(format: "%.1f", value)) \(units[unit])"
}
