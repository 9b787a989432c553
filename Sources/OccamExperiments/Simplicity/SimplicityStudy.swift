import Foundation
import OccamData
import OccamTensor
import Synchronization

/// What `SimplicityStudy` reports while it works.
public enum SimplicityProgress: Sendable {
    /// `done` of `total` networks drawn; the rate counts this session's draws only.
    case sampling(done: Int, total: Int, drawsPerSecond: Double, secondsLeft: Double)
    /// The robustness networks of length `size`: `done` of `total`.
    case robustness(size: Int, done: Int, total: Int)
    /// A stage found finished on disk.
    case skipped(stage: String)
}

/// One length n of the robustness measurements: every network's measurements of its random inputs.
public struct RobustnessRecord: Codable, Sendable {
    public var size: Int
    /// [network][input].
    public var measurements: [[RobustnessMeasurement]]
    public var seconds: Double
}

/// Runs `occam simplicity`: samples the functions of random networks in chunks (functions.bin, saved every
/// `saveInterval` seconds and at the end, so an interrupted run resumes), then measures robustness for each
/// length (robustness-n<N>.json, skipped when present), then builds the report. Its units (`UnitStudy`) are the
/// sampling (every chunk merges into the one functions.bin) and each robustness length.
public struct SimplicityStudy: UnitStudy {
    public let configuration: SimplicityConfiguration
    public let directory: URL
    /// Worker threads; the results do not depend on it.
    public var threads: Int
    /// Seconds between saves of functions.bin while sampling, at least (a save that takes t seconds waits 20 t
    /// before the next, so a large file does not eat the sampling time).
    public var saveInterval = 30.0
    /// How the study reports its work.
    public var progress: (SimplicityProgress) -> Void = { _ in }

    public init(configuration: SimplicityConfiguration, directory: URL, threads: Int) throws {
        try configuration.validate()
        (self.configuration, self.directory, self.threads) = (configuration, directory, max(1, threads))
    }

    public var functionsURL: URL { directory.appendingPathComponent("functions.bin") }

    /// Runs what is not yet on disk, then builds the report.
    public func run() throws {
        for unit in unitNames.indices { try run(unit: unit) }
        try SimplicityReport(directory: directory).build()
    }

    /// `run()` with `progress` set.
    public func run(progress: @escaping (SimplicityProgress) -> Void) throws {
        var study = self
        study.progress = progress
        try study.run()
    }

    /// "sampling", then "robustness n = 8", ...
    public var unitNames: [String] { ["sampling"] + configuration.robustnessSizes.map { "robustness n = \($0)" } }

    public func isFinished(unit: Int) -> Bool {
        guard unit > 0 else {
            return (try? FunctionCounts.read(from: functionsURL)).map { $0.chunksDone >= configuration.chunkCount } ?? false
        }
        return FileManager.default.fileExists(atPath: robustnessURL(configuration.robustnessSizes[unit - 1]).path)
    }

    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws { try run(unit: unit) }

    /// Samples every chunk (unit 0) or measures one robustness length, unless it is on disk.
    public func run(unit: Int) throws {
        if unit == 0 {
            try sampleFunctions(progress: progress)
        } else {
            try measureRobustness(size: configuration.robustnessSizes[unit - 1], progress: progress)
        }
    }

    /// The stream of chunk `index`: independent of the thread that runs it.
    static func chunkGenerator(seed: UInt64, chunk: Int) -> RandomGenerator {
        RandomGenerator(seed: seed).stream("functions").stream(chunk)
    }

    /// Samples every chunk not yet in functions.bin, a wave of 2 chunks per thread at a time.
    public func sampleFunctions(progress: @escaping (SimplicityProgress) -> Void = { _ in }) throws {
        let c = configuration
        var state = FileManager.default.fileExists(atPath: functionsURL.path) ? try FunctionCounts.read(from: functionsURL) : FunctionCounts()
        if state.chunksDone >= c.chunkCount {
            progress(.skipped(stage: "functions"))
            return
        }
        let sampler = FunctionSampler(
            shape: ReLUNetworkShape(inputSize: c.inputSize, hiddenWidths: c.hiddenWidths), weightScale: Float(c.weightScale),
            biasScale: Float(c.biasScale))
        let sessionStart = Date(), drawsAtStart = state.draws
        var lastSave = Date(), interval = saveInterval
        let secondsAtStart = state.seconds
        while state.chunksDone < c.chunkCount {
            let wave = min(2 * threads, c.chunkCount - state.chunksDone)
            let first = state.chunksDone
            let results = Mutex<[Int: [TruthTable: UInt64]]>([:])
            try runConcurrently(count: wave, threads: threads) { j in
                let chunk = first + j
                let count = min(c.chunkSize, c.draws - chunk * c.chunkSize)
                let counts = sampler.count(count, generator: Self.chunkGenerator(seed: c.seed, chunk: chunk))
                results.withLock { $0[j] = counts }
            }
            let finished = results.withLock { $0 }
            for j in 0..<wave {
                state.merge(finished[j]!)
                state.draws += min(c.chunkSize, c.draws - (first + j) * c.chunkSize)
            }
            state.chunksDone += wave
            let elapsed = Date().timeIntervalSince(sessionStart)
            state.seconds = secondsAtStart + elapsed
            let rate = Double(state.draws - drawsAtStart) / max(elapsed, 1e-9)
            progress(.sampling(done: state.draws, total: c.draws, drawsPerSecond: rate, secondsLeft: Double(c.draws - state.draws) / max(rate, 1e-9)))
            if state.chunksDone == c.chunkCount || Date().timeIntervalSince(lastSave) >= interval {
                let saving = Date()
                try state.write(to: functionsURL)
                lastSave = Date()
                interval = max(saveInterval, 20 * lastSave.timeIntervalSince(saving))
            }
        }
    }

    private func robustnessURL(_ size: Int) -> URL { directory.appendingPathComponent("robustness-n\(size).json") }

    /// The robustness measurements of length `size`, one network per job.
    public func measureRobustness(size: Int, progress: @escaping (SimplicityProgress) -> Void = { _ in }) throws {
        let url = robustnessURL(size)
        if FileManager.default.fileExists(atPath: url.path) {
            progress(.skipped(stage: "robustness n = \(size)"))
            return
        }
        let c = configuration
        let start = Date()
        let results = Mutex<[Int: [RobustnessMeasurement]]>([:])
        let done = Atomic<Int>(0)
        progress(.robustness(size: size, done: 0, total: c.robustnessNetworks))
        try runConcurrently(count: c.robustnessNetworks, threads: threads) { index in
            let measurements = Self.measureNetwork(configuration: c, size: size, index: index)
            results.withLock { $0[index] = measurements }
            let finished = done.wrappingAdd(1, ordering: .relaxed).newValue
            progress(.robustness(size: size, done: finished, total: c.robustnessNetworks))
        }
        let all = results.withLock { $0 }
        let record = RobustnessRecord(
            size: size, measurements: (0..<c.robustnessNetworks).map { all[$0]! }, seconds: Date().timeIntervalSince(start))
        try ResultFiles.writeJSON(record, to: url)
    }

    /// Network `index` of length `size` and its `robustnessInputs` random inputs, each from its own stream.
    static func measureNetwork(configuration c: SimplicityConfiguration, size: Int, index: Int) -> [RobustnessMeasurement] {
        let root = RandomGenerator(seed: c.seed).stream("robustness").stream(size).stream(index)
        let network = HammingRobustness(
            inputSize: size, width: c.robustnessWidth, weightScale: Float(c.weightScale), biasScale: Float(c.biasScale),
            generator: root.stream("parameters"))
        var inputs = root.stream("inputs")
        var flips = root.stream("flips")
        return (0..<c.robustnessInputs).map { _ in
            let x: [Float] = (0..<size).map { _ in inputs.next() & 1 == 1 ? 1 : -1 }
            return network.measure(x, budget: c.searchBudget, generator: &flips)
        }
    }
}
