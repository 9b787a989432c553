import ArgumentParser
import COpenBLAS
import Foundation
import OccamData
import OccamTensor

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the set-up: which BLAS is linked, whether LAPACKE works, which data sets are installed."
    )

    @Option(help: "Directory holding the data sets (default: $OCCAM_DATA, else ~/.local/share/occam; Fashion-MNIST also /usr/share/datasets).")
    var dataDir: String?

    func run() throws {
        var healthy = true
        print("BLAS")
        print("  library:     \(linkedLibrary(containing: "libopenblas") ?? "not found in the process map")")
        print("  config:      \(String(cString: openblas_get_config()))")
        print("  core type:   \(String(cString: openblas_get_corename()))" + environmentNote("OPENBLAS_CORETYPE"))
        print("  threads:     \(BLASThreads.maximum) for large products, 1 below \(BLASThreads.multiThreadThreshold) multiply-adds"
              + environmentNote("OPENBLAS_NUM_THREADS"))
        print("  parallelism: \(["sequential", "pthreads", "OpenMP"][Int(openblas_get_parallel())] )")

        print("LAPACKE")
        print("  library:     \(linkedLibrary(containing: "liblapacke") ?? "not found in the process map")")
        do {
            try checkLAPACK()
            print("  check:       ok (Cholesky solve, symmetric eigenvalues and SVD of small known matrices)")
        } catch {
            healthy = false
            print("  check:       FAILED: \(error)")
        }

        print("Data sets")
        for dataset in DataSetName.allCases {
            let location = dataset.locate(directory: dataDir.map { URL(fileURLWithPath: $0) })
            let name = (dataset.rawValue + (dataset == .defaultDataSet ? " (default)" : "") + ":").padding(toLength: 26, withPad: " ", startingAt: 0)
            if let found = location.found {
                print("  \(name)found in \(found.path)")
            } else {
                print("  \(name)missing (looked in \(location.searched.map(\.path).joined(separator: ", ")))")
                print("  \("".padding(toLength: 26, withPad: " ", startingAt: 0))get it: \(howToGet(dataset))")
            }
        }
        if !healthy { throw ExitCode.failure }
    }

    /// The command or place that provides a missing data set.
    private func howToGet(_ dataset: DataSetName) -> String {
        switch dataset {
        case .fashionMNIST: "\(getuid() == 0 ? "" : "sudo ")apt-get install \(FashionMNIST.debianPackage)  (or set OCCAM_DATA / --data-dir)"
        case .mnist: "scripts/fetch-data.sh mnist  (into $OCCAM_DATA/mnist, default ~/.local/share/occam/mnist)"
        case .kmnist, .cifar10: "download it into $OCCAM_DATA/\(dataset.directoryName) (or name a directory with --data-dir)"
        }
    }

    /// A tiny solve, eigendecomposition and SVD with known answers.
    private func checkLAPACK() throws {
        let a = Tensor<Double>(rows: [[4, 2, 0], [2, 5, 2], [0, 2, 5]])
        let x = try a.choleskyFactor().choleskySolve(Tensor([6, 9, 7]))
        guard x.isClose(to: Tensor([1, 1, 1]), relativeTolerance: 1e-12) else {
            throw ValidationError("Cholesky solve returned \(x.scalars), expected [1, 1, 1]")
        }
        let eigenvalues = try Tensor<Double>(rows: [[2, 1], [1, 2]]).symmetricEigendecomposition().values
        guard eigenvalues.isClose(to: Tensor([1, 3]), relativeTolerance: 1e-12) else {
            throw ValidationError("syevd returned eigenvalues \(eigenvalues.scalars), expected [1, 3]")
        }
        let singular = try Tensor<Float>(rows: [[3, 0], [0, -4]]).singularValueDecomposition().singularValues
        guard singular.scalars == [4, 3] else {
            throw ValidationError("gesdd returned singular values \(singular.scalars), expected [4, 3]")
        }
    }

    /// The path of the first mapped shared library whose name contains `name`.
    private func linkedLibrary(containing name: String) -> String? {
        // /proc files report size 0, so read the stream to its end rather than by size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps"),
              let data = try? handle.readToEnd() else { return nil }
        let maps = String(decoding: data, as: UTF8.self)
        for line in maps.split(separator: "\n") {
            if let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.contains(name) {
                let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: String(path))) ?? String(path)
                return resolved == String(path) ? resolved : "\(path) -> \(resolved)"
            }
        }
        return nil
    }

    private func environmentNote(_ variable: String) -> String {
        guard let value = ProcessInfo.processInfo.environment[variable] else { return "" }
        return " (\(variable)=\(value) is set)"
    }
}
