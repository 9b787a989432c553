import Foundation
import OccamAnalysis
import OccamData
import OccamNN
import OccamTensor

/// What `SaddlesStudy` reports while it works.
public enum SaddlesProgress: Sendable {
    case trajectory(Int, step: Int, of: Int)
    /// A search from (trajectory, step) took an accepted step.
    case search(trajectory: Int, step: Int, iteration: Int, gradientNorm: Double)
    case point(SaddlesPoint, done: Int, total: Int)
    case optimizer(ComparedOptimizer, start: Int, iteration: Int, of: Int, loss: Double)
    case skipped(String)
}

/// Dauphin et al.'s protocol at CPU scale, top to bottom: SGD runs from random initializations; from points
/// along them, Levenberg-Marquardt on ½‖∇f‖² finds critical points, each recorded with its loss, training error,
/// ‖∇f‖ and exact Hessian spectrum; optionally SGD, damped Newton and saddle-free Newton from the same starts.
/// Every record (trajectory, point, optimizer path) is its own JSON file, skipped when it exists. Its units
/// (`UnitStudy`) are the trajectories, each with the searches from its points, then with `compareOptimizers`
/// each optimizer from each comparison start.
public struct SaddlesStudy: UnitStudy {
    public let configuration: SaddlesConfiguration
    /// The full-data loss of the configuration's MLP on the prepared samples; its parameters are the
    /// initialization of trajectory 0 (replaced by each point).
    public let function: RiskFunction<Double>
    public let directory: URL
    /// Whether the study also compares SGD, damped Newton and saddle-free Newton from fresh starts.
    public var compareOptimizers = false
    /// How the study reports its work.
    public var progress: (SaddlesProgress) -> Void = { _ in }
    /// Units computed at once. Every unit runs on single-threaded BLAS whatever this is, so results do not
    /// depend on it.
    public var jobs = 1

    /// - Parameter data: the prepared samples (`SaddlesConfiguration.prepare`).
    public init(configuration: SaddlesConfiguration, data: LabeledImages<Double>, directory: URL) throws {
        try configuration.validate()
        let model = configuration.model()
        var random = RandomGenerator(seed: configuration.seed).stream("initialization 0")
        let parameters = model.initialParameters(using: &random)
        let risk = EmpiricalRisk(
            model: model, parameters: parameters, buffers: model.initialBuffers(), inputs: data.images, labels: data.labels,
            loss: .crossEntropy, subspace: try ParameterSubspace(of: parameters, selection: .all, mask: nil), batchSize: data.count)
        (self.configuration, self.function, self.directory) = (configuration, RiskFunction(risk), directory)
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Runs every unit not on disk (`jobs` at a time), then builds the report.
    public func run() throws {
        try run(units: Array(unitNames.indices))
        try SaddlesReport(directory: directory).build()
    }

    /// `run()` with `compareOptimizers` and `progress` set.
    public func run(compareOptimizers: Bool, progress: @escaping (SaddlesProgress) -> Void = { _ in }) throws {
        var study = self
        (study.compareOptimizers, study.progress) = (compareOptimizers, progress)
        try study.run()
    }

    /// The optimizers compared from each start: one unit each, after the trajectories.
    private var comparisons: [(optimizer: ComparedOptimizer, start: Int)] {
        guard compareOptimizers else { return [] }
        return (0..<configuration.compareStarts).flatMap { start in ComparedOptimizer.allCases.map { ($0, start) } }
    }

    /// "trajectory 0", ..., then "sgd · start 0", ...
    public var unitNames: [String] {
        (0..<configuration.trajectories).map { "trajectory \($0)" } + comparisons.map { "\($0.optimizer.rawValue) · start \($0.start)" }
    }

    /// The record files of unit `unit`.
    private func files(unit: Int) -> [String] {
        guard unit >= configuration.trajectories else {
            return ["trajectories/trajectory-\(unit).json"] + configuration.snapshots.sorted().map { "points/trajectory-\(unit)-step-\($0).json" }
        }
        let (optimizer, start) = comparisons[unit - configuration.trajectories]
        return ["compare/\(optimizer.rawValue)-start-\(start).json"]
    }

    public func isFinished(unit: Int) -> Bool { files(unit: unit).allSatisfy { FileManager.default.fileExists(atPath: file($0).path) } }

    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws { try run(units: [unit]) }

    /// Computes `units` up to `jobs` at a time (fewer when their dense Hessians would not fit in memory side by
    /// side), each on single-threaded BLAS. Progress events arrive one at a time; with units side by side a point's
    /// `done` counts the points reported so far rather than giving its position.
    private func run(units: [Int]) throws {
        // A search holds about six p x p Float64 matrices: H, H², the eigenvectors and syevd's workspace.
        let p = Double(configuration.parameterCount)
        let concurrent = max(1, min(units.count, jobsFittingInMemory(jobs, bytesEach: 48 * p * p)))
        let lock = NSLock()
        let report = progress
        var reportedPoints = 0
        var study = self
        study.progress = { event in
            lock.withLock {
                guard concurrent > 1, case let .point(point, _, total) = event else { return report(event) }
                reportedPoints += 1
                report(.point(point, done: reportedPoints, total: total))
            }
        }
        _ = try runStudyJobs(order: units, jobs: concurrent, events: { _ in }) { unit, _ in try study.compute(unit: unit) }
    }

    /// Computes the records of unit `unit` not on disk: a trajectory and the searches from its points, or one
    /// optimizer path.
    private func compute(unit: Int) throws {
        guard unit >= configuration.trajectories else {
            let trajectory = try stage("trajectories/trajectory-\(unit).json", progress) { sgdTrajectory(unit, progress) }
            let total = configuration.trajectories * configuration.snapshots.count
            for (done, (step, snapshot)) in zip(trajectory.steps, trajectory.snapshots).enumerated() {
                let point = try stage("points/trajectory-\(unit)-step-\(step).json", progress) {
                    try searchCriticalPoint(trajectory: unit, step: step, from: snapshot, progress)
                }
                progress(.point(point, done: unit * configuration.snapshots.count + done + 1, total: total))
            }
            return
        }
        let (optimizer, start) = comparisons[unit - configuration.trajectories]
        _ = try stage("compare/\(optimizer.rawValue)-start-\(start).json", progress) { try optimizerPath(optimizer, start: start, progress) }
    }

    /// The record in `name` if it exists, else computed and written.
    private func stage<Record: Codable>(_ name: String, _ progress: (SaddlesProgress) -> Void, _ compute: () throws -> Record) throws -> Record {
        let url = file(name)
        if FileManager.default.fileExists(atPath: url.path) {
            progress(.skipped(name))
            return try RunStore.readJSON(Record.self, from: url)
        }
        try ResultFiles.prepareDirectory(url.deletingLastPathComponent())
        let record = try compute()
        try ResultFiles.writeJSON(record, to: url)
        return record
    }

    /// A fresh initialization as a flat vector: stream "initialization <index>" of the seed.
    func initialization(_ index: Int) -> [Double] {
        var random = RandomGenerator(seed: configuration.seed).stream("initialization \(index)")
        return function.base.subspace.flatten(function.base.model.initialParameters(using: &random))
    }

    /// Mini-batch SGD (no momentum) from `x` for `steps` steps: batches drawn without replacement, a new
    /// permutation each epoch, from `random`. Calls `observe(step, x)` before each step and after the last.
    func sgd(from x: [Double], steps: Int, random: inout RandomGenerator, observe: (Int, [Double]) -> Void) -> [Double] {
        var x = x
        let n = function.base.count, b = configuration.batchSize
        var order: [Int] = []
        for step in 0..<steps {
            observe(step, x)
            if order.count < b { order += random.permutation(n) }
            let batch = Array(order.prefix(b))
            order.removeFirst(b)
            let base = function.risk(at: x)
            let risk = EmpiricalRisk(
                model: base.model, parameters: base.parameters, buffers: base.buffers, inputs: base.inputs.gathering(batch, alongAxis: 0),
                labels: batch.map { base.labels[$0] }, loss: base.loss, subspace: base.subspace, batchSize: b)
            let gradient = risk.valueAndGradient().gradient
            for i in x.indices { x[i] -= configuration.learningRate * gradient[i] }
        }
        observe(steps, x)
        return x
    }

    private func sgdTrajectory(_ t: Int, _ progress: (SaddlesProgress) -> Void) -> SaddlesTrajectory {
        let start = Date()
        let wanted = Set(configuration.snapshots)
        let last = configuration.snapshots.max()!
        var snapshots: [Int: [Double]] = [:]
        var random = RandomGenerator(seed: configuration.seed).stream("sgd \(t)")
        _ = sgd(from: initialization(t), steps: last, random: &random) { step, x in
            if wanted.contains(step) { snapshots[step] = x }
            if step % 100 == 0 { progress(.trajectory(t, step: step, of: last)) }
        }
        let steps = configuration.snapshots.sorted()
        return SaddlesTrajectory(
            trajectory: t, steps: steps, losses: steps.map { function.value(at: snapshots[$0]!) }, snapshots: steps.map { snapshots[$0]! },
            seconds: Date().timeIntervalSince(start))
    }

    private func searchCriticalPoint(trajectory: Int, step: Int, from start: [Double], _ progress: (SaddlesProgress) -> Void) throws -> SaddlesPoint {
        let began = Date()
        let search = CriticalPointSearch(
            gradientTolerance: configuration.gradientTolerance, maxIterations: configuration.searchIterations,
            zeroTolerance: configuration.zeroTolerance)
        let result = try search.search(function, from: start) {
            progress(.search(trajectory: trajectory, step: step, iteration: $0.iteration, gradientNorm: $0.gradientNorm))
        }
        let first = result.iterations[0]
        let accuracy = function.evaluate(at: result.point).accuracy
        return SaddlesPoint(
            trajectory: trajectory, step: step, startLoss: first.value, startGradientNorm: first.gradientNorm, loss: result.value,
            trainingError: 1 - accuracy, gradientNorm: result.gradientNorm, kind: result.kind,
            index: HessianIndex(eigenvalues: result.eigenvalues, threshold: result.zeroThreshold), flatGradientShare: result.flatGradientShare, flatThreshold: result.flatThreshold,
            eigenvalues: result.eigenvalues, iterations: result.iterations, hessians: result.hessians, gradients: result.gradients,
            seconds: Date().timeIntervalSince(began))
    }

    private func optimizerPath(_ optimizer: ComparedOptimizer, start: Int, _ progress: (SaddlesProgress) -> Void) throws -> OptimizerPath {
        // Starts are initializations the trajectories did not use.
        let x0 = initialization(configuration.trajectories + start)
        var records: [OptimizerPathRecord] = []
        var elapsed = 0.0
        switch optimizer {
        case .sgd:
            let steps = configuration.sgdIterations
            let probeEvery = configuration.sgdProbes > 0 ? max(1, steps / configuration.sgdProbes) : Int.max
            let recordEvery = max(1, steps / 200)
            var random = RandomGenerator(seed: configuration.seed).stream("compare sgd \(start)")
            var lastTick = Date()
            _ = sgd(from: x0, steps: steps, random: &random) { step, x in
                elapsed += Date().timeIntervalSince(lastTick)
                if step % recordEvery == 0 || step == steps {
                    let probe = step % probeEvery == 0 || step == steps
                    records.append(measure(x, iteration: step, seconds: elapsed, smallest: probe ? smallestEigenvalue(at: x, seed: UInt64(step)) : nil))
                    progress(.optimizer(optimizer, start: start, iteration: step, of: steps, loss: records.last!.loss))
                }
                lastTick = Date()
            }
        case .newton, .saddleFreeNewton:
            let method: SecondOrderMethod = optimizer == .newton ? .dampedNewton : .saddleFreeNewton
            let second = SecondOrderOptimizer(
                method: method, damping: configuration.damping, maxStepNorm: configuration.maxStepNorm,
                krylovDimension: optimizer == .saddleFreeNewton ? configuration.krylovDimension : nil)
            var x = x0
            for iteration in 0..<configuration.newtonIterations {
                let began = Date()
                let step = try second.step(function, at: x)
                let before = elapsed
                elapsed += Date().timeIntervalSince(began)
                records.append(measure(x, iteration: iteration, seconds: before, smallest: step.smallestEigenvalue))
                x = step.point
                progress(.optimizer(optimizer, start: start, iteration: iteration, of: configuration.newtonIterations, loss: step.value))
            }
            records.append(measure(x, iteration: configuration.newtonIterations, seconds: elapsed, smallest: smallestEigenvalue(at: x, seed: 0)))
        }
        return OptimizerPath(optimizer: optimizer, start: start, records: records, seconds: elapsed)
    }

    private func measure(_ x: [Double], iteration: Int, seconds: Double, smallest: Double?) -> OptimizerPathRecord {
        let (loss, accuracy, gradient) = function.evaluate(at: x)
        return OptimizerPathRecord(
            iteration: iteration, seconds: seconds, loss: loss, trainingError: 1 - accuracy,
            gradientNorm: gradient.reduce(0) { $0 + $1 * $1 }.squareRoot(), smallestEigenvalue: smallest)
    }

    /// The Hessian's smallest eigenvalue at x by Lanczos (at most 80 steps, relative residual 1e-4).
    func smallestEigenvalue(at x: [Double], seed: UInt64) -> Double? {
        let result = try? Lanczos.extremeEigenpairs(
            of: LossCurvature(.hessian, of: function.risk(at: x)), largest: 1, smallest: 1, tolerance: 1e-4, maxIterations: min(80, function.dimension),
            seed: configuration.seed &+ seed)
        return result?.smallest.first?.value
    }
}
