import OccamExperiments
import OccamNN

/// A command's training defaults: `TrainingOptions` states them in its help, so each command's help names its
/// own defaults and no other command's.
protocol TrainingRecipe {
    /// The configuration the options change.
    static var defaults: TrainingConfiguration { get }
    /// What --widths means for the command.
    static var widthsHelp: String { get }
    /// How often runs log the Fisher trace unless --fisher-every says otherwise ("0": never).
    static var fisherEvery: String { get }
}

extension TrainingRecipe {
    static var fisherEvery: String { "0" }

    static var widthsHelp: String {
        "Hidden widths of mlp, comma-separated (default \(defaults.widths.map(String.init).joined(separator: ",")))."
    }
}

/// Frankle & Carbin's LeNet-300-100 recipe: `occam train`, `lottery` and `connectivity`.
enum LeNetRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { TrainingConfiguration() }
}

/// Zhang et al.'s MLP recipe at CPU scale: `occam randomize`.
enum RandomizeRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { RandomizeConfiguration.defaultTraining }
}

/// The width sweep's recipe: `occam double-descent networks`.
enum WidthSweepRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { DoubleDescentNetworksConfiguration.defaultTraining }
    static var widthsHelp: String {
        "The widths to sweep, comma-separated: mlp's hidden width, mcnn's k, resnet-20's channel multiplier (default \(DoubleDescentNetworksConfiguration.defaultWidths.map(String.init).joined(separator: ",")))."
    }
}

/// Achille et al.'s protocol at CPU scale: `occam critical-period` (the Fisher trace logged every epoch).
enum CriticalPeriodRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { CriticalPeriodConfiguration.defaultTraining }
    static var fisherEvery: String { "1ep" }
}

/// Frankle & Carbin's LeNet-300-100 recipe for 5,000 iterations without a validation split: `occam early-phase`.
enum EarlyPhaseRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { EarlyPhaseConfiguration.defaultTraining }
}

/// Hinton et al.'s student at CPU scale (an MLP 800-800 on 10,000 images): `occam distill`.
enum DistillationRecipe: TrainingRecipe {
    static var defaults: TrainingConfiguration { DistillationConfiguration.defaultStudent }
    static var widthsHelp: String {
        "Hidden widths of the student mlp, comma-separated (default \(defaults.widths.map(String.init).joined(separator: ",")))."
    }
}
