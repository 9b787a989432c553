import Foundation
import OccamData

/// Everything `occam simplicity` measured: summary.json.
public struct SimplicitySummary: Codable, Sendable {
    public var architecture: String
    public var draws: Int
    public var distinctFunctions: Int
    public var singletons: Int
    public var samplingSeconds: Double
    public var drawsPerSecond: Double
    public var topFunctions: [FunctionRow]
    public var complexity: [ComplexityBin]
    public var meanComplexity: Double
    public var randomComplexity: Spread
    public var envelopeFit: LineFit?
    public var zipfFit: LineFit?
    /// P(T = t): the fraction of draws whose function maps t inputs to 1.
    public var ones: [Double]
    /// For the bias-free perceptron: the sampled P(T = t), t < 2^n, against the exact 2^-n.
    public var perceptronCheck: ChiSquareTest?
    public var robustness: [RobustnessRow]
    /// Mean random flips against n.
    public var flipsFit: LineFit?
}

/// Builds a simplicity run's summary.json, CSV tables, SVG plots and index.html from functions.bin and the
/// robustness files alone, so `occam report` can rebuild them.
public struct SimplicityReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    @discardableResult
    public func build() throws -> SimplicitySummary {
        let c = try RunStore.readConfiguration(SimplicityConfiguration.self, in: directory).configuration
        guard FileManager.default.fileExists(atPath: file("functions.bin").path) else {
            throw RunStoreError.unreadable(file("functions.bin"), reason: "the run has not saved any sampled functions yet; run the same occam simplicity command again")
        }
        let counts = try FunctionCounts.read(from: file("functions.bin"))
        let analysis = FunctionAnalysis(counts: counts, inputSize: c.inputSize, seed: c.seed)
        var robustness: [RobustnessRow] = []
        for size in c.robustnessSizes where FileManager.default.fileExists(atPath: file("robustness-n\(size).json").path) {
            robustness.append(RobustnessRow(record: try RunStore.readJSON(RobustnessRecord.self, from: file("robustness-n\(size).json"))))
        }
        var perceptron: ChiSquareTest?
        if c.isBiasFreePerceptron {
            // T = 2^n never occurs (the all-zero input is classified 0): test t = 0 ... 2^n - 1 against 2^-n each.
            let categories = 1 << c.inputSize
            perceptron = ChiSquareTest(
                observed: (0..<categories).map { analysis.ones[$0] * Double(counts.draws) },
                probabilities: Array(repeating: 1 / Double(categories), count: categories))
        }
        let summary = SimplicitySummary(
            architecture: c.architecture, draws: counts.draws, distinctFunctions: analysis.distinct, singletons: analysis.singletons,
            samplingSeconds: counts.seconds, drawsPerSecond: Double(counts.draws) / max(counts.seconds, 1e-9),
            topFunctions: analysis.rows(limit: 20, inputSize: c.inputSize), complexity: analysis.complexity,
            meanComplexity: analysis.meanComplexity, randomComplexity: analysis.randomComplexity, envelopeFit: analysis.envelopeFit,
            zipfFit: analysis.zipfFit, ones: analysis.ones, perceptronCheck: perceptron, robustness: robustness,
            flipsFit: robustness.count >= 2 ? LineFit(x: robustness.map { Double($0.size) }, y: robustness.map(\.flips.mean)) : nil)
        try ResultFiles.writeJSON(summary, to: file("summary.json"))
        try writeTables(summary, analysis: analysis, inputSize: c.inputSize)
        try writePlots(summary, analysis: analysis, configuration: c)
        try report(summary, configuration: c).write(in: directory)
        return summary
    }

    private func writeTables(_ s: SimplicitySummary, analysis: FunctionAnalysis, inputSize: Int) throws {
        var functions = CSVTable(header: ["rank", "count", "probability", "complexity", "ones", "hex", "name"])
        for row in analysis.rows(limit: 10_000, inputSize: inputSize) {
            functions.rows.append(["\(row.rank)", "\(row.count)", exact(row.probability), exact(row.complexity), "\(row.ones)", row.hex, row.name ?? ""])
        }
        try functions.write(to: file("functions.csv"))
        var complexity = CSVTable(header: ["complexity", "probability", "random_probability", "functions", "largest_probability"])
        for bin in s.complexity {
            complexity.rows.append([exact(bin.complexity), exact(bin.probability), exact(bin.randomProbability), "\(bin.functions)", exact(bin.largestProbability)])
        }
        try complexity.write(to: file("complexity.csv"))
        var ones = CSVTable(header: ["ones", "probability"])
        for (t, p) in s.ones.enumerated() { ones.rows.append(["\(t)", exact(p)]) }
        try ones.write(to: file("ones.csv"))
        var ranks = CSVTable(header: ["rank", "probability"])
        for point in analysis.rankFrequency() { ranks.rows.append(["\(point.rank)", exact(point.probability)]) }
        try ranks.write(to: file("rank-frequency.csv"))
        try robustnessTable(s).write(to: file("robustness.csv"))
    }

    private func robustnessTable(_ s: SimplicitySummary) -> CSVTable {
        var table = CSVTable(header: [
            "n", "bound", "exact_mean", "exact_se", "exact_inputs", "lower_mean", "lower_se", "greedy_mean", "greedy_se", "flips_mean", "flips_se", "flips_unchanged", "flips_counting_unchanged_mean", "inputs", "seconds",
        ])
        for r in s.robustness {
            table.rows.append([
                "\(r.size)", exact(r.bound), exact(r.exact.mean), exact(r.exact.standardError), "\(r.exactInputs)", exact(r.lower.mean), exact(r.lower.standardError), exact(r.greedy.mean),
                exact(r.greedy.standardError), exact(r.flips.mean), exact(r.flips.standardError), "\(r.flipsUnchanged)", exact(r.flipsCountingUnchanged.mean), "\(r.inputs)", exact(r.seconds),
            ])
        }
        return table
    }

    private func writePlots(_ s: SimplicitySummary, analysis: FunctionAnalysis, configuration c: SimplicityConfiguration) throws {
        let floor = 1 / Double(max(s.draws, 1))
        var scatter = [PlotSeries("functions", points: analysis.scatterPoints().map { PlotPoint(x: $0.complexity, y: $0.probability) }, color: "#4e79a7", lines: false)]
        scatter.append(PlotSeries("largest P(f)", points: s.complexity.filter { $0.functions > 0 }.map { PlotPoint(x: $0.complexity, y: $0.largestProbability) }, markers: false, color: "#e15759"))
        if let fit = s.envelopeFit {
            let xs = s.complexity.filter { $0.functions > 0 }.map(\.complexity)
            scatter.append(PlotSeries(
                "fit: \(String(format: "%.3f", fit.slope)) per unit",
                points: [xs.min()!, xs.max()!].map { PlotPoint(x: $0, y: pow(10, fit.intercept + fit.slope * $0)) }, dashed: true, markers: false, color: "#555555"))
        }
        try LinePlot(
            title: "P(f) against K_LZ(f), \(s.draws) random \(c.architecture) networks", x: PlotAxis("K_LZ(f)"),
            y: PlotAxis("P(f) (log scale)", scale: .logarithmic, range: (floor / 2)...1), series: scatter
        ).write(to: file("probability-complexity.svg"))

        let mass = s.complexity
        try LinePlot(
            title: "Where the probability lies: P(K_LZ = k)", x: PlotAxis("K_LZ"), y: PlotAxis("probability (log scale)", scale: .logarithmic),
            series: [
                PlotSeries("random networks", points: mass.filter { $0.probability > 0 }.map { PlotPoint(x: $0.complexity, y: $0.probability) }, color: "#4e79a7"),
                PlotSeries("random functions", points: mass.filter { $0.randomProbability > 0 }.map { PlotPoint(x: $0.complexity, y: $0.randomProbability) }, dashed: true, color: "#555555"),
            ]
        ).write(to: file("complexity.svg"))

        var zipf = [PlotSeries("sampled", points: analysis.rankFrequency().map { PlotPoint(x: Double($0.rank), y: $0.probability) }, markers: false, color: "#4e79a7")]
        if let fit = s.zipfFit, fit.points >= 2 {
            zipf.append(PlotSeries(
                "fit: P ∝ rank^\(String(format: "%.2f", fit.slope))",
                points: [1, Double(fit.points)].map { PlotPoint(x: $0, y: pow(10, fit.intercept + fit.slope * log10($0))) }, dashed: true, markers: false, color: "#555555"))
        }
        try LinePlot(
            title: "Rank-frequency of the sampled functions", x: PlotAxis("rank", scale: .logarithmic),
            y: PlotAxis("P(f) (log scale)", scale: .logarithmic), series: zipf
        ).write(to: file("rank-frequency.svg"))

        let total = Double(1 << c.inputSize)
        try LinePlot(
            title: "Fraction of inputs classified 1", x: PlotAxis("ones / 2^n"), y: PlotAxis("probability (log scale)", scale: .logarithmic),
            series: [PlotSeries("P(T = t)", points: s.ones.enumerated().filter { $0.element > 0 }.map { PlotPoint(x: Double($0.offset) / total, y: $0.element) }, color: "#4e79a7")],
            horizontalLines: c.isBiasFreePerceptron ? [PlotHorizontalLine(y: 1 / total, label: "exact: 2^-n for t < 2^n")] : []
        ).write(to: file("ones.svg"))

        guard !s.robustness.isEmpty else { return }
        let rows = s.robustness
        try LinePlot(
            title: "Hamming distance to the nearest differently classified string", x: PlotAxis("n (bits)", scale: .logarithmic),
            y: PlotAxis("mean distance"),
            series: [
                PlotSeries("search (≥; exact if all)", points: rows.map { PlotPoint(x: Double($0.size), y: $0.lower.mean, error: $0.lower.standardError) }, color: "#4e79a7"),
                PlotSeries("greedy (upper bound)", points: rows.map { PlotPoint(x: Double($0.size), y: $0.greedy.mean, error: $0.greedy.standardError) }, color: "#f28e2b"),
                PlotSeries("√(n / (2π ln n))", points: rows.map { PlotPoint(x: Double($0.size), y: $0.bound) }, dashed: true, markers: false, color: "#555555"),
            ],
            horizontalLines: [PlotHorizontalLine(y: 1, label: "uniformly random function: 1")]
        ).write(to: file("hamming-distance.svg"))
        try LinePlot(
            title: "Random bit flips until the class changes", x: PlotAxis("n (bits)"), y: PlotAxis("mean flips"),
            series: [
                PlotSeries("class changed", points: rows.map { PlotPoint(x: Double($0.size), y: $0.flips.mean, error: $0.flips.standardError) }, color: "#4e79a7"),
                PlotSeries("unchanged as n", points: rows.map { PlotPoint(x: Double($0.size), y: $0.flipsCountingUnchanged.mean) }, dashed: true, markers: false, color: "#555555"),
            ],
            horizontalLines: [PlotHorizontalLine(y: 2, label: "uniformly random function: 2")]
        ).write(to: file("random-flips.svg"))
    }
}
