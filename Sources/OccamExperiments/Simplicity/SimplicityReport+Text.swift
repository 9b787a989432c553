import Foundation

extension SimplicityReport {
    func report(_ s: SimplicitySummary, configuration c: SimplicityConfiguration) throws -> HTMLReport {
        var sections: [HTMLReport.Section] = []
        sections.append(.init(
            title: "P(f) against K_LZ(f)", text: complexityText(s, c), image: "probability-complexity.svg",
            links: [("probability-complexity.svg", "probability-complexity.svg"), ("functions.csv", "functions.csv"), ("functions.bin", "functions.bin")]))
        sections.append(.init(
            title: "Probability by complexity", text: massText(s), image: "complexity.svg", links: [("complexity.csv", "complexity.csv")]))
        sections.append(.init(
            title: "Rank-frequency (Zipf)", text: zipfText(s), image: "rank-frequency.svg", links: [("rank-frequency.csv", "rank-frequency.csv")]))
        sections.append(.init(
            title: "The most frequent functions", text: "Truth tables as hex: bit x of the number is f(x), input x having coordinate i = bit i of x; the binary column lists f(0), f(1), ... f(2^n - 1).",
            table: topTable(s), links: [("functions.csv", "functions.csv")]))
        sections.append(.init(title: "Fraction of ones", text: onesText(s, c), image: "ones.svg", links: [("ones.csv", "ones.csv")]))
        if !s.robustness.isEmpty {
            var table = CSVTable(header: ["n", "bound", "search", "exact_inputs", "greedy", "flips", "flips_unchanged", "seconds"])
            for r in s.robustness {
                table.rows.append([
                    "\(r.size)", String(format: "%.2f", r.bound), (r.exactInputs == r.inputs ? "" : "≥ ") + meanError(r.lower), "\(r.exactInputs)/\(r.inputs)",
                    meanError(r.greedy), meanError(r.flips), "\(r.flipsUnchanged)", String(format: "%.1f", r.seconds),
                ])
            }
            sections.append(.init(
                title: "Hamming robustness (De Palma et al.)", text: robustnessText(s, c), image: "hamming-distance.svg", table: table,
                links: [("hamming-distance.svg", "hamming-distance.svg"), ("robustness.csv", "robustness.csv")]))
            sections.append(.init(title: "Random bit flips", text: flipsText(s), image: "random-flips.svg", links: [("random-flips.svg", "random-flips.svg")]))
        }
        let introduction = """
            \(s.draws) random \(c.isBiasFreePerceptron ? "bias-free perceptrons" : "ReLU networks") \(c.architecture) (weights N(0, \(c.weightScale)² / fan-in), biases N(0, \(c.biasScale)²), seed \(c.seed)) \
            evaluated on all \(1 << c.inputSize) inputs of {0,1}^\(c.inputSize); the output bit [out > 0] of each input makes the function's truth table. \
            Sampling took \(duration(s.samplingSeconds)) (\(String(format: "%.0f", s.drawsPerSecond)) draws per second). \
            \(s.distinctFunctions) distinct functions were seen, \(s.singletons) of them once. All numbers are in summary.json.
            """
        return HTMLReport(
            title: "Simplicity bias of random \(c.architecture) networks", introduction: introduction, sections: sections,
            configurationJSON: try HTMLReport.configurationText(in: directory))
    }

    private func topTable(_ s: SimplicitySummary) -> CSVTable {
        var table = CSVTable(header: ["rank", "count", "probability", "K_LZ", "ones", "name", "hex", "binary"])
        for r in s.topFunctions {
            table.rows.append(["\(r.rank)", "\(r.count)", String(format: "%.3g", r.probability), exact(r.complexity), "\(r.ones)", r.name ?? "", r.hex, r.binary])
        }
        return table
    }

    private func complexityText(_ s: SimplicitySummary, _ c: SimplicityConfiguration) -> String {
        var text = "Each point is one or more functions at their K_LZ (Lempel-Ziv 76 phrase counts of the truth table and its reverse, averaged, times log2 of its length) and their sampled probability; the lowest row is the functions seen once (P = 1/draws), which is where sampling ends, not where the distribution does. Valle-Perez et al.'s Fig. 1 shows the same axes for 10^8 draws."
        if let fit = s.envelopeFit {
            let error = fit.slopeStandardError.isFinite ? String(format: " ± %.4f", fit.slopeStandardError) : ""
            let direction: String
            if fit.slopeStandardError.isFinite && abs(fit.slope) <= 2 * fit.slopeStandardError {
                direction = "which is not distinguishable from flat within 2 standard errors"
            } else {
                direction = fit.slope < 0 ? "so the most probable function at each complexity becomes exponentially rarer as complexity grows" : "so the envelope rises with complexity: no simplicity bias in this sample"
            }
            text += "\n\nThe upper envelope (the largest P(f) at each K_LZ, over the \(fit.points) values of K_LZ whose top function was seen at least \(FunctionAnalysis.reliableCount) times) falls as log10 P = \(String(format: "%.4f", fit.slope))\(error) per unit of K_LZ (a factor of \(significant(pow(10, -fit.slope * 10))) per 10 units), \(direction)."
        } else {
            text += "\n\nToo few functions were seen \(FunctionAnalysis.reliableCount) times or more to fit the envelope: draw more networks."
        }
        return text
    }

    private func massText(_ s: SimplicitySummary) -> String {
        let low = s.complexity.filter { $0.complexity < s.randomComplexity.mean - 2 * s.randomComplexity.standardDeviation }
        let networkLow = low.reduce(0) { $0 + $1.probability }, randomLow = low.reduce(0) { $0 + $1.randomProbability }
        return "The probability that a random network's function has a given K_LZ, beside the same for \(FunctionAnalysis.randomStrings) uniformly random truth tables (what an unbiased prior over functions would give). "
            + "Mean K_LZ: \(String(format: "%.1f", s.meanComplexity)) for the networks, \(String(format: "%.1f", s.randomComplexity.mean)) ± \(String(format: "%.1f", s.randomComplexity.standardDeviation)) (sd) for random functions. "
            + "Functions more than 2 sd simpler than the random mean take \(String(format: "%.1f", 100 * networkLow))% of the networks' draws and \(String(format: "%.2f", 100 * randomLow))% of random functions."
    }

    private func zipfText(_ s: SimplicitySummary) -> String {
        var text = "P(f) of the r-th most frequent function against r, both on log scales. Valle-Perez et al. find a Zipf-like law, P ∝ 1/r."
        if let fit = s.zipfFit, fit.points >= 3 {
            text += " Over the \(fit.points) functions seen at least \(FunctionAnalysis.reliableCount) times the slope is \(String(format: "%.2f", fit.slope)) (Zipf: -1)."
        }
        return text
    }

    private func onesText(_ s: SimplicitySummary, _ c: SimplicityConfiguration) -> String {
        let n = 1 << c.inputSize
        let constant = s.ones[0] + s.ones[n]
        let mean = s.ones.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element } / Double(n)
        var text = "The distribution of T, the number of inputs classified 1, as a fraction of the \(n) inputs. Constant functions (T = 0 or \(n)) take \(String(format: "%.2f", 100 * constant))% of the draws; the mean fraction of ones is \(String(format: "%.3f", mean)). A uniformly random function has T binomial around \(n / 2)."
        if let check = s.perceptronCheck {
            text += "\n\nExact check (bias-free perceptron): P(T = t) = 2^-\(c.inputSize) for every t = 0 ... \(n - 1), and T = \(n) never occurs (the all-zero input has output 0). "
            text += "Sampled: T = \(n) in \(String(format: "%.3g", s.ones[n] * Double(s.draws))) draws; chi-square \(String(format: "%.1f", check.statistic)) on \(check.degreesOfFreedom) degrees of freedom, p = \(String(format: "%.3g", check.pValue)): "
            text += check.pValue > 0.001 && s.ones[n] == 0 ? "consistent with the exact distribution." : "the sample departs from the exact distribution (p ≤ 0.001 or T = \(n) seen)."
        }
        return text
    }

    private func robustnessText(_ s: SimplicitySummary, _ c: SimplicityConfiguration) -> String {
        let rows = s.robustness
        var text = "Networks \(rows.map { "\($0.size)" }.joined(separator: ", "))-\(c.robustnessWidth)-\(c.robustnessWidth)-1 on ±1 strings, \(c.robustnessNetworks) networks per length with \(c.robustnessInputs) random inputs each (means over a network's inputs, then mean ± standard error over networks). "
        text += "The exact distance searches all strings at distance 1, 2, ... while the whole next distance fits in \(c.searchBudget) strings; greedy descent flips, one at a time, the bit that brings the output closest to the other class, an upper bound on the distance that is computed for every n. "
        let checked = rows.filter { $0.exactInputs > 0 }
        let longer = checked.reduce(0) { $0 + $1.greedyLonger }, both = checked.reduce(0) { $0 + $1.exactInputs }
        if both > 0 { text += "Where both are known (\(both) inputs), greedy descent was longer than the nearest string \(longer) times. " }
        // The mean nearest distance lies between the search's lower bound (exact where every input finished)
        // and the greedy upper bound.
        let above = rows.filter { $0.lower.mean > $0.bound }, below = rows.filter { $0.greedy.mean < $0.bound }
        let open = rows.filter { $0.lower.mean <= $0.bound && $0.greedy.mean >= $0.bound }
        func sizes(_ rows: [RobustnessRow]) -> String { rows.map { "\($0.size)" }.joined(separator: ", ") }
        text += "The mean nearest distance lies between the search's value (exact where every input finished, at n = \(sizes(rows.filter { $0.exactInputs == $0.inputs })); else a lower bound) and the greedy one. "
        if !above.isEmpty { text += "It is above De Palma et al.'s bound sqrt(n / (2π ln n)) at n = \(sizes(above)) (even the lower bound is). " }
        if !below.isEmpty { text += "It is below the bound at n = \(sizes(below)) (even the greedy upper bound is); the bound is proved for wide networks and large n. " }
        if !open.isEmpty { text += "At n = \(sizes(open)) the bound lies between the two, so this sample cannot tell. " }
        if let last = rows.last {
            text += "A uniformly random function's mean distance is 1; at n = \(last.size) the networks' is at least \(String(format: "%.2f", last.lower.mean))."
        }
        return text
    }

    private func flipsText(_ s: SimplicitySummary) -> String {
        let unchanged = s.robustness.reduce(0) { $0 + $1.flipsUnchanged }, inputs = s.robustness.reduce(0) { $0 + $1.inputs }
        var text = "Bits of the input flipped one at a time in a random order (each at most once) until the class changes; a uniformly random function changes class after 2 flips on average. The means are over the inputs whose class changed; \(unchanged) of the \(inputs) inputs kept their class through all n flips (a network close to constant), and counting those as n flips gives the dashed line."
        if let fit = s.flipsFit {
            let error = fit.slopeStandardError.isFinite ? String(format: " ± %.4f", fit.slopeStandardError) : ""
            text += " A line through the means: \(String(format: "%.4f", fit.slope))\(error) flips per bit"
            text += fit.slopeStandardError.isFinite && fit.slope > 2 * fit.slopeStandardError ? ", so the number of flips grows with n, as De Palma et al. prove (linearly)." : ", not distinguishable from no growth."
            if let last = s.robustness.last {
                text += " At n = \(last.size): \(String(format: "%.1f", last.flips.mean)) flips, \(String(format: "%.0f", last.flips.mean / 2))x a random function's."
            }
        }
        return text
    }
}

private func meanError(_ spread: Spread) -> String {
    guard spread.count > 0, spread.mean.isFinite else { return "-" }
    return spread.standardError.isFinite ? String(format: "%.2f ± %.2f", spread.mean, spread.standardError) : String(format: "%.2f", spread.mean)
}

private func duration(_ seconds: Double) -> String {
    seconds < 120 ? String(format: "%.1f s", seconds) : String(format: "%.1f min", seconds / 60)
}
