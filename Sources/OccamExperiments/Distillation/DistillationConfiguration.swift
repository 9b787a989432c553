import OccamData
import OccamNN

/// `occam distill`: knowledge distillation (Hinton, Vinyals & Dean 2015).
///
/// A teacher (a large network trained here with dropout, or a checkpoint given as a file) and, for each of
/// `replicates`, a student trained on the hard labels and one trained on the teacher's soft targets at each
/// temperature T (`DistillationLoss`, T²-scaled). The students of one replicate share their seed, so their
/// initialization and data order: their differences are paired. The students train on their training split
/// (the transfer set); the teacher on all training images by default (`teacher.trainSize`), as a teacher that
/// saw more data than the transfer set holds is how distillation is used, and on a small split a larger
/// network is no better than the student.
public struct DistillationConfiguration: ExperimentConfiguration, Hashable {
    public static let experimentName = "distill"

    /// How every student trains (model, data, optimizer, length); replicate r has seed `student.seed + r`.
    public var student: TrainingConfiguration
    /// How the teacher trains: its model, length and training-set size; the data set, validation split and
    /// normalization are the students'. Unused when `teacherFile` is set.
    public var teacher: TrainingConfiguration
    /// A trained teacher given as a checkpoint; nil: train `teacher`.
    public var teacherFile: TeacherFile?
    /// The temperatures of the soft-target students.
    public var temperatures: [Double] = Self.defaultTemperatures
    /// α of `DistillationLoss`: the hard labels' share of a soft student's loss (0: soft targets alone).
    public var hardLabelWeight: Double = 0
    public var replicates = 3

    public init(student: TrainingConfiguration = Self.defaultStudent, teacher: TrainingConfiguration = Self.defaultTeacher) {
        (self.student, self.teacher) = (student, teacher)
    }

    public static let defaultTemperatures: [Double] = [2, 5, 20]

    /// Hinton et al.'s student at CPU scale: an MLP 784-800-800-10 without regularization, on 10,000
    /// Fashion-MNIST training images for 20 epochs (Adam 1e-3 with a cosine decay to 0, so the final networks do
    /// not carry the last steps' noise; batch 100), evaluated on the test set every epoch. The cosine's length
    /// (0 here) is set to the run's length by the command (`withScheduleLength`).
    public static var defaultStudent: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.model = "mlp"
        c.widths = [800, 800]
        c.trainSize = 10_000
        c.validationCount = 0
        c.batchSize = 100
        c.optimizer = OptimizerConfiguration(kind: .adam, learningRate: 1e-3)
        c.schedule = .cosine(totalSteps: 0, minimum: 0)
        c.steps = TrainingDuration(epochs: 20)
        c.evaluateEvery = TrainingDuration(epochs: 1)
        return c
    }

    /// Hinton et al.'s teacher at CPU scale: an MLP 784-1200-1200-10 with dropout 0.2 after each hidden layer on
    /// all 60,000 training images for 10 epochs, otherwise the student's recipe. (Measured here on 10,000
    /// images for 20 epochs, this teacher reached 86.2% test accuracy, 85.1% with dropout 0.5 and less with
    /// 2-pixel jitter, no better than the 800-800 student's 85.3-86.8%.)
    public static var defaultTeacher: TrainingConfiguration {
        var c = defaultStudent
        c.widths = [1200, 1200]
        c.dropout = 0.2
        c.trainSize = nil
        c.steps = TrainingDuration(epochs: 10)
        return c
    }

    public var label: String { "\(student.model)-\(student.dataset.rawValue)" }

    /// The seed of replicate `replicate`'s students.
    public func seed(ofReplicate replicate: Int) -> UInt64 { student.seed &+ UInt64(replicate) }

    /// Every student, by replicate, the hard-label student first.
    public var students: [DistillationStudent] {
        (0..<replicates).flatMap { replicate in
            [DistillationStudent(replicate: replicate, temperature: nil)]
                + temperatures.map { DistillationStudent(replicate: replicate, temperature: $0) }
        }
    }

    /// Training runs in the study: the teacher (unless given) and every student.
    public var trainingRunCount: Int { (teacherFile == nil ? 1 : 0) + students.count }

    /// How `student` trains: its replicate's seed, on the images of the base seed's split (every network sees
    /// the same training images).
    public func trainingConfiguration(_ student: DistillationStudent) -> TrainingConfiguration {
        var c = self.student
        c.dataSeed = self.student.dataSplitSeed
        c.seed = seed(ofReplicate: student.replicate)
        return c
    }

    /// How the teacher trains: `teacher` on the students' data set, validation split and normalization.
    public var teacherTraining: TrainingConfiguration {
        var c = teacher
        (c.dataset, c.validationCount, c.normalize) = (student.dataset, student.validationCount, student.normalize)
        c.dataSeed = student.dataSplitSeed
        return c
    }

    /// The loss of a soft student at `temperature`.
    public func loss(temperature: Double) -> DistillationLoss {
        DistillationLoss(temperature: temperature, hardLabelWeight: hardLabelWeight)
    }

    /// Checks what can be checked before loading data.
    /// - Throws: `ExperimentError.impossibleConfiguration` naming the option to change.
    public func validate() throws {
        try ExperimentError.require(
            temperatures.allSatisfy { $0.isFinite && $0 > 0 && $0 <= 1000 }, "--temperatures must be positive numbers up to 1000")
        try ExperimentError.require(Set(temperatures).count == temperatures.count, "a --temperatures value is listed twice")
        try ExperimentError.require(
            hardLabelWeight.isFinite && (0..<1).contains(hardLabelWeight),
            "--hard-label-weight must be in [0, 1): at 1 a soft student would be the hard-label student")
        try ExperimentError.require(replicates >= 1, "--replicates must be at least 1")
        try student.validate()
        if teacherFile == nil {
            try teacherTraining.validate()
            try ExperimentError.require(
                !student.normalize || teacher.trainSize == student.trainSize,
                "--normalize needs --teacher-train-size equal to --train-size: the teacher must see its inputs normalized as the students see them")
        }
    }
}

/// A teacher given as a checkpoint file: where it was and the SHA-256 of its contents (so a changed file makes
/// a new run directory), and the model it holds.
public struct TeacherFile: Codable, Sendable, Hashable {
    public var path: String
    public var digest: String
    public var model: String

    public init(path: String, digest: String, model: String) { (self.path, self.digest, self.model) = (path, digest, model) }
}

/// One student of a distillation study: hard labels (`temperature` nil) or soft targets at a temperature.
public struct DistillationStudent: Codable, Sendable, Hashable {
    public var replicate: Int
    public var temperature: Double?

    public init(replicate: Int, temperature: Double?) { (self.replicate, self.temperature) = (replicate, temperature) }

    /// "hard labels" or "soft targets, T = 20".
    public var kind: String { temperature.map { "soft targets, T = \(Self.format($0))" } ?? "hard labels" }

    /// "replicate-0/hard", "replicate-0/soft-T20": the run's directory under the study.
    public var path: String { "replicate-\(replicate)/" + (temperature.map { "soft-T\(Self.format($0))" } ?? "hard") }

    /// "replicate 0 · soft targets, T = 20".
    public var name: String { "replicate \(replicate) · \(kind)" }

    /// "20", "2.5": a temperature as it appears in names and paths.
    public static func format(_ temperature: Double) -> String {
        temperature == temperature.rounded() && abs(temperature) < 1e9 ? String(Int(temperature)) : String(temperature)
    }
}
