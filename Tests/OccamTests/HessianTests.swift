import OccamAutograd
import OccamTensor
import Testing

/// The dense Hessian of `f` at `point` (one input, flattened), built column by column from exact
/// Hessian-vector products along the unit vectors.
func denseHessian(at point: Tensor<Double>, of f: @escaping (Variable<Double>) -> Variable<Double>) -> Tensor<Double> {
    let n = point.count
    var columns = [Double]()
    for i in 0..<n {
        var unit = Tensor<Double>(zeros: point.shape)
        unit.scalars[i] = 1
        columns += hessianVectorProduct(at: [point], along: [unit]) { f($0[0]) }[0].scalars
    }
    // Column i was stored as row i; the Hessian is symmetric, but transpose to be exact about it.
    return Tensor(shape: [n, n], scalars: columns).transposed()
}

func maximumDifference(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    precondition(a.shape == b.shape, "maximumDifference: \(a.shape) vs \(b.shape)")
    return (a - b).abs().max()
}

@Suite("Hessians against closed forms and finite differences")
struct HessianTests {
    var inputs = Inputs(seed: 11)

    @Test mutating func linearRegressionHessianIsTwoOverNXTransposeX() {
        let (n, d) = (7, 4)
        let x = inputs.normal([n, d]), y = inputs.normal([n, 1]), w = inputs.normal([d, 1])
        let hessian = denseHessian(at: w) { w in
            (Variable.matmul(Variable(x), w) - Variable(y)).squared().mean()
        }
        let expected = Tensor.matmul(x, x, transposeA: true) * (2 / Double(n))
        #expect(maximumDifference(hessian, expected) < 1e-12)
    }

    @Test mutating func logisticRegressionHessianIsXTransposeDiagSOneMinusSX() {
        let (n, d) = (9, 3)
        let x = inputs.normal([n, d]), w = inputs.normal([d, 1])
        let labels = Tensor<Double>(shape: [n, 1], scalars: (0..<n).map { Double($0 % 2) })
        let hessian = denseHessian(at: w) { w in
            let s = Variable.matmul(Variable(x), w).sigmoid()
            let likelihood = Variable(labels) * s.log() + (1 - Variable(labels)) * (1 - s).log()
            return -likelihood.mean()
        }
        let s = Tensor.matmul(x, w).sigmoid()
        let weights = s * (1 - s)  // [n, 1]
        let expected = Tensor.matmul(x * weights, x, transposeA: true) / Double(n)
        #expect(maximumDifference(hessian, expected) < 1e-12)
    }

    @Test mutating func softmaxRegressionHessianIsKroneckerOfCovarianceAndInputs() {
        let (n, d, k) = (5, 3, 4)
        let x = inputs.normal([n, d]), w = inputs.normal([d, k])
        let targets = Tensor<Double>.oneHot([0, 3, 1, 1, 2], classes: k)
        let hessian = denseHessian(at: w) { w in
            -(Variable.matmul(Variable(x), w).logSoftmax(alongAxis: 1) * Variable(targets)).sum() / Double(n)
        }
        // ∂²L / ∂W[a,i] ∂W[b,j] = (1/N) Σ_n x[n,a] x[n,b] (p[n,i] δ_ij - p[n,i] p[n,j]); W flattened row-major.
        let p = Tensor.matmul(x, w).softmax(alongAxis: 1)
        var expected = Tensor<Double>(zeros: [d * k, d * k])
        for sample in 0..<n {
            for a in 0..<d {
                for i in 0..<k {
                    for b in 0..<d {
                        for j in 0..<k {
                            let covariance = p[sample, i] * ((i == j ? 1 : 0) - p[sample, j])
                            expected[a * k + i, b * k + j] += x[sample, a] * x[sample, b] * covariance / Double(n)
                        }
                    }
                }
            }
        }
        #expect(maximumDifference(hessian, expected) < 1e-12)
    }

    @Test mutating func tinyMLPHessianMatchesFiniteDifferenceHessian() {
        // 3-4-2 tanh network with softmax cross-entropy; all 26 parameters in one flat vector.
        let x = inputs.normal([6, 3])
        let targets = Tensor<Double>.oneHot([0, 1, 1, 0, 1, 0], classes: 2)
        let theta = inputs.normal([26]) * 0.7
        let loss: (Variable<Double>) -> Variable<Double> = { theta in
            let w1 = theta.slice(0..<12, alongAxis: 0).reshaped(to: [4, 3])
            let b1 = theta.slice(12..<16, alongAxis: 0)
            let w2 = theta.slice(16..<24, alongAxis: 0).reshaped(to: [2, 4])
            let b2 = theta.slice(24..<26, alongAxis: 0)
            let hidden = (Variable.matmul(Variable(x), w1, transposeB: true) + b1).tanh()
            let logits = Variable.matmul(hidden, w2, transposeB: true) + b2
            return -(logits.logSoftmax(alongAxis: 1) * Variable(targets)).sum() / 6
        }
        let hessian = denseHessian(at: theta, of: loss)
        let step = 1e-5
        var finiteDifference = Tensor<Double>(zeros: [26, 26])
        for i in 0..<26 {
            var plus = theta, minus = theta
            plus.scalars[i] += step
            minus.scalars[i] -= step
            let column = (gradient(at: [plus]) { loss($0[0]) }[0] - gradient(at: [minus]) { loss($0[0]) }[0]) / (2 * step)
            for j in 0..<26 { finiteDifference[j, i] = column.scalars[j] }
        }
        #expect(maximumDifference(hessian, finiteDifference) < 1e-8)
        #expect(maximumDifference(hessian, hessian.transposed()) < 1e-12)
    }

    @Test mutating func jacobianVectorProductMatchesFiniteDifferences() {
        let a = inputs.normal([3, 4]), b = inputs.normal([4, 2])
        let da = inputs.normal([3, 4]), db = inputs.normal([4, 2])
        let f: ([Variable<Double>]) -> Variable<Double> = { Variable.matmul($0[0].tanh(), $0[1]).exp() }
        let (value, product) = jacobianVectorProduct(at: [a, b], along: [da, db], of: f)
        let step = 1e-6
        let plus = withoutGradients { f([Variable(a + da * step), Variable(b + db * step)]).value }
        let minus = withoutGradients { f([Variable(a - da * step), Variable(b - db * step)]).value }
        #expect(product.shape == [3, 2])
        #expect(maximumDifference(product, (plus - minus) / (2 * step)) < 1e-8)
        #expect(value == withoutGradients { f([Variable(a), Variable(b)]).value })
    }

    @Test mutating func vectorJacobianProductIsTransposeOfJacobianVectorProduct() {
        // <u, J v> = <Jᵀ u, v>
        let x = inputs.normal([5]), v = inputs.normal([5]), u = inputs.normal([5])
        let f: ([Variable<Double>]) -> Variable<Double> = { $0[0].sin() * $0[0].sum() }
        let jv = jacobianVectorProduct(at: [x], along: [v], of: f).product
        let jtu = vectorJacobianProduct(at: [x], cotangent: u, of: f).products[0]
        #expect(abs((u * jv).sum().scalar - (jtu * v).sum().scalar) < 1e-12)
    }
}

@Suite("Recording and inference mode")
struct RecordingTests {
    @Test func inferenceModeRecordsNothing() {
        let w = Variable(Tensor<Double>(ones: [3, 3]), requiresGradient: true)
        let y = withoutGradients { (Variable.matmul(w, w).exp() + w).sum() }
        #expect(!y.requiresGradient)
        let recorded = (Variable.matmul(w, w).exp() + w).sum()
        #expect(recorded.requiresGradient)
        #expect(y.value == recorded.value)
    }

    @Test func gradientOfUnusedInputIsZero() {
        let a = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let b = Variable(Tensor<Double>([3, 4, 5]), requiresGradient: true)
        let grads = gradient(of: (a * a).sum(), wrt: [a, b])
        #expect(grads[0].value == Tensor([2, 4]))
        #expect(grads[1].value == Tensor(zeros: [3]))
    }

    @Test func gradientsWithoutCreateGraphAreConstants() {
        let a = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let grads = gradient(of: (a * a * a).sum(), wrt: [a])
        #expect(!grads[0].requiresGradient)
        #expect(grads[0].value == Tensor([3, 12]))
    }
}
