import Foundation
import OccamNN
import OccamTensor
import Testing

/// Whether `python3 -c "import torch"` works here (CI has no torch; the PyTorch comparison is skipped there).
let torchIsAvailable: Bool = {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", "import torch"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}()

@Suite("Optimizers, learning rate schedules and pruning masks")
struct OptimizerTests {
    // MARK: Closed forms on a quadratic

    /// Runs `steps` steps on f(p) = sum(a * p^2) / 2 (gradient a * p) from `start`; the parameter after each step.
    static func quadratic<O: Optimizer<Double>>(
        _ optimizer: O, start: [Double], curvature a: [Double], learningRate: Double, steps: Int
    ) -> [[Double]] {
        var optimizer = optimizer
        var parameters = ParameterSet([("w", Tensor(start))])
        var trajectory: [[Double]] = []
        for _ in 0..<steps {
            let gradient = Tensor(a) * parameters["w"]!
            optimizer.step(&parameters, gradients: ParameterSet([("w", gradient)]), learningRate: learningRate)
            trajectory.append(parameters["w"]!.scalars)
        }
        return trajectory
    }

    static func expectClose(_ actual: [[Double]], _ expected: [[Double]], tolerance: Double = 1e-14) {
        #expect(actual.count == expected.count)
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            for (x, y) in zip(a, e) {
                #expect(abs(x - y) <= tolerance * max(1, abs(y)), "step \(step + 1): \(x) vs \(y)")
            }
        }
    }

    @Test func sgdClosedForms() {
        // Gradient 2p from p = 1, lr 0.1, worked by hand.
        let run = { (o: SGD<Double>) in Self.quadratic(o, start: [1], curvature: [2], learningRate: 0.1, steps: 3) }
        // Plain: p <- 0.8 p.
        Self.expectClose(run(SGD()), [[0.8], [0.64], [0.512]])
        // Weight decay 0.1: d = 2.1 p, p <- 0.79 p.
        Self.expectClose(run(SGD(weightDecay: 0.1)), [[0.79], [0.6241], [0.493039]])
        // Momentum 0.9: buf = 2, 3.4, 3.98; p = 0.8, 0.46, 0.062.
        Self.expectClose(run(SGD(momentum: 0.9)), [[0.8], [0.46], [0.062]])
        // Nesterov: d = g + 0.9 buf: 3.8, then g = 1.24, buf = 3.04, d = 3.976.
        Self.expectClose(run(SGD(momentum: 0.9, nesterov: true)).prefix(2).map { $0 }, [[0.62], [0.2224]])
        // Dampening 0.5: the first buffer is the gradient undamped (2), then 1.8 + 0.5 * 1.6 = 2.6.
        Self.expectClose(run(SGD(momentum: 0.9, dampening: 0.5)).prefix(2).map { $0 }, [[0.8], [0.54]])
    }

    /// Textbook Adam in Float64 (m-hat, v-hat form), an independent reference for the torch-ordered kernel.
    static func textbookAdam(
        start: [Double], curvature a: [Double], lr: Double, steps: Int, weightDecay: Double, decoupled: Bool
    ) -> [[Double]] {
        let (beta1, beta2, eps) = (0.9, 0.999, 1e-8)
        var p = start, m = start.map { _ in 0.0 }, v = m
        var trajectory: [[Double]] = []
        for t in 1...steps {
            for i in p.indices {
                var g = a[i] * p[i]
                if decoupled { p[i] *= 1 - lr * weightDecay } else { g += weightDecay * p[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
                p[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            trajectory.append(p)
        }
        return trajectory
    }

    @Test func adamClosedForms() {
        // From p = 1, gradient 2p, lr 0.1: the first step moves lr * g / (|g| + eps).
        let adam = Self.quadratic(Adam(), start: [1], curvature: [2], learningRate: 0.1, steps: 3)
        Self.expectClose(adam, [[0.9000000005], [0.8004122286917928], [0.7015862729460303]], tolerance: 1e-13)
        let adamW = Self.quadratic(AdamW(weightDecay: 0.1), start: [1], curvature: [2], learningRate: 0.1, steps: 3)
        Self.expectClose(adamW, [[0.8900000004999999], [0.7815718559365048], [0.6751012216400698]], tolerance: 1e-13)

        // Several coordinates, L2 and decoupled decay, 20 steps, against the textbook form.
        let start = [1.5, -0.25, 3, 1e-3], a = [2, 0.5, 10, 1]
        for (decoupled, weightDecay) in [(false, 0.0), (false, 0.05), (true, 0.05)] {
            let ours = decoupled
                ? Self.quadratic(AdamW(weightDecay: weightDecay), start: start, curvature: a, learningRate: 0.01, steps: 20)
                : Self.quadratic(Adam(weightDecay: weightDecay), start: start, curvature: a, learningRate: 0.01, steps: 20)
            let reference = Self.textbookAdam(
                start: start, curvature: a, lr: 0.01, steps: 20, weightDecay: weightDecay, decoupled: decoupled)
            Self.expectClose(ours, reference, tolerance: 1e-12)
        }
    }

    @Test func floatAndDoubleAgree() {
        // The Float kernels (vectors of eight plus a tail) against the Double ones, over 37 coordinates.
        let start = (0..<37).map { sin(Double($0)) * 2 }, a = (0..<37).map { 0.5 + Double($0 % 5) }
        func run<O: Optimizer<Float>>(_ optimizer: O) -> [Float] {
            var optimizer = optimizer
            var parameters = ParameterSet([("w", Tensor(start.map { Float($0) }))])
            for _ in 0..<10 {
                let gradient = Tensor(a.map { Float($0) }) * parameters["w"]!
                optimizer.step(&parameters, gradients: ParameterSet([("w", gradient)]), learningRate: 0.01)
            }
            return parameters["w"]!.scalars
        }
        let pairs: [([Float], [Double])] = [
            (run(Adam(weightDecay: 0.01)), Self.quadratic(Adam(weightDecay: 0.01), start: start, curvature: a, learningRate: 0.01, steps: 10).last!),
            (run(AdamW(weightDecay: 0.1)), Self.quadratic(AdamW(weightDecay: 0.1), start: start, curvature: a, learningRate: 0.01, steps: 10).last!),
            (run(SGD(momentum: 0.9, weightDecay: 0.01, nesterov: true)),
             Self.quadratic(SGD(momentum: 0.9, weightDecay: 0.01, nesterov: true), start: start, curvature: a, learningRate: 0.01, steps: 10).last!),
        ]
        for (single, double) in pairs {
            for (x, y) in zip(single, double) { #expect(abs(Double(x) - y) <= 1e-5 * max(1, abs(y)), "\(x) vs \(y)") }
        }
    }

    @Test func earlierParameterSetsAreNotOverwritten() {
        // Steps reuse buffers; parameter sets the caller kept (copies) must keep their values.
        for fresh in Self.maskedOptimizers.map(\.1) {
            var optimizer = fresh
            var parameters = Problem.initialParameters()
            var history = [parameters]
            var copies: [[Float]] = [parameters["fc.weight"]!.scalars.map { $0 }]  // deep copies
            for step in 0..<6 {
                Problem.run(&optimizer, &parameters, steps: step..<(step + 1))
                history.append(parameters)
                copies.append(parameters["fc.weight"]!.scalars.map { $0 })
            }
            for (set, scalars) in zip(history, copies) { #expect(set["fc.weight"]!.scalars == scalars) }
            #expect(history[0] == Problem.initialParameters())
            #expect(history[5] != history[6])
        }
    }

    @Test func stateNamesFollowPyTorch() {
        let parameters = ParameterSet([("fc1.weight", Tensor<Float>(zeros: [2, 3])), ("fc1.bias", Tensor(zeros: [2]))])
        var params = parameters
        var adam = Adam<Float>()
        #expect(adam.state.tensors.count == 0 && adam.state.step == 0 && adam.state.kind == "adam")
        adam.step(&params, gradients: parameters.zerosLike(), learningRate: 0.1)
        #expect(adam.state.tensors.names == ["exp_avg.fc1.weight", "exp_avg.fc1.bias", "exp_avg_sq.fc1.weight", "exp_avg_sq.fc1.bias"])
        #expect(adam.state.tensors["exp_avg_sq.fc1.weight"]!.shape == [2, 3])
        #expect(adam.stepCount == 1)
        var sgd = SGD<Float>(momentum: 0.9)
        sgd.step(&params, gradients: parameters.zerosLike(), learningRate: 0.1)
        #expect(sgd.state.tensors.names == ["momentum_buffer.fc1.weight", "momentum_buffer.fc1.bias"])
        var plain = SGD<Float>()
        plain.step(&params, gradients: parameters.zerosLike(), learningRate: 0.1)
        #expect(plain.state.tensors.count == 0 && plain.state.step == 1)
        #expect(AdamW<Float>().state.kind == "adamw" && SGD<Float>().state.kind == "sgd")
    }

    // MARK: Pruning masks

    /// A small two-tensor model in Float32 with a deterministic gradient field (a shifted quadratic plus a
    /// step-dependent wiggle), so runs are reproducible bit for bit.
    struct Problem {
        static let weightShape = [4, 5]
        static func initialParameters() -> ParameterSet<Float> {
            ParameterSet([
                ("fc.weight", Tensor(shape: weightShape, scalars: (0..<20).map { Float($0) * 0.1 - 0.7 })),
                ("fc.bias", Tensor([0.5, -0.5, 0.25, 1])),
            ])
        }
        static func gradients(_ parameters: ParameterSet<Float>, step: Int) -> ParameterSet<Float> {
            parameters.mapTensors { _, p in
                let wiggle = Tensor<Float>(shape: p.shape, scalars: (0..<p.count).map { Float(sin(Double($0 * 7 + step))) })
                return (p - 0.3) * Float(0.8) + wiggle * Float(0.1)
            }
        }
        static let mask: PruningMask<Float> = try! PruningMask(ParameterSet([
            ("fc.weight", Tensor(shape: weightShape, scalars: (0..<20).map { $0 % 3 == 0 ? 0 : 1 })),
        ]))
        static let schedule = LearningRateSchedule.linearWarmup(steps: 3, then: .cosine(totalSteps: 40, minimum: 1e-3))

        static func run(
            _ optimizer: inout some Optimizer<Float>, _ parameters: inout ParameterSet<Float>, steps: Range<Int>
        ) {
            for step in steps {
                let lr = schedule.learningRate(base: 0.05, step: step, stepsPerEpoch: 10)
                optimizer.step(&parameters, gradients: gradients(parameters, step: step), learningRate: lr)
            }
        }
    }

    static let maskedOptimizers: [(String, any Optimizer<Float>)] = [
        ("SGD", SGD(momentum: 0.9, weightDecay: 1e-2, nesterov: true, mask: Problem.mask)),
        ("SGD dampened", SGD(momentum: 0.5, dampening: 0.1, weightDecay: 1e-2, mask: Problem.mask)),
        ("Adam", Adam(weightDecay: 1e-2, mask: Problem.mask)),
        ("AdamW", AdamW(weightDecay: 1e-1, mask: Problem.mask)),
    ]

    @Test(arguments: 0..<4)
    func maskedWeightsAndStateStayExactlyZero(_ index: Int) {
        let (label, optimizer) = Self.maskedOptimizers[index]
        var o = optimizer
        let initial = Problem.initialParameters()
        var parameters = initial
        let mask = Problem.mask["fc.weight"]!.scalars
        for step in 0..<60 {
            Problem.run(&o, &parameters, steps: step..<(step + 1))
            let weight = parameters["fc.weight"]!.scalars
            for i in mask.indices where mask[i] == 0 {
                #expect(weight[i] == 0 && weight[i].sign == .plus, "\(label) step \(step): pruned weight \(i) is \(weight[i])")
            }
            for (name, tensor) in o.state.tensors.entries where name.hasSuffix(".fc.weight") {
                for i in mask.indices where mask[i] == 0 {
                    #expect(tensor.scalars[i] == 0 && tensor.scalars[i].sign == .plus, "\(label) step \(step): \(name)[\(i)]")
                }
            }
        }
        // Everything not pruned moved, the unmasked bias included.
        let start = initial["fc.weight"]!.scalars, end = parameters["fc.weight"]!.scalars
        for i in mask.indices where mask[i] == 1 { #expect(end[i] != start[i], "\(label): kept weight \(i) did not move") }
        for (a, b) in zip(initial["fc.bias"]!.scalars, parameters["fc.bias"]!.scalars) { #expect(a != b) }
        // The kept entries' state is live.
        for (name, tensor) in o.state.tensors.entries where name.hasSuffix(".fc.weight") {
            #expect(mask.indices.contains { mask[$0] == 1 && tensor.scalars[$0] != 0 }, "\(label): \(name) is all zero")
        }
    }

    @Test func maskBlocksNonFiniteGradientsAtPrunedWeights() {
        var parameters = Problem.initialParameters()
        var adam = Adam<Float>(mask: Problem.mask)
        var gradients = Problem.gradients(parameters, step: 0)
        gradients["fc.weight"] = Tensor(shape: Problem.weightShape, scalars: (0..<20).map { $0 % 3 == 0 ? .nan : 0.5 })
        adam.step(&parameters, gradients: gradients, learningRate: 0.1)
        adam.step(&parameters, gradients: gradients, learningRate: 0.1)
        let weight = parameters["fc.weight"]!.scalars
        #expect(weight.allSatisfy { $0.isFinite })
        #expect((0..<20).allSatisfy { $0 % 3 != 0 || weight[$0] == 0 })
        #expect(adam.state.tensors.entries.allSatisfy { $0.tensor.scalars.allSatisfy { $0.isFinite } })
    }

    @Test func pruningMaskValidationAndApplication() throws {
        #expect(throws: PruningMaskError.notBinary(name: "w", index: 1, value: 0.5)) {
            try PruningMask(ParameterSet([("w", Tensor<Double>([1, 0.5, 0]))]))
        }
        let mask = try PruningMask(ParameterSet([("w", Tensor<Double>([1, 0, 0, 1]))]))
        #expect(mask.keptCount == 2 && mask.maskedScalarCount == 4 && mask.density == 0.5)
        #expect(mask["w"] != nil && mask["b"] == nil)
        #expect(throws: PruningMaskError.unknownParameter("w")) {
            try mask.validate(against: ParameterSet([("b", Tensor<Double>([1]))]))
        }
        #expect(throws: PruningMaskError.shapeMismatch(name: "w", parameter: [2, 2], mask: [4])) {
            try mask.validate(against: ParameterSet([("w", Tensor<Double>(zeros: [2, 2]))]))
        }
        var set = ParameterSet([("w", Tensor<Double>([-1, -2, .nan, 4])), ("b", Tensor<Double>([7]))])
        try mask.validate(against: set)
        mask.apply(to: &set)
        #expect(set["w"]!.scalars == [-1, 0, 0, 4] && set["w"]!.scalars[1].sign == .plus)
        #expect(set["b"]!.scalars == [7])
        #expect(PruningMask(keepingAllOf: set).density == 1)
    }

    // MARK: Saving and restoring state

    @Test(arguments: 0..<4)
    func restoredOptimizerContinuesBitIdentically(_ index: Int) throws {
        let (label, fresh) = Self.maskedOptimizers[index]
        var uninterrupted = fresh
        var straight = Problem.initialParameters()
        Problem.run(&uninterrupted, &straight, steps: 0..<25)

        var first = fresh
        var resumed = Problem.initialParameters()
        Problem.run(&first, &resumed, steps: 0..<11)
        let saved = first.state
        var second = fresh  // a new optimizer with the same hyperparameters and mask
        try second.restore(saved, parameters: resumed)
        #expect(second.stepCount == 11)
        #expect(second.state == saved)
        Problem.run(&second, &resumed, steps: 11..<25)

        #expect(resumed == straight, "\(label): parameters differ after resuming")
        #expect(second.state == uninterrupted.state, "\(label): optimizer state differs after resuming")
        // The runs are not trivially equal: the state did change after the checkpoint.
        #expect(saved != second.state)
    }

    @Test func restoringMismatchedStateThrows() throws {
        var parameters = Problem.initialParameters()
        var adam = Adam<Float>()
        Problem.run(&adam, &parameters, steps: 0..<2)
        let state = adam.state
        var other = Adam<Float>()
        #expect(throws: OptimizerStateError.wrongKind(expected: "sgd", found: "adam")) {
            var sgd = SGD<Float>(momentum: 0.9)
            try sgd.restore(state, parameters: parameters)
        }
        #expect(throws: OptimizerStateError.wrongKind(expected: "adamw", found: "adam")) {
            var adamW = AdamW<Float>()
            try adamW.restore(state, parameters: parameters)
        }
        var negative = state
        negative.step = -1
        #expect(throws: OptimizerStateError.negativeStep(-1)) { try other.restore(negative, parameters: parameters) }
        var missing = state
        missing.tensors = ParameterSet(state.tensors.entries.filter { $0.name != "exp_avg_sq.fc.bias" })
        #expect(throws: OptimizerStateError.missingTensor("exp_avg_sq.fc.bias")) {
            try other.restore(missing, parameters: parameters)
        }
        var extra = state
        extra.tensors.insert(Tensor(zeros: [1]), named: "exp_avg.fc2.bias")
        #expect(throws: OptimizerStateError.unexpectedTensor("exp_avg.fc2.bias")) {
            try other.restore(extra, parameters: parameters)
        }
        var wider = parameters
        wider = ParameterSet([("fc.weight", Tensor(zeros: [4, 6])), ("fc.bias", parameters["fc.bias"]!)])
        #expect(throws: OptimizerStateError.shapeMismatch(name: "exp_avg.fc.weight", expected: [4, 6], found: [4, 5])) {
            try other.restore(state, parameters: wider)
        }
        // State at step 0 has no tensors; tensors there are unexpected.
        var early = state
        early.step = 0
        #expect(throws: OptimizerStateError.unexpectedTensor("exp_avg.fc.weight")) {
            try other.restore(early, parameters: parameters)
        }
        // The failed restores left `other` untouched.
        #expect(other.state == Adam<Float>().state)
        try other.restore(OptimizerState(kind: "adam", step: 0, tensors: ParameterSet()), parameters: parameters)
        #expect(OptimizerStateError.missingTensor("x").description.contains("x"))
    }

    // MARK: Schedules

    @Test func schedulesAtSpecificSteps() throws {
        func lr(_ s: LearningRateSchedule, _ step: Int, perEpoch: Int = 100) -> Double {
            s.learningRate(base: 0.1, step: step, stepsPerEpoch: perEpoch)
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-15 * max(1, abs(b)) }
        #expect(lr(.constant, 0) == 0.1 && lr(.constant, 123_456) == 0.1)

        let multi = LearningRateSchedule.multiStep(milestones: [10, 20], gamma: 0.1)
        #expect(lr(multi, 0) == 0.1 && lr(multi, 9) == 0.1)
        #expect(close(lr(multi, 10), 0.01) && close(lr(multi, 19), 0.01))
        #expect(close(lr(multi, 20), 0.001) && close(lr(multi, 10_000), 0.001))

        let exponential = LearningRateSchedule.exponentialPerEpoch(gamma: 0.95)
        #expect(lr(exponential, 0) == 0.1 && lr(exponential, 99) == 0.1)
        #expect(close(lr(exponential, 100), 0.095) && close(lr(exponential, 250), 0.1 * 0.9025))
        #expect(close(lr(exponential, 250, perEpoch: 50), 0.1 * pow(0.95, 5)))

        let cosine = LearningRateSchedule.cosine(totalSteps: 100, minimum: 0.001)
        #expect(lr(cosine, 0) == 0.1)
        #expect(close(lr(cosine, 50), 0.0505))
        #expect(close(lr(cosine, 25), 0.001 + 0.099 * (1 + 0.5.squareRoot()) / 2))
        #expect(lr(cosine, 100) == 0.001 && lr(cosine, 1000) == 0.001)

        let warm = LearningRateSchedule.linearWarmup(steps: 10, then: .constant)
        #expect(lr(warm, 0) == 0 && close(lr(warm, 5), 0.05) && lr(warm, 10) == 0.1 && lr(warm, 11) == 0.1)
        let warmMulti = LearningRateSchedule.linearWarmup(steps: 4, then: .multiStep(milestones: [2, 6], gamma: 0.5))
        #expect(close(lr(warmMulti, 1), 0.025) && close(lr(warmMulti, 3), 0.0375) && close(lr(warmMulti, 6), 0.025))
        let warmCosine = LearningRateSchedule.linearWarmup(steps: 10, then: cosine)
        #expect(close(lr(warmCosine, 5), lr(cosine, 5) * 0.5) && lr(warmCosine, 50) == lr(cosine, 50))

        // Codable round trip, nested.
        let data = try JSONEncoder().encode(warmMulti)
        #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: data) == warmMulti)
    }

    // MARK: PyTorch

    /// The same gradients and learning rates through torch.optim in Float64 and through ours.
    @Test(.enabled(if: torchIsAvailable, "needs python3 with torch"), arguments: [
        "sgd", "sgd-nesterov", "sgd-dampening", "adam", "adam-decay", "adamw",
    ])
    func matchesPyTorch(_ configuration: String) throws {
        let (kind, options, optimizer): (String, [String: Any], any Optimizer<Double>) = switch configuration {
        case "sgd": ("sgd", ["momentum": 0.9, "weight_decay": 1e-2], SGD(momentum: 0.9, weightDecay: 1e-2))
        case "sgd-nesterov":
            ("sgd", ["momentum": 0.8, "nesterov": true, "weight_decay": 5e-3],
             SGD(momentum: 0.8, weightDecay: 5e-3, nesterov: true))
        case "sgd-dampening": ("sgd", ["momentum": 0.7, "dampening": 0.3], SGD(momentum: 0.7, dampening: 0.3))
        case "adam": ("adam", [:], Adam())
        case "adam-decay":
            ("adam", ["betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1],
             Adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1))
        default:
            ("adamw", ["betas": [0.3, 0.9], "weight_decay": 0.05], AdamW(beta1: 0.3, beta2: 0.9, weightDecay: 0.05))
        }
        // 20 elements: two full vectors of eight and a tail of four; 5 elements: a tail only.
        let shapes = [("fc1.weight", [5, 4]), ("fc1.bias", [5])]
        func values(_ count: Int, _ seed: Int) -> [Double] { (0..<count).map { sin(Double($0 * 13 + seed)) * 1.7 } }
        let initial = ParameterSet(shapes.enumerated().map { k, s in
            (s.0, Tensor(shape: s.1, scalars: values(s.1.reduce(1, *), k)))
        })
        let steps = 5
        let gradients = (0..<steps).map { t in
            ParameterSet(shapes.enumerated().map { k, s in
                (s.0, Tensor(shape: s.1, scalars: values(s.1.reduce(1, *), 100 * t + 10 * k + 3).map { $0 * 2 }))
            })
        }
        let learningRates = (0..<steps).map { 0.1 / Double($0 + 1) }

        let spec: [String: Any] = [
            "optimizer": kind, "options": options,
            "parameters": initial.entries.map { ["name": $0.name, "shape": $0.tensor.shape, "values": $0.tensor.scalars] },
            "gradients": gradients.map { $0.entries.map { $0.tensor.scalars } },
            "learning_rates": learningRates,
        ]
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("occam-optimizer-\(UUID()).json")
        try JSONSerialization.data(withJSONObject: spec).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Support/optimizer_reference.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, input.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let torchParameters = try #require(result["parameters"] as? [[[Double]]])
        let torchState = try #require(result["state"] as? [String: [Double]])

        var ours = optimizer
        var parameters = initial
        for t in 0..<steps {
            ours.step(&parameters, gradients: gradients[t], learningRate: learningRates[t])
            for (k, entry) in parameters.entries.enumerated() {
                for (x, y) in zip(entry.tensor.scalars, torchParameters[t][k]) {
                    #expect(abs(x - y) <= 1e-12, "\(configuration) step \(t + 1) \(entry.name): \(x) vs torch \(y)")
                }
            }
        }
        let state = ours.state.tensors
        #expect(Set(state.names) == Set(torchState.keys), "\(configuration): state names")
        for (name, tensor) in state.entries {
            for (x, y) in zip(tensor.scalars, torchState[name] ?? []) {
                #expect(abs(x - y) <= 1e-12, "\(configuration) \(name): \(x) vs torch \(y)")
            }
        }
    }
}
