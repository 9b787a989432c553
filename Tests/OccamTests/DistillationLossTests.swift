import Foundation
import OccamAutograd
import OccamNN
import OccamTensor
import Testing

@Suite("The distillation loss: soft targets at temperature T")
struct DistillationLossTests {
    /// softmax of one row, here on plain numbers.
    static func softmax(_ row: [Double]) -> [Double] {
        let exps = row.map { Foundation.exp($0 - row.max()!) }
        return exps.map { $0 / exps.reduce(0, +) }
    }

    @Test func valueMatchesTheDefinition() {
        let student = [[1.0, -0.5, 2.0], [0.3, 0.3, -1.0]], teacher = [[4.0, 0.0, 1.0], [-2.0, 3.0, 0.5]], labels = [2, 1]
        for (temperature, alpha) in [(1.0, 0.0), (4.0, 0.0), (2.5, 0.3)] {
            let loss = DistillationLoss(temperature: temperature, hardLabelWeight: alpha)
            let values = loss.perSample(Variable(Tensor(rows: student)), softTargets: loss.softTargets(Tensor(rows: teacher)), labels: labels).value
            for i in 0..<2 {
                let q = Self.softmax(teacher[i].map { $0 / temperature }), p = Self.softmax(student[i].map { $0 / temperature })
                let soft = temperature * temperature * zip(q, p).map { -$0 * Foundation.log($1) }.reduce(0, +)
                let hard = -Foundation.log(Self.softmax(student[i])[labels[i]])
                #expect(abs(values.scalars[i] - ((1 - alpha) * soft + alpha * hard)) < 1e-12, "T \(temperature), α \(alpha), row \(i)")
            }
        }
    }

    @Test func gradientIsTTimesTheDifferenceOfTheSoftmaxes() {
        // Hinton et al., Eq. 2 with the T² scaling: ∂/∂z of T² CE(q, p_T) = T (p_T - q); the hard term adds α (p_1 - onehot).
        var inputs = Inputs(seed: 5)
        let student = inputs.normal([4, 5]) * 3, teacher = inputs.normal([4, 5]) * 3, labels = [0, 4, 2, 2]
        for (temperature, alpha) in [(1.0, 0.0), (3.0, 0.0), (8.0, 0.0), (2.0, 0.5)] {
            let loss = DistillationLoss(temperature: temperature, hardLabelWeight: alpha)
            let q = loss.softTargets(teacher)
            let gradient = OccamAutograd.gradient(at: [student]) { loss.perSample($0[0], softTargets: q, labels: labels).sum() }[0]
            let pT = (student / temperature).softmax(alongAxis: 1), p1 = student.softmax(alongAxis: 1)
            let closedForm = (pT - q) * (temperature * (1 - alpha)) + (p1 - Tensor<Double>.oneHot(labels, classes: 5)) * alpha
            #expect((gradient - closedForm).abs().max() < 1e-12, "T \(temperature), α \(alpha)")
        }
    }

    @Test func firstAndSecondDerivativesMatchFiniteDifferences() {
        var inputs = Inputs(seed: 9)
        let teacher = inputs.normal([3, 4]) * 2
        for (temperature, alpha) in [(1.0, 0.0), (4.0, 0.0), (2.0, 0.25)] {
            let loss = DistillationLoss(temperature: temperature, hardLabelWeight: alpha)
            let q = loss.softTargets(teacher)
            GradientChecker().check("distillation T \(temperature) α \(alpha)", at: [inputs.normal([3, 4])]) {
                loss.mean($0[0], softTargets: q, labels: [3, 0, 1])
            }
        }
    }
}
