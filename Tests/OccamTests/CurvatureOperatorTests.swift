import OccamAutograd
import OccamNN
import OccamTensor
import Testing

@testable import OccamAnalysis

/// Small problems whose curvature can be computed by hand or by brute force.
struct CurvatureFixtures {
    var inputs = Inputs(seed: 23)

    /// A model f(x) = W x (no bias) on d features with k outputs: linear in its parameters.
    static func linearModel(features d: Int, outputs k: Int) -> Model<Double> {
        Model(name: "linear", inputShape: [1, 1, d], classes: k, takesImages: false,
              network: Sequential([("fc", Dense<Double>(inputs: d, outputs: k, hasBias: false))]))
    }

    /// An MLP d-h-k with ReLU and biases, from the model zoo.
    static func multilayerPerceptron(features d: Int, hidden h: Int, classes k: Int) throws -> Model<Double> {
        try ModelZoo.build("mlp", inputShape: [1, 1, d], classes: k, options: .init(widths: [h]))
    }

    /// A small convolution network on 1x6x6 images: conv 3x3 (pad 1) - ReLU - maxpool 2 - dense.
    static func convolutionNetwork(classes k: Int) -> Model<Double> {
        Model(name: "conv", inputShape: [1, 6, 6], classes: k, takesImages: true, network: Sequential([
            ("conv1", Convolution2D<Double>(1, 2, kernelSize: 3, padding: 1)),
            ("relu1", Activation<Double>(.relu)), ("pool1", MaxPool2D<Double>(2)),
            ("conv2", Convolution2D<Double>(2, 3, kernelSize: 2, stride: 1)),
            ("flatten", Flatten<Double>()),
            ("fc", Dense<Double>(inputs: 3 * 2 * 2, outputs: k)),
        ]))
    }

    mutating func risk(
        _ model: Model<Double>, samples n: Int, loss: Loss = .crossEntropy, batchSize: Int = 500,
        selection: ParameterSelection = .all, mask: PruningMask<Double>? = nil
    ) throws -> EmpiricalRisk<Double> {
        var random = RandomGenerator(seed: 5)
        let parameters = model.initialParameters(using: &random)
        let x = inputs.normal([n, model.inputShape.reduce(1, *)])
        let labels = (0..<n).map { ($0 * 7 + 3) % model.classes }
        let subspace = try ParameterSubspace(of: parameters, selection: selection, mask: mask)
        return EmpiricalRisk(
            model: model, parameters: parameters, buffers: model.initialBuffers(), inputs: x, labels: labels, loss: loss,
            subspace: subspace, batchSize: batchSize)
    }
}

func maximumRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    let scale = max(a.map(abs).max() ?? 0, b.map(abs).max() ?? 0, 1e-300)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

@Suite("Curvature operators against closed forms, finite differences and brute force")
struct CurvatureOperatorTests {
    var fixtures = CurvatureFixtures()

    @Test mutating func leastSquaresHessianIsTwoOverNXTransposeX() throws {
        let (n, d) = (9, 4)
        let risk = try fixtures.risk(CurvatureFixtures.linearModel(features: d, outputs: 1), samples: n, loss: .meanSquaredError, batchSize: 4)
        let hessian = denseMatrix(of: LossCurvature(.hessian, of: risk))
        let expected = Tensor.matmul(risk.inputs, risk.inputs, transposeA: true) * (2 / Double(n))
        #expect(maximumDifference(hessian, expected) < 1e-12)
        // Squared error's GGN is the Hessian for a model linear in its parameters, and so is its Fisher.
        #expect(maximumDifference(denseMatrix(of: LossCurvature(.ggn, of: risk)), expected) < 1e-12)
        #expect(maximumDifference(denseMatrix(of: LossCurvature(.fisher, of: risk)), expected) < 1e-12)
    }

    @Test mutating func softmaxRegressionHessianMatchesClosedFormAndEqualsGGN() throws {
        let (n, d, k) = (7, 3, 4)
        let risk = try fixtures.risk(CurvatureFixtures.linearModel(features: d, outputs: k), samples: n, batchSize: 3)
        let hessian = denseMatrix(of: LossCurvature(.hessian, of: risk))
        // W is [k, d] row-major: ∂²L / ∂W[i,a] ∂W[j,b] = (1/N) Σ_n x[n,a] x[n,b] (p[n,i] δ_ij - p[n,i] p[n,j]).
        let p = Tensor.matmul(risk.inputs, risk.parameters["fc.weight"]!, transposeB: true).softmax(alongAxis: 1)
        var expected = Tensor<Double>(zeros: [k * d, k * d])
        for sample in 0..<n {
            for i in 0..<k { for a in 0..<d { for j in 0..<k { for b in 0..<d {
                let covariance = (i == j ? p[sample, i] : 0) - p[sample, i] * p[sample, j]
                expected[i * d + a, j * d + b] += risk.inputs[sample, a] * risk.inputs[sample, b] * covariance / Double(n)
            } } } }
        }
        #expect(maximumDifference(hessian, expected) < 1e-12)
        #expect(maximumDifference(denseMatrix(of: LossCurvature(.ggn, of: risk)), expected) < 1e-12)
    }

    @Test mutating func hessianVectorProductsMatchCentralDifferencesOfGradients() throws {
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 5, hidden: 6, classes: 3), samples: 11, batchSize: 4)
        let hessian = LossCurvature(.hessian, of: risk)
        var random = RandomGenerator(seed: 3)
        let point = risk.subspace.flatten(risk.parameters)
        for _ in 0..<3 {
            let v = (0..<risk.subspace.dimension).map { _ in random.nextNormal() }
            let epsilon = 1e-5
            func gradient(at shift: Double) -> [Double] {
                var moved = point
                addScaled(v, shift, to: &moved)
                let shifted = EmpiricalRisk(
                    model: risk.model, parameters: risk.subspace.replacing(moved, in: risk.parameters), buffers: risk.buffers,
                    inputs: risk.inputs, labels: risk.labels, loss: risk.loss, subspace: risk.subspace)
                return shifted.valueAndGradient().gradient
            }
            let difference = zip(gradient(at: epsilon), gradient(at: -epsilon)).map { ($0 - $1) / (2 * epsilon) }
            #expect(maximumRelativeDifference(hessian.apply(v), difference) < 1e-6)
        }
    }

    @Test mutating func operatorsAreSymmetric() throws {
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 5, classes: 3), samples: 8, batchSize: 3)
        var random = RandomGenerator(seed: 9)
        let u = (0..<risk.subspace.dimension).map { _ in random.nextNormal() }
        let v = (0..<risk.subspace.dimension).map { _ in random.nextNormal() }
        for kind in CurvatureKind.allCases {
            let op = LossCurvature(kind, of: risk, seed: 4)
            let (uHv, vHu) = (dot(u, op.apply(v)), dot(v, op.apply(u)))
            #expect(abs(uHv - vHu) <= 1e-12 * max(abs(uHv), 1), "\(kind): uᵀAv = \(uHv), vᵀAu = \(vHu)")
        }
    }

    @Test mutating func gaussNewtonFamilyIsPositiveSemidefinite() throws {
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 4, classes: 3), samples: 10)
        for kind in CurvatureKind.allCases where kind.isPositiveSemidefinite {
            let values = try denseMatrix(of: LossCurvature(kind, of: risk, seed: 2)).symmetricEigendecomposition().values.scalars
            #expect(values.first! >= -1e-12 * values.last!, "\(kind): smallest eigenvalue \(values.first!)")
        }
        // The Hessian of a ReLU network away from a minimum has negative curvature the GGN omits.
        let hessianValues = try denseMatrix(of: LossCurvature(.hessian, of: risk)).symmetricEigendecomposition().values.scalars
        #expect(hessianValues.first! < 0)
    }

    @Test mutating func batchSizeChangesNothing() throws {
        let model = try CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 5, classes: 3)
        var random = RandomGenerator(seed: 1)
        var products: [CurvatureKind: [[Double]]] = [:]
        let whole = try fixtures.risk(model, samples: 10, batchSize: 10)
        let v = (0..<whole.subspace.dimension).map { _ in random.nextNormal() }
        for batchSize in [10, 3, 4, 1] {
            let risk = EmpiricalRisk(
                model: model, parameters: whole.parameters, buffers: whole.buffers, inputs: whole.inputs, labels: whole.labels,
                loss: whole.loss, subspace: whole.subspace, batchSize: batchSize)
            for kind in CurvatureKind.allCases { products[kind, default: []].append(LossCurvature(kind, of: risk, seed: 7).apply(v)) }
            #expect(abs(risk.valueAndGradient().loss - whole.valueAndGradient().loss) < 1e-13)
        }
        for (kind, results) in products {
            for result in results.dropFirst() { #expect(maximumRelativeDifference(result, results[0]) < 1e-12, "\(kind)") }
        }
    }

    @Test mutating func fisherEqualsTheExpectationOverModelLabelsOfGradientOuterProducts() throws {
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 3, hidden: 4, classes: 3), samples: 6)
        // Brute force: F = (1/N) Σ_i Σ_c p(c|x_i) g_ic g_icᵀ with per-sample gradients from one backward pass each.
        let p = risk.logits().softmax(alongAxis: 1)
        let d = risk.subspace.dimension
        var expected = Tensor<Double>(zeros: [d, d])
        for c in 0..<risk.model.classes {
            let g = PerSampleGradients.compute(risk, batch: 0..<risk.count, labels: Array(repeating: c, count: risk.count), method: .loop)
            let weighted = g * p.slice(c..<c + 1, alongAxis: 1)
            expected += Tensor.matmul(weighted, g, transposeA: true) / Double(risk.count)
        }
        #expect(maximumDifference(denseMatrix(of: LossCurvature(.fisher, of: risk)), expected) < 1e-12)

        let g = PerSampleGradients.compute(risk, batch: 0..<risk.count, method: .loop)
        let empirical = Tensor.matmul(g, g, transposeA: true) / Double(risk.count)
        #expect(maximumDifference(denseMatrix(of: LossCurvature(.empiricalFisher, of: risk)), empirical) < 1e-12)
    }

    @Test mutating func monteCarloFisherAveragesToTheFisher() throws {
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 3, hidden: 3, classes: 3), samples: 4)
        let exact = denseMatrix(of: LossCurvature(.fisher, of: risk))
        let draws = 400
        var mean = Tensor<Double>(zeros: exact.shape)
        for seed in 0..<draws { mean += denseMatrix(of: LossCurvature(.monteCarloFisher, of: risk, seed: UInt64(seed))) }
        mean = mean / Double(draws)
        // Each entry's Monte-Carlo error shrinks as 1/√draws; 5% of the largest entry is several standard errors.
        #expect(maximumDifference(mean, exact) < 0.05 * exact.abs().max())
    }

    @Test mutating func maskedSubspaceIsTheSubmatrixOfSurvivingCoordinates() throws {
        let model = try CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 3, classes: 2)
        let full = try fixtures.risk(model, samples: 6)
        var maskTensor = Tensor<Double>(ones: full.parameters["fc1.weight"]!.shape)
        for index in [0, 5, 6, 11] { maskTensor.scalars[index] = 0 }
        let mask = try PruningMask(ParameterSet([("fc1.weight", maskTensor)]))
        let masked = try ParameterSubspace(of: full.parameters, selection: .weights, mask: mask)
        #expect(masked.dimension == 12 - 4 + 2 * 3)
        let restricted = EmpiricalRisk(
            model: model, parameters: full.parameters, buffers: full.buffers, inputs: full.inputs, labels: full.labels,
            loss: full.loss, subspace: masked)
        let small = denseMatrix(of: LossCurvature(.hessian, of: restricted))
        let big = denseMatrix(of: LossCurvature(.hessian, of: full))
        // Positions of the kept coordinates in the full (all-parameter) flat vector.
        let fullOffsets = Dictionary(uniqueKeysWithValues: full.subspace.blocks.map { ($0.name, $0.offset) })
        let positions = masked.blocks.flatMap { block in
            (block.keptIndices ?? Array(0..<block.count)).map { fullOffsets[block.name]! + $0 }
        }
        for (i, a) in positions.enumerated() {
            for (j, b) in positions.enumerated() { #expect(abs(small[i, j] - big[a, b]) < 1e-13) }
        }
        #expect(masked.coordinateName(0) == "fc1.weight[0,1]")
    }

    @Test mutating func float32OperatorsAgreeWithFloat64() throws {
        let risk = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 5, hidden: 6, classes: 3), samples: 12)
        let model32: Model<Float> = try ModelZoo.build("mlp", inputShape: [1, 1, 5], classes: 3, options: .init(widths: [6]))
        let risk32 = EmpiricalRisk(
            model: model32, parameters: ParameterSet(risk.parameters.entries.map { ($0.name, $0.tensor.converted(to: Float.self)) }),
            buffers: ParameterSet<Float>(), inputs: risk.inputs.converted(to: Float.self), labels: risk.labels, loss: risk.loss,
            subspace: risk.subspace)
        var random = RandomGenerator(seed: 2)
        let v = (0..<risk.subspace.dimension).map { _ in random.nextNormal() }
        for kind in [CurvatureKind.hessian, .ggn] {
            #expect(maximumRelativeDifference(LossCurvature(kind, of: risk32).apply(v), LossCurvature(kind, of: risk).apply(v)) < 1e-4)
        }
    }
}

@Suite("Per-sample gradients")
struct PerSampleGradientTests {
    var fixtures = CurvatureFixtures()

    @Test mutating func outerProductsMatchTheLoopForDenseAndConvolutionLayers() throws {
        let mlp = try fixtures.risk(CurvatureFixtures.multilayerPerceptron(features: 6, hidden: 5, classes: 4), samples: 7)
        let conv = try fixtures.risk(CurvatureFixtures.convolutionNetwork(classes: 3), samples: 5)
        for risk in [mlp, conv] {
            let fast = try #require(PerSampleGradients.outerProducts(risk, batch: 1..<risk.count, labels: Array(risk.labels[1...])))
            let loop = PerSampleGradients.compute(risk, batch: 1..<risk.count, method: .loop)
            #expect(fast.shape == [risk.count - 1, risk.subspace.dimension])
            #expect(maximumDifference(fast, loop) < 1e-12)
        }
        // Their mean is the gradient of the mean loss.
        let rows = PerSampleGradients.compute(conv, batch: 0..<conv.count)
        let mean = rows.sum(alongAxes: [0]).scalars.map { $0 / Double(conv.count) }
        #expect(maximumRelativeDifference(mean, conv.valueAndGradient().gradient) < 1e-12)
    }

    @Test mutating func maskedWeightsOnlyAndSquaredNorms() throws {
        let model = try CurvatureFixtures.multilayerPerceptron(features: 4, hidden: 3, classes: 2)
        let base = try fixtures.risk(model, samples: 6, batchSize: 4)
        var maskTensor = Tensor<Double>(ones: [3, 4])
        maskTensor.scalars[2] = 0
        let mask = try PruningMask(ParameterSet([("fc1.weight", maskTensor)]))
        let risk = try fixtures.risk(model, samples: 6, batchSize: 4, selection: .weights, mask: mask)
        let fast = PerSampleGradients.compute(risk, batch: 0..<6)
        #expect(maximumDifference(fast, PerSampleGradients.compute(risk, batch: 0..<6, method: .loop)) < 1e-12)
        let norms = PerSampleGradients.squaredNorms(risk)
        for i in 0..<6 {
            let row = fast.slice(i..<i + 1, alongAxis: 0).scalars
            #expect(abs(norms[i] - dot(row, row)) < 1e-12)
        }
        #expect(base.subspace.dimension == 3 * 4 + 3 + 2 * 3 + 2)
    }
}
