import Foundation
import OccamData
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis

/// Occam's curvature engine against an independent NumPy reference (Support/curvature_numpy_reference.py):
/// exact Hessian-vector products by Pearlmutter's R-operator, written by hand for Dense + ReLU + softmax
/// cross-entropy, and its own Lanczos with full re-orthogonalization. The two share nothing but the checkpoint
/// file and the data set's files: Python reads both by hand (safetensors.numpy, IDX bytes).
@Suite("Curvature against an independent NumPy R-operator")
struct CurvatureReferenceTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Support/curvature_numpy_reference.py")

    static let fashionMNISTInstalled = DataSetName.fashionMNIST.locate().found != nil

    /// A 784-6-10 ReLU MLP (4,780 parameters) after ten full-batch Adam steps from its initialization, on the
    /// first 200 Fashion-MNIST training images: loss, gradient norm, the 5 largest and the 3 smallest Hessian
    /// eigenvalues agree with NumPy to 1e-8 relative (the smallest relative to the largest |eigenvalue|).
    @Test(.enabled(if: fashionMNISTInstalled, "needs Fashion-MNIST (apt-get install dataset-fashion-mnist, or OCCAM_DATA)"))
    func hessianEigenvaluesLossAndGradientMatchNumPy() throws {
        let check = try SafeTensorsTests.python(["-c", "import safetensors, numpy"])
        guard check.status == 0 else {
            let message = "python3 cannot import safetensors and numpy, which this test needs: run "
                + "scripts/install-python-packages.sh (python3 said: \(check.errors))"
            Issue.record(Comment(rawValue: message))
            return
        }
        // The reference checks itself first: its R-op against central differences of its gradient, its gradient
        // against differences of its loss, its Lanczos against a dense eigensolver (a small random MLP).
        let selfTest = try SafeTensorsTests.python([Self.script.path, "--self-test"])
        try #require(selfTest.status == 0, "curvature_numpy_reference.py --self-test failed: \(selfTest.output) \(selfTest.errors)")

        let samples = 200
        let data: LabeledImages<Double> = try loadDataSet(.fashionMNIST, split: .train, directory: nil)
        let images = data.subset(Array(0..<samples))

        // A point away from initialization: ten full-batch Adam steps.
        var configuration = TrainingConfiguration()
        configuration.model = "mlp"
        configuration.widths = [6]
        let model = try ModelZoo.build("mlp", inputShape: [1, 28, 28], classes: 10, options: .init(widths: [6]), as: Double.self)
        var random = RandomGenerator(seed: 31)
        var parameters = model.initialParameters(using: &random)
        var buffers = model.initialBuffers()
        var adam = Adam<Double>()
        for _ in 0..<10 {
            let batch = model.gradients(
                at: parameters, buffers: &buffers, inputs: images.images, labels: images.labels, loss: .crossEntropy, random: &random)
            adam.step(&parameters, gradients: batch.gradients, learningRate: 1e-2)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("occam-curvature-reference-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try TrainingCheckpoint(
            configuration: configuration, iteration: 10, parameters: parameters, buffers: buffers, optimizerState: adam.state, mask: nil
        ).write(to: file)

        // Occam, from the checkpoint as written (as `occam curvature` reads it).
        let saved = try TrainingCheckpoint<Double>.read(from: file)
        let savedModel: Model<Double> = try saved.configuration.buildModel(inputShape: images.imageShape, classes: images.classCount)
        let risk = EmpiricalRisk(
            model: savedModel, parameters: saved.parameters, buffers: saved.buffers, inputs: images.images, labels: images.labels,
            loss: .crossEntropy, subspace: try ParameterSubspace(of: saved.parameters), batchSize: 64)
        let point = risk.valueAndGradient()
        let pairs = try Lanczos.extremeEigenpairs(of: LossCurvature(.hessian, of: risk), largest: 5, smallest: 3, tolerance: 1e-10)
        #expect(pairs.converged, "Lanczos did not converge in \(pairs.iterations) steps")
        let (top, bottom) = (pairs.largest.map(\.value), pairs.smallest.map(\.value))

        // NumPy, from the same file and the data set's files.
        let directory = try #require(DataSetName.fashionMNIST.locate().found)
        let result = try SafeTensorsTests.python([
            Self.script.path, file.path, "--samples", String(samples), "--top", "5", "--bottom", "3", "--data-dir", directory.path,
        ])
        try #require(result.status == 0, "curvature_numpy_reference.py failed: \(result.errors)")
        let reference = try #require(
            try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "not a JSON object: \(result.output)")
        let numpyLoss = try #require(reference["loss"] as? Double)
        let numpyGradientNorm = try #require(reference["gradient_norm"] as? Double)
        let numpyTop = try #require(reference["top"] as? [Double])
        let numpyBottom = try #require(reference["bottom"] as? [Double])
        #expect(reference["dimension"] as? Int == risk.subspace.dimension)
        #expect(numpyTop.count == 5 && numpyBottom.count == 3)

        let relative = { (a: Double, b: Double) in abs(a - b) / max(abs(a), abs(b), 1e-300) }
        let gradientNorm = norm(point.gradient)
        #expect(relative(point.loss, numpyLoss) < 1e-8, "loss: Occam \(point.loss), NumPy \(numpyLoss)")
        #expect(relative(gradientNorm, numpyGradientNorm) < 1e-8, "gradient norm: Occam \(gradientNorm), NumPy \(numpyGradientNorm)")
        for (ours, theirs) in zip(top, numpyTop) {
            #expect(relative(ours, theirs) < 1e-8, "top eigenvalues: Occam \(top), NumPy \(numpyTop)")
        }
        let scale = max(top.map(abs).max()!, bottom.map(abs).max()!)
        for (ours, theirs) in zip(bottom, numpyBottom) {
            #expect(abs(ours - theirs) / scale < 1e-8, "bottom eigenvalues: Occam \(bottom), NumPy \(numpyBottom)")
        }
        // A test that cannot fail is a defect: the point has negative curvature and a gradient to compare.
        #expect(bottom[0] < 0 && gradientNorm > 1e-3)
        print("curvature reference: dimension \(risk.subspace.dimension), loss \(point.loss) (NumPy \(numpyLoss)), "
            + "gradient norm \(gradientNorm) (NumPy \(numpyGradientNorm)); top Occam \(top) NumPy \(numpyTop); "
            + "bottom Occam \(bottom) NumPy \(numpyBottom); Lanczos \(pairs.iterations) steps, NumPy \(reference["method"] ?? "?") "
            + "\(reference["iterations"] ?? "?"); largest difference top \(maximumRelativeDifference(top, numpyTop)), "
            + "bottom \(zip(bottom, numpyBottom).map { abs($0 - $1) }.max()! / scale)")
    }
}
