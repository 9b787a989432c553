import Foundation
import OccamAnalysis
import OccamData

/// Everything a curvature run measured, in one file: curvature.json.
public struct CurvatureSummary: Codable, Sendable {
    public var operatorKind: CurvatureKind
    public var checkpoint: String
    public var data: String
    public var point: CurvaturePoint
    public var eigenvalues: CurvatureEigenvalues?
    public var trace: CurvatureTrace?
    /// The fraction of negative eigenvalues: exact from the dense spectrum, else estimated by quadrature.
    /// Hessian only (the other kinds are positive semi-definite); eigenvalues within `indexThreshold` of zero
    /// (rounding) are not counted.
    public var index: Double?
    public var indexStandardError: Double?
    public var indexThreshold: Double?
    public var indexMethod: String?
    public var density: CurvatureDensity?
    public var spectrum: CurvatureSpectrum?
}

/// Builds a curvature run's curvature.json, eigenvalues.csv, density.svg and index.html from its stage files
/// alone, so `occam report` can rebuild them.
public struct CurvatureReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    private func read<Record: Decodable>(_: Record.Type, _ name: String) throws -> Record? {
        FileManager.default.fileExists(atPath: file(name).path) ? try RunStore.readJSON(Record.self, from: file(name)) : nil
    }

    @discardableResult
    public func build() throws -> CurvatureSummary {
        let stored = try RunStore.readConfiguration(CurvatureConfiguration.self, in: directory)
        let configuration = stored.configuration
        guard let point = try read(CurvaturePoint.self, "point.json") else {
            throw RunStoreError.unreadable(file("point.json"), reason: "the run has not measured its first stage yet; run the same occam curvature command again")
        }
        let spectrum = try read(CurvatureSpectrum.self, "spectrum.json")
        let density = try read(CurvatureDensity.self, "density.json")
        var summary = CurvatureSummary(
            operatorKind: configuration.operatorKind, checkpoint: configuration.checkpoint,
            data: "the first \(configuration.samples) \(configuration.split) images of \(configuration.dataset.displayName)",
            point: point, eigenvalues: try read(CurvatureEigenvalues.self, "eigenvalues.json"),
            trace: try read(CurvatureTrace.self, "trace.json"), density: density, spectrum: spectrum)
        // The index belongs to the Hessian: the other kinds are positive semi-definite by construction. Eigenvalues
        // within the rounding level of zero are zero.
        let epsilon = stored.precision == "float32" ? Double(Float.ulpOfOne) : Double.ulpOfOne
        if configuration.operatorKind == .hessian, let spectrum {
            let threshold = SpectralDensity.roundingThreshold(
                dimension: spectrum.eigenvalues.count, scale: spectrum.eigenvalues.map(abs).max() ?? 0, epsilon: epsilon)
            summary.index = Double(spectrum.eigenvalues.filter { $0 < -threshold }.count) / Double(spectrum.eigenvalues.count)
            summary.indexThreshold = threshold
            summary.indexMethod = "dense eigendecomposition (exact), below -\(significant(threshold)), the rounding level"
        } else if configuration.operatorKind == .hessian, let density {
            let range = density.density.nodeRange
            let threshold = SpectralDensity.roundingThreshold(
                dimension: density.density.dimension, scale: max(abs(range.lowerBound), abs(range.upperBound)), epsilon: epsilon)
            (summary.index, summary.indexStandardError) = density.density.fraction(below: -threshold)
            summary.indexThreshold = threshold
            summary.indexMethod = "stochastic Lanczos quadrature, \(density.density.probes.count) probes, below -\(significant(threshold)), the rounding level"
        }
        try ResultFiles.writeJSON(summary, to: file("curvature.json"))

        var table = CSVTable(header: ["end", "rank", "eigenvalue", "residual", "method"])
        for (i, pair) in (summary.eigenvalues?.largest ?? []).enumerated() {
            table.rows.append(["largest", "\(i + 1)", exact(pair.value), exact(pair.residual), "lanczos"])
        }
        for (i, pair) in (summary.eigenvalues?.smallest ?? []).enumerated() {
            table.rows.append(["smallest", "\(i + 1)", exact(pair.value), exact(pair.residual), "lanczos"])
        }
        for (i, value) in (spectrum?.eigenvalues ?? []).reversed().enumerated() {
            table.rows.append(["all", "\(i + 1)", exact(value), "", "dense"])
        }
        try table.write(to: file("eigenvalues.csv"))
        let hasPlot = try writeDensityPlot(density: density?.density, spectrum: spectrum, configuration: configuration)
        try report(configuration, summary: summary, table: table, hasPlot: hasPlot).write(in: directory)
        return summary
    }

    /// density.svg: the smoothed density on a log scale (as Ghorbani et al. and PyHessian plot it), with the
    /// dense spectrum's smoothed histogram beside it when there is one. Returns whether a plot was written.
    private func writeDensityPlot(
        density: SpectralDensity?, spectrum: CurvatureSpectrum?, configuration: CurvatureConfiguration
    ) throws -> Bool {
        let exact = spectrum.map { SpectralDensity.exact($0.eigenvalues) }
        let sources = [density, exact].compactMap { $0 }
        guard !sources.isEmpty else { return false }
        let low = sources.map(\.nodeRange.lowerBound).min()!, high = sources.map(\.nodeRange.upperBound).max()!
        let width = max((high - low) / 100, 1e-12 * max(abs(low), abs(high), 1))
        let grid = (0...600).map { low - 5 * width + Double($0) / 600 * (high - low + 10 * width) }
        // The log axis ends at `floor`: the Gaussian tails far from every eigenvalue are drawn along the bottom.
        let floor = 1e-7
        var highest = floor
        func series(_ name: String, _ source: SpectralDensity, dashed: Bool) -> PlotSeries {
            let values = source.smoothed(on: grid, width: width)
            highest = max(highest, values.max() ?? 0)
            return PlotSeries(name, points: zip(grid, values).map { PlotPoint(x: $0.0, y: max($0.1, floor)) }, dashed: dashed, markers: false)
        }
        var all: [PlotSeries] = []
        if let density { all.append(series("quadrature (\(density.probes.count) probes)", density, dashed: false)) }
        if let exact { all.append(series("dense eigenvalues", exact, dashed: true)) }
        try LinePlot(
            title: "Spectral density of the \(configuration.operatorKind.displayName) (Gaussian smoothing, σ = \(String(format: "%.2g", width)))",
            x: PlotAxis("eigenvalue"), y: PlotAxis("density (log scale)", scale: .logarithmic, range: floor...(highest * 3)), series: all
        ).write(to: file("density.svg"))
        return true
    }

    private func report(_ configuration: CurvatureConfiguration, summary: CurvatureSummary, table: CSVTable, hasPlot: Bool) throws -> HTMLReport {
        let point = summary.point
        var sections: [HTMLReport.Section] = []
        sections.append(.init(title: "The point", text: pointText(summary, configuration), links: [("point.json", "point.json")]))
        if let eigenvalues = summary.eigenvalues {
            sections.append(.init(
                title: "Extreme eigenvalues (Lanczos)", text: eigenvalueText(eigenvalues, summary: summary, configuration), table: table,
                links: [("eigenvalues.csv", "eigenvalues.csv"), ("eigenvectors.safetensors", "eigenvectors.safetensors")]))
        }
        if let trace = summary.trace {
            sections.append(.init(title: "Trace", text: traceText(trace, summary: summary), links: [("trace.json", "trace.json")]))
        }
        if hasPlot {
            sections.append(.init(
                title: "Spectral density", text: densityText(summary), image: "density.svg",
                links: [("density.svg", "density.svg")] + (summary.density == nil ? [] : [("density.json", "density.json")])
                    + (summary.spectrum == nil ? [] : [("spectrum.json", "spectrum.json")])))
        }
        let introduction = """
            The \(configuration.operatorKind.displayName) of the mean loss of \(configuration.model) at \(configuration.checkpoint), on \(summary.data), over \(point.dimension) of its \
            \(point.parameterCount) parameters (\(configuration.parameters)\(point.dimension < point.parameterCount && configuration.usesMask ? ", pruned weights excluded" : "")). \
            All numbers are in curvature.json.
            """
        return HTMLReport(
            title: "Curvature: the \(configuration.operatorKind.displayName) of \(configuration.model)", introduction: introduction, sections: sections,
            configurationJSON: try String(contentsOf: file("config.json"), encoding: .utf8))
    }

    private func pointText(_ summary: CurvatureSummary, _ configuration: CurvatureConfiguration) -> String {
        let point = summary.point
        var text = "Loss \(significant(point.loss)), accuracy \(String(format: "%.2f", 100 * point.accuracy))%, gradient norm \(significant(point.gradientNorm)) (one full-data gradient: \(seconds(point.gradientSeconds)))."
        if configuration.operatorKind == .hessian, let top = summary.eigenvalues?.largest.first?.value, top > 0, point.loss > 0 {
            // A gradient step of 1/λ_max lowers the quadratic model by at least ‖g‖² / (2 λ_max).
            let decrease = point.gradientNorm * point.gradientNorm / (2 * top)
            let share = decrease / point.loss
            text += " A gradient step of 1/λ_max would lower the quadratic model of the loss by at least ‖g‖²/(2 λ_max) = \(significant(decrease)), \(String(format: "%.2g", 100 * share))% of the loss: \(share < 0.01 ? "the point is nearly stationary at the scale of its curvature" : "the point is on a slope, not at a stationary point, so read the eigenvalues as the curvature of a slope")."
        }
        return text
    }

    private func eigenvalueText(_ e: CurvatureEigenvalues, summary: CurvatureSummary, _ configuration: CurvatureConfiguration) -> String {
        var parts: [String] = []
        parts.append(e.converged
            ? "Lanczos converged in \(e.iterations) steps (\(e.products) products, \(seconds(e.secondsPerProduct)) each): every requested pair has a residual at most \(configuration.tolerance) times the largest |eigenvalue|."
            : "Lanczos stopped after \(e.iterations) steps without reaching the tolerance \(configuration.tolerance): read the residual column before trusting the smaller values.")
        if let top = e.largest.first {
            parts.append("Largest eigenvalue \(significant(top.value)) (residual \(significant(top.residual))).")
            if e.largest.count > 1, let last = e.largest.last, last.value > last.residual {
                parts.append("The \(ordinal(e.largest.count)) largest is \(significant(last.value)), \(String(format: "%.1f", top.value / last.value))x smaller than the first.")
            }
        }
        if configuration.operatorKind.isPositiveSemidefinite {
            parts.append("The \(configuration.operatorKind.displayName) is positive semi-definite by construction: any value within its residual of zero, or below it, is zero to rounding.")
        } else if let bottom = e.smallest.first {
            if bottom.value + bottom.residual < 0 {
                parts.append("The smallest eigenvalue is \(significant(bottom.value)) (residual \(significant(bottom.residual))): negative beyond its residual, so there is a direction of descent and the point is not a minimum on these images.")
            } else if bottom.value - bottom.residual > 0 {
                parts.append("The smallest eigenvalue is \(significant(bottom.value)) > 0 beyond its residual: no negative curvature was found.")
            } else {
                parts.append("The smallest eigenvalue is \(significant(bottom.value)), within its residual \(significant(bottom.residual)) of zero: its sign cannot be told.")
            }
            if let top = e.largest.first, top.value > 0, bottom.value + bottom.residual < 0 {
                parts.append("Ratio of the most negative to the largest: \(significant(bottom.value / top.value)).")
            }
        }
        parts.append("A repeated eigenvalue (such as the zero eigenvalues of an over-parameterized network) appears once in a Krylov space, so the list holds distinct values.")
        return parts.joined(separator: " ")
    }

    private func traceText(_ trace: CurvatureTrace, summary: CurvatureSummary) -> String {
        func describe(_ t: TraceEstimate) -> String {
            t.standardError.map { "\(significant(t.value)) ± \(significant($0))" } ?? "\(significant(t.value)) (one probe: no standard error)"
        }
        var text = "Hutchinson (\(trace.hutchinson.products) Rademacher probes): \(describe(trace.hutchinson)). Hutch++ (\(trace.hutchPlusPlus.products) products): \(describe(trace.hutchPlusPlus)) (standard errors of the mean over probes)."
        if let a = trace.hutchinson.standardError, let b = trace.hutchPlusPlus.standardError {
            let gap = abs(trace.hutchinson.value - trace.hutchPlusPlus.value), combined = (a * a + b * b).squareRoot()
            text += gap <= 3 * combined
                ? " The two agree within 3 combined standard errors."
                : " The two differ by \(String(format: "%.1f", gap / combined)) combined standard errors: more probes are needed."
        }
        if let exact = summary.spectrum?.eigenvalues.reduce(0, +) {
            text += " The dense spectrum's exact trace is \(significant(exact))."
        }
        if let top = summary.eigenvalues?.largest, !top.isEmpty, trace.hutchPlusPlus.value > 0 {
            let share = top.map(\.value).reduce(0, +) / trace.hutchPlusPlus.value
            let spread = trace.hutchPlusPlus.standardError.map { " ± \(String(format: "%.1f", 100 * share * $0 / trace.hutchPlusPlus.value)) points" } ?? ""
            text += " The \(top.count) largest eigenvalues sum to \(String(format: "%.1f", 100 * share))%\(spread) of the Hutch++ estimate."
        }
        return text
    }

    private func densityText(_ summary: CurvatureSummary) -> String {
        var text = "The density of eigenvalues, smoothed by a Gaussian and drawn on a log scale so that the bulk near zero and the few outliers both show."
        if let index = summary.index, let method = summary.indexMethod {
            let error = summary.indexStandardError.map { " ± \(String(format: "%.2f", 100 * $0))" } ?? (summary.spectrum == nil ? " (one probe: no standard error)" : "")
            text += " Fraction of negative eigenvalues (the index): \(String(format: "%.2f", 100 * index))%\(error), by \(method)."
        }
        return text
    }
}

extension SpectralDensity {
    /// The exact spectral measure of `eigenvalues`: one node each, of weight 1/n.
    static func exact(_ eigenvalues: [Double]) -> SpectralDensity {
        SpectralDensity(
            probes: [Quadrature(nodes: eigenvalues, weights: Array(repeating: 1 / Double(eigenvalues.count), count: eigenvalues.count))],
            dimension: eigenvalues.count)
    }
}


/// "1st", "2nd", "3rd", "11th", "22nd".
private func ordinal(_ n: Int) -> String {
    let suffix = (11...13).contains(n % 100) ? "th" : [1: "st", 2: "nd", 3: "rd"][n % 10] ?? "th"
    return "\(n)\(suffix)"
}

private func seconds(_ value: Double) -> String { value < 1 ? String(format: "%.0f ms", 1000 * value) : String(format: "%.1f s", value) }
