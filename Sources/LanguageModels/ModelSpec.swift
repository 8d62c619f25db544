import Foundation
import Tokenizer

/// Where a `--model` or `--judge` flag points.
///
/// - `local:NAME` or `local:PATH.gguf` (or a bare name or path): the embedded engine; a suffix
///   `,chat=FORMAT` (`transcript`, `chatml` or `gemma`) replaces the file's chat template, e.g.
///   `local:gemma3-270m,chat=transcript` to ask a base model questions as a plain-text dialogue;
/// - `openai:MODEL`: OpenAI's API, or `OPENAI_BASE_URL`; key from `OPENAI_API_KEY`;
/// - `openai-compatible:URL#MODEL`: any server speaking the chat-completions API (vLLM, Ollama,
///   llama.cpp server, `emlab serve`), e.g. `openai-compatible:http://127.0.0.1:8000/v1#qwen`;
///   key from `EMLAB_API_KEY` if set.
public enum ModelSpec: Sendable, Hashable, CustomStringConvertible {
    /// A registered name or a path, and the name of a chat format chosen instead of the file's.
    case local(String, chat: String? = nil)
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

    /// `NAME[,chat=FORMAT]`; a path that exists is taken whole, commas and all.
    private static func local(_ text: String, spec: String) throws -> ModelSpec {
        guard let comma = text.firstIndex(of: ","), !FileManager.default.fileExists(atPath: text) else {
            guard !text.isEmpty else { throw LanguageModelError.invalidSpec(spec, why: "give a model name or a .gguf path after 'local:'") }
            return .local(text)
        }
        let name = String(text[..<comma])
        guard !name.isEmpty else { throw LanguageModelError.invalidSpec(spec, why: "give a model name or a .gguf path before ','") }
        var chat: String?
        for option in text[text.index(after: comma)...].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "chat" else {
                throw LanguageModelError.invalidSpec(spec, why: "unknown option '\(option)' after the model name (known: chat=FORMAT)")
            }
            guard ChatTemplate(named: String(parts[1])) != nil else {
                let known = ChatTemplate.namedFormats.joined(separator: ", ")
                throw LanguageModelError.invalidSpec(spec, why: "unknown chat format '\(parts[1])' (known: \(known))")
            }
            chat = String(parts[1])
        }
        return .local(name, chat: chat)
    }

    /// The chat format a local spec chose instead of the file's template, if any.
    public var chatTemplate: ChatTemplate? {
        if case .local(_, let chat?) = self { ChatTemplate(named: chat) } else { nil }
    }

    public var isLocal: Bool { if case .local = self { true } else { false } }

    /// The registered name or path of a local spec.
    public var localName: String? { if case .local(let name, _) = self { name } else { nil } }

    public var description: String {
        switch self {
        case .local(let name, let chat): "local:\(name)" + (chat.map { ",chat=\($0)" } ?? "")
        case .openAI(let model): "openai:\(model)"
        case .openAICompatible(let url, let model): "openai-compatible:\(url.absoluteString)#\(model)"
        }
    }
}
