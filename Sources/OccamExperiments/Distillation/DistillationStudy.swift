import Foundation
import OccamData
import OccamNN
import OccamTensor

/// The teacher's test result: teacher.json of a distillation study.
public struct TeacherRecord: Codable, Sendable, Equatable {
    /// "trained here (teacher/)" or the checkpoint's path.
    public var source: String
    public var model: String
    public var parameterCount: Int
    /// The images the teacher trained on, when it trained here.
    public var trainCount: Int?
    /// The students' training images: the transfer set.
    public var transferCount: Int
    /// Test accuracy (%) and the number of misclassified test images, of `testCount`.
    public var testAccuracy: Double
    public var testErrors: Int
    public var testCount: Int
    public var testLoss: Double
}

/// Runs a `DistillationConfiguration` in its run directory: `teacher/` (when the teacher trains here) and
/// teacher.json, then `replicate-<r>/hard/` and `replicate-<r>/soft-T<T>/` per student. Finished runs are read
/// back and unfinished ones resume, so an interrupted study continues; the report is built from these files
/// (`DistillationReport`). Its units (`UnitStudy`) are the replicates: each needs the teacher, which the first
/// unit to start trains while the others wait for it (a lock on `teacher/`).
public struct DistillationStudy<Scalar: TensorScalar>: UnitStudy {
    public var configuration: DistillationConfiguration
    public var directory: URL
    /// The students' prepared data (the transfer set and the test split).
    public var data: PreparedData<Scalar>
    /// The teacher's prepared data, when it trains here (`configuration.teacherTraining.data`); nil: `data`, when
    /// the teacher's data configuration is the students'.
    public var teacherData: PreparedData<Scalar>?
    /// A teacher given as a file (`configuration.teacherFile`): its model, weights and buffers.
    public var givenTeacher: (model: Model<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>)?
    /// Students trained at once; every run uses single-threaded BLAS whatever this is, so results do not depend on it.
    public var jobs = 1
    /// How often each run logs its mean training loss and learning rate (`Trainer.logTrainingEvery`).
    public var logTrainingEvery: TrainingDuration? = TrainingDuration(iterations: 100)

    public init(configuration: DistillationConfiguration, directory: URL, data: PreparedData<Scalar>) {
        (self.configuration, self.directory, self.data) = (configuration, directory, data)
    }

    public static var teacherRecordName: String { "teacher.json" }

    /// Trains the teacher (unless given or finished), records its test result, then trains every student not yet
    /// finished (`jobs` at a time); returns the students' summaries in `configuration.students` order.
    @discardableResult
    public func run(events: (StudyEvent) throws -> Void = { _ in }) throws -> [TrainingSummary] {
        try train(Array(configuration.students.indices), events: events)
    }

    /// "replicate 0", ...: one unit per replicate, all its students.
    public var unitNames: [String] { (0..<configuration.replicates).map { "replicate \($0)" } }

    public func isFinished(unit: Int) -> Bool {
        configuration.students.filter { $0.replicate == unit }.allSatisfy { RunStore.isComplete(directory.appendingPathComponent($0.path)) }
    }

    /// Trains replicate `unit`'s students, and the teacher first unless it is finished or another unit is training it.
    public func run(unit: Int, events: (StudyEvent) throws -> Void) throws {
        _ = try train(configuration.students.indices.filter { configuration.students[$0].replicate == unit }, events: events)
    }

    /// Prepares the teacher, then trains the students at `indices` of `configuration.students` (`jobs` at a time);
    /// their summaries in that order.
    private func train(_ indices: [Int], events: (StudyEvent) throws -> Void) throws -> [TrainingSummary] {
        try configuration.validate()
        let (model, parameters, buffers) = try prepareTeacher(events: events)
        let students = configuration.students
        return try trainConcurrently(order: indices, jobs: jobs, events: events) { index in
            let student = students[index]
            var trainer = try Trainer(
                configuration: configuration.trainingConfiguration(student), data: data, directory: directory.appendingPathComponent(student.path))
            trainer.logTrainingEvery = logTrainingEvery
            trainer.resumeCheckpointEvery = max(1, trainer.configuration.iterationsPerEpoch(trainCount: data.train.count))
            if let temperature = student.temperature {
                trainer.teacher = Teacher(model: model, parameters: parameters, buffers: buffers, loss: configuration.loss(temperature: temperature))
            }
            let steps = trainer.configuration.steps
            return TrainingStage(name: student.name, detail: "\(steps) on \(data.train.count) images", trainer: trainer)
        }
    }

    /// The teacher's model, weights and buffers, trained now unless given or finished, and teacher.json.
    private func prepareTeacher(events: (StudyEvent) throws -> Void) throws -> (Model<Scalar>, ParameterSet<Scalar>, ParameterSet<Scalar>) {
        // Units running at once (Slurm tasks) need the same teacher: one trains it and writes teacher.json, the
        // others wait here and then read it back. (A given teacher only has teacher.json written, the same bytes
        // by every unit, each through its own temporary file.)
        let teacherDirectory = directory.appendingPathComponent("teacher")
        var lock: RunDirectoryLock?
        if configuration.teacherFile == nil {
            try ResultFiles.prepareDirectory(teacherDirectory)
            lock = try RunDirectoryLock(teacherDirectory, waiting: true)
        }
        defer { lock?.release() }
        let model: Model<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>, source: String, modelName: String
        var trainCount: Int?
        if let file = configuration.teacherFile {
            guard let given = givenTeacher else { throw ExperimentError.impossibleConfiguration("the teacher checkpoint \(file.path) was not loaded") }
            (model, parameters, buffers, source, modelName) = (given.model, given.parameters, given.buffers, file.path, file.model)
        } else {
            let training = configuration.teacherTraining
            // The students' data serves when the teacher trains on the same split.
            guard let teacherData = teacherData ?? (training.data == configuration.student.data ? data : nil) else {
                throw ExperimentError.impossibleConfiguration("the teacher trains on other images than the students, and its data was not prepared")
            }
            var trainer = try Trainer(configuration: training, data: teacherData, directory: teacherDirectory)
            trainer.logTrainingEvery = logTrainingEvery
            trainer.resumeCheckpointEvery = max(1, training.iterationsPerEpoch(trainCount: teacherData.train.count))
            let stage = TrainingStage(
                name: "teacher", detail: "\(training.model) \(training.widths.map(String.init).joined(separator: "-")), \(training.steps) on \(teacherData.train.count) images",
                trainer: trainer)
            let final = try stage.run(events: events).final
            trainCount = teacherData.train.count
            (model, parameters, buffers, source, modelName) = (trainer.model, final.parameters, final.buffers, "trained here (teacher/)", training.model)
        }
        let url = directory.appendingPathComponent(Self.teacherRecordName)
        if !FileManager.default.fileExists(atPath: url.path) {
            let test = data.test
            let result = model.evaluate(
                parameters: parameters, buffers: buffers, inputs: test.images, labels: test.labels, loss: configuration.student.loss)
            let errors = Int((Double(test.count) * (1 - result.accuracy)).rounded())
            try ResultFiles.writeJSON(
                TeacherRecord(
                    source: source, model: modelName, parameterCount: parameters.entries.reduce(0) { $0 + $1.tensor.shape.reduce(1, *) }, trainCount: trainCount, transferCount: data.train.count,
                    testAccuracy: 100 * result.accuracy, testErrors: errors, testCount: test.count, testLoss: result.loss),
                to: url)
        }
        return (model, parameters, buffers)
    }
}
