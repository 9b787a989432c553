import Foundation
import OccamData
import OccamTensor
import Testing

@testable import OccamExperiments

@Suite("Kernel interpolation")
struct KernelTests {
    /// k(x, y) from the definitions, one pair at a time in Float64.
    static func bruteForce(_ function: KernelFunction, _ x: [Double], _ y: [Double]) -> Double {
        let distanceSquared = zip(x, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        let dot = zip(x, y).map { $0 * $1 }.reduce(0, +)
        let sigma = function.bandwidth
        switch function.kind {
        case .gaussian: return Foundation.exp(-distanceSquared / (2 * sigma * sigma))
        case .laplacian: return Foundation.exp(-distanceSquared.squareRoot() / sigma)
        case .polynomial: return Foundation.pow(1 + dot / (sigma * sigma), Double(function.degree))
        case .linear: return dot
        }
    }

    static func rows(_ tensor: Tensor<Double>) -> [[Double]] {
        (0..<tensor.shape[0]).map { tensor.slice($0..<($0 + 1), alongAxis: 0).scalars }
    }

    static let functions = [
        KernelFunction(kind: .gaussian, bandwidth: 1.5), KernelFunction(kind: .laplacian, bandwidth: 2),
        KernelFunction(kind: .polynomial, bandwidth: 3, degree: 3), KernelFunction(kind: .linear),
    ]

    @Test(arguments: functions)
    func kernelRowsMatchTheDefinitions(_ function: KernelFunction) {
        var random = RandomGenerator(seed: 5).stream("kernel")
        let points = Tensor<Double>.randomNormal([70, 9], using: &random) + 4  // off the origin, as pixels are
        // 70 rows: each block's rows are transformed in two halves on two threads from 64 rows on.
        let inputs = Tensor<Double>.randomNormal([70, 9], using: &random) + 4
        let matrix = KernelRows(function, points: points).matrix(inputs)
        #expect(matrix.shape == [70, 70])
        for (i, x) in Self.rows(inputs).enumerated() {
            for (j, y) in Self.rows(points).enumerated() {
                let expected = Self.bruteForce(function, x, y)
                #expect(abs(matrix[i, j] - expected) <= 1e-10 * max(1, abs(expected)))
            }
        }
        // Float32 agrees to single precision, cancellation included.
        let single = KernelRows(function, points: points.converted(to: Float.self)).matrix(inputs.converted(to: Float.self))
        #expect(single.converted(to: Double.self).isClose(to: matrix, relativeTolerance: 1e-4, absoluteTolerance: 1e-4))
    }

    @Test func blockedPredictionsEqualOneProduct() {
        var random = RandomGenerator(seed: 6).stream("kernel")
        let points = Tensor<Double>.randomNormal([4_000, 4], using: &random)
        let coefficients = Tensor<Double>.randomNormal([4_000, 3], using: &random)
        let inputs = Tensor<Double>.randomNormal([(1 << 24) / 4_000 + 7, 4], using: &random)  // one full block and 7 rows more
        let rows = KernelRows(KernelFunction(kind: .gaussian, bandwidth: 1), points: points)
        var fractions: [Double] = []
        let blocked = rows.predictions(inputs, coefficients: coefficients) { fractions.append($0) }
        #expect(blocked.isClose(to: Tensor.matmul(rows.matrix(inputs), coefficients), relativeTolerance: 1e-12, absoluteTolerance: 1e-12))
        #expect(fractions.last == 1)
    }

    @Test(arguments: [0.0, 0.3])
    func fitInterpolatesAndAgreesWithAnIndependentSolve(_ ridge: Double) throws {
        var random = RandomGenerator(seed: 7).stream("kernel")
        let points = Tensor<Double>.randomNormal([60, 5], using: &random)
        let targets = Tensor<Double>.oneHot((0..<60).map { $0 % 4 }, classes: 4)
        let function = KernelFunction(kind: .gaussian, bandwidth: 2)
        var solver = KernelInterpolation<Double>(function: function, ridge: ridge)
        solver.blockSize = 7
        let fit = try solver.fit(inputs: points, targets: targets)
        #expect(fit.jitter == 0 && fit.attempts == 1)
        // (K + λI) from the definitions, solved through the SVD.
        let rows = Self.rows(points)
        let kernel = Tensor<Double>(rows: rows.map { x in rows.map { Self.bruteForce(function, x, $0) } })
        let reference = try (kernel + Tensor.identity(60) * ridge).leastSquares(targets).solution
        #expect(fit.coefficients.isClose(to: reference, relativeTolerance: 1e-8, absoluteTolerance: 1e-8))
        let residual = Tensor.matmul(kernel, fit.coefficients) + fit.coefficients * ridge - targets
        #expect(Double(residual.abs().max()) < 1e-10)
        // Float32 goes through the single-precision potrf, trsm and syrk.
        var single = KernelInterpolation<Float>(function: function, ridge: ridge)
        single.blockSize = 7
        let singleFit = try single.fit(inputs: points.converted(to: Float.self), targets: targets.converted(to: Float.self))
        let singleResidual = Tensor.matmul(kernel, singleFit.coefficients.converted(to: Double.self))
            + singleFit.coefficients.converted(to: Double.self) * ridge - targets
        #expect(singleFit.jitter == 0 && Double(singleResidual.abs().max()) < 1e-3)
    }

    @Test func rankDeficientKernelIsJitteredAndReported() throws {
        var random = RandomGenerator(seed: 8).stream("kernel")
        let points = Tensor<Double>.randomNormal([30, 3], using: &random)  // linear kernel: rank 3 < 30
        let targets = Tensor<Double>.oneHot((0..<30).map { $0 % 2 }, classes: 2)
        var phases: [KernelPhase] = []
        var builtCompletely = 0
        var solver = KernelInterpolation<Double>(function: KernelFunction(kind: .linear))
        solver.maximumJitterAttempts = 20
        solver.blockSize = 7
        let fit = try solver.fit(inputs: points, targets: targets) { phase, fraction in
            phases.append(phase)
            if phase == .build && fraction == 1 { builtCompletely += 1 }
        }
        #expect(fit.jitter > 0 && fit.attempts > 1)
        #expect(phases.contains { if case .jitter = $0 { true } else { false } })
        // K is built once; each retry restores it from the upper triangle the failed factorization left alone, so
        // the fit is bit for bit the one of a fresh K with the final jitter given as a ridge, factored at once.
        #expect(builtCompletely == 1)
        var fresh = KernelInterpolation<Double>(function: KernelFunction(kind: .linear), ridge: fit.jitter)
        fresh.blockSize = 7
        let once = try fresh.fit(inputs: points, targets: targets)
        #expect(once.attempts == 1 && once.coefficients == fit.coefficients)
        solver.maximumJitterAttempts = 1
        #expect(throws: KernelInterpolationError.self) { try solver.fit(inputs: points, targets: targets) }
        let message = String(describing: KernelInterpolationError.notPositiveDefinite(points: 30, largestJitter: 1e-9, function: KernelFunction(kind: .linear)))
        #expect(message.contains("--ridge") && message.contains("float64"))
    }

    @Test func gaborBankAndResponsesMatchADirectConvolution() {
        let bank = GaborFeatures.bank(as: Double.self)
        #expect(bank.shape == [16, 121])
        for f in stride(from: 0, to: 16, by: 2) {
            #expect(abs(bank.slice(f..<(f + 1), alongAxis: 0).sum().scalar) < 1e-9)  // no response to flat regions
        }
        var random = RandomGenerator(seed: 9).stream("gabor")
        let images = LabeledImages(
            images: Tensor<Double>.randomUniform([3, 28 * 28], using: &random), labels: [0, 1, 2], height: 28, width: 28, classCount: 3)
        let features = GaborFeatures.responses(images)
        #expect(features.shape == [3, 8 * 7 * 7])
        // Feature (image 1, filter pair 5, pooled cell (2, 3)) by direct summation.
        let pixels = images.images.slice(1..<2, alongAxis: 0).scalars
        var pooled = 0.0
        for y in 8..<12 {
            for x in 12..<16 {
                var even = 0.0, odd = 0.0
                for dy in -5...5 {
                    for dx in -5...5 {
                        let (sy, sx) = (y + dy, x + dx)
                        guard (0..<28).contains(sy) && (0..<28).contains(sx) else { continue }
                        let tap = (dy + 5) * 11 + (dx + 5)
                        even += bank[10, tap] * pixels[sy * 28 + sx]
                        odd += bank[11, tap] * pixels[sy * 28 + sx]
                    }
                }
                pooled += (even * even + odd * odd).squareRoot() / 16
            }
        }
        #expect(abs(features[1, 5 * 49 + 2 * 7 + 3] - pooled) < 1e-10)
    }

    /// A small study on Gaussian blobs shaped as 1 x 4 x 4 images.
    static func blobImages() -> (train: LabeledImages<Double>, test: LabeledImages<Double>) {
        let blobs = SyntheticClassification.gaussianBlobs(count: 260, classCount: 3, dimensions: 16, separation: 3, seed: 2, as: Double.self).data
        func images(_ range: Range<Int>) -> LabeledImages<Double> {
            let part = blobs.subset(Array(range))
            return LabeledImages(images: part.images, labels: part.labels, height: 4, width: 4, classCount: 3)
        }
        return (images(0..<200), images(200..<260))
    }

    @Test func studyResumesAndItsReportIsRebuiltFromFiles() throws {
        let root = try makeTemporaryDirectory("kernel")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = KernelConfiguration()
        configuration.function = KernelFunction(kind: .gaussian, bandwidth: 4)
        configuration.trainSizes = [50, 120]
        let (train, test) = Self.blobImages()
        let directory = try RunStore.open(configuration, precision: "float64", under: root)
        let study = KernelStudy(configuration: configuration, directory: directory, train: train, test: test)
        let records = try study.run()
        #expect(records.map(\.fit) == configuration.fits && records.count == 6)
        for record in records where record.fit.ridge == 0 {
            #expect(record.residualRelative < 1e-8 && record.trainError == 0)
        }
        let truth = records.filter { $0.fit.labels == .true && $0.fit.ridge == 0 }, noise = records.filter { $0.fit.labels == .random }
        #expect(zip(truth, noise).allSatisfy { $0.rkhsNorm < $1.rkhsNorm && $0.testError < $1.testError })
        // Nested subsets, and the indices written for other solvers.
        let small = study.trainingSubset(configuration.fits[0]).indices, large = study.trainingSubset(configuration.fits[3]).indices
        #expect(Set(small).isSubset(of: Set(large)))
        let written = try RunStore.readJSON([Int].self, from: directory.appendingPathComponent("n-50/training-indices.json"))
        #expect(written == small)

        try KernelReport(directory: directory).build()
        let before = try contentsOfFiles(under: directory)
        for name in ["kernel.csv", "test-error.svg", "rkhs-norm.svg", "index.html"] { #expect(before["/" + name] != nil) }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("n-120/random-labels"))
        var skipped = 0, solved: [String] = []
        try study.run { event in
            if case let .stageFinished(name, _, wasSkipped) = event { if wasSkipped { skipped += 1 } else { solved.append(name) } }
        }
        #expect(skipped == 5 && solved == ["n = 120, random labels, interpolating"])
        try KernelReport(directory: directory).build()
        let after = try contentsOfFiles(under: directory)
        #expect(after.keys.sorted() == before.keys.sorted())
        for (name, data) in before where name.hasSuffix(".csv") || name.hasSuffix(".svg") {
            // Timings and memory differ between runs; everything else is identical.
            if name.hasSuffix("kernel.csv") { continue }
            #expect(after[name] == data, "\(name) changed")
        }
    }

    @Test func studyRefusesWhatDoesNotFitInMemory() throws {
        let root = try makeTemporaryDirectory("kernel-memory")
        defer { try? FileManager.default.removeItem(at: root) }
        var configuration = KernelConfiguration()
        configuration.trainSizes = [150]
        let (train, test) = Self.blobImages()
        var study = KernelStudy(configuration: configuration, directory: root, train: train, test: test)
        study.memoryLimit = 150 * 150 * 8 - 1
        #expect {
            try study.run()
        } throws: { error in
            let message = String(describing: error)
            return message.contains("n = 150") && message.contains("--precision float32") && message.contains("--train-sizes")
        }
        configuration.trainSizes = [201]
        #expect(throws: ExperimentError.self) {
            try KernelStudy(configuration: configuration, directory: root, train: train, test: test).run()
        }
    }
}
