import Foundation
import OccamData
import OccamNN

/// One finished student: a line of runs.csv.
public struct DistillationRecord: Codable, Sendable, Equatable {
    public var student: DistillationStudent
    /// Final test accuracy (%) and misclassified test images.
    public var testAccuracy: Double
    public var testErrors: Int
    public var testLoss: Double
    public var wallSeconds: Double
}

/// The hard-label students or the soft students at one temperature, over replicates: a line of students.csv.
public struct DistillationSummaryRow: Codable, Sendable {
    /// nil: the hard-label students.
    public var temperature: Double?
    public var testErrors: Spread
    /// Test errors minus the same replicate's hard-label student's (paired; nil for the hard-label row).
    public var changeFromHard: Spread?
}

/// summary.json of a distillation study.
public struct DistillationSummary: Codable, Sendable {
    public var teacher: TeacherRecord?
    public var students: [DistillationSummaryRow]
    /// The report's findings, computed from the numbers.
    public var finding: String
}

/// Builds a distillation study's results from its run directory alone: runs.csv, students.csv, summary.json,
/// test-errors.svg and index.html.
public struct DistillationReport {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    private func file(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// Hinton et al.'s MNIST numbers (Sec. 3): the pattern the report sets its own beside.
    static let paperReference = "Hinton et al. (2015) on MNIST: a 1200-1200 teacher with dropout and jitter made 67 test errors, an 800-800 student trained on the hard labels 146, the same student on the teacher's soft targets at T = 20 74"

    /// The finished students, in the configuration's order; `testCount` images in the test split.
    func records(_ configuration: DistillationConfiguration, testCount: Int) throws -> [DistillationRecord] {
        try configuration.students.compactMap { student in
            let runDirectory = directory.appendingPathComponent(student.path)
            guard RunStore.isComplete(runDirectory) else { return nil }
            let summary = try RunStore.readJSON(TrainingSummary.self, from: runDirectory.appendingPathComponent("summary.json"))
            guard let test = summary.finalTest else { return nil }
            return DistillationRecord(
                student: student, testAccuracy: 100 * test.accuracy, testErrors: Int((Double(testCount) * (1 - test.accuracy)).rounded()),
                testLoss: test.loss, wallSeconds: summary.wallSeconds)
        }
    }

    /// The hard-label row, then one row per temperature; changes paired by replicate.
    static func summaries(_ configuration: DistillationConfiguration, records: [DistillationRecord]) -> [DistillationSummaryRow] {
        let hard = Dictionary(
            records.filter { $0.student.temperature == nil }.map { ($0.student.replicate, Double($0.testErrors)) }, uniquingKeysWith: { a, _ in a })
        let rows: [Double?] = [nil] + configuration.temperatures.map { $0 }
        return rows.compactMap { temperature in
            let runs = records.filter { $0.student.temperature == temperature }
            guard !runs.isEmpty else { return nil }
            let changes = temperature == nil ? nil : Spread(runs.compactMap { r in hard[r.student.replicate].map { Double(r.testErrors) - $0 } })
            return DistillationSummaryRow(temperature: temperature, testErrors: Spread(runs.map { Double($0.testErrors) }), changeFromHard: changes)
        }
    }

    /// The report's sentences: the teacher, the hard-label students, each temperature against them (paired), and
    /// how much of the gap between the hard-label student and the teacher the best soft student closes.
    static func findings(_ configuration: DistillationConfiguration, teacher: TeacherRecord?, rows: [DistillationSummaryRow]) -> String {
        var sentences: [String] = []
        if let teacher {
            let seen = teacher.trainCount.flatMap { $0 == teacher.transferCount ? nil : " (trained on \($0) images, the students on \(teacher.transferCount))" } ?? ""
            sentences.append(String(format: "The teacher%@ makes %d test errors of %d (%.2f%%).", seen, teacher.testErrors, teacher.testCount, 100 - teacher.testAccuracy))
        }
        guard let hard = rows.first(where: { $0.temperature == nil }) else {
            return (sentences + ["No student has finished yet; run the same command again."]).joined(separator: " ")
        }
        sentences.append("Students on the hard labels: \(hard.testErrors.text(digits: 1)) errors.")
        let soft = rows.filter { $0.temperature != nil }
        if !soft.isEmpty {
            let text = GroupComparison.describe(
                comparisons: soft.map { (label: "T = \(DistillationStudent.format($0.temperature!))", comparison: GroupComparison($0.changeFromHard!, against: 0)) },
                higher: "more errors than the hard-label student", lower: "fewer errors than the hard-label student",
                same: "not distinguishable from the hard-label student", itemName: "temperatures", unit: "errors", digits: 1)
            let means = soft.map { "\($0.testErrors.text(digits: 1)) at T = \(DistillationStudent.format($0.temperature!))" }.joined(separator: ", ")
            sentences.append("On the teacher's soft targets: \(means); paired with the same replicate's hard-label student, \(text).")
        }
        if let teacher, let best = soft.min(by: { $0.testErrors.mean < $1.testErrors.mean }) {
            let gap = hard.testErrors.mean - Double(teacher.testErrors)
            if best.testErrors.mean >= hard.testErrors.mean {
                sentences.append(String(
                    format: "No temperature gives fewer errors than the hard labels on average (the best, T = %@, has %+.1f).",
                    DistillationStudent.format(best.temperature!), best.testErrors.mean - hard.testErrors.mean))
            } else if gap > 0 {
                sentences.append(String(
                    format: "The best soft student (T = %@) closes %.0f%% of the gap between the hard-label student and the teacher (means).",
                    DistillationStudent.format(best.temperature!), 100 * (hard.testErrors.mean - best.testErrors.mean) / gap))
            } else {
                sentences.append("The teacher is not better than the hard-label student here, so there is no gap for the soft targets to close.")
            }
        }
        return sentences.joined(separator: " ")
    }

    @discardableResult
    public func build() throws -> DistillationSummary {
        let configuration = try RunStore.readConfiguration(DistillationConfiguration.self, in: directory).configuration
        let teacherURL = file(DistillationStudy<Float>.teacherRecordName)
        // The teacher's record comes before any student, and holds the size of the test split.
        let teacher = FileManager.default.fileExists(atPath: teacherURL.path) ? try RunStore.readJSON(TeacherRecord.self, from: teacherURL) : nil
        let records = try teacher.map { try self.records(configuration, testCount: $0.testCount) } ?? []
        let rows = Self.summaries(configuration, records: records)
        let finding = Self.findings(configuration, teacher: teacher, rows: rows)
        let summary = DistillationSummary(teacher: teacher, students: rows, finding: finding)
        try ResultFiles.writeJSON(summary, to: file("summary.json"))

        try CSVTable(
            header: ["replicate", "targets", "temperature", "test_errors", "test_accuracy_percent", "test_loss", "wall_seconds"],
            rows: records.map { r -> [String] in
                let targets: String = r.student.temperature == nil ? "hard" : "soft"
                return ["\(r.student.replicate)", targets, exact(r.student.temperature), "\(r.testErrors)", exact(r.testAccuracy), exact(r.testLoss), exact(r.wallSeconds)]
            }).write(to: file("runs.csv"))
        var tableRows: [[String]] = []
        if let teacher {
            tableRows.append(["teacher (\(teacher.model), \(teacher.parameterCount) parameters)", "", "1", exact(Double(teacher.testErrors)), "", "", ""])
        }
        tableRows += rows.map { r -> [String] in
            let network: String = r.temperature == nil ? "student, hard labels" : "student, soft targets"
            return [network, exact(r.temperature), "\(r.testErrors.count)", exact(r.testErrors.mean), exact(r.testErrors.standardDeviation),
                    exact(r.changeFromHard?.mean), exact(r.changeFromHard?.standardDeviation)]
        }
        let table = CSVTable(
            header: ["network", "temperature", "replicates", "test_errors_mean", "test_errors_sd", "change_from_hard_mean", "change_from_hard_sd"],
            rows: tableRows)
        try table.write(to: file("students.csv"))
        try plot(rows: rows, teacher: teacher).write(to: file("test-errors.svg"))
        try report(configuration, records: records, teacher: teacher, finding: finding, table: table).write(in: directory)
        return summary
    }

    /// Test errors of the hard-label students and of the soft students at each temperature (categories), with the
    /// teacher as a line.
    private func plot(rows: [DistillationSummaryRow], teacher: TeacherRecord?) -> LinePlot {
        let labels = rows.map { $0.temperature.map { "T = \(DistillationStudent.format($0))" } ?? "hard labels" }
        return LinePlot(
            title: "Test errors of the students, by their targets", x: PlotAxis("student's targets", categories: labels),
            y: PlotAxis("test errors"),
            series: [PlotSeries("students (mean ± sd over replicates)", points: rows.enumerated().map { index, row in
                PlotPoint(x: Double(index), y: row.testErrors.mean, error: row.testErrors.errorBar)
            }, lines: false)],
            horizontalLines: teacher.map { [PlotHorizontalLine(y: Double($0.testErrors), label: "teacher")] } ?? [])
    }

    private func report(
        _ configuration: DistillationConfiguration, records: [DistillationRecord], teacher: TeacherRecord?, finding: String, table: CSVTable
    ) throws -> HTMLReport {
        let s = configuration.student, t = configuration.teacherTraining
        let teacherText = configuration.teacherFile.map { "the checkpoint \($0.path) (\($0.model))" }
            ?? "\(t.model) \(t.widths.map(String.init).joined(separator: "-")) trained here on \(t.trainSize.map(String.init) ?? "all") training images for \(t.steps)\(t.dropout.map { " with dropout \($0)" } ?? "")\(t.augmentation.cropPadding > 0 ? " and inputs shifted by up to \(t.augmentation.cropPadding) pixels" : "")"
        let expected = configuration.students.count
        return HTMLReport(
            title: "Distillation: \(s.model) \(s.widths.map(String.init).joined(separator: "-")) students on \(s.dataset.displayName)",
            introduction: """
                Hinton, Vinyals & Dean (2015): a small network trained on a large network's soft targets, \
                softmax(logits / T), generalizes better than the same network trained on the hard labels, because the \
                soft targets carry how the teacher generalizes. \(Self.paperReference). Here the teacher is \
                \(teacherText); each student is \(s.model) \(s.widths.map(String.init).joined(separator: "-")) trained on \
                \(s.trainSize.map(String.init) ?? "all") \(s.dataset.displayName) training images for \(s.steps) \
                (\(s.optimizer.kind.rawValue), learning rate \(s.optimizer.learningRate), batch \(s.batchSize)), on the hard labels or on \
                the teacher's soft targets at T = \(configuration.temperatures.map { DistillationStudent.format($0) }.joined(separator: ", ")) \
                (loss T² x cross-entropy with the soft targets\(configuration.hardLabelWeight > 0 ? ", mixed with the hard labels at weight \(configuration.hardLabelWeight)" : "")); \
                \(configuration.replicates) replicate\(configuration.replicates == 1 ? "" : "s"), each sharing one initialization and data order \
                (mean ± standard deviation; verdicts by a paired t-test against no change, two-sided, 5% level).

                \(records.count) of \(expected) students finished.\(records.count < expected ? " Run the same command again to finish the rest." : "") \(finding)
                """,
            sections: [
                .init(title: "Test errors", text: "Misclassified test images of the teacher and of each kind of student; the change from the hard-label student is paired by replicate.",
                      image: "test-errors.svg", table: table,
                      links: [("students.csv", "students.csv"), ("runs.csv (every student)", "runs.csv"), ("summary.json", "summary.json")]),
            ],
            configurationJSON: try HTMLReport.configurationText(in: directory),
            runs: (configuration.teacherFile == nil ? [(label: "teacher", path: "teacher")] : [])
                + records.map { (label: $0.student.name, path: $0.student.path) })
    }
}
