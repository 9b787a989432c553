import Foundation

/// A problem with a data set on disk: the user's to fix, so each description names the file, what is wrong,
/// and what to do about it.
public enum DataSetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file at this path.
    case fileNotFound(URL)
    /// The file exists but cannot be opened or read (permissions, a directory, an I/O error).
    case unreadable(URL, reason: String)
    /// The first four bytes are not an IDX magic number of the expected form (`found`, big-endian).
    /// `expected` is the magic number the caller asked for, if any.
    case wrongMagic(URL, found: UInt32, expected: UInt32?)
    /// An IDX element type other than unsigned bytes (0x08).
    case unsupportedDataType(URL, code: UInt8)
    /// The header is well-formed in layout but impossible (a negative or overflowing dimension).
    case invalidHeader(URL, reason: String)
    /// The (decompressed) file holds fewer bytes than its header declares.
    case truncated(URL, expectedBytes: Int, actualBytes: Int)
    /// The (decompressed) file holds more bytes than its header declares.
    case trailingBytes(URL, expectedBytes: Int, extraBytes: Int)
    /// zlib could not decompress the gzip stream; `message` is gzerror's.
    case corruptCompressedStream(URL, message: String)
    /// The file's dimensions are not the ones this data set has.
    case unexpectedDimensions(URL, expected: [Int], found: [Int])
    /// A label outside `0..<classCount`, at position `index` of the labels file.
    case labelOutOfRange(URL, index: Int, label: Int, classCount: Int)
    /// The images and labels files hold different numbers of examples.
    case countMismatch(images: URL, imageCount: Int, labels: URL, labelCount: Int)
    /// A file of fixed-size records (CIFAR-10's binary batches) whose (decompressed) length, `fileBytes`, is
    /// not a whole number of `recordBytes`-byte records.
    case partialRecord(URL, recordBytes: Int, fileBytes: Int)
    /// The configuration asks for more examples of the set than it has: `requested` for `purpose`, where
    /// `available` are.
    case tooFewExamples(name: String, available: Int, requested: Int, purpose: String)
    /// The data set is in none of the directories searched. `files` are the file names looked for;
    /// `subdirectory` is the set's directory name under `$OCCAM_DATA`; `debianPackage` installs it, if any.
    case dataSetNotFound(name: String, searched: [URL], files: [String], subdirectory: String, debianPackage: String?)

    public var description: String {
        switch self {
        case .fileNotFound(let url):
            if isDebianFile(url) { return "\(url.path): no such file. " + fix(for: url) }
            return "\(url.path): no such file. Check the path, or download the data set again."
        case .unreadable(let url, let reason):
            return "\(url.path): cannot be read (\(reason)). "
                + "Check its permissions, or \(fix(for: url, capitalized: false))"
        case .wrongMagic(let url, let found, let expected):
            var text = "\(url.path): not an IDX file of the expected kind: its magic number is \(hex(found)) "
                + "(\(describeMagic(found)))"
            if let expected { text += ", expected \(hex(expected)) (\(describeMagic(expected)))" }
            return text + ". " + fix(for: url)
        case .unsupportedDataType(let url, let code):
            return "\(url.path): IDX element type 0x\(String(code, radix: 16, uppercase: true)) is not supported; "
                + "Occam reads unsigned bytes (0x08). " + fix(for: url)
        case .invalidHeader(let url, let reason):
            return "\(url.path): invalid IDX header: \(reason). " + fix(for: url)
        case .truncated(let url, let expected, let actual):
            if actual == 0 { return "\(url.path): the file is empty. " + fix(for: url) }
            return "\(url.path): truncated: it holds \(actual) bytes (after decompression) where its header "
                + "requires \(expected). " + fix(for: url)
        case .trailingBytes(let url, let expected, let extra):
            return "\(url.path): \(extra) unexpected bytes after the \(expected) that its header declares. "
                + fix(for: url)
        case .corruptCompressedStream(let url, let message):
            return "\(url.path): the gzip stream is corrupt (zlib: \(message)). " + fix(for: url)
        case .unexpectedDimensions(let url, let expected, let found):
            return "\(url.path): dimensions \(found), expected \(expected). " + fix(for: url)
        case .labelOutOfRange(let url, let index, let label, let classCount):
            return "\(url.path): label \(label) at index \(index) is outside 0..<\(classCount). " + fix(for: url)
        case .partialRecord(let url, let recordBytes, let fileBytes):
            return "\(url.path): \(fileBytes) bytes is not a whole number of \(recordBytes)-byte records "
                + "(\(fileBytes / recordBytes) records and \(fileBytes % recordBytes) bytes over): the file is "
                + "truncated or not in the expected format. " + fix(for: url)
        case .tooFewExamples(let name, let available, let requested, let purpose):
            return "\(name) has \(available) training examples available, but \(requested) were asked to be "
                + "\(purpose). Ask for fewer."
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            return "\(images.path) holds \(imageCount) images but \(labels.path) holds \(labelCount) labels; "
                + "they must come from the same split of the same data set. " + fix(for: images)
        case .dataSetNotFound(let name, let searched, let files, let subdirectory, let package):
            var text = "\(name) not found. Occam looked for \(files.joined(separator: ", ")) "
                + "(each .gz or uncompressed)"
            if searched.isEmpty {
                text += ", but no directory to look in: neither --data-dir nor OCCAM_DATA is set.\n"
            } else {
                text += " in:\n" + searched.map { "  \($0.path)\n" }.joined()
            }
            if let package {
                text += "Install it with `\(aptGet("install", package))`, or "
            } else if let source = downloadSources[subdirectory] {
                text += "Download it from \(source), and "
            } else {
                text += "Download it and "
            }
            text += "put the files in a directory and pass it with --data-dir, "
                + "or put them in $OCCAM_DATA/\(subdirectory)."
            return text
        }
    }
}

/// Data sets that a Debian package installs: (directory, package).
let debianDataSets: [(directory: String, package: String)] = [
    (FashionMNIST.systemDirectory.path, FashionMNIST.debianPackage),
]

/// Where to download the data sets that no Debian package installs, by their directory name under
/// `$OCCAM_DATA`.
let downloadSources: [String: String] = [
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/ (the four *-ubyte.gz files)",
    "kmnist": "http://codh.rois.ac.jp/kmnist/ (the four MNIST-format *-ubyte.gz files)",
    "cifar-10-batches-bin": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz "
        + "(the binary version; `tar xzf` unpacks it into cifar-10-batches-bin)",
]

/// How to get a good copy of the file at `url`.
private func fix(for url: URL, capitalized: Bool = true) -> String {
    if let known = debianDataSet(holding: url) {
        return (capitalized ? "Reinstall" : "reinstall") + " it with `\(aptGet("install --reinstall", known.package))`."
    }
    return (capitalized ? "Replace" : "replace") + " it with a fresh copy of the data set."
}

/// The Debian data set whose directory holds `url`, if any.
private func debianDataSet(holding url: URL) -> (directory: String, package: String)? {
    let path = url.standardizedFileURL.path
    return debianDataSets.first { path.hasPrefix($0.directory + "/") }
}

private func isDebianFile(_ url: URL) -> Bool { debianDataSet(holding: url) != nil }

/// An apt-get command line, with sudo unless running as root.
private func aptGet(_ verb: String, _ package: String) -> String {
    (geteuid() == 0 ? "" : "sudo ") + "apt-get \(verb) \(package)"
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// A guess at what a file with this magic number is, for the error message.
private func describeMagic(_ magic: UInt32) -> String {
    if magic >> 16 == 0x1F8B { return "a gzip header: the file is compressed twice or damaged" }
    if magic >> 16 == 0 {
        let type = (magic >> 8) & 0xFF
        let name = type == 0x08 ? "unsigned bytes" : "element type 0x" + String(type, radix: 16, uppercase: true)
        return "\(name), rank \(magic & 0xFF)"
    }
    let bytes = (0..<4).map { UInt8(truncatingIfNeeded: magic >> (24 - 8 * $0)) }
    if bytes.allSatisfy({ (0x20...0x7E).contains($0) }) {
        return "text \"\(String(decoding: bytes, as: UTF8.self))\": perhaps an HTML page saved instead of the data"
    }
    return "not an IDX header"
}
