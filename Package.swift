// swift-tools-version: 6.0
import PackageDescription

// Tensor and Variable are generic over Float and Double; callers in other modules must be able to specialize
// them, or every operation pays for runtime generic-metadata lookups (measured: 70% of a small SGD step).
let crossModuleOptimization: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "Occam",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "occam", targets: ["occam"]),
        .library(name: "OccamTensor", targets: ["OccamTensor"]),
        .library(name: "OccamAutograd", targets: ["OccamAutograd"]),
        .library(name: "OccamData", targets: ["OccamData"]),
        .library(name: "OccamNN", targets: ["OccamNN"]),
        .library(name: "OccamAnalysis", targets: ["OccamAnalysis"]),
        .library(name: "OccamExperiments", targets: ["OccamExperiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Element-wise kernels in C, compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time;
        // no fused multiply-adds, so they round as the Swift code they replace.
        .target(name: "COccamKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off", "-fno-math-errno"])]),
        .target(name: "OccamTensor", dependencies: ["COpenBLAS", "COccamKernels"], swiftSettings: crossModuleOptimization),
        .target(name: "OccamAutograd", dependencies: ["OccamTensor"], swiftSettings: crossModuleOptimization),
        .target(name: "OccamData", dependencies: ["OccamTensor", "CZlib"], swiftSettings: crossModuleOptimization),
        .target(
            name: "OccamNN", dependencies: ["OccamTensor", "OccamAutograd", "OccamData", "COccamKernels"],
            swiftSettings: crossModuleOptimization),
        .target(
            name: "OccamAnalysis", dependencies: ["OccamTensor", "OccamAutograd", "OccamData", "OccamNN"],
            swiftSettings: crossModuleOptimization),
        .target(
            name: "OccamExperiments", dependencies: ["OccamTensor", "OccamAutograd", "OccamData", "OccamNN", "OccamAnalysis"],
            swiftSettings: crossModuleOptimization),
        .executableTarget(
            name: "occam",
            dependencies: [
                "OccamExperiments", "OccamAnalysis", "OccamNN", "OccamData", "OccamTensor", "COpenBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "OccamBenchmarks",
            dependencies: ["OccamTensor", "OccamAutograd", "COpenBLAS"],
            path: "Benchmarks/OccamBenchmarks"
        ),
        .testTarget(
            name: "OccamTests",
            dependencies: ["OccamTensor", "OccamAutograd", "OccamData", "OccamNN", "OccamAnalysis", "OccamExperiments"],
            exclude: ["Support"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
