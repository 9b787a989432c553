import Foundation
import OccamAnalysis
import OccamTensor
import Testing

/// LZ76 by its definition, searching substrings naively: each phrase is the shortest extension that is not a
/// substring of the text before its last symbol; a phrase cut off by the end of the string counts.
private func phrasesByDefinition(_ s: [Bool]) -> Int {
    func occurs(_ pattern: ArraySlice<Bool>, in text: ArraySlice<Bool>) -> Bool {
        guard pattern.count <= text.count else { return false }
        for start in text.startIndex...(text.endIndex - pattern.count) where text[start..<(start + pattern.count)].elementsEqual(pattern) {
            return true
        }
        return false
    }
    var (count, u) = (0, 0)
    while u < s.count {
        var length = 1
        while u + length <= s.count && occurs(s[u..<(u + length)], in: s[0..<(u + length - 1)]) { length += 1 }
        count += 1
        u += length
    }
    return count
}

private func bits(_ text: String) -> [Bool] { text.map { $0 == "1" } }

@Suite struct LempelZivTests {
    @Test func handWorkedStrings() {
        // Lempel and Ziv's example: 0·001·10·100·1000·101.
        #expect(LempelZivComplexity.phraseCount(bits("0001101001000101")) == 6)
        #expect(LempelZivComplexity.phraseCount(bits("0")) == 1)
        #expect(LempelZivComplexity.phraseCount(bits("01")) == 2)  // 0·1
        #expect(LempelZivComplexity.phraseCount(bits("0000")) == 2)  // 0·000 (a copy overlapping itself)
        #expect(LempelZivComplexity.phraseCount(bits("0101")) == 3)  // 0·1·01
        #expect(LempelZivComplexity.phraseCount(bits("0010")) == 3)  // 0·01·0
        #expect(LempelZivComplexity.phraseCount(bits("0110")) == 3)  // 0·1·10
        #expect(LempelZivComplexity.phraseCount([Bool]()) == 0)
    }

    @Test func kasparSchusterMatchesTheDefinition() {
        var generator = RandomGenerator(seed: 11)
        for length in 1...48 {
            for _ in 0..<30 {
                // Biased strings too, so long copies occur.
                let p = [0.5, 0.1, 0.9][generator.nextInt(below: 3)]
                let s = (0..<length).map { _ in generator.nextUniform() < p }
                #expect(LempelZivComplexity.phraseCount(s) == phrasesByDefinition(s), "\(s.map { $0 ? "1" : "0" }.joined())")
            }
        }
    }

    @Test func referenceValuesOfVallePerez() {
        // Constant: log2(128) = 7.
        #expect(LempelZivComplexity.symmetrized(Array(repeating: false, count: 128)) == 7)
        #expect(LempelZivComplexity.symmetrized(Array(repeating: true, count: 128)) == 7)
        // f = x_i: 0^64 1^64 (the slowest coordinate) and 0101... (the fastest) parse into 3 phrases both ways: 21.
        let slowest = (0..<128).map { ($0 >> 6) & 1 == 1 }, fastest = (0..<128).map { $0 & 1 == 1 }
        #expect(LempelZivComplexity.symmetrized(slowest) == 21)
        #expect(LempelZivComplexity.symmetrized(fastest) == 21)
        for i in 0..<7 {
            let k = LempelZivComplexity.symmetrized((0..<128).map { ($0 >> i) & 1 == 1 })
            #expect((21...28).contains(k), "x\(i): \(k)")
        }
        // Random strings: mean about 149, range about 119-168.
        var generator = RandomGenerator(seed: 5)
        let values = (0..<4000).map { _ in LempelZivComplexity.symmetrized((0..<128).map { _ in generator.next() & 1 == 1 }) }
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(abs(mean - 149) < 2, "mean \(mean)")
        #expect(values.min()! >= 105 && values.max()! <= 180, "range \(values.min()!)-\(values.max()!)")
    }

    @Test func packedBitsMatchTheArrayVersion() {
        var generator = RandomGenerator(seed: 21)
        for length in [1, 2, 3, 7, 8, 31, 63, 64, 65, 100, 127, 128] {
            for trial in 0..<200 {
                // Mostly random, sometimes sparse, constant or periodic strings.
                let p = [0.5, 0.05, 0.95, 0.0, 1.0][trial % 5]
                var bits = (0..<length).map { _ in generator.nextUniform() < p }
                if trial % 7 == 0 { bits = (0..<length).map { ($0 / (1 + trial % 5)) % 2 == 1 } }
                var (low, high) = (UInt64(0), UInt64(0))
                for (i, bit) in bits.enumerated() where bit { if i < 64 { low |= 1 << UInt64(i) } else { high |= 1 << UInt64(i - 64) } }
                #expect(LempelZivComplexity.phraseCount(low: low, high: high, length: length) == LempelZivComplexity.phraseCount(bits))
                #expect(LempelZivComplexity.symmetrized(low: low, high: high, length: length) == LempelZivComplexity.symmetrized(bits))
                // Bits beyond the length are ignored.
                #expect(LempelZivComplexity.symmetrized(low: low | (length < 64 ? ~0 << UInt64(length) : 0), high: length < 128 ? high | (length <= 64 ? ~0 : ~0 << UInt64(length - 64)) : high, length: length) == LempelZivComplexity.symmetrized(bits))
            }
        }
    }
}
