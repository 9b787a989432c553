import OccamAutograd
import OccamTensor
import Testing

@Suite("LAPACK-backed linear algebra")
struct LinearAlgebraTests {
    var inputs = Inputs(seed: 21)

    /// A symmetric positive definite matrix B Bᵀ + n I.
    mutating func positiveDefinite(_ n: Int) -> Tensor<Double> {
        let b = inputs.normal([n, n])
        return Tensor.matmul(b, b, transposeB: true) + Tensor.identity(n) * Double(n)
    }

    @Test mutating func choleskyFactorAndSolve() throws {
        let a = positiveDefinite(6)
        let l = try a.choleskyFactor()
        #expect(Tensor.matmul(l, l, transposeB: true).isClose(to: a, relativeTolerance: 1e-12, absoluteTolerance: 1e-12))
        for i in 0..<6 { for j in (i + 1)..<6 { #expect(l[i, j] == 0) } }
        let b = inputs.normal([6, 2])
        let x = try l.choleskySolve(b)
        #expect(Tensor.matmul(a, x).isClose(to: b, relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
        let vector = try l.choleskySolve(Tensor([1, 2, 3, 4, 5, 6]))
        #expect(vector.shape == [6])
    }

    @Test mutating func blockedInPlaceCholeskyMatchesLAPACKAndKeepsTheUpperTriangle() throws {
        let n = 11
        let original = positiveDefinite(n)
        var a = original
        // Mark the strictly upper triangle: the factorization must neither read nor write it.
        a.withUnsafeMutablePointer { p in for i in 0..<n { for j in (i + 1)..<n { p[i * n + j] = -999 } } }
        let reference = try original.choleskyFactor()
        for blockSize in [1, 3, 4, 11, 64] {
            var factored = a
            var fractions: [Double] = []
            try factored.factorCholeskyInPlace(blockSize: blockSize) { fractions.append($0) }
            for i in 0..<n {
                for j in 0..<n {
                    if j > i { #expect(factored[i, j] == -999) } else { #expect(abs(factored[i, j] - reference[i, j]) < 1e-12) }
                }
            }
            #expect(fractions.last == 1 && fractions == fractions.sorted())
            let b = inputs.normal([n, 3])
            #expect(Tensor.matmul(original, try factored.choleskySolve(b))
                .isClose(to: b, relativeTolerance: 1e-10, absoluteTolerance: 1e-10))
        }
        var indefinite = Tensor<Double>(rows: [[4, 0, 0], [0, 1, 0], [0, 3, 1]])  // minor of order 3 is 1 - 9 < 0
        #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 3)) { try indefinite.factorCholeskyInPlace(blockSize: 2) }
    }

    @Test func choleskyOfIndefiniteMatrixThrowsNamedError() {
        let a = Tensor<Double>(rows: [[1, 2], [2, 1]])
        #expect(throws: LinearAlgebraError.notPositiveDefinite(order: 2)) { try a.choleskyFactor() }
        let message = String(describing: LinearAlgebraError.notPositiveDefinite(order: 2))
        #expect(message.contains("not positive definite") && message.contains("jitter"))
    }

    @Test mutating func symmetricEigendecomposition() throws {
        let a = positiveDefinite(5) - Tensor.identity(5) * 7
        let eigen = try a.symmetricEigendecomposition()
        let v = eigen.vectors
        #expect(Tensor.matmul(a, v).isClose(to: v * eigen.values, relativeTolerance: 1e-10, absoluteTolerance: 1e-10))
        #expect(Tensor.matmul(v, v, transposeA: true).isClose(to: Tensor.identity(5), absoluteTolerance: 1e-12))
        #expect(zip(eigen.values.scalars, eigen.values.scalars.dropFirst()).allSatisfy { $0 <= $1 })
        // Closed form: [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let small = try Tensor<Double>(rows: [[2, 1], [1, 2]]).symmetricEigendecomposition()
        #expect(small.values.isClose(to: Tensor([1, 3]), absoluteTolerance: 1e-14))
    }

    @Test mutating func singularValueDecompositionReconstructs() throws {
        for shape in [[5, 3], [3, 5]] {
            let a = inputs.normal(shape)
            let svd = try a.singularValueDecomposition()
            let rebuilt = Tensor.matmul(svd.u * svd.singularValues, svd.vt)
            #expect(rebuilt.isClose(to: a, relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
            #expect(zip(svd.singularValues.scalars, svd.singularValues.scalars.dropFirst()).allSatisfy { $0 >= $1 })
        }
        let float = try Tensor<Float>(rows: [[3, 0], [0, -4]]).singularValueDecomposition()
        #expect(float.singularValues.scalars == [4, 3])
    }

    @Test mutating func pseudoInverseAndLeastSquares() throws {
        // Over-determined: least squares equals the normal-equation solution.
        let tall = inputs.normal([8, 3]), y = inputs.normal([8])
        let fit = try tall.leastSquares(y)
        let gram = try Tensor.matmul(tall, tall, transposeA: true).choleskyFactor()
        let normalSolution = try gram.choleskySolve(Tensor.matmul(tall, y.reshaped(to: [8, 1]), transposeA: true))
        #expect(fit.rank == 3)
        #expect(fit.solution.isClose(to: normalSolution.reshaped(to: [3]), relativeTolerance: 1e-10))
        // Under-determined: the minimum-norm interpolant Xᵀ (X Xᵀ)⁻¹ y.
        let wide = inputs.normal([3, 8]), z = inputs.normal([3, 1])
        let minimumNorm = try wide.leastSquares(z).solution
        let kernel = try Tensor.matmul(wide, wide, transposeB: true).choleskyFactor()
        let expected = Tensor.matmul(wide, try kernel.choleskySolve(z), transposeA: true)
        #expect(minimumNorm.isClose(to: expected, relativeTolerance: 1e-10))
        // Moore-Penrose conditions, and the cutoff dropping a zero singular value.
        let pinv = try wide.pseudoInverse()
        #expect(Tensor.matmul(Tensor.matmul(wide, pinv), wide).isClose(to: wide, relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
        let rankOne = Tensor.outer(Tensor<Double>([1, 2, 3]), Tensor([1, -1]))
        let cut = try rankOne.leastSquares(Tensor([1, 2, 3]), cutoff: 1e-10)
        #expect(cut.rank == 1)
        #expect(cut.solution.isClose(to: Tensor([0.5, -0.5]), absoluteTolerance: 1e-12))
    }
}

@Suite("Convolution and pooling against direct loops")
struct ConvolutionTests {
    @Test func convolutionMatchesDirectSum() {
        var inputs = Inputs(seed: 31)
        let x = inputs.normal([2, 3, 7, 6]), w = inputs.normal([4, 3, 3, 2])
        for (stride, padding) in [(1, 0), (2, 1), (3, 2)] {
            let geometry = WindowGeometry(inputShape: x.shape, kernelHeight: 3, kernelWidth: 2, stride: stride, padding: padding)
            let y = withoutGradients { Variable.convolution2D(Variable(x), weight: Variable(w), stride: stride, padding: padding).value }
            #expect(y.shape == [2, 4, geometry.outputHeight, geometry.outputWidth])
            for n in 0..<2 {
                for o in 0..<4 {
                    for oh in 0..<geometry.outputHeight {
                        for ow in 0..<geometry.outputWidth {
                            var expected = 0.0
                            for c in 0..<3 {
                                for i in 0..<3 {
                                    for j in 0..<2 {
                                        let (ih, iw) = (oh * stride - padding + i, ow * stride - padding + j)
                                        if ih >= 0 && ih < 7 && iw >= 0 && iw < 6 { expected += x[n, c, ih, iw] * w[o, c, i, j] }
                                    }
                                }
                            }
                            #expect(abs(y[n, o, oh, ow] - expected) < 1e-12)
                        }
                    }
                }
            }
        }
    }

    /// The 2x2 fast path (selects, no branches) against a direct scan: the first maximum of each window wins,
    /// and NaN wins over numbers; values drawn from a few levels so ties are common. Both precisions.
    @Test func twoByTwoMaxPoolingPicksTheFirstMaximumAndNaN() {
        func check<Scalar: TensorScalar>(_: Scalar.Type) {
            var random = RandomGenerator(seed: 7)
            let levels: [Scalar] = [-1, 0, 0.5, 2, .nan]
            let x = Tensor<Scalar>(shape: [3, 2, 6, 8], scalars: (0..<(3 * 2 * 6 * 8)).map { _ in levels[random.nextInt(below: levels.count)] })
            let indices = x.maxPoolingIndices(WindowGeometry(inputShape: x.shape, kernelHeight: 2, kernelWidth: 2, stride: 2))
            let scalars = x.scalars
            var out = 0
            for plane in 0..<6 {
                for oh in 0..<3 {
                    for ow in 0..<4 {
                        let base = plane * 48 + oh * 2 * 8 + ow * 2
                        var best = base
                        for index in [base + 1, base + 8, base + 9] {
                            let (value, bestValue) = (scalars[index], scalars[best])
                            if value > bestValue || (value.isNaN && !bestValue.isNaN) { best = index }
                        }
                        #expect(indices[out] == best, "\(Scalar.self) plane \(plane) window (\(oh), \(ow))")
                        out += 1
                    }
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    @Test func poolingMatchesDirectWindows() {
        var inputs = Inputs(seed: 32)
        let x = inputs.normal([2, 2, 5, 5])
        let maxPooled = withoutGradients { Variable(x).maxPooled2D(kernelSize: 3, stride: 2, padding: 1).value }
        let averaged = withoutGradients { Variable(x).averagePooled2D(kernelSize: 3, stride: 2, padding: 1).value }
        #expect(maxPooled.shape == [2, 2, 3, 3] && averaged.shape == [2, 2, 3, 3])
        for n in 0..<2 {
            for c in 0..<2 {
                for oh in 0..<3 {
                    for ow in 0..<3 {
                        var largest = -Double.infinity, total = 0.0
                        for i in 0..<3 {
                            for j in 0..<3 {
                                let (ih, iw) = (oh * 2 - 1 + i, ow * 2 - 1 + j)
                                guard ih >= 0 && ih < 5 && iw >= 0 && iw < 5 else { continue }
                                largest = max(largest, x[n, c, ih, iw])
                                total += x[n, c, ih, iw]
                            }
                        }
                        #expect(maxPooled[n, c, oh, ow] == largest)
                        #expect(abs(averaged[n, c, oh, ow] - total / 9) < 1e-12)
                    }
                }
            }
        }
    }

    @Test func columnsToImageIsTheAdjointOfImageToColumns() {
        var inputs = Inputs(seed: 33)
        let geometry = WindowGeometry(inputShape: [2, 3, 6, 5], kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1)
        let x = inputs.normal(geometry.inputShape), y = inputs.normal(geometry.columnsShape)
        let left = (x.imageToColumns(geometry) * y).sum().scalar
        let right = (x * y.columnsToImage(geometry)).sum().scalar
        #expect(abs(left - right) < 1e-12 * max(1, abs(left)))
    }
}

