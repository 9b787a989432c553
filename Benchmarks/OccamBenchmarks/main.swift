// OccamBenchmarks: the speed of Occam's numerical core against stated baselines, as ratios measured in one
// run on one machine (the machine is shared and noisy, so only same-run comparisons mean anything).
//
//   1. Tensor.matmul against cblas_sgemm/cblas_dgemm called directly on the same buffers (target: within 10%).
//   2. Element-wise ops over 10^7 Float32 elements against NumPy (target: no slower).
//   3. LeNet-300-100 forward + backward, batch 60, with OccamAutograd against PyTorch CPU on 2 threads
//      (target: at least 1.3x PyTorch's speed).
//
// The NumPy and PyTorch timings come from Benchmarks/reference.py, run with python3 once per round, so the
// two sides of each ratio are measured minutes apart at most. Every time is the best (minimum) over the
// samples of all rounds; medians go to the JSON file too. ratio = baseline time / Occam time: above 1,
// Occam is faster.
//
// Usage: OccamBenchmarks [--json PATH] [--reference JSON] [--rounds N] [--quick] [--strict]
//   --json PATH       also write the results as JSON to PATH
//   --reference JSON  take baseline timings from a file reference.py wrote instead of running it
//   --rounds N        alternate Python and Swift measurements N times (default 2)
//   --quick           fewer samples (a smoke test, not a measurement)
//   --strict          exit 1 when a target is missed (a failed correctness check always exits 1)
// Environment: OCCAM_PYTHON names the interpreter (default python3). Run through Benchmarks/run.sh,
// which builds in release mode and clears OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE.

import COpenBLAS
import Foundation
import OccamAutograd
import OccamTensor

// MARK: - Options

struct Options {
    var jsonPath: String?
    var referencePath: String?
    var rounds = 2
    var quick = false
    var strict = false

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(for flag: String) -> String {
            guard let next = rest.popFirst() else { fail("\(flag) needs a value") }
            return next
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--json": options.jsonPath = value(for: argument)
            case "--reference": options.referencePath = value(for: argument)
            case "--rounds":
                guard let n = Int(value(for: argument)), n >= 1 else { fail("--rounds needs a positive integer") }
                options.rounds = n
            case "--quick": options.quick = true
            case "--strict": options.strict = true
            case "-h", "--help":
                print("usage: OccamBenchmarks [--json PATH] [--reference JSON] [--rounds N] [--quick] [--strict]")
                exit(0)
            default: fail("unknown argument \(argument); see --help")
            }
        }
        return options
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("OccamBenchmarks: \(message)\n".utf8))
    exit(2)
}

// MARK: - Timing

/// Seconds on a monotonic clock.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Keeps results observable so the optimizer cannot drop the work that made them.
nonisolated(unsafe) var checksum: Double = 0
@inline(never) func consume<T: TensorScalar>(_ tensor: Tensor<T>) { checksum += Double(tensor.scalars[0]) }

/// Seconds per call of `body`, one sample per repeat (each the mean of `iterations` calls), after `warmup` calls.
func samples(repeats: Int, iterations: Int = 1, warmup: Int = 1, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { body() }
    return (0..<repeats).map { _ in
        let start = now()
        for _ in 0..<iterations { body() }
        return (now() - start) / Double(iterations)
    }
}

/// Samples of two bodies taken alternately (A B, B A, ...), so drifting machine load hits both alike.
func interleavedSamples(repeats: Int, _ a: () -> Void, _ b: () -> Void) -> ([Double], [Double]) {
    a(); b()  // warm up
    var (sa, sb) = ([Double](), [Double]())
    func timed(_ body: () -> Void) -> Double {
        let start = now()
        body()
        return now() - start
    }
    for i in 0..<repeats {
        if i % 2 == 0 {
            sa.append(timed(a))
            sb.append(timed(b))
        } else {
            sb.append(timed(b))
            sa.append(timed(a))
        }
    }
    return (sa, sb)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
}

/// All samples per measurement name ("occam.add", "numpy.add", ...), gathered over the rounds.
var recorded: [String: [Double]] = [:]
@MainActor func record(_ name: String, _ values: [Double]) { recorded[name, default: []] += values }

/// Problems found by the correctness checks that guard each comparison.
var checkFailures: [String] = []
@MainActor func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { checkFailures.append(message()) }
}

// MARK: - 1. Matrix products against direct BLAS calls

protocol BLASScalar: TensorScalar {
    /// C = A B with row-major n x n matrices, straight through cblas_?gemm.
    static func directGemm(n: Int, _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>)
}
extension Float: BLASScalar {
    static func directGemm(
        n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>
    ) {
        let m = Int32(n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1, a, m, b, m, 0, c, m)
    }
}
extension Double: BLASScalar {
    static func directGemm(
        n: Int, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ c: UnsafeMutablePointer<Double>
    ) {
        let m = Int32(n)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, m, m, 1, a, m, b, m, 0, c, m)
    }
}

/// Times `Tensor.matmul(a, b)` and cblas_?gemm on the same n x n inputs, alternately.
@MainActor func benchmarkMatmul<T: BLASScalar>(_: T.Type, n: Int, repeats: Int, key: String) {
    var generator = RandomGenerator(seed: 1).stream(key)
    let a = Tensor<T>.randomNormal([n, n], using: &generator)
    let b = Tensor<T>.randomNormal([n, n], using: &generator)
    var direct = [T](repeating: 0, count: n * n)  // the baseline writes into one preallocated buffer
    var product = Tensor<T>(zeros: [0, 0])
    let occam = { product = Tensor.matmul(a, b); consume(product) }
    let baseline = {
        // The same thread count Occam chooses for this size (OpenBLAS's default for large products),
        // set through Occam's own bookkeeping so that it stays in step.
        BLASThreads.prepare(forMultiplyAdds: n * n * n)
        a.withUnsafePointer { pa in
            b.withUnsafePointer { pb in
                direct.withUnsafeMutableBufferPointer { T.directGemm(n: n, pa, pb, $0.baseAddress!) }
            }
        }
    }
    let (occamSamples, baselineSamples) = interleavedSamples(repeats: repeats, occam, baseline)
    record("occam.\(key)", occamSamples)
    record("blas.\(key)", baselineSamples)
    // Same library, same inputs, same threads: the products should agree to rounding.
    let scale = direct.reduce(T(0)) { max($0, Swift.abs($1)) }
    let difference = zip(product.scalars, direct).reduce(T(0)) { max($0, Swift.abs($1.0 - $1.1)) }
    check(difference <= scale * 1e-5, "matmul \(key): Occam and BLAS products differ by \(difference)")
}

// MARK: - 2. Element-wise ops against NumPy

let elementCount = 10_000_000
let elementwiseOps = ["add", "multiply", "exp", "relu"]

@MainActor func benchmarkElementwise(repeats: Int) {
    var generator = RandomGenerator(seed: 2)
    let a = Tensor<Float>.randomNormal([elementCount], using: &generator)
    let b = Tensor<Float>.randomNormal([elementCount], using: &generator)
    let operations: [(String, () -> Tensor<Float>, (Float, Float) -> Float)] = [
        ("add", { a + b }, { $0 + $1 }),
        ("multiply", { a * b }, { $0 * $1 }),
        ("exp", { a.exp() }, { x, _ in Foundation.expf(x) }),
        ("relu", { a.relu() }, { x, _ in max(x, 0) }),
    ]
    for (name, op, reference) in operations {
        var result = Tensor<Float>(zeros: [0])
        record("occam.\(name)", samples(repeats: repeats, warmup: 2) { result = op(); consume(result) })
        // Spot-check elements spread across the array (and so across the threads' chunks).
        for i in stride(from: 0, to: elementCount, by: elementCount / 97) {
            let expected = reference(a.scalars[i], b.scalars[i])
            check(
                Swift.abs(result.scalars[i] - expected) <= 1e-6 * Swift.abs(expected),
                "\(name): element \(i) is \(result.scalars[i]), expected \(expected)")
        }
    }
}

// MARK: - 3. LeNet-300-100 forward and backward against PyTorch

let batch = 60
let layerSizes = [784, 300, 100, 10]

/// scale * sin(phase + 0.618 i), computed in Double and rounded to Float: the same numbers reference.py
/// builds, so both sides differentiate the same loss and their values can be compared.
func pattern(_ shape: [Int], phase: Double, scale: Double) -> Tensor<Float> {
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map { Float(scale * Foundation.sin(phase + 0.618 * Double($0))) })
}

struct LeNet {
    let input = Variable(pattern([batch, layerSizes[0]], phase: 0.5, scale: 1))
    let oneHotTargets = Variable(Tensor<Float>.oneHot((0..<batch).map { (7 * $0) % 10 }, classes: 10))
    /// fc1.weight [300, 784], fc1.bias [300], fc2..., fc3...: PyTorch's layouts.
    let parameters: [Variable<Float>] = (0..<3).flatMap { layer -> [Variable<Float>] in
        let (fanIn, fanOut) = (layerSizes[layer], layerSizes[layer + 1])
        let weight = pattern([fanOut, fanIn], phase: 1 + Double(layer), scale: 1 / Double(fanIn).squareRoot())
        let bias = pattern([fanOut], phase: 2 + Double(layer), scale: 0.1)
        return [Variable(weight, requiresGradient: true), Variable(bias, requiresGradient: true)]
    }

    /// Mean softmax cross-entropy of the batch, and its gradient with respect to every parameter.
    func step() -> (loss: Float, gradients: [Tensor<Float>]) {
        let p = parameters
        let h1 = (Variable.matmul(input, p[0], transposeB: true) + p[1]).relu()
        let h2 = (Variable.matmul(h1, p[2], transposeB: true) + p[3]).relu()
        let logits = Variable.matmul(h2, p[4], transposeB: true) + p[5]
        let loss = -(logits.logSoftmax(alongAxis: 1) * oneHotTargets).sum() * (1 / Float(batch))
        return (loss.value.scalar, gradient(of: loss, wrt: p).map(\.value))
    }
}

/// Times LeNet steps; returns the loss and gradient norms for comparison with PyTorch's.
@MainActor func benchmarkLeNet(repeats: Int, iterations: Int) -> (loss: Double, gradientNorms: [Double]) {
    let model = LeNet()
    record("occam.lenet", samples(repeats: repeats, iterations: iterations, warmup: 20) {
        consume(model.step().gradients[0])
    })
    let (loss, gradients) = model.step()
    return (Double(loss), gradients.map { Double($0.norm()) })
}

// MARK: - Reference timings from Python

struct ReferenceTiming: Decodable {
    let bestS: Double
    let allS: [Double]
}
struct TorchReference: Decodable {
    let allS: [Double]
    let loss: Double
    let gradientNorms: [Double]
    let threads: Int
}
struct Reference: Decodable {
    let numpyVersion: String?
    let numpy: [String: ReferenceTiming]?
    let numpyError: String?
    let torchVersion: String?
    let torch: TorchReference?
    let torchError: String?
}

let referenceScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("reference.py")

func loadReference(path: String) -> Reference {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read reference timings \(path)") }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do { return try decoder.decode(Reference.self, from: data) } catch {
        fail("reference timings \(path) are not reference.py's JSON: \(error)")
    }
}

/// Runs reference.py with python3; nil (and a message) when Python itself cannot run it.
let installHint = "install Python 3, then: pip install numpy torch"

func runReference(quick: Bool) -> Reference? {
    let python = ProcessInfo.processInfo.environment["OCCAM_PYTHON"] ?? "python3"
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("occam-reference-\(getpid()).json")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
        [python, referenceScript.path, "--out", output.path] + (quick ? ["--repeats", "3", "--iterations", "10"] : [])
    do { try process.run() } catch {
        print("Python reference skipped: cannot start \(python) (\(error)); \(installHint)")
        return nil
    }
    process.waitUntilExit()
    defer { try? FileManager.default.removeItem(at: output) }
    guard process.terminationStatus == 0 else {
        let status = process.terminationStatus
        let reason = status == 127 ? "\(python) was not found" : "\(referenceScript.path) exited with status \(status)"
        print("Python reference skipped: \(reason); \(installHint)")
        return nil
    }
    return loadReference(path: output.path)
}

// MARK: - Report

struct Row: Encodable {
    let what: String
    let baseline: String
    let occamSeconds: Double
    let occamMedianSeconds: Double
    let baselineSeconds: Double
    let baselineMedianSeconds: Double
    /// Baseline time / Occam time: above 1, Occam is faster.
    let ratio: Double
    let target: Double
    let met: Bool
}

struct Report: Encodable {
    let date: String
    let cores: Int
    let openblas: String
    let openblasThreads: Int
    let numpyVersion: String?
    let torchVersion: String?
    let rows: [Row]
    let skipped: [String]
    let checks: [String: String]
    let checkFailures: [String]
}

@MainActor func row(_ what: String, occam: String, baseline: String, baselineName: String, target: Double) -> Row? {
    guard let o = recorded[occam], let b = recorded[baseline], !o.isEmpty, !b.isEmpty else { return nil }
    let ratio = b.min()! / o.min()!
    return Row(
        what: what, baseline: baselineName, occamSeconds: o.min()!, occamMedianSeconds: median(o),
        baselineSeconds: b.min()!, baselineMedianSeconds: median(b), ratio: ratio, target: target, met: ratio >= target)
}

func formatTime(_ seconds: Double) -> String {
    seconds >= 1 ? String(format: "%.3f s", seconds) : seconds >= 1e-3 ? String(format: "%.2f ms", seconds * 1e3)
        : String(format: "%.1f µs", seconds * 1e6)
}

func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
    let pad = String(repeating: " ", count: max(0, width - text.count))
    return right ? pad + text : text + pad
}

// MARK: - Main

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
for variable in ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"] where ProcessInfo.processInfo.environment[variable] != nil {
    print("warning: \(variable) is set; run through Benchmarks/run.sh, which clears it")
}
let openBLASThreads = Int(openblas_get_num_threads())  // before Occam changes it: OpenBLAS's default
let openBLASConfig = String(cString: openblas_get_config())
let quick = options.quick
let cores = ProcessInfo.processInfo.activeProcessorCount
print("Occam benchmarks: \(cores) cores; OpenBLAS \(openBLASConfig), \(openBLASThreads) threads")

var reference: Reference? = options.referencePath.map(loadReference)
var lenetResult: (loss: Double, gradientNorms: [Double])?
for round in 1...options.rounds {
    print("round \(round) of \(options.rounds): ", terminator: "")
    if options.referencePath == nil {
        print("python reference... ", terminator: "")
        fflush(nil)  // show progress now
        reference = runReference(quick: quick) ?? reference
    }
    if let numpy = reference?.numpy, round == 1 || options.referencePath == nil {
        for op in elementwiseOps { if let t = numpy[op] { record("numpy.\(op)", t.allS) } }
    }
    if let torch = reference?.torch, round == 1 || options.referencePath == nil { record("torch.lenet", torch.allS) }
    print("matmul... ", terminator: "")
    fflush(nil)  // show progress now
    benchmarkMatmul(Float.self, n: 1024, repeats: quick ? 2 : 8, key: "sgemm1024")
    benchmarkMatmul(Float.self, n: 4096, repeats: quick ? 1 : 3, key: "sgemm4096")
    benchmarkMatmul(Double.self, n: 1024, repeats: quick ? 2 : 8, key: "dgemm1024")
    print("element-wise... ", terminator: "")
    fflush(nil)  // show progress now
    benchmarkElementwise(repeats: quick ? 3 : 15)
    print("lenet")
    lenetResult = benchmarkLeNet(repeats: quick ? 3 : 15, iterations: quick ? 10 : 50)
}

// Rows in order; a missing baseline becomes a "skipped" line (reference.py's errors name the install command).
let missingPython = "no Python reference timings; \(installHint)"
var rows: [Row] = []
var skipped: [String] = []
let products = [("f32 1024^3", "sgemm1024", "cblas_sgemm"), ("f32 4096^3", "sgemm4096", "cblas_sgemm"),
                ("f64 1024^3", "dgemm1024", "cblas_dgemm")]
for (size, key, routine) in products {
    if let r = row("matmul \(size)", occam: "occam.\(key)", baseline: "blas.\(key)", baselineName: routine, target: 0.9) {
        rows.append(r)
    }
}
if reference?.numpy != nil {
    for op in elementwiseOps {
        if let r = row("\(op) f32 1e7", occam: "occam.\(op)", baseline: "numpy.\(op)", baselineName: "NumPy", target: 1) {
            rows.append(r)
        }
    }
} else {
    skipped.append("element-wise vs NumPy: \(reference?.numpyError ?? missingPython)")
}
if reference?.torch != nil {
    let what = "LeNet-300-100 fwd+bwd b60"
    if let r = row(what, occam: "occam.lenet", baseline: "torch.lenet", baselineName: "PyTorch 2 thr", target: 1.3) {
        rows.append(r)
    }
} else {
    skipped.append("LeNet vs PyTorch: \(reference?.torchError ?? missingPython)")
}

// The LeNet comparison is only meaningful if both sides computed the same loss and gradients.
var checks: [String: String] = [:]
if let torch = reference?.torch, let occam = lenetResult {
    checks["lenet loss (Occam, PyTorch)"] = String(format: "%.6f, %.6f", occam.loss, torch.loss)
    check(
        Swift.abs(occam.loss - torch.loss) <= 1e-4 * Swift.abs(torch.loss),
        "LeNet loss \(occam.loss) vs PyTorch \(torch.loss)")
    for (i, (o, t)) in zip(occam.gradientNorms, torch.gradientNorms).enumerated() {
        check(Swift.abs(o - t) <= 1e-3 * Swift.abs(t), "LeNet gradient \(i) norm \(o) vs PyTorch \(t)")
    }
    checks["lenet gradient norms agree"] = checkFailures.contains { $0.hasPrefix("LeNet gradient") } ? "no" : "yes"
}

// The table.
let widths = [28, 16, 11, 11, 8, 8, 5]
let header = ["what", "baseline", "Occam", "baseline", "ratio", "target", "met"]
print("")
print(zip(header, widths).enumerated().map { padded($1.0, $1.1, right: $0 >= 2 && $0 <= 5) }.joined(separator: " "))
print(String(repeating: "-", count: widths.reduce(widths.count - 1, +)))
for r in rows {
    let cells = [r.what, r.baseline, formatTime(r.occamSeconds), formatTime(r.baselineSeconds),
                 String(format: "%.2fx", r.ratio), String(format: ">=%.2f", r.target), r.met ? "yes" : "NO"]
    print(zip(cells, widths).enumerated().map { padded($1.0, $1.1, right: $0 >= 2 && $0 <= 5) }.joined(separator: " "))
}
print("times: best of all samples; ratio = baseline time / Occam time (above 1: Occam faster)")
for line in skipped { print("skipped: \(line)") }
for (name, value) in checks.sorted(by: { $0.key < $1.key }) { print("check: \(name): \(value)") }
for failure in checkFailures { print("CHECK FAILED: \(failure)") }

if let path = options.jsonPath {
    let report = Report(
        date: ISO8601DateFormatter().string(from: Date()), cores: cores,
        openblas: openBLASConfig, openblasThreads: openBLASThreads, numpyVersion: reference?.numpyVersion,
        torchVersion: reference?.torchVersion, rows: rows, skipped: skipped, checks: checks,
        checkFailures: checkFailures)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    do {
        // Written to a temporary name and renamed, so a reader never sees half a file.
        let temporary = path + ".tmp"
        try encoder.encode(report).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        print("wrote \(path)")
    } catch {
        fail("cannot write \(path): \(error)")
    }
}

if !checkFailures.isEmpty { exit(1) }
if options.strict && rows.contains(where: { !$0.met }) { exit(1) }
