import ArgumentParser
import OccamNN
import OccamTensor

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the models with their parameter counts for 1x28x28 and 3x32x32 inputs.")

    @Option(help: "Hidden widths of mlp, comma-separated.")
    var widths = "512"

    @Option(parsing: .unconditional, help: "k of mcnn; the channel multiplier of resnet-20.")
    var width = 1

    @Option(parsing: .unconditional, help: "Number of classes.")
    var classes = 10

    func run() throws {
        let options = ModelZoo.Options(widths: try parseWidths(widths), width: width)
        print("model           1x28x28     3x32x32     description")
        for entry in ModelZoo.catalog {
            let counts = try [[1, 28, 28], [3, 32, 32]].map { shape -> String in
                var random = RandomGenerator(seed: 0)
                let model = try ModelZoo.build(entry.name, inputShape: shape, classes: classes, options: options, as: Float.self)
                return String(model.initialParameters(using: &random).scalarCount)
            }
            print(entry.name.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + counts.map { $0.padding(toLength: 12, withPad: " ", startingAt: 0) }.joined() + entry.description)
        }
    }
}

/// "512,512,512" → [512, 512, 512].
func parseWidths(_ text: String) throws -> [Int] {
    try parsePositiveIntegers(text, option: "--widths", example: "512,512,512")
}

/// "1000,2000,5000" → [1000, 2000, 5000]: positive whole numbers separated by commas, the value of `option`.
func parsePositiveIntegers(_ text: String, option: String, example: String) throws -> [Int] {
    // Empty parts ("10,,10", "10,") are errors, not skipped.
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("\(option) must be positive whole numbers separated by commas, like \(example) (got \"\(text)\").")
    }
    return values.map { $0! }
}
