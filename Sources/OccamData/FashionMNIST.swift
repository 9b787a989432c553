import Foundation
import OccamTensor

/// Which part of a data set: the training examples or the held-out test examples.
public enum DataSplit: String, Sendable, CaseIterable, Codable {
    case train, test

    /// The prefix of the split's IDX file names in the MNIST family ("train", "t10k").
    public var filePrefix: String { self == .train ? "train" : "t10k" }
}

/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grayscale images of clothing in 10 classes,
/// 60000 for training and 10000 for testing. Occam's default data set.
public enum FashionMNIST {
    /// Where Debian's package `dataset-fashion-mnist` installs the set.
    public static let systemDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    /// The Debian package that installs the set.
    public static let debianPackage = "dataset-fashion-mnist"
    /// The subdirectory of `$OCCAM_DATA` (or of a `--data-dir`) that may hold the set.
    public static let directoryName = "fashion-mnist"
    /// The class names, indexed by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    /// Image height and width in pixels.
    public static let imageSize = (height: 28, width: 28)

    /// The file names of a split's images and labels, without ".gz".
    public static func fileNames(_ split: DataSplit) -> (images: String, labels: String) {
        ("\(split.filePrefix)-images-idx3-ubyte", "\(split.filePrefix)-labels-idx1-ubyte")
    }

    /// Finds the directory holding all four files (each gzip-compressed or not).
    ///
    /// Searched in order: with `directory`, that directory and its subdirectory "fashion-mnist" only;
    /// without, `<root>/fashion-mnist`, `<root>` (root: `occamDataRoot()`, `$OCCAM_DATA` or the user's data directory),
    /// then `systemDirectory`.
    /// - Returns: the first directory that holds the set, or nil; and every directory searched, in order.
    public static func locate(
        directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (found: URL?, searched: [URL]) {
        var candidates: [URL] = []
        if let directory {
            candidates = [directory, directory.appendingPathComponent(directoryName)]
        } else {
            if let rootURL = occamDataRoot(environment: environment) {
                candidates = [rootURL.appendingPathComponent(directoryName), rootURL]
            }
            candidates.append(systemDirectory)
        }
        let found = candidates.first { candidate in
            DataSplit.allCases.allSatisfy { split in
                let names = fileNames(split)
                return file(names.images, in: candidate) != nil && file(names.labels, in: candidate) != nil
            }
        }
        return (found, candidates)
    }

    /// The file `name.gz` in `directory`, else `name`, else the same with the dot-named spelling of MNIST's
    /// original distribution ("train-images.idx3-ubyte" for "train-images-idx3-ubyte"), else nil.
    static func file(_ name: String, in directory: URL) -> URL? {
        let dotted = name.replacingOccurrences(of: "-idx", with: ".idx")
        return [name + ".gz", name, dotted + ".gz", dotted].lazy.map { directory.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }
}

/// Loads a split of Fashion-MNIST from the first directory where `FashionMNIST.locate` finds it.
///
/// - Parameters:
///   - limit: keep only the first `limit` examples (all when nil).
///   - directory: a directory the user named (`--data-dir`); when nil, `$OCCAM_DATA` and the Debian location.
/// - Returns: images of shape `[n, 784]` with intensities in [0, 1]; `n` labels in `0..<10`
///   (n = 60000 for `.train`, 10000 for `.test`, or `limit`).
/// - Throws: `DataSetError`: `.dataSetNotFound` (naming where Occam looked and how to install the set), or
///   any error of reading and checking the files (`LabeledImages.init(imagesFile:labelsFile:...)`).
public func loadFashionMNIST<Scalar: TensorScalar>(
    split: DataSplit, limit: Int? = nil, directory: URL? = nil, as _: Scalar.Type = Scalar.self
) throws -> LabeledImages<Scalar> {
    let location = FashionMNIST.locate(directory: directory)
    guard let found = location.found else {
        let names = DataSplit.allCases.flatMap { split in
            let names = FashionMNIST.fileNames(split)
            return [names.images + ".gz", names.labels + ".gz"]
        }
        throw DataSetError.dataSetNotFound(
            name: "Fashion-MNIST", searched: location.searched, files: names,
            subdirectory: FashionMNIST.directoryName, debianPackage: FashionMNIST.debianPackage)
    }
    let names = FashionMNIST.fileNames(split)
    return try LabeledImages(
        imagesFile: FashionMNIST.file(names.images, in: found)!,
        labelsFile: FashionMNIST.file(names.labels, in: found)!,
        classCount: FashionMNIST.classNames.count, imageSize: FashionMNIST.imageSize, limit: limit)
}
