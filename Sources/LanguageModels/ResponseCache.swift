import Core
import Crypto
import Foundation

/// Stored completions by request key (the results database keeps one; tests use `InMemoryResponseCache`).
public protocol ResponseCache: Sendable {
    func lookup(key: String) -> Completion?
    func store(key: String, _ completion: Completion)
}

/// A `ResponseCache` in memory, for tests and single runs.
public final class InMemoryResponseCache: ResponseCache, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: Completion] = [:]

    public init() {}

    public func lookup(key: String) -> Completion? { lock.withLock { entries[key] } }
    public func store(key: String, _ completion: Completion) { lock.withLock { entries[key] = completion } }
    public var count: Int { lock.withLock { entries.count } }
}

/// A model whose seeded answers are kept in a cache, so that a re-run does not pay twice.
///
/// Only requests with a seed are cached: without one, each call is meant to draw afresh. A
/// completion whose streaming the caller stopped is partial and is not stored. On a hit, `onText`
/// receives each choice's whole text at once and `onChoice` each choice.
public struct CachedModel: LanguageModel {
    public let base: any LanguageModel
    public let cache: any ResponseCache

    public init(_ base: any LanguageModel, cache: any ResponseCache) {
        self.base = base
        self.cache = cache
    }

    public var identity: ModelIdentity { base.identity }
    public var supportsLogprobs: Bool { base.supportsLogprobs }

    /// sha256 (hex) of the model's identity and the request (sorted-key JSON, seed included).
    public static func key(identity: ModelIdentity, request: CompletionRequest) -> String {
        struct Keyed: Encodable {
            let spec: String
            let resolved: String
            let request: CompletionRequest
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain value types cannot fail.
        let data = try! encoder.encode(Keyed(spec: identity.spec, resolved: identity.resolved, request: request))
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public func complete(_ request: CompletionRequest, onChoice: ChoiceHandler?, onText: TextHandler?) async throws -> Completion {
        guard request.seed != nil else { return try await base.complete(request, onChoice: onChoice, onText: onText) }
        let key = Self.key(identity: identity, request: request)
        if let hit = cache.lookup(key: key) {
            for choice in hit.choices {
                if let onText, !choice.text.isEmpty { _ = onText(choice.index, choice.text) }
                onChoice?(choice)
            }
            return hit
        }
        let stopped = Flag()
        var watched: TextHandler?
        if let onText {
            watched = { @Sendable (index: Int, text: String) -> Bool in
                let more = onText(index, text)
                if !more { stopped.value = true }
                return more
            }
        }
        let completion = try await base.complete(request, onChoice: onChoice, onText: watched)
        if !stopped.value { cache.store(key: key, completion) }
        return completion
    }

    public func answerProbabilities(messages: [ChatMessage], answers: [String]) async throws -> [Double]? {
        try await base.answerProbabilities(messages: messages, answers: answers)
    }
}
