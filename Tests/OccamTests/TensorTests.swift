import OccamAutograd
import OccamTensor
import Testing

@Suite("Tensor creation, broadcasting, reductions and movement")
struct TensorTests {
    @Test func creation() {
        #expect(Tensor<Float>(zeros: [2, 3]).scalars == [0, 0, 0, 0, 0, 0])
        #expect(Tensor<Double>(repeating: 2, shape: [2]).scalars == [2, 2])
        #expect(Tensor<Double>.arange(4).scalars == [0, 1, 2, 3])
        #expect(Tensor<Double>.arange(from: 1, to: 2, by: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor<Double>.linspace(from: 0, to: 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor<Double>.oneHot([2, 0], classes: 3).scalars == [0, 0, 1, 1, 0, 0])
        #expect(Tensor<Double>.identity(2).scalars == [1, 0, 0, 1])
        let t = Tensor<Double>(rows: [[1, 2, 3], [4, 5, 6]])
        #expect(t[1, 2] == 6)
        #expect(t.reshaped(to: [3, -1]).shape == [3, 2])
    }

    @Test func broadcastingMatchesExplicitLoops() {
        var inputs = Inputs(seed: 2)
        let a = inputs.normal([2, 1, 3]), b = inputs.normal([4, 1])
        let sum = a + b
        #expect(sum.shape == [2, 4, 3])
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 { #expect(sum[i, j, k] == a[i, 0, k] + b[j, 0]) } } }
        let scaled = a * Tensor(2)
        #expect(scaled.scalars == a.scalars.map { $0 * 2 })
        let back = sum.summed(toShape: [4, 1])
        for j in 0..<4 {
            var total = 0.0
            for i in 0..<2 { for k in 0..<3 { total += sum[i, j, k] } }
            #expect(abs(back[j, 0] - total) < 1e-12)
        }
    }

    @Test func elementwiseFunctions() {
        let x = Tensor<Double>([-2, -0.5, 0, 0.5, 3])
        #expect(x.relu().scalars == [0, 0, 0, 0.5, 3])
        #expect(x.abs().scalars == [2, 0.5, 0, 0.5, 3])
        #expect(x.sign().scalars == [-1, -1, 0, 1, 1])
        #expect(x.isGreater(than: Tensor(0)).scalars == [0, 0, 0, 1, 1])
        #expect(Tensor.maximum(x, Tensor(0.1)).scalars == [0.1, 0.1, 0.1, 0.5, 3])
        #expect(Tensor.select(x.isLess(than: Tensor(0)), Tensor(-1), x).scalars == [-1, -1, 0, 0.5, 3])
        let s = Tensor<Double>([-800, 0, 800]).sigmoid()
        #expect(s.scalars == [0, 0.5, 1])
        for (value, expected) in zip(x.exp().scalars, x.scalars.map { Double.exp($0) }) { #expect(value == expected) }
        // Large element counts take the parallel path; results must not depend on it.
        let big = Tensor<Float>.arange(1_000_003) * Float(1e-6)
        let bigExp = big.exp()
        #expect(abs(bigExp.scalars[999_999] / Float.exp(big.scalars[999_999]) - 1) < 3e-7)
    }

    @Test func vectorizedFloatExpMatchesLibm() {
        // Every 8-lane block of a fine grid over [-100, 100], plus the edge cases libm handles.
        let grid = Tensor<Float>.linspace(from: -100, to: 100, count: 400_001)
        let specials = Tensor<Float>([.nan, .infinity, -.infinity, 0, -0.0, 88, 88.5, -87, -87.5, -103, 89, 1e-30])
        var worst: Float = 0
        for (value, input) in zip(grid.exp().scalars, grid.scalars) {
            let expected = Float.exp(input)
            if expected == 0 || expected.isInfinite || expected < Float.leastNormalMagnitude {
                #expect(value == expected)
            } else {
                worst = max(worst, abs(value / expected - 1))
            }
        }
        #expect(worst < 3e-7)
        for (value, input) in zip(specials.exp().scalars, specials.scalars) {
            #expect(value == Float.exp(input) || (value.isNaN && input.isNaN))
        }
    }

    @Test func reductions() {
        let t = Tensor<Double>(rows: [[1, 5, 3], [4, 2, 6]])
        #expect(t.sum().scalar == 21)
        #expect(t.mean().scalar == 3.5)
        #expect(t.sum(alongAxes: [0]).scalars == [5, 7, 9])
        #expect(t.sum(alongAxes: [1], keepingDimensions: true).shape == [2, 1])
        #expect(t.max(alongAxis: 1).scalars == [5, 6])
        #expect(t.argmax(alongAxis: 1) == [1, 2])
        #expect(t.argmax(alongAxis: 0) == [1, 0, 1])
        #expect(t.argmax() == 5)
        #expect(t.max() == 6 && t.min() == 1)
        let big = Tensor<Double>([1000, 1001, 1002])
        let lse = big.logSumExp(alongAxis: 0).scalar
        #expect(abs(lse - (1002 + Double.log(1 + Double.exp(-1) + Double.exp(-2)))) < 1e-12)
        let softmax = Tensor<Double>(rows: [[1, 2, 3], [-1000, 0, 1000]]).softmax(alongAxis: 1)
        #expect(abs(softmax.sum(alongAxes: [1]).scalars[0] - 1) < 1e-15)
        #expect(softmax[1, 2] == 1)
        #expect(Tensor<Double>([3, -4]).norm() == 5)
        #expect(Tensor<Double>([3, -4]).norm(p: 1) == 7)
        #expect(Tensor<Double>([3, -4]).norm(p: .infinity) == 4)
    }

    @Test func movement() {
        let t = Tensor<Double>(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))
        let p = t.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { #expect(p[k, i, j] == t[i, j, k]) } } }
        #expect(t.transposed().shape == [2, 4, 3])
        let g = t.gathering([2, 0], alongAxis: 1)
        #expect(g.shape == [2, 2, 4])
        #expect(g[1, 0, 3] == t[1, 2, 3] && g[0, 1, 1] == t[0, 0, 1])
        #expect(t.slice(1..<3, alongAxis: 2).shape == [2, 3, 2])
        let joined = Tensor.concatenating([t, t.slice(0..<1, alongAxis: 1)], alongAxis: 1)
        #expect(joined.shape == [2, 4, 4])
        #expect(joined[1, 3, 2] == t[1, 0, 2])
        let flat = Tensor<Double>([10, 20, 30]).scatterAddingFlat([0, 2, 0], shape: [2, 2])
        #expect(flat.scalars == [40, 0, 20, 0])
    }

    /// Every transposition of a product split by rows (300 x 60 x 784, 150 x 64 x 400) or by columns (60 x 784 x 300)
    /// against the transpose of the swapped product, which splits the other way: rows of one are columns of the other.
    @Test func midSizeProductsSplitByRowsOrColumnsMatchTheSwappedProduct() {
        var random = RandomGenerator(seed: 5)
        for (m, k, n) in [(300, 60, 784), (60, 784, 300), (150, 64, 400)] {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = Tensor<Double>.randomNormal(transposeA ? [k, m] : [m, k], using: &random)
                let b = Tensor<Double>.randomNormal(transposeB ? [n, k] : [k, n], using: &random)
                let product = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                let swapped = Tensor.matmul(b, a, transposeA: !transposeB, transposeB: !transposeA)
                #expect(product.shape == [m, n])
                #expect(
                    product.isClose(to: swapped.transposed(), relativeTolerance: 1e-12),
                    "\(m)x\(k)x\(n), transposes \(transposeA) \(transposeB)")
            }
        }
    }

    @Test func midSizeProductsSplitAcrossCoresMatchNaiveProducts() {
        // 60 x 784 x 300 is above BLASThreads.splitThreshold: two halves on two threads.
        var random = RandomGenerator(seed: 4)
        let x = Tensor<Float>.randomNormal([60, 784], using: &random)
        let w = Tensor<Float>.randomNormal([300, 784], using: &random)
        let g = Tensor<Float>.randomNormal([60, 300], using: &random)
        let forward = Tensor.matmul(x, w, transposeB: true)
        let weightGradient = Tensor.matmul(g, x, transposeA: true)  // [300, 784]
        for (row, column) in [(0, 0), (59, 299), (13, 150), (31, 151), (7, 77)] {
            var expected: Float = 0
            for k in 0..<784 { expected += x[row, k] * w[column, k] }
            #expect(abs(forward[row, column] - expected) < 1e-3)
        }
        for (row, column) in [(0, 0), (299, 783), (150, 391), (151, 392), (77, 500)] {
            var expected: Float = 0
            for k in 0..<60 { expected += g[k, row] * x[k, column] }
            #expect(abs(weightGradient[row, column] - expected) < 1e-3)
        }
    }

    @Test func matmulMatchesNaiveProducts() {
        var inputs = Inputs(seed: 9)
        let a = inputs.normal([2, 3, 4]), b = inputs.normal([2, 4, 5])
        let c = Tensor.matmul(a, b)
        for batch in 0..<2 {
            for i in 0..<3 {
                for j in 0..<5 {
                    var expected = 0.0
                    for k in 0..<4 { expected += a[batch, i, k] * b[batch, k, j] }
                    #expect(abs(c[batch, i, j] - expected) < 1e-12)
                }
            }
        }
        let shared = inputs.normal([5, 4])
        let cShared = Tensor.matmul(a, shared, transposeB: true)
        #expect(cShared.isClose(to: Tensor.matmul(a, shared.transposed().broadcast(to: [2, 4, 5])), relativeTolerance: 1e-12))
        let aT = a.transposed()
        #expect(Tensor.matmul(aT, b, transposeA: true).isClose(to: c, relativeTolerance: 1e-12))
        #expect(Tensor.dot(Tensor<Double>([1, 2, 3]), Tensor([4, 5, 6])) == 32)
        #expect(Tensor.outer(Tensor<Double>([1, 2]), Tensor([3, 4, 5])).scalars == [3, 4, 5, 6, 8, 10])
        // Float32 and a product big enough to use several BLAS threads.
        var random = RandomGenerator(seed: 1)
        let x = Tensor<Float>.randomNormal([300, 300], using: &random)
        let xx = Tensor.matmul(x, x)
        var expected: Float = 0
        for k in 0..<300 { expected += x[17, k] * x[k, 29] }
        #expect(abs(xx[17, 29] - expected) < 1e-3)
    }

    @Test func randomStreamsAreReproducibleAndIndependent() {
        let root = RandomGenerator(seed: 42)
        var a = root.stream("init"), b = root.stream("init"), c = root.stream("data-order")
        let first = (0..<4).map { _ in a.next() }
        #expect(first == (0..<4).map { _ in b.next() })
        #expect(first != (0..<4).map { _ in c.next() })
        #expect(root.stream("a").stream("a").key != root.key)
        var used = root
        _ = used.next()
        #expect(used.stream("init").key == root.stream("init").key)
        // Moments of the normal and uniform samplers.
        var random = root.stream("moments")
        let normal = Tensor<Double>.randomNormal([100_000], using: &random)
        #expect(abs(normal.mean().scalar) < 0.02)
        #expect(abs((normal * normal).mean().scalar - 1) < 0.02)
        let uniform = Tensor<Float>.randomUniform([100_000], low: -1, high: 3, using: &random)
        #expect(uniform.min() >= -1 && uniform.max() < 3)
        #expect(abs(uniform.mean().scalar - 1) < 0.02)
        let coin = Tensor<Double>.randomBernoulli([100_000], probability: 0.3, using: &random)
        #expect(abs(coin.mean().scalar - 0.3) < 0.01)
        let permutation = random.permutation(50)
        #expect(Set(permutation) == Set(0..<50))
    }

    @Test func shapeMismatchNamesTheOperationAndBothShapes() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.matmul(Tensor<Double>(zeros: [2, 3]), Tensor<Double>(zeros: [4, 5]))
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("matmul") && message.contains("[2, 3]") && message.contains("[4, 5]"))
        }
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(zeros: [2, 3]) + Tensor<Double>(zeros: [4])
        }.map { result in
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("add") && message.contains("[2, 3]") && message.contains("[4]"))
        }
    }
}

@Suite("The same bits on one core or two")
struct ThreadIndependenceTests {
    /// Mid-size products (LeNet layers at batch 60 and 30) are split into two halves of rows or columns whether or not
    /// a second core takes one (on a 2-core machine it does, outside `CoreSharing`): OpenBLAS rounds a product of part
    /// of the rows or columns differently from the whole, so a product
    /// split only when the second core was free would give bits that depend on the machine and its load.
    @Test func midSizeProductsGiveTheSameBitsOnOneThreadOrTwo() {
        var random = RandomGenerator(seed: 1)
        for (m, k, n) in [(16, 150, 6000), (150, 16, 6000), (16, 6000, 150), (60, 784, 300), (300, 60, 784), (30, 400, 120)] {
            let a = Tensor<Float>.randomUniform([m, k], using: &random)
            let b = Tensor<Float>.randomUniform([k, n], using: &random)
            let onTwoCores = Tensor.matmul(a, b)
            let onOneThread = CoreSharing.$confinesThisThread.withValue(true) { Tensor.matmul(a, b) }
            #expect(onOneThread == onTwoCores, "\(m)x\(k)x\(n)")
        }
    }

    /// Both computations of `sideBySide` run confined to one thread, whichever thread runs them, so a product above
    /// 256³ multiply-adds (which OpenBLAS rounds differently on two threads) gives the same bits in either.
    @Test(.enabled(if: runsSideBySide, "needs two cores and two BLAS threads"))
    func sideBySideConfinesBothComputationsToOneThread() {
        // One BLAS thread: confined, or (when a study test running beside this one has set the process-wide maximum to 1
        // meanwhile) one thread anyway.
        func onOneThreadHere() -> Bool { CoreSharing.confinesThisThread || BLASThreads.maximum == 1 }
        #expect(sideBySide(onOneThreadHere, onOneThreadHere) == (true, true))
        var random = RandomGenerator(seed: 3)
        let a = Tensor<Float>.randomUniform([1000, 784], using: &random), b = Tensor<Float>.randomUniform([784, 300], using: &random)
        let onOneThread = CoreSharing.$confinesThisThread.withValue(true) { Tensor.matmul(a, b) }
        let (first, second) = sideBySide({ Tensor.matmul(a, b) }, { Tensor.matmul(a, b) })
        #expect(first == onOneThread && second == onOneThread)
    }

    /// An element-wise kernel split across cores starts its chunks at multiples of 8, so the vectorized exp and
    /// its scalar tail see the same elements on any number of cores.
    @Test func largeExponentialsGiveTheSameBitsInOneChunkOrMany() {
        var random = RandomGenerator(seed: 2)
        for extra in [2, 6, 10, 14] {
            let x = Tensor<Float>.randomUniform([(1 << 17) + extra], using: &random) * 170 - 85
            let whole = x.exp()
            let inOneChunk = CoreSharing.$confinesThisThread.withValue(true) { x.exp() }
            #expect(whole == inOneChunk, "\(x.count) elements")
        }
    }
}
