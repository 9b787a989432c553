import Foundation

/// Lempel-Ziv (1976) complexity of binary strings, and the symmetrized K_LZ that Valle-Perez, Camargo and
/// Louis (ICLR 2019) use to rank Boolean functions by their truth tables.
public enum LempelZivComplexity {
    /// N_w: the number of phrases in the Lempel-Ziv 1976 exhaustive-history parsing of `bits` (Kaspar and
    /// Schuster's 1987 algorithm). Each phrase is the shortest extension of the text parsed so far that is not
    /// a substring of everything before its last symbol (a copy may overlap itself); an unfinished last phrase
    /// counts as one. "0001101001000101" parses as 0·001·10·100·1000·101: 6. Empty input: 0.
    public static func phraseCount<Bits: RandomAccessCollection>(_ bits: Bits) -> Int where Bits.Element == Bool, Bits.Index == Int {
        let n = bits.count
        guard n > 1 else { return n }
        let s = bits.startIndex
        // i: start of the candidate copy source; u: start of the current phrase; v: its length so far.
        var (i, complexity, u, v, longest) = (0, 1, 1, 1, 1)
        while u + v <= n {
            if bits[s + i + v - 1] == bits[s + u + v - 1] {
                v += 1
            } else {
                longest = max(longest, v)
                i += 1
                if i == u {  // no earlier start reproduces the phrase: it ends here.
                    complexity += 1
                    u += longest
                    (i, v, longest) = (0, 1, 1)
                } else {
                    v = 1
                }
            }
        }
        if v != 1 { complexity += 1 }
        return complexity
    }

    /// K_LZ(x) of Valle-Perez et al.: log2(n) for a constant string of length n, else
    /// log2(n) · (N_w(x) + N_w(reverse x)) / 2. For n = 128: 7 for a constant, 21 for the truth table of the
    /// first input bit, about 149 on average for a random string.
    /// - Precondition: `bits` is not empty.
    public static func symmetrized(_ bits: [Bool]) -> Double {
        precondition(!bits.isEmpty, "LempelZivComplexity.symmetrized: the string is empty")
        let scale = log2(Double(bits.count))
        if bits.allSatisfy({ $0 == bits[0] }) { return scale }
        return scale * Double(phraseCount(bits) + phraseCount(Array(bits.reversed()))) / 2
    }

    /// `phraseCount` of the first `length` (at most 128) bits of `low` (bits 0-63) and `high` (64-127), bit 0
    /// first: the same parsing, with each candidate copy's match length found at once from the XOR of the two
    /// shifted strings.
    public static func phraseCount(low: UInt64, high: UInt64, length n: Int) -> Int {
        precondition((0...128).contains(n), "LempelZivComplexity.phraseCount: length \(n) is not in 0...128")
        guard n > 1 else { return n }
        @inline(__always) func shifted(_ k: Int) -> (UInt64, UInt64) {
            k == 0 ? (low, high) : k < 64 ? ((low >> UInt64(k)) | (high << UInt64(64 - k)), high >> UInt64(k)) : (high >> UInt64(k - 64), 0)
        }
        var (complexity, u) = (1, 1)
        while u < n {
            let phrase = shifted(u), remaining = n - u
            var longest = 0
            for i in 0..<u {
                let source = shifted(i)
                let a = source.0 ^ phrase.0, b = source.1 ^ phrase.1
                let match = min(a != 0 ? a.trailingZeroBitCount : 64 + b.trailingZeroBitCount, remaining)
                if match == remaining { return complexity + 1 }  // the copy runs to the end: an unfinished phrase
                longest = max(longest, match)
            }
            complexity += 1
            u += longest + 1
        }
        return complexity
    }

    /// `symmetrized` of the first `length` bits of `low` and `high` (bit 0 first), without building arrays.
    public static func symmetrized(low: UInt64, high: UInt64, length n: Int) -> Double {
        precondition((1...128).contains(n), "LempelZivComplexity.symmetrized: length \(n) is not in 1...128")
        let mask = (n >= 64 ? ~UInt64(0) : (UInt64(1) << UInt64(n)) - 1, n >= 128 ? ~UInt64(0) : n > 64 ? (UInt64(1) << UInt64(n - 64)) - 1 : 0)
        let (l, h) = (low & mask.0, high & mask.1)
        let scale = log2(Double(n))
        if (l, h) == (0, 0) || (l, h) == mask { return scale }
        // The reverse: all 128 bits reversed, then shifted down by 128 - n.
        var (rl, rh) = (reversedBits(h), reversedBits(l))
        let shift = 128 - n
        if shift >= 64 {
            (rl, rh) = (rh >> UInt64(shift - 64), 0)
        } else if shift > 0 {
            (rl, rh) = ((rl >> UInt64(shift)) | (rh << UInt64(64 - shift)), rh >> UInt64(shift))
        }
        return scale * Double(phraseCount(low: l, high: h, length: n) + phraseCount(low: rl, high: rh, length: n)) / 2
    }

    private static func reversedBits(_ x: UInt64) -> UInt64 {
        var v = x
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}
