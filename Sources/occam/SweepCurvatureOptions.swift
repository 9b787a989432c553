import ArgumentParser
import OccamAnalysis
import OccamExperiments

/// `--curvature` and its options, for the studies that measure every network they train (Maddox, Benton &
/// Wilson 2020): the largest GGN eigenvalues, trace, N_eff (z = 1) and Laplace evidence of each final network.
struct SweepCurvatureOptions: ParsableArguments {
    @Flag(help: "Measure every final network's curvature: top eigenvalues, trace, N_eff (z = 1) and Laplace evidence (Maddox et al.).")
    var curvature = false
    @Option(parsing: .unconditional, help: "With --curvature: the first this many training images define the measured loss.")
    var curvatureSamples = 1000
    @Option(parsing: .unconditional, help: "With --curvature: how many of the largest GGN eigenvalues (Lanczos).") var curvatureTop = 100
    @Option(help: "With --curvature: all, weights (Maddox et al.: no biases) or names.") var curvatureParameters = "weights"

    /// What to measure, nil without `--curvature`; `seed` draws the trace's probe vectors.
    func sweepCurvature(seed: UInt64) -> SweepCurvature? {
        guard curvature else { return nil }
        var sweep = SweepCurvature()
        (sweep.samples, sweep.options.top, sweep.options.seed) = (curvatureSamples, curvatureTop, seed)
        sweep.parameters = ParameterSelection(parsing: curvatureParameters)
        return sweep
    }
}
