import Foundation
import OccamNN
@testable import OccamExperiments
import OccamTensor
import Testing

@Suite("Memorization: evaluation as plain matrix products, the cancelling terms, the centred construction")
struct MemorizationConditioningTests {
    /// 400 random points in 20 dimensions with random labels 0-9.
    static func problem() -> (points: Tensor<Double>, targets: [Double]) {
        var random = RandomGenerator(seed: 5).stream("points")
        let points = Tensor<Double>.randomUniform([400, 20], using: &random)
        return (points, (0..<400).map { _ in Double(random.nextInt(below: 10)) })
    }

    /// f and Σ_j |w_j| h_j from the saved parameters (the file PyTorch would load), summed with Kahan's
    /// compensation, one image at a time.
    static func fromParameters(_ parameters: ParameterSet<Double>, _ x: [Double]) -> (f: Double, cancelling: Double) {
        let w1 = parameters["hidden.weight"]!, b1 = parameters["hidden.bias"]!.scalars, w2 = parameters["output.weight"]!.scalars
        let (n, d) = (w1.shape[0], w1.shape[1])
        var (f, compensation, cancelling) = (0.0, 0.0, 0.0)
        for j in 0..<n {
            var h = b1[j]
            for k in 0..<d { h += w1.scalars[j * d + k] * x[k] }
            guard h > 0 else { continue }
            let term = w2[j] * h - compensation
            let sum = f + term
            compensation = (sum - f) - term
            f = sum
            cancelling += abs(w2[j]) * h
        }
        return (f, cancelling)
    }

    @Test func bothConstructionsFitExactlyAndTheCentredOneCancelsLess() throws {
        let (points, targets) = Self.problem()
        let rows = (0..<400).map { points.slice($0..<($0 + 1), alongAxis: 0).scalars }
        var sums: [MemorizingNetwork.Construction: Double] = [:]
        for construction in MemorizingNetwork.Construction.allCases {
            let network = try MemorizingNetwork.construct(inputs: points, targets: targets, seed: 2, construction: construction)
            #expect(network.weightCount == 2 * 400 + 20)
            // Zhang's units all face right; the centred ones left of the median face left.
            #expect(network.orientations == (0..<400).map { construction == .centred && $0 < 200 ? -1 : 1 })
            #expect(zip(network.biases, network.biases.dropFirst()).allSatisfy { $0 <= $1 })
            let parameters = network.model(inputShape: [1, 4, 5], as: Double.self).parameters
            let model = network.outputs(points, inputShape: [1, 4, 5])
            let plain = network.plainOutputs(points, in: Double.self)
            let cancelling = network.cancellation(points)
            for (i, x) in rows.enumerated() {
                let reference = Self.fromParameters(parameters, x)
                #expect(abs(reference.f - targets[i]) < 1e-6, "\(construction) point \(i)")
                // Matrix products round in the order the BLAS kernel sums (it differs between CPU kernels): a few
                // epsilons of the terms that cancel.
                let rounding = max(1e-6, 64 * Double.ulpOfOne * reference.cancelling)
                #expect(abs(model[i] - targets[i]) < rounding && abs(plain[i] - targets[i]) < rounding, "\(construction) point \(i)")
                #expect(abs(cancelling[i] - reference.cancelling) <= 1e-9 * max(reference.cancelling, 1), "\(construction) point \(i)")
            }
            sums[construction] = cancelling.max()!
        }
        // Each point activates only the units between it and the median: the largest sum of cancelling terms
        // shrinks (measured: by more than a third on this problem).
        #expect(sums[.centred]! < 0.67 * sums[.zhang]!)
    }
}
