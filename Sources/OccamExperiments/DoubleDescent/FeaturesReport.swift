import Foundation
import OccamData

/// Builds a random-features run's results from its point files alone: double-descent.csv (one row per
/// point), fits.csv (one row per feature draw), test-error.svg, squared-loss.svg, norm.svg and index.html,
/// laid out as Belkin et al.'s Figure 2 with the interpolation threshold N = n marked.
public struct DoubleDescentFeaturesReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// Every finished point, in the configuration's order.
    func records(_ configuration: DoubleDescentFeaturesConfiguration) -> [RandomFeaturePointRecord] {
        configuration.points.compactMap { try? RunStore.readJSON(RandomFeaturePointRecord.self, from: directory.appendingPathComponent($0.path)) }
    }

    @discardableResult
    public func build() throws -> [RandomFeaturePointRecord] {
        let configuration = try RunStore.readConfiguration(DoubleDescentFeaturesConfiguration.self, in: directory).configuration
        let records = records(configuration)
        let table = pointTable(records)
        try table.write(to: file("double-descent.csv"))
        try fitTable(records).write(to: file("fits.csv"))
        for plot in plots(configuration, records: records) { try plot.plot.write(to: file(plot.file)) }
        try report(configuration, records: records, table: table).write(in: directory)
        return records
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func pointTable(_ records: [RandomFeaturePointRecord]) -> CSVTable {
        CSVTable(
            header: ["train_size", "features", "features_per_sample", "test_error_percent", "test_error_sd", "train_error_percent",
                     "test_squared_loss", "test_squared_loss_sd", "train_squared_loss", "coefficient_norm", "coefficient_norm_sd",
                     "ensemble_test_error_percent", "ensemble_test_squared_loss", "rank_min", "cutoff", "smallest_kept_singular_value_min",
                     "replicates", "seconds"],
            rows: records.map { r in
                ["\(r.point.trainSize)", "\(r.point.featureCount)", exact(Double(r.point.featureCount) / Double(r.point.trainSize)),
                 exact(100 * r.testError.mean), exact(100 * r.testError.standardDeviation),
                 exact(100 * r.trainError.mean), exact(r.testSquaredLoss.mean), exact(r.testSquaredLoss.standardDeviation),
                 exact(r.trainSquaredLoss.mean), exact(r.coefficientNorm.mean), exact(r.coefficientNorm.standardDeviation),
                 exact(100 * r.ensembleTestError), exact(r.ensembleTestSquaredLoss),
                 "\(r.fits.map(\.rank).min() ?? 0)", exact(r.fits.first?.cutoff ?? .nan),
                 exact(r.fits.map(\.smallestKeptSingularValue).min() ?? .nan), "\(r.fits.count)",
                 exact(r.fits.map(\.seconds).reduce(0, +))]
            })
    }

    func fitTable(_ records: [RandomFeaturePointRecord]) -> CSVTable {
        CSVTable(
            header: ["train_size", "features", "replicate", "test_error_percent", "train_error_percent", "test_squared_loss", "train_squared_loss",
                     "coefficient_norm", "rank", "cutoff", "largest_singular_value", "smallest_kept_singular_value", "seconds"],
            rows: records.flatMap { r in
                r.fits.map { f in
                    ["\(r.point.trainSize)", "\(r.point.featureCount)", "\(f.replicate)", exact(100 * f.testError),
                     exact(100 * f.trainError), exact(f.testSquaredLoss), exact(f.trainSquaredLoss),
                     exact(f.coefficientNorm), "\(f.rank)", exact(f.cutoff), exact(f.largestSingularValue),
                     exact(f.smallestKeptSingularValue), exact(f.seconds)]
                }
            })
    }

    /// The three figures: (file name, plot).
    func plots(_ configuration: DoubleDescentFeaturesConfiguration, records: [RandomFeaturePointRecord]) -> [(file: String, plot: LinePlot)] {
        let modelWise = configuration.isModelWise
        // One line per fixed value (n model-wise, N sample-wise), the swept value on x.
        let fixed: (RandomFeaturePoint) -> Int = modelWise ? { $0.trainSize } : { $0.featureCount }
        let swept: (RandomFeaturePoint) -> Double = modelWise ? { Double($0.featureCount) } : { Double($0.trainSize) }
        let groups = Dictionary(grouping: records) { fixed($0.point) }
        let keys = groups.keys.sorted()
        let fixedName = modelWise ? "n" : "N"
        // One colour per role (test, train, average of the draws) with one fixed value; one per fixed value (the
        // roles told apart by dashes) with several.
        func series(_ name: String, dashed: Bool = false, color: String = SeriesColor.test, _ value: (RandomFeaturePointRecord) -> (Double, Double?)) -> [PlotSeries] {
            keys.enumerated().map { index, key in
                let points = groups[key]!.sorted { swept($0.point) < swept($1.point) }.map { r in
                    let (y, error) = value(r)
                    return PlotPoint(x: swept(r.point), y: y, error: error)
                }
                return PlotSeries(keys.count > 1 ? "\(name), \(fixedName) = \(key)" : name, points: points, dashed: dashed,
                                  color: keys.count > 1 ? SeriesColor.ramp(index, of: keys.count) : color)
            }
        }
        let x = PlotAxis(modelWise ? "random features N (log scale)" : "training images n (log scale)", scale: .logarithmic)
        let threshold = keys.map { PlotVerticalLine(x: Double($0), label: modelWise ? "N = n = \($0)" : "n = N = \($0)") }
        let errors = series("test") { (100 * $0.testError.mean, 100 * $0.testError.standardDeviation) }
            + series("train", dashed: true, color: SeriesColor.train) { (100 * $0.trainError.mean, 100 * $0.trainError.standardDeviation) }
            + (configuration.replicates > 1
                ? series("test, average of \(configuration.replicates) draws", color: SeriesColor.ensemble) { (100 * $0.ensembleTestError, nil) } : [])
        // Training loss is left out: past the threshold it is ~1e-29, which would flatten the test curve.
        let losses = series("test") { ($0.testSquaredLoss.mean, $0.testSquaredLoss.standardDeviation) }
            + (configuration.replicates > 1
                ? series("test, average of \(configuration.replicates) draws", color: SeriesColor.ensemble) { ($0.ensembleTestSquaredLoss, nil) } : [])
        let norms = series("‖A‖") { ($0.coefficientNorm.mean, $0.coefficientNorm.standardDeviation) }
        let against = modelWise ? "the number of random features" : "the number of training images"
        return [
            ("test-error.svg", LinePlot(title: "Zero-one error against \(against)", x: x, y: PlotAxis("error (%)", range: 0...100),
                                        series: errors, verticalLines: threshold)),
            ("squared-loss.svg", LinePlot(title: "Squared loss against \(against)", x: x, y: PlotAxis("squared loss (log scale)", scale: .logarithmic),
                                          series: losses, verticalLines: threshold)),
            ("norm.svg", LinePlot(title: "Norm of the coefficients against \(against)", x: x,
                                  y: PlotAxis("‖A‖ (Frobenius, log scale)", scale: .logarithmic), series: norms, verticalLines: threshold)),
        ]
    }

    /// What the sweep shows, in sentences: per fixed value, the classical regime's best point, the peak and
    /// the far end.
    func findings(_ configuration: DoubleDescentFeaturesConfiguration, records: [RandomFeaturePointRecord]) -> String {
        let modelWise = configuration.isModelWise
        let groups = Dictionary(grouping: records) { modelWise ? $0.point.trainSize : $0.point.featureCount }
        return groups.keys.sorted().map { key -> String in
            let sweep = groups[key]!.sorted { modelWise ? $0.point.featureCount < $1.point.featureCount : $0.point.trainSize < $1.point.trainSize }
            func at(_ r: RandomFeaturePointRecord) -> String { modelWise ? "N = \(r.point.featureCount)" : "n = \(r.point.trainSize)" }
            func error(_ r: RandomFeaturePointRecord) -> String { String(format: "%.1f%%", 100 * r.testError.mean) }
            // The classical regime: fewer features than images (model-wise) or more images than features (sample-wise).
            let classical = sweep.filter { $0.point.featureCount < $0.point.trainSize }
            var sentences: [String] = []
            if let best = classical.min(by: { $0.testError.mean < $1.testError.mean }) {
                sentences.append("With N < n the lowest test error is \(error(best)) at \(at(best))")
            }
            if let peak = sweep.max(by: { $0.testError.mean < $1.testError.mean }) {
                sentences.append(String(format: "the highest is %@ at %@ (squared loss %.3g, norm %.3g)", error(peak), at(peak),
                                        peak.testSquaredLoss.mean, peak.coefficientNorm.mean))
            }
            if let last = sweep.last {
                sentences.append(String(format: "at %@ it is %@ (norm %.3g; average of the draws %.1f%%)", at(last), error(last),
                                        last.coefficientNorm.mean, 100 * last.ensembleTestError))
            }
            return (modelWise ? "n = \(key): " : "N = \(key): ") + sentences.joined(separator: "; ") + "."
        }.joined(separator: " ")
    }

    private func report(_ configuration: DoubleDescentFeaturesConfiguration, records: [RandomFeaturePointRecord], table: CSVTable) throws -> HTMLReport {
        let map = configuration.map == .fourier
            ? "random Fourier features φ_j(x) = sqrt(2/N) cos(⟨v_j, x⟩ + b_j), v_j ~ N(0, σ⁻² I), b_j ~ U[0, 2π)"
            : "random ReLU features φ_j(x) = sqrt(2/N) max(0, ⟨v_j, x⟩), v_j ~ N(0, σ⁻² I)"
        let cutoff = configuration.cutoff.map { "a relative cutoff of \(significant($0))" } ?? "NumPy's default relative cutoff max(n, N) x machine epsilon"
        let sweep = configuration.isModelWise
            ? "Model-wise: the number of features N varies at a fixed number of training images n."
            : "Sample-wise: the number of training images n varies at a fixed number of features N."
        return HTMLReport(
            title: "Double descent with random features on \(configuration.dataset.displayName)",
            introduction: """
                Belkin, Hsu, Ma and Mandal (2019): with \(map) (σ = \(formatted(configuration.bandwidth, digits: 2)), pixels in [0, 1]), \
                the coefficients A of the predictor φ(x) A minimize the squared loss on one-hot labels, and among the \
                minimizers (N ≥ n: the interpolating ones) have the least norm. They come from the SVD of φ(X) with \
                \(cutoff) below which singular values count as zero; the cutoff decides how high the peak at N = n gets. \
                \(sweep) Each point is \(configuration.replicates) independent feature draws (mean ± standard deviation); \
                "average of the draws" predicts with the mean of their predictions. Test errors are on all \
                \(configuration.dataset.displayName) test images; training subsets are seeded and nested.

                \(records.isEmpty ? "No point has finished yet; run the same command again." : findings(configuration, records: records))
                """,
            sections: [
                .init(title: "Zero-one error", text: "Test (solid) and training (dashed) error; the dashed vertical line is the interpolation threshold N = n, where the square system φ(X) A = Y is solved exactly with the worst conditioning.",
                      image: "test-error.svg", table: table, links: [("double-descent.csv", "double-descent.csv"), ("fits.csv (every draw)", "fits.csv")]),
                .init(title: "Squared loss", text: "Test loss, the mean over images of Σ_k (f_k(x) - y_k)², on a log scale: the peak at the threshold spans orders of magnitude. (The training loss, in the tables, is at rounding level once N ≥ n.)",
                      image: "squared-loss.svg"),
                .init(title: "Norm of the solution", text: "‖A‖: the least-norm interpolant needs its largest norm at the threshold, and a smaller one as N grows past it.",
                      image: "norm.svg"),
            ],
            configurationJSON: try HTMLReport.configurationText(in: directory))
    }
}

/// A value with four significant digits ("1379", "6.42e+02" style for large or small); "" for NaN.
func significant(_ value: Double) -> String {
    value.isFinite ? String(format: "%.4g", value) : ""
}
