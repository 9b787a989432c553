import Foundation
import OccamAnalysis
import OccamData

/// The numbers behind the report's sentences: summary.json.
public struct SaddlesSummary: Codable, Sendable {
    public var points: Int
    public var critical: Int
    public var gradientFlat: Int
    public var notConverged: Int
    /// Over the critical points: the range of ‖∇f‖, and Spearman's rank correlation of the index with the
    /// training loss and with the training error (nil below 3 points or when one side is constant).
    public var criticalGradientNorms: ClosedRange<Double>?
    public var indexLossCorrelation: Double?
    public var indexErrorCorrelation: Double?
    /// The same rank correlation over the points that are not critical (not Dauphin et al.'s measurement: context only).
    public var nonCriticalIndexLossCorrelation: Double?
    /// Least-squares slope of the index (fraction) against the loss over the critical points.
    public var indexLossSlope: Double?
    /// The distinct loss levels among the critical points (equal to 2 significant digits count once): a trend needs 3.
    public var distinctCriticalLosses: Int
    public var parameterCount: Int
    public var explainedVariance: Double?
    /// Per optimizer and start: the last record.
    public var optimizerEnds: [OptimizerEnd]
    public var searchSeconds: Double

    public struct OptimizerEnd: Codable, Sendable {
        public var optimizer: ComparedOptimizer
        public var start: Int
        public var iterations: Int
        public var seconds: Double
        public var loss: Double
        public var trainingError: Double
        public var gradientNorm: Double
        public var smallestEigenvalue: Double?
        /// The smallest eigenvalue along the path (most negative seen).
        public var mostNegativeEigenvalue: Double?
    }
}

/// Builds a saddles run's points.csv, index-vs-loss.svg, index-vs-error.svg, spectra.svg, the comparison plots,
/// summary.json and index.html from its unit files alone, so `occam report` can rebuild them.
public struct SaddlesReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Every JSON record under `folder`, in name order.
    private func records<Record: Decodable>(_: Record.Type, in folder: String) throws -> [Record] {
        let url = file(folder)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else { return [] }
        return try names.filter { $0.hasSuffix(".json") }.sorted().map { try RunStore.readJSON(Record.self, from: url.appendingPathComponent($0)) }
    }

    @discardableResult
    public func build() throws -> SaddlesSummary {
        let configuration = try RunStore.readConfiguration(SaddlesConfiguration.self, in: directory).configuration
        let points = try records(SaddlesPoint.self, in: "points").sorted { ($0.trajectory, $0.step) < ($1.trajectory, $1.step) }
        let paths = try records(OptimizerPath.self, in: "compare")
        let explained = try? RunStore.readJSON(SaddlesData.self, from: file("data.json")).explainedVariance
        let critical = points.filter { $0.kind == .critical }
        let norms = critical.map(\.gradientNorm)
        let summary = SaddlesSummary(
            points: points.count, critical: critical.count, gradientFlat: points.filter { $0.kind == .gradientFlat }.count,
            notConverged: points.filter { $0.kind == .notConverged }.count,
            criticalGradientNorms: norms.isEmpty ? nil : norms.min()!...norms.max()!,
            indexLossCorrelation: spearman(critical.map(\.loss), critical.map(\.index.index)),
            indexErrorCorrelation: spearman(critical.map(\.trainingError), critical.map(\.index.index)),
            nonCriticalIndexLossCorrelation: spearman(
                points.filter { $0.kind != .critical }.map(\.loss), points.filter { $0.kind != .critical }.map(\.index.index)),
            indexLossSlope: slope(critical.map(\.loss), critical.map(\.index.index)),
            distinctCriticalLosses: Set(critical.map { String(format: "%.2g", $0.loss) }).count,
            parameterCount: configuration.parameterCount, explainedVariance: explained ?? nil,
            optimizerEnds: paths.compactMap { path in
                path.records.last.map { last in
                    SaddlesSummary.OptimizerEnd(
                        optimizer: path.optimizer, start: path.start, iterations: last.iteration, seconds: path.seconds, loss: last.loss,
                        trainingError: last.trainingError, gradientNorm: last.gradientNorm, smallestEigenvalue: last.smallestEigenvalue,
                        mostNegativeEigenvalue: path.records.compactMap(\.smallestEigenvalue).min())
                }
            },
            searchSeconds: points.map(\.seconds).reduce(0, +))
        try ResultFiles.writeJSON(summary, to: file("summary.json"))

        var table = CSVTable(header: [
            "trajectory", "sgd_step", "kind", "start_loss", "loss", "training_error_percent", "gradient_norm", "index_percent", "negative", "zero",
            "positive", "negative_beyond_1e-3_percent", "smallest_eigenvalue", "largest_eigenvalue", "flat_gradient_share", "flat_threshold", "iterations", "seconds",
        ])
        for p in points {
            table.rows.append([
                "\(p.trajectory)", "\(p.step)", p.kind.rawValue, exact(p.startLoss), exact(p.loss), exact(100 * p.trainingError), exact(p.gradientNorm),
                exact(100 * p.index.index), "\(p.index.negative)", "\(p.index.zero)", "\(p.index.positive)", exact(100 * HessianIndex(eigenvalues: p.eigenvalues, threshold: 1e-3 * p.eigenvalues.map(abs).max()!).index), exact(p.eigenvalues.first),
                exact(p.eigenvalues.last), exact(p.flatGradientShare), exact(p.flatThreshold), "\(p.iterations.count - 1)", exact(p.seconds),
            ])
        }
        try table.write(to: file("points.csv"))
        var sections: [HTMLReport.Section] = []
        if !points.isEmpty {
            try scatter(points, x: { $0.loss }, xLabel: "training loss (mean cross-entropy)", name: "index-vs-loss.svg")
            try scatter(points, x: { 100 * $0.trainingError }, xLabel: "training error (%)", name: "index-vs-error.svg")
            sections.append(.init(
                title: "Index against training loss", text: scatterText(summary, configuration, critical: critical), image: "index-vs-loss.svg",
                links: [("index-vs-loss.svg", "index-vs-loss.svg"), ("points.csv", "points.csv")]))
            sections.append(.init(
                title: "Index against training error", text: errorText(summary), image: "index-vs-error.svg",
                links: [("index-vs-error.svg", "index-vs-error.svg")]))
            if let text = try spectra(critical: critical, others: points.filter { $0.kind != .critical }) {
                sections.append(.init(title: "Eigenvalue densities", text: text, image: "spectra.svg", links: [("spectra.svg", "spectra.svg")]))
            }
            sections.append(.init(
                title: "Every point", text: "One row per search: where it started (trajectory, SGD step, loss), what it reached, and the exact Hessian spectrum's counts there (zero: |λ| ≤ \(configuration.zeroTolerance) · max|λ|). Each point's full spectrum is in points/*.json.",
                table: table, links: [("points.csv", "points.csv")]))
        }
        if !paths.isEmpty {
            try comparisonPlots(paths)
            sections.append(.init(
                title: "Optimizers from the same starts", text: comparisonText(summary, configuration), image: "compare-loss-iterations.svg",
                links: [("compare-loss-iterations.svg", "compare-loss-iterations.svg"), ("compare-loss-time.svg", "compare-loss-time.svg"),
                        ("compare-smallest-eigenvalue.svg", "compare-smallest-eigenvalue.svg")]))
            sections.append(.init(title: "Training loss against time", text: "The same paths against optimizer seconds (measurements along the paths not counted).", image: "compare-loss-time.svg"))
            sections.append(.init(
                title: "Most negative eigenvalue along each path", text: "The smallest Hessian eigenvalue at the points each optimizer visits: exact (dense) for \(configuration.krylovDimension == nil ? "the Newton methods" : "damped Newton, the smallest Ritz value of its Krylov subspace (an upper bound) for saddle-free Newton"), Lanczos (up to 80 steps, an upper bound) for SGD and at each Newton path's last point. Below zero the point is not a minimum; a path that stays near zero from below while its loss stalls is crossing a saddle region.",
                image: "compare-smallest-eigenvalue.svg"))
        }
        let inputs = configuration.components > 0
            ? "\(configuration.components) whitened principal components of \(configuration.imageSize)x\(configuration.imageSize) area-averaged images" + (explained.flatMap { $0 }.map { " (\(String(format: "%.1f", 100 * $0))% of their variance)" } ?? "")
            : "\(configuration.imageSize)x\(configuration.imageSize) area-averaged images"
        let introduction = """
            Dauphin et al. (2014): at the critical points of a network's loss, the index α (the fraction of negative Hessian eigenvalues) grows \
            with the training error, and saddle-free Newton (steps -|H|⁻¹g) leaves the saddles where Newton's method is attracted. Here: an MLP \
            \(configuration.inputCount)-\(configuration.widths.map(String.init).joined(separator: "-"))-\(configuration.dataset.classCount) (\(configuration.activation.rawValue), \
            \(configuration.parameterCount) parameters) on \(configuration.samples) \(configuration.dataset.displayName) training images as \(inputs); the mean \
            cross-entropy is f. Critical points are searched by Levenberg-Marquardt on ½‖∇f‖² from points along \(configuration.trajectories) SGD runs \
            (steps \(configuration.snapshots.sorted().map(String.init).joined(separator: ", ")); step 0 is the random initialization), and each Hessian is dense \
            Float64 from Hessian-vector products, eigendecomposed by LAPACK. A point counts as critical when ‖∇f‖ ≤ \(configuration.gradientTolerance).
            """
        try HTMLReport(
            title: "Saddles: index against error at critical points, and saddle-free Newton", introduction: introduction, sections: sections,
            configurationJSON: try HTMLReport.configurationText(in: directory)
        ).write(in: directory)
        return summary
    }

    private func scatter(_ points: [SaddlesPoint], x: (SaddlesPoint) -> Double, xLabel: String, name: String) throws {
        var series: [PlotSeries] = []
        for (kind, color) in [(CriticalPointKind.critical, SeriesColor.test), (.gradientFlat, SeriesColor.train), (.notConverged, SeriesColor.control)] {
            let chosen = points.filter { $0.kind == kind }
            guard !chosen.isEmpty else { continue }
            var line = PlotSeries("\(kind.rawValue) (\(chosen.count))", points: chosen.map { PlotPoint(x: x($0), y: 100 * $0.index.index) }, color: color)
            line.lines = false
            series.append(line)
        }
        try LinePlot(title: "Index of the points reached against \(xLabel.components(separatedBy: " (").first!)", x: PlotAxis(xLabel),
                     y: PlotAxis("index α: negative eigenvalues (%)"), series: series).write(to: file(name))
    }

    /// spectra.svg: the smoothed eigenvalue densities of the lowest-, middle- and highest-loss critical points of
    /// distinct loss; below three, the middle-loss point that is not critical is added (and labelled so).
    private func spectra(critical: [SaddlesPoint], others: [SaddlesPoint]) throws -> String? {
        var distinct: [String: SaddlesPoint] = [:]
        for p in critical where distinct[String(format: "%.2g", p.loss)] == nil { distinct[String(format: "%.2g", p.loss)] = p }
        let sorted = distinct.values.sorted { $0.loss < $1.loss }
        var chosen = sorted.isEmpty ? [] : Array(Set([0, sorted.count / 2, sorted.count - 1])).sorted().map { sorted[$0] }
        if chosen.count < 3, !others.isEmpty { chosen.append(others.sorted { $0.loss < $1.loss }[others.count / 2]) }
        chosen.sort { $0.loss < $1.loss }
        guard !chosen.isEmpty else { return nil }
        let all = chosen.flatMap(\.eigenvalues)
        let (low, high) = (all.min()!, all.max()!)
        let width = max((high - low) / 150, 1e-12)
        let grid = (0...600).map { low - 5 * width + Double($0) / 600 * (high - low + 10 * width) }
        let floor = 1e-5
        let series = chosen.enumerated().map { i, p in
            let values = SpectralDensity.exact(p.eigenvalues).smoothed(on: grid, width: width)
            return PlotSeries(
                "loss \(String(format: "%.3g", p.loss)), α \(String(format: "%.1f", 100 * p.index.index))%\(p.kind == .critical ? "" : " (flat)")", points: zip(grid, values).map { PlotPoint(x: $0.0, y: max($0.1, floor)) },
                markers: false, color: SeriesColor.ramp(i, of: chosen.count))
        }
        try LinePlot(title: "Hessian eigenvalue densities at points of different loss (σ = \(String(format: "%.2g", width)))",
                     x: PlotAxis("eigenvalue"), y: PlotAxis("density (log scale)", scale: .logarithmic), series: series).write(to: file("spectra.svg"))
        let parts = chosen.map { p in
            "loss \(significant(p.loss)) (\(p.kind.rawValue), ‖∇f‖ \(significant(p.gradientNorm))): eigenvalues from \(significant(p.eigenvalues.first!)) to \(significant(p.eigenvalues.last!)), \(p.index.negative) negative, \(p.index.zero) zero"
        }
        return "The full spectra of \(chosen.count) points of different loss, smoothed by a Gaussian (\"(flat)\" marks a point that is not critical, added when the critical points have fewer than 3 loss levels): " + parts.joined(separator: "; ") + "."
    }

    private func scatterText(_ s: SaddlesSummary, _ c: SaddlesConfiguration, critical: [SaddlesPoint]) -> String {
        var text = "\(s.points) searches: \(s.critical) reached ‖∇f‖ ≤ \(c.gradientTolerance) (critical), \(s.gradientFlat) stopped in a gradient-flat region (more than half of ‖∇f‖² along directions whose curvature the search could not resolve, |λ| ≤ √μ of its last damping: the flat_threshold column) and \(s.notConverged) stopped otherwise; only critical points count in the statistics below. Points that are not critical are drawn in other colours with their own index, which is not the index of a critical point."
        if let rho = s.nonCriticalIndexLossCorrelation {
            text += " Over the \(s.points - s.critical) points that are not critical, Spearman's rank correlation of their index with their loss is \(String(format: "%.2f", rho)); most of their negative eigenvalues are tiny (the negative_beyond_1e-3 column counts only those below -10⁻³ max|λ|)."
        }
        if !critical.isEmpty {
            text += " The critical points (loss, index): " + critical.sorted { $0.loss < $1.loss }
                .map { "(\(significant($0.loss)), \(String(format: "%.1f", 100 * $0.index.index))%)" }.joined(separator: ", ") + "."
        }
        if let range = s.criticalGradientNorms { text += " The critical points' gradient norms lie between \(significant(range.lowerBound)) and \(significant(range.upperBound))." }
        guard s.critical >= 3, s.distinctCriticalLosses >= 3, let rho = s.indexLossCorrelation else {
            return text + " The critical points sit at \(s.distinctCriticalLosses) distinct loss level\(s.distinctCriticalLosses == 1 ? "" : "s") (to 2 significant digits): too few to tell a trend\(s.indexLossCorrelation.map { " (Spearman's ρ over the \(s.critical) points is \(String(format: "%.2f", $0)), but it only compares those groups)" } ?? "")."
        }
        text += " Spearman's rank correlation of the index with the training loss over the critical points is \(String(format: "%.2f", rho)) (n = \(s.critical))"
        if let slope = s.indexLossSlope { text += "; the least-squares slope is \(String(format: "%.3g", 100 * slope)) percentage points of index per unit of loss" }
        text += ". "
        if rho > 0.5 {
            text += "The index grows with the loss, the trend of Dauphin et al.'s Fig. 1."
        } else if rho < -0.5 {
            text += "The index falls as the loss grows: the opposite of Dauphin et al.'s trend at this scale."
        } else {
            text += "No clear monotone trend (|ρ| ≤ 0.5): Dauphin et al.'s trend is not reproduced at this scale."
        }
        return text
    }

    private func errorText(_ s: SaddlesSummary) -> String {
        guard s.critical >= 3, s.distinctCriticalLosses >= 3, let rho = s.indexErrorCorrelation else { return "The same points against the fraction of samples misclassified." }
        return "The same points against the fraction of samples misclassified. Spearman's rank correlation of the index with the training error over the critical points: \(String(format: "%.2f", rho))."
    }

    private func comparisonPlots(_ paths: [OptimizerPath]) throws {
        let colors: [ComparedOptimizer: String] = [.sgd: SeriesColor.control, .newton: SeriesColor.randomReinitialization, .saddleFreeNewton: SeriesColor.ticket]
        let starts = Set(paths.map(\.start)).count
        func series(_ value: (OptimizerPathRecord) -> Double?, x: (OptimizerPathRecord) -> Double) -> [PlotSeries] {
            paths.map { path in
                let points = path.records.compactMap { r in value(r).map { PlotPoint(x: x(r), y: $0) } }
                let name = starts > 1 ? "\(path.optimizer.displayName), start \(path.start)" : path.optimizer.displayName
                return PlotSeries(name, points: points, dashed: path.start % 2 == 1,
                                  markers: path.optimizer != .sgd, color: colors[path.optimizer])
            }
        }
        try LinePlot(title: "Training loss against iterations", x: PlotAxis("iteration + 1", scale: .logarithmic),
                     y: PlotAxis("training loss", scale: .logarithmic), series: series({ $0.loss }, x: { Double($0.iteration + 1) }))
            .write(to: file("compare-loss-iterations.svg"))
        try LinePlot(title: "Training loss against time", x: PlotAxis("optimizer time (s)"),
                     y: PlotAxis("training loss", scale: .logarithmic), series: series({ $0.loss }, x: { $0.seconds }))
            .write(to: file("compare-loss-time.svg"))
        try LinePlot(title: "Smallest Hessian eigenvalue along each path", x: PlotAxis("iteration + 1", scale: .logarithmic),
                     y: PlotAxis("smallest eigenvalue"), series: series({ $0.smallestEigenvalue }, x: { Double($0.iteration + 1) }),
                     horizontalLines: [PlotHorizontalLine(y: 0, label: "0")])
            .write(to: file("compare-smallest-eigenvalue.svg"))
    }

    private func comparisonText(_ s: SaddlesSummary, _ c: SaddlesConfiguration) -> String {
        var text = "From each start (a fresh initialization), SGD (learning rate \(c.learningRate), batch \(c.batchSize), \(c.sgdIterations) steps), damped Newton (-H(H² + λ²I)⁻¹g) and saddle-free Newton (-(|H| + λI)⁻¹g\(c.krylovDimension.map { ", in a \($0)-dimensional Krylov subspace" } ?? ", exact |H|")), λ = \(c.damping), \(c.newtonIterations) steps each, every step at most \(c.maxStepNorm) long and taken whole (no line search)."
        for start in Set(s.optimizerEnds.map(\.start)).sorted() {
            let ends = s.optimizerEnds.filter { $0.start == start }
            text += "\n\nStart \(start): " + ends.map { e in
                var part = "\(ComparedOptimizer(rawValue: e.optimizer.rawValue)!.displayName) ended at loss \(significant(e.loss)) (error \(String(format: "%.1f", 100 * e.trainingError))%, ‖∇f‖ \(significant(e.gradientNorm))) after \(e.iterations) iterations and \(String(format: "%.1f", e.seconds)) s"
                if let λ = e.smallestEigenvalue { part += ", smallest eigenvalue there \(significant(λ))" + (λ < 0 ? " (negative: not a minimum)" : "") }
                return part
            }.joined(separator: "; ") + "."
            if let newton = ends.first(where: { $0.optimizer == .newton }), let free = ends.first(where: { $0.optimizer == .saddleFreeNewton }) {
                text += free.loss < newton.loss
                    ? " Saddle-free Newton ended \(String(format: "%.3g", newton.loss / max(free.loss, 1e-300)))x lower than damped Newton."
                    : " Saddle-free Newton did not end lower than damped Newton here."
            }
        }
        return text
    }
}

/// What data preparation measured: data.json.
public struct SaddlesData: Codable, Sendable {
    public var samples: Int
    public var inputs: Int
    public var explainedVariance: Double?
    public init(samples: Int, inputs: Int, explainedVariance: Double?) { (self.samples, self.inputs, self.explainedVariance) = (samples, inputs, explainedVariance) }
}
