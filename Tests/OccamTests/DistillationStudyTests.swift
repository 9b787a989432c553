import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamExperiments

/// A blob teacher (MLP 6-32-32-3) and students (6-4-3), 2 replicates, T = 2 and 5 unless told.
func blobDistillation(temperatures: [Double] = [2, 5]) -> DistillationConfiguration {
    var student = blobTraining(steps: 30)
    student.widths = [4]
    var teacher = blobTraining(steps: 40)
    teacher.widths = [32, 32]
    var configuration = DistillationConfiguration(student: student, teacher: teacher)
    configuration.temperatures = temperatures
    configuration.replicates = 2
    return configuration
}

@Suite("occam distill: students on a teacher's soft targets against the hard labels")
struct DistillationStudyTests {
    @Test func everyStudentIsTheTrainerRunByHandOnTheSameTeacherAndAResumedStudyTrainsNothing() throws {
        let configuration = blobDistillation()
        let root = try makeTemporaryDirectory("distill")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let data = blobData(configuration.student)(configuration.student.dataSplitSeed)
        var study = DistillationStudy<Double>(configuration: configuration, directory: directory, data: data)
        study.teacherData = data
        try study.run()

        let teacherState = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent("teacher/final.safetensors"))
        let teacherModel: Model<Double> = try configuration.teacherTraining.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
        #expect(teacherState.parameters["fc1.weight"]?.shape == [32, 6])
        // teacher.json: the teacher's errors on the test split, counted here.
        let record = try RunStore.readJSON(TeacherRecord.self, from: directory.appendingPathComponent("teacher.json"))
        let logits = teacherModel.logits(data.test.images, parameters: teacherState.parameters, buffers: teacherState.buffers)
        let predicted = (0..<data.test.count).map { i in (0..<3).max { logits[i, $0] < logits[i, $1] }! }
        #expect(record.testErrors == zip(predicted, data.test.labels).filter { $0 != $1 }.count)
        #expect(record.testCount == data.test.count && record.parameterCount == 6 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3)

        for student in configuration.students {
            var trainer = try Trainer(configuration: configuration.trainingConfiguration(student), data: data, directory: nil)
            if let temperature = student.temperature {
                trainer.teacher = Teacher(
                    model: teacherModel, parameters: teacherState.parameters, buffers: teacherState.buffers,
                    loss: DistillationLoss(temperature: temperature))
            }
            let expected = try trainer.run().checkpoint.parameters
            let stored = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent(student.path).appendingPathComponent("final.safetensors"))
            #expect(stored.parameters == expected, "\(student.name)")
        }
        // Students of one replicate share their initialization; replicates differ.
        let first = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent("replicate-0/hard/final.safetensors"))
        let other = try TrainingCheckpoint<Double>.read(from: directory.appendingPathComponent("replicate-1/hard/final.safetensors"))
        #expect(first.parameters != other.parameters)

        let summary = try DistillationReport(directory: directory).build()
        #expect(summary.students.map(\.temperature) == [nil, 2, 5])
        #expect(summary.students.allSatisfy { $0.testErrors.count == 2 })
        for name in ["runs.csv", "students.csv", "summary.json", "test-errors.svg", "index.html"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        let before = try contentsOfFiles(under: directory).filter { $0.key.hasSuffix(".safetensors") }
        var events: [StudyEvent] = []
        try study.run { events.append($0) }
        let skipped = events.compactMap { event -> Bool? in if case .stageFinished(_, _, let skipped) = event { skipped } else { nil } }
        #expect(skipped.count == 1 + configuration.students.count && skipped.allSatisfy { $0 })
        #expect(try contentsOfFiles(under: directory).filter { $0.key.hasSuffix(".safetensors") } == before)
    }

    @Test func theFindingsAreComputedFromTheNumbers() {
        let configuration = blobDistillation()
        let teacher = TeacherRecord(source: "x", model: "mlp", parameterCount: 1, trainCount: 60_000, transferCount: 60_000, testAccuracy: 99.33, testErrors: 67, testCount: 10_000, testLoss: 0.02)
        func row(_ temperature: Double?, _ errors: [Double], _ changes: [Double]?) -> DistillationSummaryRow {
            DistillationSummaryRow(temperature: temperature, testErrors: Spread(errors), changeFromHard: changes.map { Spread($0) })
        }
        // Hinton et al.'s numbers with three replicates that agree closely.
        let hinton = DistillationReport.findings(configuration, teacher: teacher, rows: [
            row(nil, [145, 146, 147], nil), row(2, [120, 121, 122], [-25, -25, -25.5]), row(5, [73, 74, 75], [-72, -72.5, -72]),
        ])
        #expect(hinton.contains("The teacher makes 67 test errors of 10000 (0.67%)."))
        #expect(hinton.contains("fewer errors than the hard-label student from T = 2 to T = 5"))
        // (146 - 74) / (146 - 67) = 91%.
        #expect(hinton.contains("The best soft student (T = 5) closes 91% of the gap"))
        var larger = teacher
        larger.transferCount = 10_000
        #expect(DistillationReport.findings(configuration, teacher: larger, rows: []).contains("The teacher (trained on 60000 images, the students on 10000) makes 67"))
        let one = DistillationReport.findings(configuration, teacher: teacher, rows: [row(nil, [146], nil), row(20, [74], [-72])])
        #expect(one.contains("too few replicates to tell (n = 1)"))
        let worse = DistillationReport.findings(configuration, teacher: teacher, rows: [row(nil, [146, 150], nil), row(2, [160, 170], [14, 20])])
        #expect(worse.contains("No temperature gives fewer errors than the hard labels on average (the best, T = 2, has +17.0)."))
        let noGap = DistillationReport.findings(
            configuration, teacher: TeacherRecord(source: "x", model: "mlp", parameterCount: 1, trainCount: nil, transferCount: 60_000, testAccuracy: 98, testErrors: 200, testCount: 10_000, testLoss: 0.1),
            rows: [row(nil, [146, 150], nil), row(2, [140, 141], [-6, -9])])
        #expect(noGap.contains("The teacher is not better than the hard-label student here"))
    }

    @Test func aTeacherCheckpointReplacesTrainingOneAndBadOptionsAreRefused() throws {
        let root = try makeTemporaryDirectory("distill-command")
        defer { try? FileManager.default.removeItem(at: root) }
        let small = ["distill", "--train-size", "200", "--steps", "20it", "--eval-every", "20it", "--widths", "8", "--replicates", "1",
                     "--temperatures", "4", "--quiet"]
        let trained = try occam(small + ["--teacher-widths", "32", "--teacher-steps", "40it", "--teacher-train-size", "300", "--out", "trained"], in: root)
        try #require(trained.status == 0, "\(trained.errors)")
        let first = try runDirectory(under: root.appendingPathComponent("trained"))
        let teacherFile = first.appendingPathComponent("teacher/final.safetensors")
        let given = try occam(small + ["--teacher", teacherFile.path, "--out", "given"], in: root)
        try #require(given.status == 0, "\(given.errors)")
        let second = try runDirectory(under: root.appendingPathComponent("given"))
        #expect(!FileManager.default.fileExists(atPath: second.appendingPathComponent("teacher").path))
        let record = try RunStore.readJSON(TeacherRecord.self, from: second.appendingPathComponent("teacher.json"))
        let original = try RunStore.readJSON(TeacherRecord.self, from: first.appendingPathComponent("teacher.json"))
        #expect(record.source == teacherFile.standardizedFileURL.path && record.testErrors == original.testErrors)
        // The same teacher, the same students: identical weights.
        for student in ["replicate-0/hard", "replicate-0/soft-T4"] {
            let a = try Data(contentsOf: first.appendingPathComponent(student).appendingPathComponent("final.safetensors"))
            let b = try Data(contentsOf: second.appendingPathComponent(student).appendingPathComponent("final.safetensors"))
            #expect(a == b, "\(student)")
        }
        let normalized = try occam(small + ["--teacher", teacherFile.path, "--normalize", "--out", "bad"], in: root)
        #expect(normalized.status != 0 && normalized.errors.contains("was trained without normalized inputs"))
    }
}
