import Foundation
import OccamData

/// Builds a kernel run's results from its result.json files alone: kernel.csv, test-error.svg,
/// rkhs-norm.svg and index.html.
public struct KernelReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    /// Every finished fit, in the configuration's order.
    func records(_ configuration: KernelConfiguration) -> [KernelFitRecord] {
        configuration.fits.compactMap { fit in
            try? RunStore.readJSON(KernelFitRecord.self, from: directory.appendingPathComponent(fit.path).appendingPathComponent("result.json"))
        }
    }

    @discardableResult
    public func build() throws -> [KernelFitRecord] {
        let configuration = try RunStore.readConfiguration(KernelConfiguration.self, in: directory).configuration
        let records = records(configuration)
        let table = CSVTable(
            header: ["train_size", "labels", "ridge", "test_error_percent", "train_error_percent", "residual_relative", "residual_max",
                     "rkhs_norm", "jitter", "precision", "build_s", "factor_s", "solve_s", "predict_s", "matrix_bytes", "peak_resident_bytes"],
            rows: records.map { r in
                ["\(r.fit.trainSize)", r.fit.labels.rawValue, exact(r.fit.ridge), exact(100 * r.testError),
                 exact(100 * r.trainError), exact(r.residualRelative), exact(r.residualMaximum), exact(r.rkhsNorm),
                 exact(r.jitter), r.precision, exact(r.timings.build), exact(r.timings.factor),
                 exact(r.timings.solve), exact(r.predictSeconds), "\(r.matrixBytes)", "\(r.peakResidentBytes)"]
            })
        try table.write(to: file("kernel.csv"))

        let groups = Dictionary(grouping: records) { KernelSeriesKey(labels: $0.fit.labels, ridge: $0.fit.ridge) }
        let keys = groups.keys.sorted { ($0.labels == .true ? 0 : 1, $0.ridge) < ($1.labels == .true ? 0 : 1, $1.ridge) }
        func series(_ value: (KernelFitRecord) -> Double) -> [PlotSeries] {
            keys.map { key in
                PlotSeries(key.name, points: groups[key]!.map { PlotPoint(x: Double($0.fit.trainSize), y: value($0)) }.sorted { $0.x < $1.x },
                           dashed: key.labels == .random)
            }
        }
        let sizeAxis = PlotAxis("training images n (log scale)", scale: .logarithmic)
        let kernel = configuration.function
        try LinePlot(
            title: "Test error of the \(kernel.kind.rawValue) kernel machine against n", x: sizeAxis,
            y: PlotAxis("test error (%)", range: 0...100), series: series { 100 * $0.testError }
        ).write(to: file("test-error.svg"))
        try LinePlot(
            title: "RKHS norm of the fitted function against n", x: sizeAxis,
            y: PlotAxis("sqrt(trace(Aᵀ K A)) (log scale)", scale: .logarithmic), series: series(\.rkhsNorm)
        ).write(to: file("rkhs-norm.svg"))
        try report(configuration, records: records, table: table).write(in: directory)
        return records
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    private func report(_ configuration: KernelConfiguration, records: [KernelFitRecord], table: CSVTable) throws -> HTMLReport {
        let features = configuration.features == .pixels
            ? "pixels in [0, 1]" : "Gabor filter-bank features (4 orientations x wavelengths 4 and 8 px, local energy, 4 x 4 mean pooling)"
        let findings = records.map { r in
            String(format: "%@: test error %.2f%%, training residual %.1e, RKHS norm %.1f%@.", r.fit.name, 100 * r.testError,
                   r.residualRelative, r.rkhsNorm, r.jitter > 0 ? String(format: " (diagonal jitter %.1e)", r.jitter) : "")
        }.joined(separator: " ")
        return HTMLReport(
            title: "Kernel interpolation: \(configuration.function) on \(configuration.dataset.displayName)",
            introduction: """
                Zhang et al. (2017), Section 5: a kernel machine that interpolates the training labels exactly, with no \
                regularization, solves K A = Y for one-hot labels Y and predicts the class with the largest entry of \
                k(x, X) A. The inputs are \(features). Each n is a seeded random subset of the training images (smaller \
                subsets are contained in larger ones); errors are measured on all \(configuration.dataset.displayName) test \
                images with their true labels. Ridge fits solve (K + λI) A = Y instead; random-label fits interpolate uniformly \
                random classes. The residual ‖K A - Y‖ / ‖Y‖ is computed with K built again from the data, as a proof of \
                interpolation; a jitter is reported where K was numerically not positive definite.

                \(records.isEmpty ? "No fit has finished yet; run the same command again." : findings)
                """,
            sections: [
                .init(title: "Test error against n", text: "Interpolating and ridge-regularized fits side by side; random labels dashed (chance is 90% error for 10 classes).",
                      image: "test-error.svg", table: table, links: [("kernel.csv", "kernel.csv")]),
                .init(title: "Norm of the solution", text: "The RKHS norm of the interpolant of true and random labels: fitting noise takes a much larger norm.",
                      image: "rkhs-norm.svg"),
            ],
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: records.map { (label: $0.fit.name, path: $0.fit.path) })
    }
}

/// One line of the plots: which labels, which ridge.
struct KernelSeriesKey: Hashable {
    var labels: KernelLabels
    var ridge: Double

    var name: String { "\(labels.rawValue) labels, " + (ridge == 0 ? "interpolating" : "ridge \(formatted(ridge))") }
}
