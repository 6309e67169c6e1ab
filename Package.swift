// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "StrataCore", targets: ["StrataCore"]),
        .library(name: "StrataIO", targets: ["StrataIO"]),
        .library(name: "StrataSynth", targets: ["StrataSynth"]),
        .library(name: "StrataDepth", targets: ["StrataDepth"]),
        .library(name: "StrataSphere", targets: ["StrataSphere"]),
        .library(name: "StrataNN", targets: ["StrataNN"]),
        .library(name: "StrataLayers", targets: ["StrataLayers"]),
        .library(name: "StrataFluid", targets: ["StrataFluid"]),
        .library(name: "StrataMotion", targets: ["StrataMotion"]),
        .executable(name: "strata", targets: ["strata"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries and C plumbing.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "CStrataCodecs",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("z")]
        ),

        // Library modules, each depending only on those above it.
        .target(name: "CStrataKernels"),
        // OpenCV's tracking and multi-view geometry and Ceres's bundle adjustment behind a C API
        // (Debian's component packages; OpenCV's ship no pkg-config file, hence the header paths).
        .target(name: "CStrataVision",
                cxxSettings: [.unsafeFlags(["-I/usr/include/opencv4", "-I/usr/include/eigen3"])],
                linkerSettings: [.linkedLibrary("opencv_core"), .linkedLibrary("opencv_imgproc"), .linkedLibrary("opencv_video"),
                                 .linkedLibrary("opencv_calib3d"), .linkedLibrary("opencv_features2d"), .linkedLibrary("ceres"), .linkedLibrary("glog")]),
        .target(name: "StrataCore", dependencies: ["CStrataKernels"]),
        .target(name: "StrataIO", dependencies: ["StrataCore", "CStrataCodecs", "CFFmpeg"]),
        .target(name: "StrataSynth", dependencies: ["StrataCore"]),  // writes files only through the CLI
        .target(name: "StrataSphere", dependencies: ["StrataCore", "CStrataKernels"]),
        .target(name: "StrataNN", dependencies: ["StrataCore", "CStrataKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "StrataDepth", dependencies: ["StrataCore", "StrataSphere", "StrataNN", "COpenBLAS"]),
        .target(name: "StrataLayers", dependencies: ["StrataCore"]),
        .target(name: "StrataFluid", dependencies: ["StrataCore", "CStrataKernels"]),
        .target(name: "StrataMotion", dependencies: ["StrataCore", "StrataSphere", "CStrataKernels", "CStrataVision"]),
        .target(name: "StrataPipeline", dependencies: ["StrataCore"]),
        .target(name: "StrataStages", dependencies: ["StrataCore", "StrataIO", "StrataSynth", "StrataSphere", "StrataDepth", "StrataLayers", "StrataFluid", "StrataMotion", "StrataPipeline"]),

        // The executable: a thin ArgumentParser layer.
        .executableTarget(
            name: "strata",
            dependencies: ["StrataCore", "StrataIO", "StrataSynth", "StrataSphere", "StrataDepth", "StrataNN", "StrataPipeline", "StrataStages",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "strata-bench",
            dependencies: ["StrataCore", "StrataIO", "StrataNN", "StrataDepth", "StrataPipeline", "StrataSphere", "StrataSynth", "StrataFluid",
                           "StrataMotion", "CStrataKernels", "COpenBLAS", "CStrataBench"],
            path: "Benchmarks/StrataBench"
        ),
        .target(name: "CStrataBench", path: "Benchmarks/CStrataBench"),

        .testTarget(name: "StrataCoreTests", dependencies: ["StrataCore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataIOTests", dependencies: ["StrataCore", "StrataIO", "CFFmpeg"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataDepthTests", dependencies: ["StrataCore", "StrataIO", "StrataNN", "StrataSynth", "StrataSphere", "StrataDepth"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataSynthTests", dependencies: ["StrataCore", "StrataSynth"]),
        .testTarget(name: "StrataLayersTests", dependencies: ["StrataCore", "StrataIO", "StrataSynth", "StrataLayers"]),
        .testTarget(name: "StrataFluidTests", dependencies: ["StrataCore", "StrataFluid", "CStrataKernels"]),
        .testTarget(name: "StrataMotionTests", dependencies: ["StrataCore", "StrataIO", "StrataSynth", "StrataMotion"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataNNTests", dependencies: ["StrataCore", "StrataIO", "StrataNN", "StrataSphere", "StrataSynth",
                                                          .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataSphereTests", dependencies: ["StrataCore", "StrataIO", "StrataSynth", "StrataSphere"], resources: [.copy("Fixtures")]),
        .testTarget(name: "StrataPipelineTests", dependencies: ["StrataCore", "StrataIO", "StrataPipeline", "StrataSphere", "StrataStages", "StrataSynth"], resources: [.copy("Fixtures")]),
        .target(name: "CStrataTestSupport", path: "Tests/CStrataTestSupport"),
        .testTarget(name: "strataTests", dependencies: ["strata", "StrataCore", "StrataIO", "StrataNN", "StrataSphere", "StrataSynth", "CStrataTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
