import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor
import Testing

// Issue 12 ("Trust"): no crash on any input, no silent wrong result, no lost work.

/// Training on Gaussian blobs (6 features, 3 classes) with an MLP of one hidden layer of 8.
private func smallRun(steps: Int = 40, learningRate: Double = 0.01, optimizer: OptimizerConfiguration.Kind = .adam)
    -> (TrainingConfiguration, PreparedData<Double>)
{
    var configuration = TrainingConfiguration()
    configuration.model = "mlp"
    configuration.widths = [8]
    configuration.validationCount = 40
    configuration.steps = TrainingDuration(iterations: steps)
    configuration.batchSize = 16
    configuration.optimizer = OptimizerConfiguration(kind: optimizer, learningRate: learningRate)
    configuration.evaluateEvery = TrainingDuration(iterations: 10)
    configuration.seed = 5
    let blobs = SyntheticClassification.gaussianBlobs(count: 290, classCount: 3, dimensions: 6, separation: 3, seed: 1, as: Double.self).data
    let train = blobs.subset(Array(0..<200)), test = blobs.subset(Array(200..<290))
    return (configuration, PreparedData(fullTrain: train, test: test, configuration: configuration.data, seed: configuration.seed))
}

/// Stops a run at the `count`-th step boundary it asks about (from any thread).
private final class StopAfter: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    init(_ count: Int) { remaining = count }
    func ask() -> String? {
        lock.lock()
        defer { lock.unlock() }
        remaining -= 1
        return remaining < 0 ? "a test's stop request" : nil
    }
}

@Suite("Trust: checkpoints from any bytes give an error or a usable state, never a crash")
struct CheckpointFuzzTests {
    /// A valid checkpoint of a small model (fashion-mnist's 784 inputs, widths [4]) with Adam state and a mask.
    static func validCheckpoint() throws -> Data {
        var configuration = TrainingConfiguration()
        configuration.model = "mlp"
        configuration.widths = [4]
        configuration.optimizer = OptimizerConfiguration(kind: .adam, learningRate: 0.001)
        let model: Model<Float> = try configuration.buildModel(inputShape: [1, 28, 28], classes: 10)
        var random = RandomGenerator(seed: 1)
        var parameters = model.initialParameters(using: &random)
        var optimizer = configuration.optimizer.make(as: Float.self)
        optimizer.step(&parameters, gradients: parameters, learningRate: 0.001)
        let mask = PruningMask(keepingAllOf: parameters)
        let checkpoint = TrainingCheckpoint(
            configuration: configuration, iteration: 7, parameters: parameters, buffers: model.initialBuffers(),
            optimizerState: optimizer.state, mask: mask)
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-fuzz-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try checkpoint.write(to: url)
        return try Data(contentsOf: url)
    }

    /// Reads `bytes` as a checkpoint; when that succeeds, the state must be usable: logits of two images.
    static func readAndUse(_ bytes: Data, at url: URL) -> Bool {
        try? bytes.write(to: url)
        do {
            let checkpoint = try TrainingCheckpoint<Float>.read(from: url)
            let model: Model<Float> = try checkpoint.configuration.buildModel(
                inputShape: checkpoint.inputShape ?? [1, 28, 28], classes: checkpoint.classes ?? 10)
            let inputs = Tensor<Float>(zeros: [2] + (checkpoint.inputShape ?? [1, 28, 28]))
            let logits = model.logits(inputs, parameters: checkpoint.parameters, buffers: checkpoint.buffers)
            #expect(logits.shape == [2, checkpoint.classes ?? 10])
            if checkpoint.optimizerState.step > 0 || !checkpoint.optimizerState.tensors.names.isEmpty {
                var optimizer = checkpoint.configuration.optimizer.make(mask: checkpoint.mask, as: Float.self)
                _ = try? optimizer.restore(checkpoint.optimizerState, parameters: checkpoint.parameters)
            }
            return true
        } catch {
            #expect(!"\(error)".isEmpty)
            return false
        }
    }

    @Test func randomByteAndHeaderEditsNeverCrash() throws {
        let valid = try Self.validCheckpoint()
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-fuzz-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(Self.readAndUse(valid, at: url), "the unedited checkpoint reads")

        let headerLength = Int(valid.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let header = try #require(
            JSONSerialization.jsonObject(with: valid.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let body = valid.subdata(in: (8 + headerLength)..<valid.count)
        var random = RandomGenerator(seed: 12)
        var (read, refused) = (0, 0)
        let clock = Date()

        // 1. Random byte edits: 1 to 4 bytes, mostly in the header.
        for _ in 0..<1_500 {
            var bytes = [UInt8](valid)
            for _ in 0...random.nextInt(below: 4) {
                let index = random.nextInt(below: 2) == 0
                    ? random.nextInt(below: 8 + headerLength) : random.nextInt(below: bytes.count)
                bytes[index] = UInt8(truncatingIfNeeded: random.nextInt(below: 256))
            }
            if Self.readAndUse(Data(bytes), at: url) { read += 1 } else { refused += 1 }
        }

        // 2. Header edits that keep the JSON valid: shapes, dtypes, offsets, metadata and configuration values.
        let configuration = try #require(
            JSONSerialization.jsonObject(with: Data(((header["__metadata__"] as? [String: String])?["occam.config"] ?? "").utf8))
                as? [String: Any])
        let tensorNames = header.keys.filter { $0 != "__metadata__" }.sorted()
        let oddNumbers: [Any] = [-1, 0, 1, 2, 3, 7, 784, 3136, 100_000_000_000, -100_000_000_000, 1e300, 0.5, "x", NSNull()]
        for _ in 0..<1_500 {
            var edited = header
            var metadata = edited["__metadata__"] as? [String: String] ?? [:]
            var config = configuration
            func pick<T>(_ values: [T]) -> T { values[random.nextInt(below: values.count)] }
            for _ in 0...random.nextInt(below: 2) {
                switch random.nextInt(below: 6) {
                case 0:  // reshape a tensor, often to the same element count
                    let name = pick(tensorNames)
                    var entry = edited[name] as? [String: Any] ?? [:]
                    let shape = entry["shape"] as? [Int] ?? []
                    let count = shape.reduce(1, *)
                    entry["shape"] = pick([[count], shape.reversed(), [count, 1], [1, count], [], [count / 2, 2], [-count], [0], shape + [1]])
                    edited[name] = entry
                case 1:  // change a dtype or an offset
                    let name = pick(tensorNames)
                    var entry = edited[name] as? [String: Any] ?? [:]
                    if random.nextInt(below: 2) == 0 {
                        entry["dtype"] = pick(["F64", "F16", "I64", "U8", "BOOL", ""])
                    } else {
                        let offsets = entry["data_offsets"] as? [Int] ?? [0, 0]
                        entry["data_offsets"] = [offsets[0] + pick([-4, 0, 4]), offsets[1] + pick([-4, 0, 4])]
                    }
                    edited[name] = entry
                case 2:  // remove or rename a tensor
                    let name = pick(tensorNames)
                    let entry = edited.removeValue(forKey: name)
                    if random.nextInt(below: 2) == 0 { edited[pick(["fc9.weight", "optimizer.exp_avg.fc9.weight", "mask.fc3.weight", name + "x"])] = entry }
                case 3:  // a metadata value
                    metadata[pick(["occam.iteration", "occam.optimizer_step", "occam.optimizer", "occam.precision", "format", "occam.input_shape", "occam.classes"])] =
                        pick(["-1", "0", "x", "", "99999999999999999999", "sgd", "adamw", "float64", "3,32,32", "1,1,6", "0,0,0", "3", "1"])
                case 4:  // a configuration value
                    let key = pick(["model", "widths", "width", "validationCount", "trainSize", "batchSize", "steps", "dataset",
                                    "labelSmoothing", "dropout", "evaluateEvery", "checkpoints", "seed", "normalize"])
                    let models: [Any] = ["lenet-300-100", "mcnn", "resnet-20", "conv-6", "nope"]
                    let others: [Any] = [[4], [3, 4], [0], [100_000_000_000], "10it", "-1ep", "cifar10", [String]()]
                    config[key] = pick(oddNumbers + models + others)
                default:  // an optimizer or schedule value
                    var optimizer = config["optimizer"] as? [String: Any] ?? [:]
                    optimizer[pick(["learningRate", "momentum", "weightDecay", "kind", "nesterov"])] = pick(oddNumbers + ["sgd", "adamw", true])
                    config["optimizer"] = optimizer
                }
            }
            if let text = try? JSONSerialization.data(withJSONObject: config) { metadata["occam.config"] = String(decoding: text, as: UTF8.self) }
            edited["__metadata__"] = metadata
            guard let json = try? JSONSerialization.data(withJSONObject: edited) else { continue }
            var length = UInt64(json.count).littleEndian
            let bytes = Data(bytes: &length, count: 8) + json + body
            if Self.readAndUse(bytes, at: url) { read += 1 } else { refused += 1 }
        }
        let seconds = Date().timeIntervalSince(clock)
        // Both outcomes occur, so the edits reach past the first check.
        #expect(read > 0 && refused > 0)
        print("checkpoint fuzz: \(read + refused) edited files, \(read) read and used, \(refused) refused, \(String(format: "%.1f", seconds)) s")
    }

    @Test func aTensorWithTheRightByteCountButAnotherShapeIsRefusedByName() throws {
        let valid = try Self.validCheckpoint()
        let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("occam-shape-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try valid.write(to: url)
        var file = try SafeTensorsFile.read(from: url)
        let weight = try #require(file["fc1.weight"]?.tensor(as: Float.self))
        #expect(weight.shape == [4, 784])
        for shape in [[784, 4], [3136]] {
            file["fc1.weight"] = .float32(weight.reshaped(to: shape))
            try file.write(to: url)
            #expect {
                _ = try TrainingCheckpoint<Float>.read(from: url)
            } throws: { error in
                "\(error)".contains("fc1.weight has shape \(shape)") && "\(error)".contains("[4, 784]")
            }
        }
    }
}

@Suite("Trust: every impossible option value is refused with its name")
struct BadOptionTests {
    /// One bad value per row: the edit and a part of the message that names it.
    static let trainingCases: [(String, @Sendable (inout TrainingConfiguration) -> Void, String)] = [
        ("weight decay -1", { $0.optimizer.weightDecay = -1 }, "--weight-decay"),
        ("weight decay nan", { $0.optimizer.weightDecay = .nan }, "--weight-decay"),
        ("momentum -1", { $0.optimizer.momentum = -1 }, "--momentum"),
        ("momentum 2", { $0.optimizer.momentum = 2 }, "--momentum"),
        ("lr inf", { $0.optimizer.learningRate = .infinity }, "--lr"),
        ("lr 0", { $0.optimizer.learningRate = 0 }, "--lr"),
        ("nesterov without momentum", { $0.optimizer.nesterov = true }, "--nesterov"),
        ("mcnn width 0", { $0.model = "mcnn"; $0.width = 0 }, "--width"),
        ("unknown model", { $0.model = "gpt" }, "Unknown model"),
        ("mlp widths 0", { $0.model = "mlp"; $0.widths = [0] }, "--widths"),
        ("mlp widths empty", { $0.model = "mlp"; $0.widths = [] }, "--widths"),
        ("mlp widths 1e11", { $0.model = "mlp"; $0.widths = [100_000_000_000] }, "of memory"),
        ("resnet width 1e6", { $0.model = "resnet-20"; $0.width = 1_000_000 }, "of memory"),
        ("cosine -1", { $0.schedule = .cosine(totalSteps: 0, minimum: -1) }, "--schedule"),
        ("step gamma -1", { $0.schedule = .multiStep(milestones: [10, 5], gamma: -1) }, "--schedule"),
        ("step milestone -1", { $0.schedule = .multiStep(milestones: [-1], gamma: 0.1) }, "--schedule"),
        ("exponential -1", { $0.schedule = .exponentialPerEpoch(gamma: -1) }, "--schedule"),
        ("exponential nan", { $0.schedule = .exponentialPerEpoch(gamma: .nan) }, "--schedule"),
        ("warmup -1", { $0.schedule = .linearWarmup(steps: -1, then: .constant) }, "--schedule"),
        ("warmup then bad", { $0.schedule = .linearWarmup(steps: 5, then: .exponentialPerEpoch(gamma: 0)) }, "--schedule"),
        ("steps 1e18 epochs", { $0.steps = TrainingDuration(epochs: 1_000_000_000_000_000_000) }, "--steps"),
        ("steps 0", { $0.steps = TrainingDuration(iterations: 0) }, "--steps"),
        ("eval every -1", { $0.evaluateEvery = TrainingDuration(iterations: -1) }, "--eval-every"),
        ("checkpoint beyond the end", { $0.checkpoints = [TrainingDuration(iterations: 60_000)] }, "--checkpoint-at"),
        ("batch size 0", { $0.batchSize = 0 }, "--batch-size"),
        ("train size 0", { $0.trainSize = 0 }, "--train-size"),
        ("validation count -1", { $0.validationCount = -1 }, "--validation-count"),
        ("crop padding -1", { $0.augmentation.cropPadding = -1 }, "--crop-padding"),
        ("label smoothing 1", { $0.labelSmoothing = 1 }, "--label-smoothing"),
        ("label smoothing nan", { $0.labelSmoothing = .nan }, "--label-smoothing"),
        ("dropout 1", { $0.model = "mlp"; $0.dropout = 1 }, "--dropout"),
        ("dropout on lenet", { $0.dropout = 0.5 }, "--dropout"),
        ("stop accuracy 2", { $0.stopAtTrainingAccuracy = 2 }, "accuracy"),
        ("evaluations per decade 0", { $0.evaluationsPerDecade = 0 }, "--evaluations-per-decade"),
    ]

    @Test func trainingConfigurationRefusesEveryBadValue() {
        #expect(throws: Never.self) { try TrainingConfiguration().validate() }
        for (name, edit, expected) in Self.trainingCases {
            var configuration = TrainingConfiguration()
            edit(&configuration)
            #expect(name.isEmpty == false)
            #expect {
                try configuration.validate()
            } throws: { error in
                "\(error)".contains(expected)
            }
        }
    }

    @Test func studyConfigurationsRefuseBadTrainingValuesAndTheirOwn() throws {
        var lottery = LotteryConfiguration(training: TrainingConfiguration())
        lottery.training.optimizer.momentum = 2
        #expect(throws: TrainingError.self) { try lottery.validate() }

        var connectivity = ConnectivityConfiguration(training: TrainingConfiguration())
        connectivity.training.optimizer.learningRate = .infinity
        #expect(throws: TrainingError.self) { try connectivity.validate() }
        connectivity = ConnectivityConfiguration(training: TrainingConfiguration())
        connectivity.trainEvaluationSize = 1_000
        #expect { try connectivity.validate(trainCount: 500) } throws: { "\($0)".contains("--train-eval-size 1000") }

        var networks = DoubleDescentNetworksConfiguration(widths: [10, 100_000_000_000])
        #expect(throws: TrainingError.self) { try networks.validate() }
        networks = DoubleDescentNetworksConfiguration()
        networks.training.schedule = .exponentialPerEpoch(gamma: .nan)
        #expect(throws: TrainingError.self) { try networks.validate() }

        var kernel = KernelConfiguration()
        kernel.trainSizes = [10]
        #expect(throws: ExperimentError.self) { try kernel.validate(trainCount: 0) }
        kernel.ridges = [.infinity]
        #expect(throws: ExperimentError.self) { try kernel.validate(trainCount: 100) }
        var features = DoubleDescentFeaturesConfiguration()
        #expect(throws: ExperimentError.self) { try features.validate(trainCount: 0) }
        features.bandwidth = .nan
        #expect(throws: ExperimentError.self) { try features.validate(trainCount: 60_000) }
    }

    /// The built `occam` binary next to the test bundle, if there is one.
    static var occamBinary: URL? {
        let candidates = [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
            .flatMap { [$0.appendingPathComponent("occam"), $0.deletingLastPathComponent().appendingPathComponent("occam")] }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `occam` with `arguments`; returns its exit status (nil when it died of a signal) and its output.
    static func runOccam(_ arguments: [String], binary: URL) throws -> (status: Int32?, output: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationReason == .exit ? process.terminationStatus : nil, String(decoding: output, as: UTF8.self))
    }

    /// Every command, parsed by its own option parsing: one bad value per row and what the message must name.
    /// (Values checked only against the loaded data set, such as kernel bandwidths, are covered through the
    /// configurations above, so that these rows pass without the data sets installed.)
    static let commandCases: [([String], String)] = [
        (["train", "--weight-decay=-1"], "--weight-decay"),
        (["train", "--momentum=-1"], "--momentum"),
        (["train", "--momentum", "2"], "--momentum"),
        (["train", "--model", "mcnn", "--width", "0"], "--width"),
        (["train", "--schedule", "cosine:-1"], "--schedule"),
        (["train", "--schedule", "step:10,5:-1"], "--schedule"),
        (["train", "--schedule", "step:10,,5:0.1"], "--schedule"),
        (["train", "--schedule", "exponential:-1"], "--schedule"),
        (["train", "--schedule", "exponential:nan"], "--schedule"),
        (["train", "--steps", "1000000000000000000ep"], "--steps"),
        (["train", "--model", "mlp", "--widths", "100000000000"], "of memory"),
        (["train", "--model", "mlp", "--widths", "10,,10"], "--widths"),
        (["train", "--lr", "inf"], "--lr"),
        (["train", "--checkpoint-at", "600it", "--steps", "500it"], "--checkpoint-at"),
        (["train", "--batch-size", "0"], "--batch-size"),
        (["lottery", "--momentum", "2"], "--momentum"),
        (["lottery", "--lr", "nan"], "--lr"),
        (["connectivity", "--weight-decay=-1"], "--weight-decay"),
        (["randomize", "--schedule", "exponential:-1"], "--schedule"),
        (["double-descent", "networks", "--widths", "10,,10"], "--widths"),
        (["double-descent", "networks", "--lr", "inf"], "--lr"),
        (["double-descent", "features", "--train-sizes", "0"], "--train-sizes"),
        (["kernel", "--train-sizes", "10,,20"], "--train-sizes"),
        (["min-norm", "--learning-rate", "inf"], "--learning-rate"),
        (["memorize", "--labels", "maybe"], "--labels"),
        (["bench", "train", "--density", "2"], "--density"),
        (["eval", "--checkpoint", "/nonexistent/x.safetensors"], "/nonexistent/x.safetensors"),
        (["train", "--lr=-1"], "--lr"),
        (["train", "--model", "mlp", "--dropout", "1"], "--dropout"),
        (["train", "--label-smoothing", "1"], "--label-smoothing"),
        (["connectivity", "--points", "1"], "--points"),
        (["lottery", "--prune-rate", "1.5"], "pruning rates"),
        (["randomize", "--fit-accuracy", "2"], "--fit-accuracy"),
        (["double-descent", "networks", "--label-noise", "1.5"], "--label-noise"),
        (["memorize", "--samples", "0"], "--samples"),
        (["min-norm", "--epochs", "0"], "--epochs"),
        (["bench", "train", "--batch-size", "0"], "--batch-size"),
        (["eval", "--checkpoint", "/tmp"], "it is a directory"),
        (["curvature", "--checkpoint", "/nonexistent/c.safetensors"], "/nonexistent/c.safetensors"),
        (["curvature", "--checkpoint", "/tmp"], "it is a directory"),
        (["curvature", "--checkpoint", "c.safetensors", "--samples", "0"], "--samples"),
        (["curvature", "--checkpoint", "c.safetensors", "--samples", "70000"], "--samples"),
        (["curvature", "--checkpoint", "c.safetensors", "--tolerance", "nan"], "--tolerance"),
        (["curvature", "--checkpoint", "c.safetensors", "--top=-1"], "--top"),
        (["curvature", "--checkpoint", "c.safetensors", "--top", "0"], "nothing to measure"),
        (["curvature", "--checkpoint", "c.safetensors", "--trace", "--trace-probes", "1"], "--trace-probes"),
        (["curvature", "--checkpoint", "c.safetensors", "--operator", "laplacian"], "--operator"),
        (["curvature", "--checkpoint", "c.safetensors", "--batch-size", "0"], "--batch-size"),
        (["bench", "curvature", "--tolerance", "2"], "--tolerance"),
        (["train", "--fisher-every", "often"], "--fisher-every"),
        (["lottery", "--fisher-every", "100it", "--fisher-samples", "1"], "--fisher-samples"),
        (["critical-period", "--lengths", "4,8"], "--lengths must include 0"),
        (["critical-period", "--lengths", "0,-2"], "--lengths"),
        (["critical-period", "--window-onsets", "soon"], "--window-onsets"),
        (["critical-period", "--blur-factor", "0"], "--blur-factor"),
        (["critical-period", "--epochs-after", "0"], "--epochs-after"),
        (["critical-period", "--deficit", "noise"], "--deficit"),
        (["critical-period", "--window-length", "0"], "--window-length"),
        (["early-phase", "--rewind-iterations", "0,soon"], "--rewind-iterations"),
        (["early-phase", "--rewind-iterations", "500,100"], "ascending"),
        (["early-phase", "--rewind-iterations", "0,6000"], "not before the end of training"),
        (["early-phase", "--perturbations", "permuted,signs-kept"], "must include ticket"),
        (["early-phase", "--perturbations", "ticket,shuffled"], "--perturbations"),
        (["early-phase", "--levels", "0"], "--levels"),
        (["distill", "--temperatures", "0,2"], "--temperatures"),
        (["distill", "--temperatures", "2,hot"], "--temperatures"),
        (["distill", "--hard-label-weight", "1"], "--hard-label-weight"),
        (["distill", "--normalize", "--train-size", "1000"], "--teacher-train-size"),
        (["distill", "--teacher-dropout", "1"], "--teacher-dropout"),
        (["distill", "--teacher", "/nonexistent/teacher.safetensors"], "teacher.safetensors"),
        (["early-phase", "--prune-rate", "1"], "pruning rates"),
        (["early-phase", "--jobs", "0"], "--jobs"),
        (["lottery", "--jobs", "0"], "--jobs"),
        (["randomize", "--jobs", "0"], "--jobs"),
        (["connectivity", "--jobs", "0"], "--jobs"),
    ]

    @Test func everyCommandRefusesBadValuesWithAMessageAndNoCrash() throws {
        guard let binary = Self.occamBinary else {
            print("occam binary not found next to the tests; command-line cases skipped")
            return
        }
        let out = try makeTemporaryDirectory("options")
        defer { try? FileManager.default.removeItem(at: out) }
        for (arguments, expected) in Self.commandCases {
            let result = try Self.runOccam(arguments + (arguments.first == "eval" || arguments.first == "bench" ? [] : ["--out", out.path]), binary: binary)
            #expect(result.status != nil && result.status != 0, "\(arguments) exits non-zero without a crash")
            #expect(result.output.contains(expected), "\(arguments): \(result.output)")
            #expect(!result.output.contains("Fatal error"), "\(arguments): \(result.output)")
        }
    }
}

@Suite("Trust: run-directory lock")
struct RunDirectoryLockTests {
    @Test func aSecondHolderIsRefusedNamingTheFirstsProcessAndAReleasedLockIsFree() throws {
        let directory = try makeTemporaryDirectory("lock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try RunDirectoryLock(directory)
        #expect(throws: RunDirectoryLockError.held(directory, pid: getpid())) { _ = try RunDirectoryLock(directory) }
        #expect("\(RunDirectoryLockError.held(directory, pid: 42))".contains("PID 42"))
        first.release()
        let second = try RunDirectoryLock(directory)
        second.release()
    }

    @Test func aCrashedHoldersLockIsFree() throws {
        let directory = try makeTemporaryDirectory("lock-crash")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lockFile = directory.appendingPathComponent(RunDirectoryLock.fileName).path
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/flock") else { return }
        // Another process takes the lock on its own open file (util-linux flock on the shell's descriptor 9),
        // becomes `sleep` (same process, same descriptor), and dies of SIGKILL.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>\"$0\"; /usr/bin/flock -x 9; exec sleep 60", lockFile]
        try holder.run()
        var refused = false
        for _ in 0..<100 where !refused {
            do { try RunDirectoryLock(directory).release(); Thread.sleep(forTimeInterval: 0.05) } catch is RunDirectoryLockError { refused = true }
        }
        #expect(refused, "the other process's lock is seen")
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        // The kernel released the dead process's lock: the next opener gets it.
        let lock = try RunDirectoryLock(directory)
        lock.release()
    }

    @Test func runStoreLocksTheRunForTheProcess() throws {
        let root = try makeTemporaryDirectory("lock-store")
        defer { try? FileManager.default.removeItem(at: root) }
        var kernel = KernelConfiguration()
        kernel.trainSizes = [10]
        let directory = try RunStore.open(kernel, precision: "float64", under: root)
        // The same process may reopen its run; another holder may not.
        #expect(try RunStore.open(kernel, precision: "float64", under: root).path == directory.path)
        #expect(throws: RunDirectoryLockError.self) { _ = try RunDirectoryLock(directory) }
    }
}

@Suite("Trust: divergence, interruption and files")
struct DivergenceAndInterruptionTests {
    @Test func aNonFiniteLossStopsTheRunNamingTheStepAndKeepsTheLastFiniteState() throws {
        let (configuration, data) = smallRun(steps: 200, learningRate: 1e12, optimizer: .sgd)
        let directory = try makeTemporaryDirectory("diverge")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (summary, state) = try Trainer(configuration: configuration, data: data, directory: directory).run()
        let divergence = try #require(summary.divergence)
        #expect(summary.iterations == divergence.iteration && divergence.iteration < 200)
        #expect(["nan", "inf", "-inf"].contains(divergence.loss))
        #expect(divergence.learningRate == 1e12)
        #expect(divergence.explanation.contains("iteration \(divergence.iteration)") && divergence.explanation.contains("--lr"))
        // summary.json records it; every number written is finite JSON.
        let written = try JSONDecoder().decode(TrainingSummary.self, from: Data(contentsOf: directory.appendingPathComponent("summary.json")))
        #expect(written.divergence == divergence)
        _ = try RunStore.readJSONLines(EvaluationRecord.self, from: directory.appendingPathComponent("metrics.jsonl"))
        // The last finite checkpoint is named and reads back with finite weights.
        let kept = try #require(divergence.lastFiniteCheckpoint)
        let checkpoint = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent(kept))
        #expect(checkpoint.parameters.entries.allSatisfy { $0.tensor.scalars.allSatisfy(\.isFinite) })
        #expect(kept != "final.safetensors" || checkpoint.iteration == state.iteration)
        #expect("\(TrainingError.diverged(divergence, directory: directory))".contains("summary.json"))
    }

    @Test func aStopRequestWritesAResumeCheckpointAndTheSameRunFinishesBitIdentical() throws {
        let (configuration, data) = smallRun(steps: 40)
        let straight = try makeTemporaryDirectory("straight"), stopped = try makeTemporaryDirectory("stopped")
        defer { try? FileManager.default.removeItem(at: straight); try? FileManager.default.removeItem(at: stopped) }
        let expected = try Trainer(configuration: configuration, data: data, directory: straight).run().checkpoint

        var trainer = try Trainer(configuration: configuration, data: data, directory: stopped)
        let stop = StopAfter(13)
        trainer.stopRequest = { stop.ask() }
        #expect {
            _ = try trainer.run()
        } throws: { error in
            guard case let TrainingError.interrupted(_, iteration, checkpoint) = error else { return false }
            return iteration == 13 && checkpoint?.lastPathComponent == "checkpoint-13it.safetensors"
                && "\(error)".contains("Run the same command again")
        }
        #expect(FileManager.default.fileExists(atPath: stopped.appendingPathComponent("checkpoint-13it.safetensors").path))
        trainer.stopRequest = { nil }
        let (summary, resumed) = try trainer.run()
        #expect(summary.resumedFrom == 13)
        #expect(resumed.parameters == expected.parameters)
        // The resume checkpoint was only for resuming: gone once the run finished.
        #expect(!FileManager.default.fileExists(atPath: stopped.appendingPathComponent("checkpoint-13it.safetensors").path))
    }

    @Test func periodicWallTimeCheckpointsKeepOnlyTheLatest() throws {
        let (configuration, data) = smallRun(steps: 30)
        let directory = try makeTemporaryDirectory("wall-time")
        defer { try? FileManager.default.removeItem(at: directory) }
        var trainer = try Trainer(configuration: configuration, data: data, directory: directory)
        trainer.resumeCheckpointSeconds = 0  // every step
        let stop = StopAfter(20)
        trainer.stopRequest = { stop.ask() }
        #expect(throws: TrainingError.self) { _ = try trainer.run() }
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("checkpoint-") }
        #expect(checkpoints == ["checkpoint-20it.safetensors"])
    }

    @Test func rerunningAFinishedRunKeepsItsSummaryTiming() throws {
        let (configuration, data) = smallRun(steps: 20)
        let directory = try makeTemporaryDirectory("rerun")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try Trainer(configuration: configuration, data: data, directory: directory)
        let first = try trainer.run().summary
        let before = try Data(contentsOf: directory.appendingPathComponent("summary.json"))
        let again = try trainer.run().summary
        #expect(again.wallSeconds == first.wallSeconds && again.samplesPerSecond == first.samplesPerSecond && first.samplesPerSecond > 0)
        #expect(try Data(contentsOf: directory.appendingPathComponent("summary.json")) == before)
    }

    @Test func aBatchLargerThanTheTrainingSetIsRefused() throws {
        var (configuration, data) = smallRun()
        configuration.batchSize = 1_000
        #expect {
            _ = try Trainer(configuration: configuration, data: data, directory: nil).run()
        } throws: { "\($0)".contains("--batch-size 1000") && "\($0)".contains("160") }
        // A cosine schedule whose length was never set would trap in the schedule: refused up front.
        configuration.batchSize = 16
        configuration.schedule = .cosine(totalSteps: 0, minimum: 0)
        #expect {
            _ = try Trainer(configuration: configuration, data: data, directory: nil).run()
        } throws: { "\($0)".contains("cosine schedule has no length") }
    }

    @Test func resultFileErrorsNameThePathAndTheProblem() throws {
        let directory = try makeTemporaryDirectory("files")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plain")
        try Data("x".utf8).write(to: file)
        #expect {
            try ResultFiles.prepareDirectory(file.appendingPathComponent("run"))
        } throws: { "\($0)".contains("\(file.path) is a file, not a directory") }
        #expect {
            try ResultFiles.write(Data(), to: directory.appendingPathComponent("missing/x.json"))
        } throws: { "\($0)".contains("missing/x.json") && "\($0)".contains("does not exist") }
        struct Record: Encodable { var loss: Double }
        #expect {
            try ResultFiles.writeJSON([Record(loss: .nan)], to: directory.appendingPathComponent("r.json"))
        } throws: { "\($0)".contains("r.json") && "\($0)".contains("[0].loss is nan") }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("r.json").path))
        // A result file that does not decode: the field, not a dump of DecodingError.
        struct Point: Decodable { var x: Double }
        let point = directory.appendingPathComponent("p.json")
        try Data(#"{"y": 1}"#.utf8).write(to: point)
        #expect { _ = try RunStore.readJSON(Point.self, from: point) } throws: { "\($0)".contains("p.json: x is missing") }
        try Data("not json".utf8).write(to: point)
        #expect { _ = try RunStore.readJSON(Point.self, from: point) } throws: { "\($0)".contains("it is not valid JSON") }
    }

    @Test func temporaryFilesOfDeadWritersAreRemovedOnTheNextRun() throws {
        let directory = try makeTemporaryDirectory("stale")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A process ID that is not running (the largest possible one) and this process's.
        let dead = directory.appendingPathComponent(".summary.json.4194303-0a1b2c3d.tmp")
        let oldStyle = directory.appendingPathComponent(".metrics.jsonl.4194303.tmp")
        let live = directory.appendingPathComponent(".final.safetensors.\(getpid())-0a1b2c3d.tmp")
        for url in [dead, oldStyle, live] { try Data("partial".utf8).write(to: url) }
        try ResultFiles.prepareDirectory(directory)
        #expect(!FileManager.default.fileExists(atPath: dead.path))
        #expect(!FileManager.default.fileExists(atPath: oldStyle.path))
        #expect(FileManager.default.fileExists(atPath: live.path))
    }

    /// The built binary, trained on a small Fashion-MNIST subset, stopped with SIGTERM, then run again.
    @Test func sigtermLeavesAResumableRun() throws {
        guard let binary = BadOptionTests.occamBinary,
            FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")
        else {
            print("occam binary or Fashion-MNIST not found; SIGTERM test skipped")
            return
        }
        let out = try makeTemporaryDirectory("sigterm")
        defer { try? FileManager.default.removeItem(at: out) }
        let arguments = ["train", "--model", "mlp", "--widths", "8", "--train-size", "300", "--validation-count", "50",
                         "--batch-size", "10", "--steps", "3000it", "--eval-every", "3000it", "--quiet", "--out", out.path]
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until training has taken steps: the first "train-batches" record of metrics.jsonl comes after 100
        // (a stop before the first step would leave nothing to resume from).
        var started = false
        for _ in 0..<1200 where !started {
            started = (try? FileManager.default.contentsOfDirectory(atPath: out.path))?.contains { name in
                let metrics = out.appendingPathComponent(name).appendingPathComponent("metrics.jsonl")
                return (try? String(contentsOf: metrics, encoding: .utf8))?.contains("train-batches") ?? false
            } ?? false
            if !started { Thread.sleep(forTimeInterval: 0.05) }
        }
        try #require(started)
        kill(process.processIdentifier, SIGTERM)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus != 0, "\(message)")
        #expect(message.contains("Stopped by SIGTERM") && message.contains("Run the same command again"), "\(message)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { !$0.hasPrefix(".") })
        let names = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent(run).path)
        #expect(names.contains { $0.hasPrefix("checkpoint-") }, "\(names)")

        let again = try BadOptionTests.runOccam(arguments, binary: binary)
        #expect(again.status == 0, "\(again.output)")
        let summary = try JSONDecoder().decode(
            TrainingSummary.self, from: Data(contentsOf: out.appendingPathComponent(run).appendingPathComponent("summary.json")))
        #expect(summary.iterations == 3_000 && summary.resumedFrom > 0)
    }
}

@Suite("Trust: a closed pipe does not stop a run")
struct ClosedPipeTests {
    @Test func trainingFinishesWhenItsOutputIsClosed() throws {
        guard let binary = BadOptionTests.occamBinary,
            FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist")
        else {
            print("occam binary or Fashion-MNIST not found; closed-pipe test skipped")
            return
        }
        let out = try makeTemporaryDirectory("pipe")
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["train", "--model", "mlp", "--widths", "4", "--train-size", "100", "--validation-count", "20",
                             "--batch-size", "10", "--steps", "50it", "--eval-every", "10it", "--out", out.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Nobody reads: every line the run prints goes to a closed pipe (EPIPE, SIGPIPE ignored).
        try pipe.fileHandleForReading.close()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: out.path).first { !$0.hasPrefix(".") })
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(run).appendingPathComponent("summary.json").path))
    }
}

@Suite("Trust: PyTorch state dicts and MNIST's own file names")
struct PyTorchInteroperabilityTests {
    /// A plain state dict (names and layouts only, no metadata), as `save_file(model.state_dict(), path)` writes.
    @Test func aPlainStateDictReadsWithTheModelNamedAndIsCheckedByNameAndShape() throws {
        var configuration = TrainingConfiguration()
        configuration.model = "mlp"
        configuration.widths = [5]
        let model: Model<Float> = try configuration.buildModel(inputShape: [1, 28, 28], classes: 10)
        var random = RandomGenerator(seed: 3)
        let parameters = model.initialParameters(using: &random)
        let directory = try makeTemporaryDirectory("state-dict")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensorsFile(parameters).write(to: url)

        let read = try TrainingCheckpoint<Float>.readStateDict(from: url, configuration: configuration)
        #expect(read.parameters == parameters && read.iteration == 0)
        // Without Occam's metadata, the checkpoint reader names the problem.
        #expect { _ = try TrainingCheckpoint<Float>.read(from: url) } throws: { "\($0)".contains("occam.config") }
        // Another precision, another width, another model: each named.
        #expect { _ = try TrainingCheckpoint<Double>.readStateDict(from: url, configuration: configuration) } throws: {
            "\($0)".contains("--precision float32")
        }
        var wider = configuration
        wider.widths = [6]
        #expect { _ = try TrainingCheckpoint<Float>.readStateDict(from: url, configuration: wider) } throws: {
            "\($0)".contains("fc1.weight has shape [5, 784]") && "\($0)".contains("[6, 784]")
        }
        var lenet = configuration
        lenet.model = "lenet-5"
        #expect { _ = try TrainingCheckpoint<Float>.readStateDict(from: url, configuration: lenet) } throws: {
            "\($0)".contains("no tensor conv1.weight")
        }
    }

    @Test func mnistsDotNamedFilesAreFound() throws {
        let directory = try makeTemporaryDirectory("dotted")
        defer { try? FileManager.default.removeItem(at: directory) }
        for split in DataSplit.allCases {
            let names = FashionMNIST.fileNames(split)
            let images = IDXReaderTests.idx(magic: 0x803, dimensions: [3, 28, 28], data: [UInt8](repeating: 9, count: 3 * 784))
            try writeTestFile(images, names.images.replacingOccurrences(of: "-idx", with: ".idx"), in: directory)
            try writeTestFile(IDXReaderTests.idx(magic: 0x801, dimensions: [3], data: [0, 1, 2]),
                              names.labels.replacingOccurrences(of: "-idx", with: ".idx"), in: directory)
        }
        #expect(DataSetName.mnist.locate(directory: directory).found?.path == directory.path)
        let test: LabeledImages<Float> = try loadFashionMNIST(split: .test, directory: directory)
        #expect(test.count == 3 && test.labels == [0, 1, 2])
    }
}
