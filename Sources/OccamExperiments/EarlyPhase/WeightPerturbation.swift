import OccamNN
import OccamTensor

/// What a network of `occam early-phase` starts from, made from a ticket's weights rewound to iteration k
/// (Frankle, Schwab & Morcos 2020). Only the masked (prunable) tensors are changed; the others (biases) keep
/// their rewound values, except for a fresh initialization, which redraws everything.
public enum WeightPerturbation: String, Codable, Sendable, CaseIterable, Comparable {
    /// The ticket itself: the rewound weights under the mask.
    case ticket
    /// Each weight keeps its rewound sign exactly; its magnitude is that of a fresh draw from the initializer.
    case signsKept = "signs-kept"
    /// Each weight keeps its rewound magnitude; its sign is a fair coin.
    case magnitudesKept = "magnitudes-kept"
    /// The rewound values of each layer's kept weights, shuffled among that layer's kept positions.
    case permuted
    /// A fresh draw of every parameter from the initializer, under the same mask.
    case freshInitialization = "fresh-init"

    /// How plots and tables name it.
    public var displayName: String {
        switch self {
        case .ticket: "ticket (rewound)"
        case .signsKept: "signs kept, magnitudes reinitialized"
        case .magnitudesKept: "magnitudes kept, signs randomized"
        case .permuted: "permuted within each layer"
        case .freshInitialization: "fresh initialization"
        }
    }

    public static func < (a: WeightPerturbation, b: WeightPerturbation) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// The starting weights this perturbation makes.
    ///
    /// - Parameters:
    ///   - rewound: every parameter at iteration k.
    ///   - fresh: a fresh draw of every parameter from the model's initializer (same names and shapes).
    ///   - mask: the ticket's mask; its tensors are the ones perturbed, and its zeros stay exactly `+0`.
    ///   - random: the coin flips of `.magnitudesKept` and the shuffles of `.permuted`.
    public func apply<Scalar: TensorScalar>(
        rewound: ParameterSet<Scalar>, fresh: ParameterSet<Scalar>, mask: PruningMask<Scalar>, random: inout RandomGenerator
    ) -> ParameterSet<Scalar> {
        var result = self == .freshInitialization ? fresh : rewound
        for (name, keep) in mask.masks.entries {
            guard let weights = rewound[name], let draw = fresh[name] else { continue }
            let values = weights.scalars, kept = keep.scalars
            var perturbed = values
            switch self {
            case .ticket, .freshInitialization:
                continue
            case .signsKept:
                for i in perturbed.indices { perturbed[i] = Scalar(signOf: values[i], magnitudeOf: draw.scalars[i]) }
            case .magnitudesKept:
                for i in perturbed.indices { perturbed[i] = random.next() & 1 == 0 ? abs(values[i]) : -abs(values[i]) }
            case .permuted:
                let positions = kept.indices.filter { kept[$0] != 0 }
                let order = random.permutation(positions.count)
                for (position, source) in zip(positions, order) { perturbed[position] = values[positions[source]] }
            }
            result[name] = Tensor(shape: weights.shape, scalars: perturbed)
        }
        mask.apply(to: &result)
        return result
    }
}
