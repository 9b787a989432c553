/// Occam's seedable random number generator: xoshiro256** (Blackman and Vigna), seeded through SplitMix64.
///
/// Every random choice in Occam draws from a stream derived from the run's seed and a purpose label, so
/// streams are independent of one another and adding draws to one purpose never shifts another:
///
///     let root = RandomGenerator(seed: 0)
///     var initialization = root.stream("init")
///     var dataOrder = root.stream("data-order")
///
/// The derivation is fixed: a stream's key is the first SplitMix64 output for `key ^ fnv1a64(label)`, and its
/// state the next four SplitMix64 outputs for that key (labels nest: `stream("a").stream("b")`). Normal variates
/// use the Box-Muller transform on two uniforms in (0, 1]; uniforms take the top 53 (Double) or 24 (Float)
/// bits. All arithmetic is integer or correctly rounded, so the same seed gives the same numbers on every
/// run and every machine of this kind.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    /// The seed this generator's stream was derived from.
    public let key: UInt64
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator for `seed` (the root stream).
    public init(seed: UInt64) {
        key = seed
        var mixer = SplitMix64(state: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// An independent stream for `purpose` (for example "init", "data-order", "corruption", "probes"),
    /// derived from this generator's key, not from its position: it is the same however many numbers
    /// this generator has produced.
    public func stream(_ purpose: String) -> RandomGenerator {
        var mixer = SplitMix64(state: key ^ fnv1a64(purpose))
        return RandomGenerator(seed: mixer.next())
    }

    /// An independent stream for an integer purpose, such as a replicate or a layer index.
    public func stream(_ index: Int) -> RandomGenerator {
        stream("#\(index)")
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, by: 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, by: 45)
        return result
    }

    /// A uniform Double in [0, 1).
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal Double (Box-Muller, one of the pair).
    public mutating func nextNormal() -> Double {
        let u1 = 1 - nextUniform()  // (0, 1]
        let u2 = nextUniform()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }

    /// A uniform integer in 0..<upperBound (unbiased, Lemire's method through the standard library).
    public mutating func nextInt(below upperBound: Int) -> Int {
        Int.random(in: 0..<upperBound, using: &self)
    }

    /// A uniformly random permutation of 0..<count (Fisher-Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                order.swapAt(i, nextInt(below: i + 1))
            }
        }
        return order
    }
}

@inlinable @inline(__always)
func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

private struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The 64-bit FNV-1a hash of a string's UTF-8 bytes.
func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
