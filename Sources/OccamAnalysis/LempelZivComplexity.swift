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
}
