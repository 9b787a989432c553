import Foundation
import OccamAnalysis
import OccamData

/// Everything `occam evidence` reports, in summary.json.
public struct EvidenceSummary: Codable, Sendable {
    public var checkpoint: String
    public var data: String
    public var measurement: NetworkCurvature
    /// "given" (--prior-precision) or "MacKay's fixed point".
    public var priorPrecisionSource: String
    /// The evidence at the reported δ (the given one, else MacKay's), and at MacKay's δ.
    public var evidence: LaplaceEvidence?
    public var evidenceAtMacKayPrecision: LaplaceEvidence?
    /// P - k: coordinates whose eigenvalue was not measured and counts as zero.
    public var unmeasuredDirections: Int
    /// A bound on what the unmeasured directions can take from the Occam factor: each unmeasured eigenvalue is
    /// at most the smallest measured one (Lanczos returns the largest), so together they cost at most
    /// (P - k) × ½ log(1 + λ_k/δ) nats. Only for positive semi-definite curvature; nil when every one was measured.
    public var unmeasuredBound: Double?
}

/// Builds an evidence run's summary.json, contributions.csv, occam-factor.svg, evidence-vs-precision.svg and
/// index.html from measurement.json and config.json alone, so `occam report` can rebuild them.
public struct EvidenceReport {
    public static let measurementFile = "measurement.json"
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    @discardableResult
    public func build() throws -> EvidenceSummary {
        let configuration = try RunStore.readConfiguration(EvidenceConfiguration.self, in: directory).configuration
        guard FileManager.default.fileExists(atPath: file(Self.measurementFile).path) else {
            throw RunStoreError.unreadable(
                file(Self.measurementFile), reason: "the run has not finished its measurement; run the same occam evidence command again")
        }
        let m = try RunStore.readJSON(NetworkCurvature.self, from: file(Self.measurementFile))
        let unmeasured = m.dimension - m.eigenvalues.count
        let delta = configuration.curvature.priorPrecision ?? m.macKayPrecision
        var bound: Double?
        if unmeasured > 0, let delta, let smallest = m.logLikelihoodEigenvalues.last, m.operatorKind.isPositiveSemidefinite {
            bound = Double(unmeasured) * 0.5 * log1p(max(smallest, 0) / delta)
        }
        let summary = EvidenceSummary(
            checkpoint: configuration.checkpoint,
            data: "the first \(configuration.samples) \(configuration.split) images of \(configuration.dataset.displayName)",
            measurement: m, priorPrecisionSource: configuration.curvature.priorPrecision == nil ? "MacKay's fixed point" : "given",
            evidence: delta.map { m.evidence(priorPrecision: $0) }, evidenceAtMacKayPrecision: m.macKayPrecision.map { m.evidence(priorPrecision: $0) },
            unmeasuredDirections: unmeasured, unmeasuredBound: bound)
        try ResultFiles.writeJSON(summary, to: file("summary.json"))

        var table = CSVTable(header: [
            "rank", "eigenvalue_mean_loss", "eigenvalue_log_likelihood", "occam_factor_nats", "cumulative_occam_factor_nats", "gamma_share",
        ])
        if let delta {
            var cumulative = 0.0
            for (i, lambda) in m.logLikelihoodEigenvalues.enumerated() {
                let part = LaplaceEvidence.contributions([lambda], priorPrecision: delta)[0]
                cumulative += part
                table.rows.append([
                    "\(i + 1)", exact(m.eigenvalues[i]), exact(lambda), exact(part), exact(cumulative),
                    exact(LaplaceEvidence.effectiveDimensionality([lambda], scale: delta)),
                ])
            }
        }
        try table.write(to: file("contributions.csv"))
        if let delta { try writePlots(m, delta: delta) }
        try report(configuration, summary: summary, table: table).write(in: directory)
        return summary
    }

    /// occam-factor.svg (each direction's cost against its rank) and evidence-vs-precision.svg (the evidence and
    /// its δ-dependent parts over four decades of δ around the reported one, MacKay's δ marked).
    private func writePlots(_ m: NetworkCurvature, delta: Double) throws {
        let costs = LaplaceEvidence.contributions(m.logLikelihoodEigenvalues, priorPrecision: delta).map { -$0 }
        try LinePlot(
            title: "Each direction's Occam factor at δ = \(significant(delta))", x: PlotAxis("rank of the eigenvalue", scale: .logarithmic),
            y: PlotAxis("½ log(1 + Nλᵢ/δ) (nats)"),
            series: [PlotSeries("cost of direction i", points: costs.enumerated().map { PlotPoint(x: Double($0.offset + 1), y: $0.element) }, markers: costs.count <= 60)]
        ).write(to: file("occam-factor.svg"))
        let grid = (0...80).map { delta * pow(10, -2 + Double($0) / 20) }
        let curves = grid.map { m.evidence(priorPrecision: $0) }
        func series(_ name: String, _ value: (LaplaceEvidence) -> Double, dashed: Bool = false) -> PlotSeries {
            PlotSeries(name, points: zip(grid, curves).map { PlotPoint(x: $0.0, y: value($0.1)) }, dashed: dashed, markers: false)
        }
        try LinePlot(
            title: "Laplace evidence against the prior precision", x: PlotAxis("prior precision δ", scale: .logarithmic), y: PlotAxis("nats"),
            series: [
                series("log p(D) - log p(D | θ*)", { $0.occamFactor + $0.priorTerm }),
                series("Occam factor", { $0.occamFactor }, dashed: true),
                series("prior term -δ‖θ*‖²/2", { $0.priorTerm }, dashed: true),
            ],
            verticalLines: m.macKayPrecision.map { [PlotVerticalLine(x: $0, label: "MacKay's δ")] } ?? []
        ).write(to: file("evidence-vs-precision.svg"))
    }

    private func report(_ configuration: EvidenceConfiguration, summary: EvidenceSummary, table: CSVTable) throws -> HTMLReport {
        let m = summary.measurement
        var sections: [HTMLReport.Section] = [
            .init(title: "The point", text: EvidenceText.point(m)),
            .init(title: "Curvature", text: EvidenceText.curvature(m, unmeasured: summary.unmeasuredDirections)),
        ]
        if let evidence = summary.evidence {
            sections.append(.init(
                title: "Laplace evidence", text: EvidenceText.evidence(evidence, summary: summary), links: [("summary.json", "summary.json")]))
            sections.append(.init(
                title: "Each direction's Occam factor",
                text: "Direction i (an eigenvector of the curvature) costs ½ log(1 + Nλᵢ/δ) nats: a direction twice as wide (half the curvature) costs about ½ log 2 = 0.35 nats less once Nλᵢ ≫ δ, and a direction with Nλᵢ ≪ δ costs almost nothing, since the data do not determine it beyond the prior. Its share of γ is Nλᵢ/(Nλᵢ + δ).",
                image: "occam-factor.svg", table: table.rows.count <= 40 ? table : nil, links: [("contributions.csv", "contributions.csv")]))
            sections.append(.init(
                title: "The evidence against the prior precision",
                text: "The two parts of the evidence that depend on δ, with θ* and the curvature held fixed: a larger δ lowers the Occam factor's cost (every direction is less determined by the data relative to the prior) and raises the prior term's. MacKay's fixed point δ = γ/‖θ*‖² is where their sum is largest.",
                image: "evidence-vs-precision.svg"))
        }
        let introduction = """
            The Laplace approximation to the log marginal likelihood of \(configuration.model) at \(configuration.checkpoint), on \(summary.data), with an isotropic Gaussian prior N(0, δ⁻¹ I) over \(m.dimension) of its \(m.parameterCount) parameters (\(configuration.parameters); the others are held at their values): \
            log p(D) ≈ log p(D | θ*) - ½ Σᵢ log(1 + Nλᵢ/δ) - (δ/2)‖θ*‖², where λᵢ are the eigenvalues of the \(m.operatorKind.displayName) of the mean loss and Nλᵢ those of the negative log-likelihood. This is the whole approximation: the prior's normalization (P/2) log(δ/2π) cancels the Gaussian integral's (P/2) log 2π and turns -½ log det(NH + δI) into the sum shown. All numbers are in summary.json.
            """
        return HTMLReport(
            title: "Laplace evidence of \(configuration.model)", introduction: introduction, sections: sections,
            configurationJSON: try HTMLReport.configurationText(in: directory))
    }
}

/// The sentences of evidence reports, computed from the numbers (shared with the studies that measure many networks).
enum EvidenceText {
    static func point(_ m: NetworkCurvature) -> String {
        "Mean loss \(significant(m.loss)) over N = \(m.samples) samples, so log p(D | θ*) = \(significant(m.logLikelihood)) nats; accuracy \(String(format: "%.2f", 100 * m.accuracy))%. "
            + "Gradient norm of the mean loss \(significant(m.gradientNorm)) (of the log-likelihood, N times that: \(significant(Double(m.samples) * m.gradientNorm))). "
            + "The Laplace approximation expands around a maximum of the log joint; a network trained without weight decay, or on other images than these, is not exactly at one, so read the evidence as that of the Gaussian fitted at θ*. ‖θ*‖² = \(significant(m.squaredNorm))."
    }

    static func curvature(_ m: NetworkCurvature, unmeasured: Int) -> String {
        var parts: [String] = []
        if m.eigenvalueMethod == "dense" {
            parts.append("Every eigenvalue of the \(m.operatorKind.displayName) from the dense \(m.dimension) x \(m.dimension) matrix (LAPACK syevd).")
        } else {
            parts.append("The \(m.eigenvalues.count) largest eigenvalues by Lanczos (\(m.lanczosSteps ?? 0) steps, \(m.converged ? "converged" : "NOT converged: the smaller ones are rough"), largest residual \(significant(m.largestResidual ?? .nan))); the other \(unmeasured) of the \(m.dimension) directions count as zero in N_eff and in the evidence.")
        }
        if let top = m.topEigenvalue { parts.append("Largest eigenvalue \(significant(top)).") }
        if let trace = m.trace {
            parts.append("Trace \(significant(trace))\(m.traceStandardError.map { " ± \(significant($0))" } ?? "") (\(m.traceMethod ?? "")).")
            if m.eigenvalueMethod != "dense", trace > 0 {
                parts.append("The measured eigenvalues hold \(String(format: "%.1f", 100 * m.eigenvalues.reduce(0, +) / trace))% of it.")
            }
        }
        parts.append("Effective dimensionality N_eff(H, z = \(significant(m.effectiveDimensionalityScale))) = Σ λᵢ/(λᵢ + z) = \(significant(m.effectiveDimensionality)) of \(m.dimension) coordinates (Maddox et al.'s scale, on the mean loss's eigenvalues).")
        let negative = m.eigenvalues.filter { $0 < 0 }.count
        if negative > 0 {
            parts.append("\(negative) of the measured eigenvalues are negative (most negative \(significant(m.eigenvalues.min()!))): there is no Gaussian along them, and the evidence counts them as zero.")
        }
        return parts.joined(separator: " ")
    }

    static func evidence(_ e: LaplaceEvidence, summary: EvidenceSummary) -> String {
        let m = summary.measurement
        var parts = [
            "δ = \(significant(e.priorPrecision)) (\(summary.priorPrecisionSource)). log p(D) ≈ \(significant(e.logEvidence)) nats = fit \(significant(e.logLikelihood)) + Occam factor \(significant(e.occamFactor)) + prior term \(significant(e.priorTerm)).",
        ]
        let largest = [("fit", abs(e.logLikelihood)), ("Occam factor", abs(e.occamFactor)), ("prior term", abs(e.priorTerm))].max { $0.1 < $1.1 }!
        parts.append("The largest part in size is the \(largest.0) (\(String(format: "%.0f", 100 * largest.1 / max(abs(e.logLikelihood) + abs(e.occamFactor) + abs(e.priorTerm), 1e-300)))% of the three parts' absolute sum).")
        parts.append("MacKay's γ = Σ Nλᵢ/(Nλᵢ + δ) = N_eff(NH, δ) = \(significant(e.effectiveDimensionality)): the number of directions the data determine beyond the prior.")
        if let bound = summary.unmeasuredBound {
            parts.append("The \(summary.unmeasuredDirections) unmeasured directions, each at most as curved as the smallest measured one, could lower the Occam factor by at most \(significant(bound)) nats more: the evidence reported is an upper bound, too high by at most that much.")
        }
        if summary.unmeasuredDirections > 0, e.effectiveDimensionality > 0.9 * Double(e.eigenvalueCount) {
            parts.append("γ is close to the \(e.eigenvalueCount) measured eigenvalues, its most: the unmeasured directions would add to it, so \(summary.priorPrecisionSource == "given" ? "γ" : "MacKay's δ") is an underestimate here; measure more eigenvalues (--top) to see where γ settles.")
        }
        if summary.priorPrecisionSource == "given", let best = summary.evidenceAtMacKayPrecision {
            parts.append("At MacKay's δ = \(significant(best.priorPrecision)) the evidence would be \(significant(best.logEvidence)) nats (\(significant(best.logEvidence - e.logEvidence)) more).")
        }
        if m.macKayPrecision == nil { parts.append("No eigenvalue is positive, so MacKay's fixed point does not exist.") }
        return parts.joined(separator: " ")
    }
}
