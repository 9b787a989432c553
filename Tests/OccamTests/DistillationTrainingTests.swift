import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@Suite("Training a student on a teacher's soft targets")
struct DistillationTrainingTests {
    /// A blob-trained teacher (MLP 6-16-8-3) and the student's recipe.
    static func teacherAndStudent() throws -> (teacher: TrainingCheckpoint<Double>, model: Model<Double>, student: TrainingConfiguration, data: PreparedData<Double>) {
        let configuration = blobTraining(steps: 30)
        let data = blobData(configuration)(3)
        let trainer = try Trainer(configuration: configuration, data: data, directory: nil)
        var student = blobTraining(steps: 20)
        student.widths = [4]
        student.seed = 11
        return (try trainer.run().checkpoint, trainer.model, student, data)
    }

    @Test func onlyTheHardLabelsIsOrdinaryTraining() throws {
        let (teacher, model, student, data) = try Self.teacherAndStudent()
        let plain = try Trainer(configuration: student, data: data, directory: nil).run().checkpoint
        var distilled = try Trainer(configuration: student, data: data, directory: nil)
        distilled.teacher = Teacher(model: model, parameters: teacher.parameters, buffers: teacher.buffers,
                                    loss: DistillationLoss(temperature: 4, hardLabelWeight: 1))
        #expect(try distilled.run().checkpoint.parameters == plain.parameters)
    }

    @Test func aStudentThatAlreadyMatchesItsTeacherDoesNotMove() throws {
        // The teacher is the student's own starting point: q = p_T, so the soft targets' gradient T (p_T - q) is
        // zero and one SGD step changes nothing, while the hard labels alone would move it.
        let (_, _, recipe, data) = try Self.teacherAndStudent()
        var student = recipe
        student.steps = TrainingDuration(iterations: 1)
        student.optimizer = OptimizerConfiguration(kind: .sgd, learningRate: 0.5)
        let probe = try Trainer(configuration: student, data: data, directory: nil)
        var random = RandomGenerator(seed: student.seed).stream("init")
        let start = probe.model.initialParameters(using: &random)
        for temperature in [1.0, 2.0, 5.0] {
            var trainer = probe
            trainer.initialParameters = start
            trainer.teacher = Teacher(model: probe.model, parameters: start, buffers: ParameterSet(), loss: DistillationLoss(temperature: temperature))
            // Zero up to rounding: p_T and q are the same softmax, computed twice.
            #expect(Self.largestChange(from: start, to: try trainer.run().checkpoint.parameters) < 1e-12, "T \(temperature)")
        }
        var hard = probe
        hard.initialParameters = start
        #expect(Self.largestChange(from: start, to: try hard.run().checkpoint.parameters) > 1e-3)
    }

    static func largestChange(from a: ParameterSet<Double>, to b: ParameterSet<Double>) -> Double {
        zip(a.entries, b.entries).map { ($0.tensor - $1.tensor).abs().max() }.max()!
    }
}
