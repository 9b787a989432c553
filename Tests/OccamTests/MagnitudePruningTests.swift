import OccamNN
import OccamTensor
import Testing

/// Three "layers" with random weights: a hidden matrix, a second hidden matrix and an output matrix with its bias.
private func randomWeights(seed: UInt64) -> ParameterSet<Double> {
    var random = RandomGenerator(seed: seed)
    return ParameterSet([
        ("fc1.weight", Tensor.randomNormal([12, 20], using: &random)),
        ("fc2.weight", Tensor.randomNormal([6, 12], using: &random)),
        ("fc3.weight", Tensor.randomNormal([3, 6], using: &random)),
        ("fc3.bias", Tensor.randomNormal([3], using: &random)),
    ])
}

/// The masked tensors only (no bias), all kept.
private func denseMask(_ weights: ParameterSet<Double>) -> PruningMask<Double> {
    PruningMask(keepingAllOf: ParameterSet(weights.entries.filter { $0.tensor.rank == 2 }))
}

@Suite("Magnitude pruning: layer-wise and global rounds, random placement")
struct MagnitudePruningTests {
    @Test func layerWisePruningRemovesTheSmallestRemainingWeightsOfEachLayerAtItsRate() {
        var mask = denseMask(randomWeights(seed: 0))
        var expectedKept = ["fc1.weight": 240, "fc2.weight": 72, "fc3.weight": 18]
        for round in 1...6 {
            let weights = randomWeights(seed: UInt64(round))
            let pruned = mask.prunedByMagnitude(of: weights, strategy: .layerWise, rates: PruningRates(rate: 0.2, outputRate: 0.1))
            for (name, old) in mask.masks.entries {
                let rate = name == "fc3.weight" ? 0.1 : 0.2
                expectedKept[name]! -= Int((rate * Double(expectedKept[name]!)).rounded())
                let new = pruned[name]!.scalars, values = weights[name]!.scalars
                #expect(new.count(where: { $0 == 1 }) == expectedKept[name]!, "round \(round), \(name)")
                // Brute force: the survivors are the largest |w| among the weights the old mask kept.
                let remaining = old.scalars.indices.filter { old.scalars[$0] == 1 }.sorted { abs(values[$0]) > abs(values[$1]) }
                let survivors = Set(remaining.prefix(expectedKept[name]!))
                #expect(Set(new.indices.filter { new[$0] == 1 }) == survivors, "round \(round), \(name)")
            }
            mask = pruned
        }
        #expect(mask.outputLayerNames == ["fc3.weight"])
    }

    @Test func globalPruningRemovesTheSmallestRemainingWeightsOverall() {
        var mask = denseMask(randomWeights(seed: 0))
        for round in 1...4 {
            let weights = randomWeights(seed: UInt64(10 + round))
            let pruned = mask.prunedByMagnitude(of: weights, strategy: .global, rates: PruningRates(rate: 0.3, outputRate: 0.9))
            // Brute force over (tensor, index) pairs still kept.
            let kept = mask.masks.entries.flatMap { name, tensor in
                tensor.scalars.indices.filter { tensor.scalars[$0] == 1 }.map { (name, $0, abs(weights[name]!.scalars[$0])) }
            }
            let survivorCount = kept.count - Int((0.3 * Double(kept.count)).rounded())
            let expected = Set(kept.sorted { $0.2 > $1.2 }.prefix(survivorCount).map { "\($0.0)#\($0.1)" })
            let actual = Set(pruned.masks.entries.flatMap { name, tensor in tensor.scalars.indices.filter { tensor.scalars[$0] == 1 }.map { "\(name)#\($0)" } })
            #expect(actual == expected, "round \(round)")
            mask = pruned
        }
    }

    @Test func lenet300100KeepsThePapersFractionsAfterEachRound() throws {
        // Frankle & Carbin: 51.3%, 21.1%, 13.5%, 7.0%, 3.6% of weights remain after rounds 3, 7, 9, 12, 15.
        var random = RandomGenerator(seed: 3)
        let model = try ModelZoo.build("lenet-300-100", inputShape: [1, 28, 28], classes: 10, as: Float.self)
        let parameters = model.initialParameters(using: &random)
        var mask = PruningMask(keepingAllOf: ParameterSet(parameters.entries.filter { $0.tensor.rank == 2 }))
        var remaining: [Int: Double] = [:]
        for round in 1...15 {
            let weights = parameters.mapTensors { _, tensor in Tensor.randomNormal(tensor.shape, using: &random) }
            mask = mask.prunedByMagnitude(of: weights, strategy: .layerWise, rates: PruningRates(rate: 0.2, outputRate: 0.1))
            remaining[round] = 100 * mask.density
        }
        for (round, paper) in [(3, 51.3), (7, 21.1), (9, 13.5), (12, 7.0), (15, 3.6)] {
            #expect(abs(remaining[round]! - paper) < 0.05, "round \(round): \(remaining[round]!)% against the paper's \(paper)%")
        }
    }

    @Test func randomPlacementKeepsEachLayersCountAtNewPositions() {
        let weights = randomWeights(seed: 0)
        let mask = denseMask(weights).prunedByMagnitude(of: weights, strategy: .layerWise, rates: PruningRates(rate: 0.5))
        var first = RandomGenerator(seed: 7), second = RandomGenerator(seed: 7)
        let placed = mask.randomlyPlaced(using: &first)
        #expect(placed.counts == mask.counts)
        #expect(placed.masks != mask.masks)
        #expect(placed == mask.randomlyPlaced(using: &second))
    }
}
