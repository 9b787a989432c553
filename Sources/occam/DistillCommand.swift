import ArgumentParser
import Foundation
import OccamData
import OccamExperiments
import OccamNN
import OccamTensor

struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distillation (Hinton et al. 2015): a small student trained on a large teacher's soft targets against the same student on the hard labels.",
        discussion: """
            The teacher trains first (--teacher-model mlp of --teacher-widths with --teacher-dropout after each \
            hidden layer, inputs shifted by up to --teacher-crop-padding pixels, on --teacher-train-size images, by \
            default all of them, for --teacher-steps; the student's recipe otherwise), or is read from --teacher FILE \
            (an occam checkpoint, or a PyTorch state dict with --teacher-model and --teacher-widths). Then, for each of \
            --replicates, a student (the training options below: by default an mlp 800-800 without regularization on \
            10,000 Fashion-MNIST images for 20 epochs) trains on the hard labels and, from the same initialization and \
            data order, on the teacher's soft targets softmax(logits / T) at each of --temperatures, with the loss T² \
            x the cross-entropy against them (mixed with the hard labels at --hard-label-weight). The students' \
            images are the transfer set. By default the teacher sees all 60,000 images and the students 10,000 of them \
            (Hinton et al.'s Sec. 6 pattern): on 10,000 images alone a 1200-1200 teacher is no better than the \
            student (measured here: 85.1-86.2% against 85.3-86.8%), so it would have nothing to pass on; \
            --teacher-train-size 10000 gives the paper's MNIST protocol of one training set.

            Hinton et al. on MNIST: teacher 67 test errors, hard-label student 146, soft student at T = 20 74. The \
            report sets the same table here beside that pattern: test errors of the teacher and of each student, the \
            change from the same replicate's hard-label student (paired), and the share of the gap to the teacher the \
            best temperature closes. Not built: Hinton et al.'s transfer set that omits a class.

            --jobs N trains N students at once (default: one per core), each on single-threaded BLAS, so results do \
            not depend on it. On a cluster (--units, --unit, --slurm) a unit is a replicate's students; the first unit \
            to start trains the teacher and the others wait for it. Results: OUT/distill-<model>-<dataset>-<hash>/ with teacher/, teacher.json, \
            replicate-<r>/hard/ and replicate-<r>/soft-T<T>/, runs.csv, students.csv, summary.json, test-errors.svg \
            and index.html. Running the same command again skips finished runs and resumes unfinished ones.
            """)

    @OptionGroup var training: TrainingOptions<DistillationRecipe>
    @Option(help: "Training length of each student (iterations or epochs).") var steps = "20ep"
    @Option(help: "Evaluate on the test set this often.") var evalEvery = "1ep"
    @Option(help: "A trained teacher: an occam checkpoint (.safetensors), or a PyTorch state dict with --teacher-model. Default: train one.")
    var teacher: String?
    @Option(help: "The teacher's model (see `occam models`; default mlp), also that of a --teacher state dict.") var teacherModel: String?
    @Option(help: "Hidden widths of the teacher mlp (also those of a --teacher state dict), comma-separated.")
    var teacherWidths = DistillationConfiguration.defaultTeacher.widths.map(String.init).joined(separator: ",")
    @Option(parsing: .unconditional, help: "Dropout rate after each hidden layer of the teacher (0: none).")
    var teacherDropout = DistillationConfiguration.defaultTeacher.dropout ?? 0
    @Option(parsing: .unconditional, help: "The teacher's inputs are shifted at random by up to this many pixels (random crops of the padded image; 0: none).")
    var teacherCropPadding = DistillationConfiguration.defaultTeacher.augmentation.cropPadding
    @Option(help: "Training length of the teacher (iterations or epochs).") var teacherSteps = "10ep"
    @Option(help: "Train the teacher on a seeded subset of this many images (default: all training images).") var teacherTrainSize: Int?
    @Option(help: "Temperatures of the soft-target students, comma-separated.")
    var temperatures = DistillationConfiguration.defaultTemperatures.map(DistillationStudent.format).joined(separator: ",")
    @Option(parsing: .unconditional, help: "Weight of the hard labels' cross-entropy in a soft student's loss, in [0, 1) (0: soft targets alone).")
    var hardLabelWeight = 0.0
    @Option(parsing: .unconditional, help: "Independent replicates of the students (seeds --seed, --seed+1, ...).") var replicates = 3
    @Option(parsing: .unconditional, help: "Students trained at once (default: one per core).") var jobs: Int?
    @Option(parsing: .unconditional, help: "Seed of the teacher and of the first replicate.") var seed: UInt64 = 0
    @Option(help: "Directory for runs.") var out = "runs"
    @Flag(help: "Print only the summary.") var quiet = false
    @OptionGroup(title: "Cluster") var cluster: ClusterOptions

    /// The study's configuration; `teacherFile` as loaded (nil while validating, before reading it).
    func studyConfiguration(teacherFile: TeacherFile? = nil) throws -> DistillationConfiguration {
        let student = try training.configuration(steps: steps, evalEvery: evalEvery, seed: seed, defaults: DistillationConfiguration.defaultStudent)
        var teacher = student
        teacher.model = teacherModel ?? DistillationConfiguration.defaultTeacher.model
        teacher.widths = try parseWidths(teacherWidths)
        teacher.dropout = teacherDropout == 0 ? nil : teacherDropout
        teacher.augmentation.cropPadding = teacherCropPadding
        teacher.trainSize = teacherTrainSize
        teacher.steps = try parseDuration(teacherSteps, option: "--teacher-steps")
        var c = DistillationConfiguration(student: student, teacher: teacher)
        c.teacherFile = teacherFile
        c.temperatures = try temperatures.split(separator: ",", omittingEmptySubsequences: false).map { text in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--temperatures must be numbers, comma-separated (got \"\(temperatures)\").")
            }
            return value
        }
        c.hardLabelWeight = hardLabelWeight
        c.replicates = replicates
        // A cosine schedule spans each run: its length from the images each network trains on.
        c.student = c.student.withScheduleLength(trainCount: c.student.expectedTrainCount)
        c.teacher = c.teacher.withScheduleLength(trainCount: c.teacherTraining.expectedTrainCount)
        do { try c.validate() } catch let error as ExperimentError { throw ValidationError(error.description) }
        catch let error as TrainingError { throw ValidationError("The teacher: \(error)") }
        return c
    }

    /// --teacher before it is read: it stands in for the checks that depend on whether a teacher is given.
    private var unreadTeacherFile: TeacherFile? { teacher.map { TeacherFile(path: $0, digest: "", model: teacherModel ?? "") } }

    func validate() throws {
        guard (0..<1).contains(teacherDropout) else { throw ValidationError("--teacher-dropout must be in [0, 1); got \(teacherDropout).") }
        guard teacherCropPadding >= 0 else { throw ValidationError("--teacher-crop-padding must be 0 or more pixels; got \(teacherCropPadding).") }
        _ = try studyConfiguration(teacherFile: unreadTeacherFile)
        try validateJobs(jobs)
    }

    func run() throws {
        Interruption.ignoreBrokenPipes()
        switch training.precision {
        case .float32: try study(Float.self)
        case .float64: try study(Double.self)
        }
    }

    private func study<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let draft = try studyConfiguration(teacherFile: unreadTeacherFile)
        let data = try PreparedData<Scalar>(draft.student.data, seed: draft.student.dataSplitSeed, directory: training.dataDirectory)
        var given: (model: Model<Scalar>, parameters: ParameterSet<Scalar>, buffers: ParameterSet<Scalar>)?
        var teacherFile: TeacherFile?
        if let path = teacher {
            let url = URL(fileURLWithPath: path)
            let file = try SafeTensorsFile.read(from: url)
            let saved: LoadedCheckpoint<Scalar> = try loadCheckpoint(
                Scalar.self, file: file, url: url, model: teacherModel, widths: teacherWidths, width: nil, dataset: draft.student.dataset)
            try Self.checkTeacher(saved.training, student: draft.student)
            let model: Model<Scalar> = try saved.training.buildModel(inputShape: data.train.imageShape, classes: data.train.classCount)
            given = (model, saved.parameters, saved.buffers)
            teacherFile = TeacherFile(path: url.standardizedFileURL.path, digest: RunStore.hash(try Data(contentsOf: url)), model: saved.training.model)
        }
        let configuration = try studyConfiguration(teacherFile: teacherFile)
        var teacherData: PreparedData<Scalar>?
        if teacherFile == nil {
            let t = configuration.teacherTraining
            teacherData = t.data == configuration.student.data
                ? data : try PreparedData<Scalar>(t.data, seed: t.dataSplitSeed, directory: training.dataDirectory)
        }
        let directory = try RunStore.open(configuration, precision: Scalar.precisionName, under: URL(fileURLWithPath: out), access: cluster.access)
        let jobs = jobCount(self.jobs)
        if !quiet && cluster.unit == nil && !cluster.units {
            let s = configuration.student
            let t = configuration.teacherTraining
            let teacherText = teacherFile.map { "teacher \($0.path)" }
                ?? "teacher \(t.model) \(t.widths.map(String.init).joined(separator: "-")) trained on \(t.trainSize.map(String.init) ?? "all") images for \(t.steps)"
            status("Distillation: \(teacherText); students \(s.model) \(s.widths.map(String.init).joined(separator: "-")) on \(data.train.count) \(s.dataset.displayName) images for \(s.steps), hard labels and T = \(configuration.temperatures.map(DistillationStudent.format).joined(separator: ", ")), \(configuration.replicates) replicates: \(configuration.trainingRunCount) runs, \(jobs) at a time")
            status("Run directory: \(directory.path)")
        }
        var study = DistillationStudy<Scalar>(configuration: configuration, directory: directory, data: data)
        study.givenTeacher = given
        study.teacherData = teacherData
        study.jobs = jobs
        study.logTrainingEvery = try training.logTrainingEvery()
        if try cluster.handle(study, stages: configuration.trainingRunCount, quiet: quiet) { return }
        let reporter = StudyReporter(totalStages: configuration.trainingRunCount, quiet: quiet)
        try study.run { reporter.handle($0) }
        let summary = try DistillationReport(directory: directory).build()
        print("\n network                          replicates  test errors        change from hard labels")
        if let t = summary.teacher { print(" teacher".padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10d  %6d", 1, t.testErrors)) }
        for row in summary.students {
            let name = row.temperature.map { " student, T = \(DistillationStudent.format($0))" } ?? " student, hard labels"
            let change = row.changeFromHard.map { String(format: "%+7.1f", $0.mean) + ($0.errorBar.map { String(format: " ± %.1f", $0) } ?? "") } ?? "-"
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10d  ", row.testErrors.count)
                  + spreadCell(row.testErrors, "%6.1f").padding(toLength: 19, withPad: " ", startingAt: 0) + change)
        }
        print(summary.finding)
        print("Report: \(directory.appendingPathComponent("index.html").path)")
    }

    /// A teacher checkpoint must take the students' images as the students see them.
    static func checkTeacher(_ teacher: TrainingConfiguration, student: TrainingConfiguration) throws {
        guard teacher.dataset.imageShape == student.dataset.imageShape, teacher.dataset.classCount == student.dataset.classCount else {
            throw ValidationError("The --teacher checkpoint's model takes \(teacher.dataset.displayName) images; the students train on \(student.dataset.displayName) (pass --dataset \(teacher.dataset.rawValue)).")
        }
        guard teacher.normalize == student.normalize else {
            throw ValidationError("The --teacher checkpoint was trained \(teacher.normalize ? "with" : "without") normalized inputs; train the students the same way (\(teacher.normalize ? "--normalize" : "--no-normalize")).")
        }
        if teacher.normalize, teacher.data != student.data || teacher.dataSplitSeed != student.dataSplitSeed {
            throw ValidationError("The --teacher checkpoint normalized its inputs with the statistics of its own training split; give the students the same data options (--dataset, --train-size, --validation-count, --seed) or train the teacher without --normalize.")
        }
    }
}
