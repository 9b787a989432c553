import Foundation

/// How big a claim's protocol is: `cpu` runs in minutes to an hour on 2 cores; `paper` uses the paper's own
/// sizes and is meant for a cluster (`--slurm`) or a long run.
public enum ReproductionScale: String, Codable, Sendable, CaseIterable { case cpu, paper }

/// One number from a paper, the Occam study that measures it, and the rule that judges the measurement.
///
/// A claim runs an existing study command (its arguments, `occam` and `--out` left out) so the run store
/// skips whatever that study has already finished; `measure` reads the study's run directory.
public struct ReproductionClaim: Sendable {
    /// The name used on the command line ("kernel-mnist-pixels").
    public var id: String
    /// What the paper found, in one sentence.
    public var statement: String
    /// Authors, year, and where in the paper ("Zhang et al. 2017, Sec. 5").
    public var source: String
    /// The paper's number, as the paper gives it ("1.2% test error").
    public var paperResult: String
    /// What `measure` returns, with its unit ("test error (%)").
    public var quantity: String
    /// The study command's arguments at each scale.
    public var arguments: [ReproductionScale: [String]]
    /// How the cpu-scale protocol differs from the paper's.
    public var cpuDifferences: [String]
    /// Fixed before measuring.
    public var rule: VerdictRule
    /// The measured quantity over replicates, read from the study's run directory.
    public var measure: @Sendable (_ runDirectory: URL) throws -> Spread

    public init(
        id: String, statement: String, source: String, paperResult: String, quantity: String,
        cpuArguments: [String], paperArguments: [String], cpuDifferences: [String], rule: VerdictRule,
        measure: @escaping @Sendable (_ runDirectory: URL) throws -> Spread
    ) {
        (self.id, self.statement, self.source, self.paperResult, self.quantity) = (id, statement, source, paperResult, quantity)
        arguments = [.cpu: cpuArguments, .paper: paperArguments]
        (self.cpuDifferences, self.rule, self.measure) = (cpuDifferences, rule, measure)
    }

    /// The shell command that runs the claim's study at `scale`.
    public func commandLine(_ scale: ReproductionScale) -> String {
        (["occam"] + (arguments[scale] ?? [])).joined(separator: " ")
    }
}

/// A claim's outcome: what was measured, and the verdict of the claim's rule on it.
public struct ReproductionResult: Sendable {
    public var claim: ReproductionClaim
    public var scale: ReproductionScale
    /// nil when the study has not been run (or has not finished) here.
    public var measured: Spread?
    public var runDirectory: URL?
    public var seconds: Double

    public init(claim: ReproductionClaim, scale: ReproductionScale, measured: Spread?, runDirectory: URL?, seconds: Double) {
        (self.claim, self.scale, self.measured, self.runDirectory, self.seconds) = (claim, scale, measured, runDirectory, seconds)
    }

    public var verdict: Verdict { measured.map(claim.rule.verdict) ?? .notMeasured }
}
