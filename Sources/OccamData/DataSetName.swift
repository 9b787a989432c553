import Foundation
import OccamTensor

/// The image classification data sets Occam reads, by the name used on the command line (`--dataset`).
///
/// Fashion-MNIST is the default and comes from Debian's `dataset-fashion-mnist`; the others are read from the
/// directory the user names (`--data-dir`) or from `$OCCAM_DATA`, in a subdirectory named `directoryName`.
public enum DataSetName: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case fashionMNIST = "fashion-mnist"
    case mnist
    case kmnist
    case cifar10

    /// The data set used when none is named: Fashion-MNIST.
    public static let defaultDataSet = DataSetName.fashionMNIST

    /// The name as written on the command line ("fashion-mnist").
    public var description: String { rawValue }

    /// The name as written in papers ("Fashion-MNIST").
    public var displayName: String {
        switch self {
        case .fashionMNIST: "Fashion-MNIST"
        case .mnist: "MNIST"
        case .kmnist: "KMNIST"
        case .cifar10: "CIFAR-10"
        }
    }

    /// The subdirectory of `--data-dir` or `$OCCAM_DATA` that holds the set's files.
    public var directoryName: String {
        switch self {
        case .fashionMNIST: FashionMNIST.directoryName
        case .mnist: "mnist"
        case .kmnist: "kmnist"
        case .cifar10: CIFAR10.directoryName
        }
    }

    /// The class names, indexed by label.
    public var classNames: [String] {
        switch self {
        case .fashionMNIST: FashionMNIST.classNames
        case .mnist: (0..<10).map(String.init)
        // Kuzushiji-MNIST's classes, in romanized hiragana (Clanuwat et al., 2018).
        case .kmnist: ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
        case .cifar10: CIFAR10.classNames
        }
    }

    /// The number of classes (10 for every set here).
    public var classCount: Int { classNames.count }

    /// Channels, height and width of one image: 1x28x28 for the MNIST family, 3x32x32 for CIFAR-10.
    public var imageShape: (channels: Int, height: Int, width: Int) {
        self == .cifar10 ? CIFAR10.imageShape : (1, 28, 28)
    }

    /// The number of examples in a split of the official release.
    public func count(_ split: DataSplit) -> Int {
        switch (self, split) {
        case (.cifar10, .train): 50_000
        case (_, .train): 60_000
        case (_, .test): 10_000
        }
    }

    /// The number of training examples held out for validation unless the user says otherwise: 5,000.
    public var defaultValidationCount: Int { 5_000 }

    /// The file names of a split (without ".gz"; each may be stored compressed or not).
    public func fileNames(_ split: DataSplit) -> [String] {
        if self == .cifar10 { return CIFAR10.fileNames(split) }
        let names = FashionMNIST.fileNames(split)
        return [names.images, names.labels]
    }

    /// Finds the directory holding every file of both splits.
    ///
    /// Fashion-MNIST is searched as `FashionMNIST.locate` does (ending with the Debian location); CIFAR-10 as
    /// `CIFAR10.locate` does. MNIST and KMNIST: with `directory`, `directory/<directoryName>` then `directory`;
    /// without, `<root>/<directoryName>` then `<root>`, where root is `occamDataRoot()` (`$OCCAM_DATA`, else
    /// `~/.local/share/occam`, where `scripts/fetch-data.sh` puts MNIST).
    /// - Returns: the first directory that holds the set, or nil; and every directory searched, in order.
    public func locate(
        directory: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (found: URL?, searched: [URL]) {
        switch self {
        case .fashionMNIST: return FashionMNIST.locate(directory: directory, environment: environment)
        case .cifar10: return CIFAR10.locate(directory: directory, environment: environment)
        case .mnist, .kmnist:
            let candidates = dataDirectoryCandidates(
                subdirectory: directoryName, directory: directory, environment: environment)
            let names = DataSplit.allCases.flatMap(fileNames)
            let found = candidates.first { candidate in
                names.allSatisfy { FashionMNIST.file($0, in: candidate) != nil }
            }
            return (found, candidates)
        }
    }
}

/// Loads a split of a named data set from the first directory where `name.locate` finds it.
///
/// - Parameters:
///   - directory: a directory the user named (`--data-dir`); when nil, `$OCCAM_DATA` (and, for Fashion-MNIST,
///     the Debian location).
///   - limit: keep only the first `limit` examples (all when nil).
/// - Returns: `n` images as rows of `[n, channels * height * width]` (CHW; `channels`, `height` and `width`
///   recorded in the result) with intensities in [0, 1], and `n` labels in `0..<10`; `n` is
///   `name.count(split)`, or `limit` if smaller.
/// - Throws: `DataSetError`: `.dataSetNotFound` (naming the directories searched and how to get the set), or
///   any error of reading and checking the files, naming the file (for CIFAR-10, each batch must hold 10000
///   records).
public func loadDataSet<Scalar: TensorScalar>(
    _ name: DataSetName = .defaultDataSet, split: DataSplit, directory: URL? = nil, limit: Int? = nil,
    environment: [String: String] = ProcessInfo.processInfo.environment, as _: Scalar.Type = Scalar.self
) throws -> LabeledImages<Scalar> {
    let location = name.locate(directory: directory, environment: environment)
    guard let found = location.found else {
        let files = DataSplit.allCases.flatMap(name.fileNames).map { name == .cifar10 ? $0 : $0 + ".gz" }
        throw DataSetError.dataSetNotFound(
            name: name.displayName, searched: location.searched, files: files, subdirectory: name.directoryName,
            debianPackage: name == .fashionMNIST ? FashionMNIST.debianPackage : nil)
    }
    let files = name.fileNames(split).map { FashionMNIST.file($0, in: found)! }
    if name == .cifar10 {
        return try LabeledImages(cifarFiles: files, expectedRecordsPerFile: CIFAR10.recordsPerFile, limit: limit)
    }
    let shape = name.imageShape
    return try LabeledImages(
        imagesFile: files[0], labelsFile: files[1], classCount: name.classCount,
        imageSize: (shape.height, shape.width), limit: limit)
}

/// The directories that may hold a data set stored in `subdirectory`: with `directory` (the user's
/// `--data-dir`), `directory/subdirectory` then `directory`; without, `occamDataRoot()/subdirectory` then
/// `occamDataRoot()` (`$OCCAM_DATA`, else the user's data directory).
func dataDirectoryCandidates(subdirectory: String, directory: URL?, environment: [String: String]) -> [URL] {
    let root: URL
    if let directory {
        root = directory
    } else if let dataRoot = occamDataRoot(environment: environment) {
        root = dataRoot
    } else {
        return []
    }
    return [root.appendingPathComponent(subdirectory), root]
}
