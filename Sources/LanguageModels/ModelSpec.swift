import Foundation

/// Where a `--model` or `--judge` flag points.
///
/// - `local:NAME` or `local:PATH.gguf` (or a bare name or path): the embedded engine;
/// - `openai:MODEL`: OpenAI's API, or `OPENAI_BASE_URL`; key from `OPENAI_API_KEY`;
/// - `openai-compatible:URL#MODEL`: any server speaking the chat-completions API (vLLM, Ollama,
///   llama.cpp server, `emlab serve`), e.g. `openai-compatible:http://127.0.0.1:8000/v1#qwen`;
///   key from `EMLAB_API_KEY` if set.
public enum ModelSpec: Sendable, Hashable, CustomStringConvertible {
    case local(String)
    case openAI(model: String)
    case openAICompatible(baseURL: URL, model: String)

    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { throw LanguageModelError.invalidSpec(text, why: "empty") }
        if s.hasPrefix("local:") {
            let name = String(s.dropFirst("local:".count))
            guard !name.isEmpty else { throw LanguageModelError.invalidSpec(text, why: "give a model name or a .gguf path after 'local:'") }
            self = .local(name)
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
            self = .local(s)
        }
    }

    public var isLocal: Bool { if case .local = self { true } else { false } }

    public var description: String {
        switch self {
        case .local(let name): "local:\(name)"
        case .openAI(let model): "openai:\(model)"
        case .openAICompatible(let url, let model): "openai-compatible:\(url.absoluteString)#\(model)"
        }
    }
}
