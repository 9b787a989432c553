import Foundation
import OccamData
import OccamNN

/// What a PyTorch state dict (a safetensors file without Occam's metadata) holds, from the options that name
/// it: --model, --widths, --width and --dataset (default fashion-mnist).
/// - Throws: `CheckpointError.incompatible` naming the options to pass when `model` is nil; a `ValidationError`
///   for malformed widths.
func stateDictConfiguration(
    for url: URL, model: String?, widths: String?, width: Int?, dataset: DataSetName?
) throws -> TrainingConfiguration {
    guard let model else {
        throw CheckpointError.incompatible(
            url, reason: "it has no Occam metadata (occam.config), so it is not a checkpoint written by occam. "
                + "If it is a PyTorch state dict (safetensors.torch.save_file(model.state_dict(), path)), say which model "
                + "it holds: --model NAME (with --widths or --width if the model takes them), --dataset and --precision")
    }
    var configuration = TrainingConfiguration()
    configuration.model = model
    if let widths { configuration.widths = try parseWidths(widths) }
    if let width { configuration.width = width }
    if let dataset { configuration.dataset = dataset }
    return configuration
}
