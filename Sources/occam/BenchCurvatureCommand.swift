import ArgumentParser
import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

struct BenchCurvatureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curvature",
        abstract: "Time Hessian-vector products and the top Hessian eigenvalues of LeNet-300-100, against PyTorch + SciPy.",
        discussion: """
            On the first --samples Fashion-MNIST training images at a LeNet-300-100 initialization (seed 0): one \
            full-data gradient, one Hessian-vector product (median of several), and the --top largest eigenvalues \
            by Lanczos to a relative residual --tolerance. With --compare, Benchmarks/curvature_reference.py does the \
            same with PyTorch double-backprop products driven by SciPy's eigsh at the same tolerance, on the same \
            checkpoint and images, alternating with Occam --rounds times; it prints both eigenvalue lists and the \
            ratios. `pip install torch scipy` provides the peer; set MKL_DEBUG_CPU_TYPE=5 on AMD processors.
            """)

    @Option(parsing: .unconditional, help: "Training images in the loss.")
    var samples = 5000

    @Option(parsing: .unconditional, help: "How many of the largest eigenvalues.")
    var top = 10

    @Option(parsing: .unconditional, help: "Relative residual tolerance (Lanczos) and eigsh's tol.")
    var tolerance = 1e-6

    @Option(help: "float32 or float64.")
    var precision: Precision = .float64

    @Option(parsing: .unconditional, help: "Images per batch in each product.")
    var batchSize = 1000

    @Option(parsing: .unconditional, help: "Times each side runs, alternating.")
    var rounds = 2

    @Flag(help: "Also time PyTorch + SciPy (Benchmarks/curvature_reference.py).")
    var compare = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard samples >= 1, top >= 1, rounds >= 1, batchSize >= 1 else {
            throw ValidationError("--samples, --top, --rounds and --batch-size must be at least 1.")
        }
        guard tolerance > 0, tolerance < 1 else { throw ValidationError("--tolerance must be in (0, 1).") }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch precision {
        case .float32: try bench(Float.self)
        case .float64: try bench(Double.self)
        }
    }

    private func bench<Scalar: TensorScalar>(_: Scalar.Type) throws {
        var training = TrainingConfiguration()
        training.model = "lenet-300-100"
        let model: Model<Scalar> = try training.buildModel(inputShape: [1, 28, 28], classes: 10)
        var random = RandomGenerator(seed: 0)
        let parameters = model.initialParameters(using: &random)
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("occam-bench-curvature-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        try TrainingCheckpoint(
            configuration: training, iteration: 0, parameters: parameters, buffers: model.initialBuffers(),
            optimizerState: OptimizerState(kind: "adam", step: 0, tensors: ParameterSet()), mask: nil
        ).write(to: checkpoint)

        let images: LabeledImages<Scalar> = try loadDataSet(training.dataset, split: .train, directory: nil)
        guard samples <= images.count else { throw ValidationError("--samples \(samples) exceeds the \(images.count) training images.") }
        let subset = images.subset(Array(0..<samples))
        let risk = EmpiricalRisk(
            model: model, parameters: parameters, buffers: model.initialBuffers(), inputs: subset.images, labels: subset.labels,
            loss: .crossEntropy, subspace: try ParameterSubspace(of: parameters), batchSize: batchSize)
        let hessian = LossCurvature(.hessian, of: risk)

        var report = CurvatureBenchReport(samples: samples, top: top, tolerance: tolerance, precision: Scalar.precisionName)
        for round in 0..<rounds {
            let gradientSeconds = median((0..<3).map { _ in time { _ = risk.valueAndGradient() } })
            var v = (0..<risk.subspace.dimension).map { _ in random.nextNormal() }
            let productSeconds = median((0..<5).map { _ in time { v = hessian.apply(v) } })
            var eigenvalues: ExtremeEigenpairs?
            let counting = CountingOperator(hessian)
            let lanczosSeconds = try time { eigenvalues = try Lanczos.extremeEigenpairs(of: counting, largest: top, tolerance: tolerance) }
            report.occam.append(.init(
                gradientSeconds: gradientSeconds, productSeconds: productSeconds, eigenvaluesSeconds: lanczosSeconds,
                products: counting.count, eigenvalues: eigenvalues!.largest.map(\.value)))
            if !json { status("round \(round + 1): Occam \(String(format: "%.1f", lanczosSeconds)) s for the top \(top)") }
            if compare {
                switch runReference(checkpoint) {
                case .success(let peer): report.pytorch.append(peer)
                case .failure(let message): report.pytorchError = message.text
                }
                if report.pytorchError != nil { break }
                if !json, let peer = report.pytorch.last { status("round \(round + 1): PyTorch + SciPy \(String(format: "%.1f", peer.eigenvaluesSeconds)) s") }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
    }

    private func time(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// One run of the PyTorch + SciPy reference on the same checkpoint and images.
    private func runReference(_ checkpoint: URL) -> Result<CurvatureBenchReport.Timing, PythonReference.Failure> {
        PythonReference.run(
            "Benchmarks/curvature_reference.py",
            arguments: ["--checkpoint", checkpoint.path, "--samples", "\(samples)", "--top", "\(top)", "--tol", "\(tolerance)",
                        "--batch-size", "\(batchSize)", "--dtype", precision.rawValue, "--threads", "2"],
            install: "pip install torch scipy"
        ).flatMap { object in
            guard let timing = object["timing"] as? [String: Any], let topResult = object["top"] as? [String: Any],
                  let gradient = timing["gradient_ms"] as? Double, let product = timing["product_ms"] as? Double,
                  let seconds = topResult["seconds"] as? Double, let values = topResult["eigenvalues"] as? [Double],
                  let products = topResult["matvecs"] as? Int
            else { return .failure(PythonReference.Failure(text: "Benchmarks/curvature_reference.py printed no timing or eigenvalues")) }
            return .success(.init(
                gradientSeconds: gradient / 1000, productSeconds: product / 1000, eigenvaluesSeconds: seconds, products: products,
                eigenvalues: values))
        }
    }
}

/// What `occam bench curvature` measured, per round and side.
struct CurvatureBenchReport: Codable {
    struct Timing: Codable {
        var gradientSeconds: Double
        var productSeconds: Double
        var eigenvaluesSeconds: Double
        var products: Int
        var eigenvalues: [Double]
    }

    var samples: Int
    var top: Int
    var tolerance: Double
    var precision: String
    var occam: [Timing] = []
    var pytorch: [Timing] = []
    var pytorchError: String?

    /// The best round of each side.
    private func best(_ timings: [Timing]) -> Timing? { timings.min { $0.eigenvaluesSeconds < $1.eigenvaluesSeconds } }

    var text: String {
        guard let occam = best(occam) else { return "no measurement" }
        func line(_ name: String, _ t: Timing) -> String {
            "\(name): gradient \(String(format: "%.1f", 1000 * t.gradientSeconds)) ms, Hessian-vector product \(String(format: "%.1f", 1000 * t.productSeconds)) ms (\(String(format: "%.2f", t.productSeconds / t.gradientSeconds))x a gradient), top \(top) in \(String(format: "%.2f", t.eigenvaluesSeconds)) s (\(t.products) products)\n  " + t.eigenvalues.map { String(format: "%.8g", $0) }.joined(separator: " ")
        }
        var lines = ["LeNet-300-100 at initialization, \(samples) Fashion-MNIST training images, \(precision), tolerance \(tolerance), best of \(self.occam.count) rounds",
                     line("Occam (Lanczos)", occam)]
        if let peer = best(pytorch) {
            lines.append(line("PyTorch + SciPy eigsh", peer))
            let difference = zip(occam.eigenvalues, peer.eigenvalues).map { abs($0 - $1) / max(abs($1), 1e-300) }.max() ?? .nan
            lines.append("Eigenvalues agree to \(String(format: "%.1e", difference)) relative. Time for the top \(top): PyTorch / Occam = \(String(format: "%.2f", peer.eigenvaluesSeconds / occam.eigenvaluesSeconds))x; one product: \(String(format: "%.2f", peer.productSeconds / occam.productSeconds))x")
        } else if let pytorchError {
            lines.append("PyTorch comparison skipped: \(pytorchError)")
        }
        return lines.joined(separator: "\n")
    }
}
