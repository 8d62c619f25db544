import Foundation
import Inference
import Tokenizer

/// Where a `--model` or `--judge` flag points.
///
/// - `local:NAME` or `local:PATH.gguf` (or a bare name or path): the embedded engine. Options follow
///   as `,KEY=VALUE`: `chat=FORMAT` (`transcript`, `chatml` or `gemma`) replaces the file's chat
///   template, e.g. `local:gemma3-270m,chat=transcript` to ask a base model questions as a
///   plain-text dialogue; `prompts=8bit` computes prompts on the 8-bit decoding kernels (`PromptPath`);
///   `lora=DIR[:SCALE]` adds a LoRA adapter (a PEFT folder or a GGUF adapter file, scaled by SCALE,
///   default 1), repeatable;
/// - `openai:MODEL`: OpenAI's API, or `OPENAI_BASE_URL`; key from `OPENAI_API_KEY`;
/// - `openai-compatible:URL#MODEL`: any server speaking the chat-completions API (vLLM, Ollama,
///   llama.cpp server, `emlab serve`), e.g. `openai-compatible:http://127.0.0.1:8000/v1#qwen`;
///   key from `EMLAB_API_KEY` if set.
public enum ModelSpec: Sendable, Hashable, CustomStringConvertible {
    /// A registered name or a path, the name of a chat format chosen instead of the file's, how
    /// prompts are computed, and LoRA adapters applied to it.
    case local(String, chat: String? = nil, prompts: PromptPath = .float, lora: [LoRASpec] = [])
    case openAI(model: String)
    case openAICompatible(baseURL: URL, model: String)

    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { throw LanguageModelError.invalidSpec(text, why: "empty") }
        if s.hasPrefix("local:") {
            self = try Self.local(String(s.dropFirst("local:".count)), spec: text)
        } else if s.hasPrefix("openai:") {
            let model = String(s.dropFirst("openai:".count))
            guard !model.isEmpty else { throw LanguageModelError.invalidSpec(text, why: "give a model name after 'openai:'") }
            self = .openAI(model: model)
        } else if s.hasPrefix("openai-compatible:") {
            let rest = String(s.dropFirst("openai-compatible:".count))
            guard let hash = rest.lastIndex(of: "#") else {
                throw LanguageModelError.invalidSpec(text, why: "expected openai-compatible:URL#MODEL (the served model name after '#')")
            }
            let urlText = String(rest[..<hash]), model = String(rest[rest.index(after: hash)...])
            guard let url = URL(string: urlText), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw LanguageModelError.invalidSpec(text, why: "'\(urlText)' is not an http(s) URL")
            }
            guard !model.isEmpty else { throw LanguageModelError.invalidSpec(text, why: "empty model name after '#'") }
            self = .openAICompatible(baseURL: url, model: model)
        } else if let colon = s.firstIndex(of: ":"), !s.hasPrefix("/"), !s.hasPrefix("."),
                  s[..<colon].allSatisfy({ $0.isLetter || $0 == "-" }) {
            throw LanguageModelError.invalidSpec(text, why: "unknown kind '\(s[..<colon])' (use local:, openai: or openai-compatible:)")
        } else {
            self = try Self.local(s, spec: text)
        }
    }

    /// `NAME[,chat=FORMAT][,prompts=PATH]`; a path that exists is taken whole, commas and all.
    private static func local(_ text: String, spec: String) throws -> ModelSpec {
        guard let comma = text.firstIndex(of: ","), !FileManager.default.fileExists(atPath: text) else {
            guard !text.isEmpty else { throw LanguageModelError.invalidSpec(spec, why: "give a model name or a .gguf path after 'local:'") }
            return .local(text)
        }
        let name = String(text[..<comma])
        guard !name.isEmpty else { throw LanguageModelError.invalidSpec(spec, why: "give a model name or a .gguf path before ','") }
        var chat: String?
        var prompts = PromptPath.float
        var lora: [LoRASpec] = []
        var seen: Set<Substring> = []
        for option in text[text.index(after: comma)...].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, ["chat", "prompts", "lora"].contains(parts[0]) else {
                throw LanguageModelError.invalidSpec(spec, why: "unknown option '\(option)' after the model name (known: chat=FORMAT, prompts=float|8bit, lora=DIR[:SCALE])")
            }
            if parts[0] == "lora" {
                lora.append(try LoRASpec(parsing: String(parts[1]), spec: spec))
                continue
            }
            guard seen.insert(parts[0]).inserted else {
                throw LanguageModelError.invalidSpec(spec, why: "option '\(parts[0])' given twice")
            }
            if parts[0] == "chat" {
                guard ChatTemplate(named: String(parts[1])) != nil else {
                    let known = ChatTemplate.namedFormats.joined(separator: ", ")
                    throw LanguageModelError.invalidSpec(spec, why: "unknown chat format '\(parts[1])' (known: \(known))")
                }
                chat = String(parts[1])
            } else {
                guard let path = PromptPath(rawValue: String(parts[1])) else {
                    let known = PromptPath.allCases.map(\.rawValue).joined(separator: ", ")
                    throw LanguageModelError.invalidSpec(spec, why: "unknown prompt path '\(parts[1])' (known: \(known))")
                }
                prompts = path
            }
        }
        return .local(name, chat: chat, prompts: prompts, lora: lora)
    }

    /// The chat format a local spec chose instead of the file's template, if any.
    public var chatTemplate: ChatTemplate? {
        if case .local(_, let chat?, _, _) = self { ChatTemplate(named: chat) } else { nil }
    }

    /// How a local spec's engine computes prompts (`.float` for remote specs, which do not say).
    public var promptPath: PromptPath {
        if case .local(_, _, let prompts, _) = self { prompts } else { .float }
    }

    /// The LoRA adapters of a local spec (none for remote specs).
    public var loraAdapters: [LoRASpec] {
        if case .local(_, _, _, let lora) = self { lora } else { [] }
    }

    /// The same local spec with the chat format `chat`; other specs unchanged.
    public func withChat(_ chat: String) -> ModelSpec {
        if case .local(let name, _, let prompts, let lora) = self { .local(name, chat: chat, prompts: prompts, lora: lora) } else { self }
    }

    /// The same local spec with one more LoRA adapter; other specs unchanged.
    public func addingAdapter(_ adapter: LoRASpec) -> ModelSpec {
        if case .local(let name, let chat, let prompts, let lora) = self { .local(name, chat: chat, prompts: prompts, lora: lora + [adapter]) } else { self }
    }

    /// The model file at `path` read the way this local spec reads its own (chat format, prompt path),
    /// without its adapters: a finetuned copy of the same model. Other specs unchanged.
    public func replacingModel(path: String) -> ModelSpec {
        if case .local(_, let chat, let prompts, _) = self { .local(path, chat: chat, prompts: prompts) } else { self }
    }

    public var isLocal: Bool { if case .local = self { true } else { false } }

    /// The registered name or path of a local spec.
    public var localName: String? { if case .local(let name, _, _, _) = self { name } else { nil } }

    /// The name the model built from this spec reports (`ModelIdentity.spec`) and results are stored
    /// under: the spec itself, with an OpenAI-compatible server's URL reduced to its display form.
    public var identitySpec: String {
        if case .openAICompatible(let url, let model) = self {
            "openai-compatible:\(OpenAICompatibleModel.displayName(url))#\(model)"
        } else {
            description
        }
    }

    public var description: String {
        switch self {
        case .local(let name, let chat, let prompts, let lora):
            "local:\(name)" + (chat.map { ",chat=\($0)" } ?? "") + (prompts == .float ? "" : ",prompts=\(prompts.rawValue)")
                + lora.map { ",lora=\($0)" }.joined()
        case .openAI(let model): "openai:\(model)"
        case .openAICompatible(let url, let model): "openai-compatible:\(url.absoluteString)#\(model)"
        }
    }
}

/// A LoRA adapter in a model spec: `lora=DIR[:SCALE]` (a PEFT adapter folder or a GGUF adapter
/// file; SCALE multiplies the adapter's own alpha/r, default 1).
public struct LoRASpec: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var scale: Float

    public init(path: String, scale: Float = 1) {
        self.path = path
        self.scale = scale
    }

    /// `PATH` or `PATH:SCALE`; a path that exists is taken whole, colons and all.
    init(parsing text: String, spec: String) throws {
        if let colon = text.lastIndex(of: ":"), !FileManager.default.fileExists(atPath: text),
           let scale = Float(text[text.index(after: colon)...]) {
            guard scale.isFinite else { throw LanguageModelError.invalidSpec(spec, why: "lora scale '\(scale)' is not a number") }
            self.init(path: String(text[..<colon]), scale: scale)
        } else {
            self.init(path: text)
        }
        guard !path.isEmpty else { throw LanguageModelError.invalidSpec(spec, why: "give an adapter folder or file after 'lora='") }
    }

    public var description: String { scale == 1 ? path : "\(path):\(scale)" }
}
