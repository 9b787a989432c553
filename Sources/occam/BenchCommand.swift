import ArgumentParser
import Foundation
import OccamNN
import OccamTensor

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure training and curvature speed against PyTorch.", subcommands: [BenchTrainCommand.self, BenchCurvatureCommand.self])
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training samples per second of one model and optimizer on random 1x28x28 data (Float32).",
        discussion: """
            Times full training steps (forward, backward, optimizer update) at the given batch size. With \
            --compare, also runs Benchmarks/train_reference.py (PyTorch, 2 threads, MKL_DEBUG_CPU_TYPE=5 so its \
            MKL takes the fast path on AMD CPUs) and Benchmarks/train_reference_jax.py (JAX, each round of steps \
            compiled as one lax.scan) on the same workload, alternating Occam, PyTorch and JAX for --rounds \
            rounds, and prints the median of each and the median ratios. `pip install torch jax` provides the \
            peers; a missing one is skipped with a message. Run it as \
            `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE occam bench train --compare` so OpenBLAS picks its \
            kernels for the machine.
            """)

    @Option(help: "Model name (see `occam models`).")
    var model = "lenet-300-100"

    @Option(parsing: .unconditional, help: "Batch size.")
    var batchSize = 60

    @Option(help: "Optimizer: sgd (momentum 0.9, lr 0.05), adam or adamw (lr 1.2e-3).")
    var optimizer: OptimizerConfiguration.Kind = .adam

    @Option(help: "Timed steps: iterations, as \"1000\" or \"1000it\" (the spelling of training length in every command).")
    var steps = "1000it"

    @Option(parsing: .unconditional, help: "Prune the weights to this fraction at random positions, kept pruned by the optimizer (a lottery ticket's step); 1: no mask.")
    var density = 1.0

    @Flag(help: "Also time PyTorch and JAX on the same workload (Benchmarks/train_reference.py, train_reference_jax.py).")
    var compare = false

    @Option(help: "Alternating rounds of Occam and the peers; the medians are reported (default: 3 with --compare, else 1).")
    var rounds: Int?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// --steps as a number of iterations.
    var stepCount: Int {
        get throws {
            let text = steps.hasSuffix("it") ? String(steps.dropLast(2)) : steps
            guard let count = Int(text) else {
                throw ValidationError("--steps takes iterations, as \"1000it\" (epochs have no meaning on random data); got \"\(steps)\".")
            }
            return count
        }
    }

    func validate() throws {
        guard batchSize >= 1, try stepCount >= 10 else { throw ValidationError("--batch-size must be >= 1 and --steps at least 10it.") }
        guard density > 0, density <= 1 else { throw ValidationError("--density must be in (0, 1].") }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1.") }
        if density < 1 && compare { throw ValidationError("--density has no peer script: drop --compare or --density.") }
    }

    func run() throws {
        let steps = try stepCount
        var timer = try OccamTrainingTimer(model: model, batchSize: batchSize, optimizer: optimizer, density: density)
        let roundCount = rounds ?? (compare ? 3 : 1)
        var occamSeconds: [Double] = [], torchRates: [Double] = [], jaxRates: [Double] = []
        var torchError: String?, jaxError: String?
        for round in 0..<roundCount {
            if roundCount > 1 { FileHandle.standardError.write(Data("round \(round + 1) of \(roundCount)\n".utf8)) }
            occamSeconds.append(timer.secondsPerStep(steps: steps))
            guard compare else { continue }
            if torchError == nil {
                switch runPeer("Benchmarks/train_reference.py", install: "pip install torch", steps: steps, environment: ["MKL_DEBUG_CPU_TYPE": "5"]) {
                case .success(let rate): torchRates.append(rate)
                case .failure(let failure): torchError = failure.text
                }
            }
            if jaxError == nil {
                switch runPeer("Benchmarks/train_reference_jax.py", install: "pip install jax", steps: steps, environment: [:]) {
                case .success(let rate): jaxRates.append(rate)
                case .failure(let failure): jaxError = failure.text
                }
            }
        }
        let best = median(occamSeconds)
        let occamRate = Double(batchSize) / best
        var report = BenchReport(
            model: model, optimizer: optimizer.rawValue, batchSize: batchSize, steps: steps, density: density < 1 ? density : nil,
            rounds: roundCount, occamSamplesPerSecond: occamRate, occamSecondsPerStep: best)
        let roundsText = roundCount > 1 ? " (median of \(roundCount) alternating rounds)" : ""
        var lines = ["\(model), \(optimizer.rawValue), batch \(batchSize)\(density < 1 ? ", density \(density)" : ""): Occam \(String(format: "%.0f", occamRate)) samples/s (\(String(format: "%.3f", best * 1e3)) ms a step)\(roundsText)"]
        if compare {
            /// The peer's median rate (nil when it did not run) and its line of output.
            func peer(_ name: String, _ label: String, error: String?, rates: [Double]) -> Double? {
                if let error {
                    lines.append("\(name) comparison skipped: \(error)")
                    return nil
                }
                let rate = median(rates)
                lines.append("\(name) (\(label)): \(String(format: "%.0f", rate)) samples/s; Occam / \(name) = \(String(format: "%.2f", occamRate / rate))x")
                return rate
            }
            report.pytorchError = torchError
            report.pytorchSamplesPerSecond = peer("PyTorch", "2 threads", error: torchError, rates: torchRates)
            report.ratio = report.pytorchSamplesPerSecond.map { occamRate / $0 }
            report.jaxError = jaxError
            report.jaxSamplesPerSecond = peer("JAX", "lax.scan, jitted", error: jaxError, rates: jaxRates)
            report.jaxRatio = report.jaxSamplesPerSecond.map { occamRate / $0 }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            lines.forEach { print($0) }
        }
    }

    /// Samples per second of a peer script, or why it could not run.
    private func runPeer(_ script: String, install: String, steps: Int, environment: [String: String]) -> Result<Double, PythonReference.Failure> {
        PythonReference.run(
            script,
            arguments: ["--model", model, "--optimizer", optimizer == .sgd ? "sgd" : "adam", "--batch-size", "\(batchSize)", "--steps", "\(steps)"],
            install: install, environment: environment
        ).flatMap { object in
            guard let rate = object["samples_per_second"] as? Double else {
                return .failure(PythonReference.Failure(text: "\(script) printed no samples_per_second"))
            }
            return .success(rate)
        }
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Occam's side of `occam bench train`: one model, optimizer and 50 random batches, ready to time.
struct OccamTrainingTimer {
    private let network: Model<Float>
    private let batchSize: Int
    private var parameters: ParameterSet<Float>
    private var buffers: ParameterSet<Float>
    private var update: any Optimizer<Float>
    private let learningRate: Double
    private let batches: [(Tensor<Float>, [Int])]
    private var random = RandomGenerator(seed: 0)
    private var stepsTaken = 0

    init(model: String, batchSize: Int, optimizer: OptimizerConfiguration.Kind, density: Double) throws {
        network = try ModelZoo.build(model, inputShape: [1, 28, 28], classes: 10, as: Float.self)
        self.batchSize = batchSize
        parameters = network.initialParameters(using: &random)
        buffers = network.initialBuffers()
        let configuration = OptimizerConfiguration(
            kind: optimizer, learningRate: optimizer == .sgd ? 0.05 : 1.2e-3, momentum: optimizer == .sgd ? 0.9 : 0)
        learningRate = configuration.learningRate
        var mask: PruningMask<Float>?
        if density < 1 {
            let weights = ParameterSet(parameters.entries.filter { $0.tensor.rank >= 2 })
            var random = random
            mask = try PruningMask(weights.mapTensors { _, tensor in
                var scalars = [Float](repeating: 0, count: tensor.count)
                for index in random.permutation(tensor.count).prefix(Int((density * Double(tensor.count)).rounded())) { scalars[index] = 1 }
                return Tensor(shape: tensor.shape, scalars: scalars)
            })
            self.random = random
            mask!.apply(to: &parameters)
        }
        update = configuration.make(mask: mask, as: Float.self)
        var random = self.random
        batches = (0..<50).map { _ in
            (Tensor<Float>.randomUniform([batchSize, 784], using: &random), (0..<batchSize).map { _ in random.nextInt(below: 10) })
        }
        self.random = random
    }

    private mutating func step() {
        let (inputs, labels) = batches[stepsTaken % batches.count]
        let result = network.gradients(
            at: parameters, buffers: &buffers, inputs: inputs, labels: labels, loss: .crossEntropy, random: &random)
        update.step(&parameters, gradients: result.gradients, learningRate: learningRate)
        stepsTaken += 1
    }

    /// The fastest of five rounds' mean seconds per step, after a warm-up of a tenth of `steps` (at least 20).
    mutating func secondsPerStep(steps: Int) -> Double {
        for _ in 0..<max(20, steps / 10) { step() }
        var best = Double.infinity
        let rounds = 5
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<(steps / rounds) { step() }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(steps / rounds))
        }
        return best
    }
}

/// What `occam bench train --json` prints: numbers as JSON numbers, at full precision.
struct BenchReport: Codable {
    var model: String
    var optimizer: String
    var batchSize: Int
    var steps: Int
    /// The fraction of weights kept; absent without a mask.
    var density: Double?
    /// Alternating rounds of Occam and the peers; each figure is the median over them.
    var rounds: Int
    var occamSamplesPerSecond: Double
    /// The median over rounds of the fastest of five sub-rounds' mean time per step.
    var occamSecondsPerStep: Double
    var pytorchSamplesPerSecond: Double?
    /// Occam's samples per second over PyTorch's.
    var ratio: Double?
    /// Why the PyTorch comparison did not run.
    var pytorchError: String?
    var jaxSamplesPerSecond: Double?
    /// Occam's samples per second over JAX's.
    var jaxRatio: Double?
    /// Why the JAX comparison did not run.
    var jaxError: String?

    enum CodingKeys: String, CodingKey {
        case model, optimizer, steps, density, ratio, rounds
        case batchSize = "batch_size", occamSamplesPerSecond = "occam_samples_per_second", occamSecondsPerStep = "occam_seconds_per_step"
        case pytorchSamplesPerSecond = "pytorch_samples_per_second", pytorchError = "pytorch_error"
        case jaxSamplesPerSecond = "jax_samples_per_second", jaxRatio = "jax_ratio", jaxError = "jax_error"
    }
}

extension OptimizerConfiguration.Kind: ExpressibleByArgument {}
