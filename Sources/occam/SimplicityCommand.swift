import ArgumentParser
import Foundation
import OccamData
import OccamExperiments

struct SimplicityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simplicity",
        abstract: "The simplicity bias of random ReLU networks (Valle-Perez et al. 2019; De Palma et al. 2019).",
        discussion: """
            Draws --draws networks n-w-...-w-1 (weights N(0, σ_w² / fan-in), biases N(0, σ_b²)), evaluates each on all \
            2^n inputs of {0,1}^n, and counts the Boolean functions [out > 0] they compute. Reports P(f) against the \
            Lempel-Ziv complexity K_LZ(f), the rank-frequency law, the most frequent functions with their truth tables \
            and the distribution of the fraction of ones. --perceptron samples a bias-free perceptron instead and tests \
            the exact law P(t ones) = 2^-n, t = 0 ... 2^n - 1 (chi-square).

            Then, for networks n-w-w-1 on ±1 strings of each --robustness-sizes length: the Hamming distance from \
            random inputs to the nearest differently classified string (exact search by distance within \
            --search-budget strings; greedy descent, an upper bound, for every n) and the number of random bit flips \
            that change the class, beside De Palma et al.'s bound sqrt(n / (2π ln n)).

            Sampling runs in chunks of --chunk-size networks, each from its own random stream, on --threads threads \
            (the counts do not depend on the thread count); functions.bin is saved every 30 s, so an interrupted run \
            resumes. Results: OUT/simplicity-<architecture>-<hash>/ with summary.json, CSV tables, SVG plots and index.html.
            """)

    @Option(parsing: .unconditional, help: "n: functions on {0,1}^n (1 to 7).") var inputSize = 7
    @Option(parsing: .unconditional, help: "Hidden layers.") var depth = 2
    @Option(parsing: .unconditional, help: "Units per hidden layer.") var width = 40
    @Option(name: .customLong("sigma-w"), parsing: .unconditional, help: "σ_w: weights are N(0, σ_w² / fan-in).") var sigmaW = 1.0
    @Option(name: .customLong("sigma-b"), parsing: .unconditional, help: "σ_b: biases are N(0, σ_b²); 0 for none.") var sigmaB = 0.1
    @Option(parsing: .unconditional, help: "Networks to draw.") var draws = 20_000_000
    @Flag(help: "Draw 10^8 networks, as Valle-Perez et al. (overrides --draws).") var paper = false
    @Flag(help: "A bias-free perceptron (no hidden layer, σ_b = 0) and the exact check of its P(t ones) = 2^-n.") var perceptron = false
    @Option(parsing: .unconditional, help: "Networks per chunk (each chunk has its own random stream).") var chunkSize = 1 << 16
    @Option(help: "Lengths n of the robustness measurements, comma-separated, or none.") var robustnessSizes = "16,32,64,128,256,512,784"
    @Option(parsing: .unconditional, help: "Hidden width of the robustness networks n-w-w-1.") var robustnessWidth = 256
    @Option(parsing: .unconditional, help: "Robustness networks per length.") var robustnessNetworks = 16
    @Option(parsing: .unconditional, help: "Random inputs per robustness network.") var robustnessInputs = 32
    @Option(parsing: .unconditional, help: "Strings the exact distance search may evaluate per input.") var searchBudget = 1 << 17
    @Option(parsing: .unconditional, help: "Seed of every network, input and flip order.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Worker threads (default: the number of cores); results do not depend on it.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    func simplicityConfiguration() throws -> SimplicityConfiguration {
        var c = SimplicityConfiguration()
        c.inputSize = inputSize
        guard depth >= 0 else { throw ValidationError("--depth must be 0 or more (hidden layers), got \(depth).") }
        c.hiddenWidths = Array(repeating: width, count: depth)
        c.weightScale = sigmaW
        c.biasScale = sigmaB
        if perceptron { (c.hiddenWidths, c.biasScale) = ([], 0) }
        c.draws = paper ? 100_000_000 : draws
        c.chunkSize = chunkSize
        c.robustnessSizes = robustnessSizes.trimmingCharacters(in: .whitespaces) == "none" || perceptron
            ? [] : try parsePositiveIntegers(robustnessSizes, option: "--robustness-sizes", example: "16,32,64")
        c.robustnessWidth = robustnessWidth
        c.robustnessNetworks = robustnessNetworks
        c.robustnessInputs = robustnessInputs
        c.searchBudget = searchBudget
        c.seed = seed
        try c.validate()
        return c
    }

    func validate() throws {
        _ = try simplicityConfiguration()
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads).") }
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        let configuration = try simplicityConfiguration()
        let directory = try RunStore.open(configuration, precision: "float32", under: URL(fileURLWithPath: out), access: cluster.access)
        if !quiet && cluster.unit == nil {
            status("Simplicity bias: \(configuration.draws) random \(configuration.label) networks on {0,1}^\(configuration.inputSize), \(threads) threads")
            status("Run directory: \(directory.path)")
        }
        var study = try SimplicityStudy(configuration: configuration, directory: directory, threads: threads)
        var lastDraw = Date.distantPast
        let terminal = Console.isTerminal, quiet = self.quiet
        study.progress = { event in
            guard !quiet else { return }
            switch event {
            case let .sampling(done, total, rate, left):
                let line = String(format: "sampling %d/%d networks (%.1f%%)  %.0f draws/s  ETA %@", done, total, 100 * Double(done) / Double(total), rate, formatDuration(left))
                if terminal {
                    if Date().timeIntervalSince(lastDraw) > 0.2 || done == total { status("\r\u{1B}[K" + line, terminator: done == total ? "\n" : "") ; lastDraw = Date() }
                } else if Date().timeIntervalSince(lastDraw) > 10 || done == total {
                    status(line)
                    lastDraw = Date()
                }
            case let .robustness(size, done, total):
                if terminal { status("\r\u{1B}[Krobustness n = \(size): \(done)/\(total) networks", terminator: done == total ? "\n" : "") }
                else if done == total { status("robustness n = \(size): \(total) networks") }
            case .skipped(let stage):
                status("\(stage): found on disk")
            }
        }
        if try cluster.handle(study, stages: study.unitNames.count, quiet: quiet) { return }
        try study.run()
        let summary = try SimplicityReport(directory: directory).build()
        printSummary(summary, configuration: configuration)
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }

    private func printSummary(_ s: SimplicitySummary, configuration c: SimplicityConfiguration) {
        print(String(format: "%d draws in %.1f s (%.0f draws/s), %d distinct functions (%d seen once)", s.draws, s.samplingSeconds, s.drawsPerSecond, s.distinctFunctions, s.singletons))
        print("\nrank       count  probability   K_LZ  ones  function")
        for r in s.topFunctions.prefix(10) {
            print(String(format: "%4d  %10d  %11.3e  %5.1f  %4d  ", r.rank, Int(r.count), r.probability, r.complexity, r.ones) + (r.name ?? r.hex))
        }
        print(String(format: "\nMean K_LZ: %.1f (networks), %.1f ± %.1f (uniformly random functions)", s.meanComplexity, s.randomComplexity.mean, s.randomComplexity.standardDeviation))
        if let fit = s.envelopeFit { print(String(format: "Upper envelope: log10 P = %.4f K_LZ + %.2f (%d points)", fit.slope, fit.intercept, fit.points)) }
        if let fit = s.zipfFit, fit.points >= 3 { print(String(format: "Rank-frequency slope: %.2f (Zipf: -1)", fit.slope)) }
        if let check = s.perceptronCheck {
            print(String(format: "Perceptron check: chi-square %.1f on %d degrees of freedom, p = %.3g", check.statistic, check.degreesOfFreedom, check.pValue))
        }
        if !s.robustness.isEmpty {
            print("\n     n  bound  nearest distance: search (exact inputs)  greedy        random flips (unchanged inputs)")
            func cell(_ s: Spread, _ width: Int) -> String {
                String(format: "%\(width).2f ± %5.2f", s.mean, s.standardError.isFinite ? s.standardError : 0)
            }
            for r in s.robustness {
                let search = (r.exactInputs == r.inputs ? "  " : ">=") + cell(r.lower, 5)
                print(String(format: "%6d  %5.2f  ", r.size, r.bound) + search + String(format: " (%4d/%4d)  ", r.exactInputs, r.inputs) + cell(r.greedy, 6) + "  " + cell(r.flips, 7) + " (\(r.flipsUnchanged))")
            }
            if let fit = s.flipsFit { print(String(format: "Random flips grow by %.4f per bit (line through the means)", fit.slope)) }
        }
    }
}
