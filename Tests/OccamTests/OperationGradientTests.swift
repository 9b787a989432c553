import OccamAutograd
import OccamTensor
import Testing

/// One differentiable operation, its inputs, and how to call it.
struct OperationCase: Sendable, CustomStringConvertible {
    var description: String
    var inputs: @Sendable () -> [Tensor<Double>]
    var function: @Sendable ([Variable<Double>]) -> Variable<Double>

    init(
        _ name: String, _ inputs: @escaping @Sendable () -> [Tensor<Double>],
        _ function: @escaping @Sendable ([Variable<Double>]) -> Variable<Double>
    ) {
        self.description = name
        self.inputs = inputs
        self.function = function
    }
}

private func normal(_ shapes: [Int]...) -> @Sendable () -> [Tensor<Double>] {
    { var inputs = Inputs(seed: 3); return shapes.map { inputs.normal($0) } }
}
private func positive(_ shapes: [Int]...) -> @Sendable () -> [Tensor<Double>] {
    { var inputs = Inputs(seed: 4); return shapes.map { inputs.positive($0) } }
}
private func awayFromZero(_ shapes: [Int]...) -> @Sendable () -> [Tensor<Double>] {
    { var inputs = Inputs(seed: 5); return shapes.map { inputs.awayFromZero($0) } }
}

let elementwiseCases: [OperationCase] = [
    OperationCase("add", normal([3, 4], [3, 4])) { $0[0] + $0[1] },
    OperationCase("add broadcast row", normal([3, 4], [4])) { $0[0] + $0[1] },
    OperationCase("add broadcast both", normal([2, 1, 3], [4, 1])) { $0[0] + $0[1] },
    OperationCase("add scalar tensor", normal([3, 4], [])) { $0[0] + $0[1] },
    OperationCase("subtract broadcast", normal([4, 1], [2, 1, 3])) { $0[0] - $0[1] },
    OperationCase("multiply broadcast", normal([2, 3, 4], [3, 1])) { $0[0] * $0[1] },
    OperationCase("divide broadcast", { var i = Inputs(seed: 6); return [i.normal([3, 4]), i.positive([4])] }) {
        $0[0] / $0[1]
    },
    OperationCase("negate", normal([5])) { -$0[0] },
    OperationCase("scalar affine", normal([5])) { 2.5 - $0[0] * 3 + 1 },
    OperationCase("scalar divide", positive([5])) { 2 / $0[0] },
    OperationCase("exp", normal([3, 4])) { $0[0].exp() },
    OperationCase("log", positive([3, 4])) { $0[0].log() },
    OperationCase("sqrt", positive([3, 4])) { $0[0].sqrt() },
    OperationCase("squared", normal([3, 4])) { $0[0].squared() },
    OperationCase("pow scalar", positive([3, 4])) { $0[0].pow(2.5) },
    OperationCase("pow tensor", { var i = Inputs(seed: 8); return [i.positive([3, 4]), i.normal([4])] }) {
        $0[0].pow($0[1])
    },
    OperationCase("abs", awayFromZero([3, 4])) { $0[0].abs() },
    OperationCase("relu", awayFromZero([3, 4])) { $0[0].relu() },
    OperationCase("sigmoid", normal([3, 4])) { $0[0].sigmoid() },
    OperationCase("tanh", normal([3, 4])) { $0[0].tanh() },
    OperationCase("sin", normal([3, 4])) { $0[0].sin() },
    OperationCase("cos", normal([3, 4])) { $0[0].cos() },
    OperationCase("maximum broadcast", normal([3, 4], [4])) { Variable.maximum($0[0], $0[1]) },
    OperationCase("minimum broadcast", normal([3, 4], [3, 1])) { Variable.minimum($0[0], $0[1]) },
    OperationCase("select", normal([3, 4], [3, 4])) { inputs in
        let mask = Tensor<Double>(shape: [3, 4], scalars: (0..<12).map { Double($0 % 3 == 0 ? 1 : 0) })
        return Variable.select(mask, inputs[0], inputs[1])
    },
]

let reductionCases: [OperationCase] = [
    OperationCase("sum", normal([3, 4])) { $0[0].sum() },
    OperationCase("sum axis 0", normal([3, 4])) { $0[0].sum(alongAxes: [0]) },
    OperationCase("sum axes keep", normal([2, 3, 4])) { $0[0].sum(alongAxes: [0, 2], keepingDimensions: true) },
    OperationCase("mean", normal([3, 4])) { $0[0].mean() },
    OperationCase("mean axis -1", normal([2, 3, 4])) { $0[0].mean(alongAxes: [-1]) },
    OperationCase("max along axis", normal([3, 5])) { $0[0].max(alongAxis: 1) },
    OperationCase("max along axis keep", normal([2, 4, 3])) { $0[0].max(alongAxis: 1, keepingDimensions: true) },
    OperationCase("logsumexp", normal([3, 5])) { $0[0].logSumExp(alongAxis: 1) },
    OperationCase("softmax", normal([3, 5])) { $0[0].softmax(alongAxis: 1) },
    OperationCase("log softmax axis 0", normal([4, 3])) { $0[0].logSoftmax(alongAxis: 0) },
    OperationCase("norm", normal([3, 4])) { $0[0].norm() },
]

let movementCases: [OperationCase] = [
    OperationCase("reshape", normal([3, 4])) { $0[0].reshaped(to: [2, -1]) },
    OperationCase("permute", normal([2, 3, 4])) { $0[0].permuted([2, 0, 1]) },
    OperationCase("transpose", normal([3, 4])) { $0[0].transposed() },
    OperationCase("broadcast", normal([3, 1])) { $0[0].broadcast(to: [2, 3, 4]) },
    OperationCase("summed to shape", normal([2, 3, 4])) { $0[0].summed(toShape: [3, 1]) },
    OperationCase("gathering with repeats", normal([4, 3])) { $0[0].gathering([2, 0, 2, 3], alongAxis: 0) },
    OperationCase("slice axis 1", normal([2, 5, 3])) { $0[0].slice(1..<4, alongAxis: 1) },
    OperationCase("concatenate", normal([2, 3], [2, 1], [2, 2])) { Variable.concatenating($0, alongAxis: 1) },
    OperationCase("gather flat", normal([3, 4])) { $0[0].gatheringFlat([0, 5, 5, 11, 7, 2], shape: [2, 3]) },
    OperationCase("scatter add flat", normal([2, 3])) { $0[0].scatterAddingFlat([0, 5, 5, 11, 7, 2], shape: [3, 4]) },
]

let productCases: [OperationCase] = [
    OperationCase("matmul", normal([3, 4], [4, 5])) { Variable.matmul($0[0], $0[1]) },
    OperationCase("matmul Aᵀ", normal([4, 3], [4, 5])) { Variable.matmul($0[0], $0[1], transposeA: true) },
    OperationCase("matmul Bᵀ", normal([3, 4], [5, 4])) { Variable.matmul($0[0], $0[1], transposeB: true) },
    OperationCase("matmul AᵀBᵀ", normal([4, 3], [5, 4])) {
        Variable.matmul($0[0], $0[1], transposeA: true, transposeB: true)
    },
    OperationCase("batched matmul", normal([2, 3, 4], [2, 4, 5])) { Variable.matmul($0[0], $0[1]) },
    OperationCase("batched matmul Aᵀ", normal([2, 4, 3], [2, 4, 5])) { Variable.matmul($0[0], $0[1], transposeA: true) },
    OperationCase("shared left matmul", normal([3, 4], [2, 4, 5])) { Variable.matmul($0[0], $0[1]) },
    OperationCase("shared right matmul Bᵀ", normal([2, 3, 4], [5, 4])) {
        Variable.matmul($0[0], $0[1], transposeB: true)
    },
    OperationCase("dot", normal([5], [5])) { Variable.dot($0[0], $0[1]) },
    OperationCase("outer", normal([3], [4])) { Variable.outer($0[0], $0[1]) },
]

let convolutionCases: [OperationCase] = [
    OperationCase("conv2d", normal([2, 2, 5, 5], [3, 2, 3, 3], [3])) {
        Variable.convolution2D($0[0], weight: $0[1], bias: $0[2])
    },
    OperationCase("conv2d stride 2 padding 1", normal([1, 2, 6, 5], [2, 2, 3, 3])) {
        Variable.convolution2D($0[0], weight: $0[1], stride: 2, padding: 1)
    },
    OperationCase("im2col", normal([1, 2, 4, 4])) {
        $0[0].imageToColumns(WindowGeometry(inputShape: [1, 2, 4, 4], kernelHeight: 2, kernelWidth: 3, padding: 1))
    },
    OperationCase("max pool 2x2", normal([2, 2, 4, 4])) { $0[0].maxPooled2D(kernelSize: 2) },
    OperationCase("max pool 3 stride 2 padding 1", normal([1, 2, 5, 5])) {
        $0[0].maxPooled2D(kernelSize: 3, stride: 2, padding: 1)
    },
    OperationCase("average pool 2x2", normal([2, 2, 4, 4])) { $0[0].averagePooled2D(kernelSize: 2) },
    OperationCase("average pool 3 stride 2 padding 1", normal([1, 2, 5, 5])) {
        $0[0].averagePooled2D(kernelSize: 3, stride: 2, padding: 1)
    },
]

@Suite("First and second derivatives of every op against finite differences")
struct OperationGradientTests {
    @Test(arguments: elementwiseCases) func elementwise(_ op: OperationCase) { check(op) }
    @Test(arguments: reductionCases) func reductions(_ op: OperationCase) { check(op) }
    @Test(arguments: movementCases) func movements(_ op: OperationCase) { check(op) }
    @Test(arguments: productCases) func products(_ op: OperationCase) { check(op) }
    @Test(arguments: convolutionCases) func convolutions(_ op: OperationCase) { check(op) }

    private func check(_ op: OperationCase) {
        GradientChecker().check(op.description, at: op.inputs(), op.function)
    }

    @Test func composedNetworkWithSharedSubexpressions() {
        // A value used by several consumers accumulates gradients from each.
        GradientChecker().check("shared subexpressions", at: normal([4, 3], [3, 2])()) { inputs in
            let hidden = Variable.matmul(inputs[0], inputs[1]).tanh()
            return hidden * hidden.sigmoid() + hidden.exp().logSoftmax(alongAxis: 1)
        }
    }
}
