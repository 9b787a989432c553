import Foundation
import OccamData

/// Writes `occam reproduce`'s results into its directory: reproduce.csv (one row per claim) and index.html
/// (claim, paper, Occam, protocol differences, verdict), with links to each study's own report.
public struct ReproductionReport {
    public var directory: URL
    public var results: [ReproductionResult]

    public init(directory: URL, results: [ReproductionResult]) { (self.directory, self.results) = (directory, results) }

    /// One row per claim, numbers with every digit.
    public var table: CSVTable {
        CSVTable(
            header: ["claim", "source", "paper", "quantity", "scale", "occam_mean", "occam_sd", "replicates", "rule", "verdict",
                     "protocol_differences", "seconds", "run_directory"],
            rows: results.map { r in
                [r.claim.id, r.claim.source, r.claim.paperResult, r.claim.quantity, r.scale.rawValue, exact(r.measured?.mean),
                 exact(r.measured?.standardDeviation), "\(r.measured?.count ?? 0)", r.claim.rule.text, r.verdict.description,
                 r.scale == .paper ? "" : r.claim.cpuDifferences.joined(separator: "; "), exact(r.seconds),
                 r.runDirectory?.lastPathComponent ?? ""]
            })
    }

    /// The summary sentence: how many claims agree, disagree, cannot tell, or were not measured.
    public var summary: String {
        let counts = Dictionary(grouping: results) { r -> String in
            switch r.verdict {
            case .agrees: "agree"
            case .disagrees: "disagree"
            case .cannotTell: "cannot tell"
            case .notMeasured: "not measured"
            }
        }.mapValues(\.count)
        let parts = ["agree", "disagree", "cannot tell", "not measured"].compactMap { key in counts[key].map { "\($0) \(key)" } }
        return "\(results.count) claims: " + parts.joined(separator: ", ") + "."
    }

    public func write() throws {
        try ResultFiles.prepareDirectory(directory)
        try table.write(to: directory.appendingPathComponent("reproduce.csv"))
        let html = CSVTable(
            header: ["claim", "paper", "Occam", "protocol differences", "verdict"],
            rows: results.map { r in
                ["\(r.claim.id): \(r.claim.statement) (\(r.claim.source))", r.claim.paperResult,
                 "\(r.claim.quantity): " + (r.measured?.text(digits: 3) ?? "not measured"),
                 r.scale == .paper ? "none (paper scale)" : r.claim.cpuDifferences.joined(separator: "; "),
                 "\(r.verdict) (rule: \(r.claim.rule.text))"]
            })
        let links = results.compactMap { r in r.runDirectory.map { (label: r.claim.id, path: "../\($0.lastPathComponent)/index.html") } }
        try HTMLReport(
            title: "Occam against the papers",
            introduction: summary + " Each verdict applies a rule fixed before measuring to the measured mean and its spread over replicates.",
            sections: [HTMLReport.Section(title: "Claims", text: "", table: html, links: links)],
            configurationJSON: String(decoding: try RunStore.canonicalJSON(results.map(\.claim.id)), as: UTF8.self)
        ).write(in: directory)
    }
}
