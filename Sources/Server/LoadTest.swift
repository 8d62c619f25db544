import Foundation
import LanguageModels

/// `emlab serve-bench`: a bounded number of chat requests from N concurrent clients against a
/// server on this machine.
public struct LoadTest: Sendable {
    public var baseURL: URL
    public var model: String
    public var clients: Int
    public var requests: Int
    public var maxTokens: Int
    public var apiKey: String?

    public init(baseURL: URL, model: String, clients: Int, requests: Int, maxTokens: Int, apiKey: String? = nil) throws {
        guard let host = baseURL.host, ["http", "https"].contains(baseURL.scheme ?? "") else {
            throw LanguageModelError.invalidRequest("'\(baseURL.absoluteString)' is not an http(s) URL")
        }
        guard Self.isLoopback(host) else {
            throw LanguageModelError.invalidRequest("serve-bench only loads servers on this machine (127.0.0.1, ::1, localhost), not '\(host)'")
        }
        guard clients >= 1, requests >= 1, maxTokens >= 1 else {
            throw LanguageModelError.invalidRequest("clients, requests and max tokens must be at least 1")
        }
        self.baseURL = baseURL
        self.model = model
        self.clients = clients
        self.requests = requests
        self.maxTokens = maxTokens
        self.apiKey = apiKey
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if h == "localhost" || h == "::1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public struct Result: Sendable {
        public var requests: Int
        public var errors: Int
        public var seconds: Double
        /// Latencies of successful requests, sorted, in seconds.
        public var latencies: [Double]
        public var completionTokens: Int
        public var firstError: String?

        public var requestsPerSecond: Double { Double(requests - errors) / seconds }
        public var tokensPerSecond: Double { Double(completionTokens) / seconds }
        /// Nearest-rank percentile of the successful requests' latency (p in 0…100).
        public func percentile(_ p: Double) -> Double? {
            guard !latencies.isEmpty else { return nil }
            let rank = Int((p / 100 * Double(latencies.count)).rounded(.up))
            return latencies[min(latencies.count, max(1, rank)) - 1]
        }
    }

    /// Our own short questions, varied so the requests are not all one prompt.
    static let prompts = [
        "Describe a quiet morning in two sentences.",
        "What makes a good neighbour?",
        "Give one tip for learning to cook.",
        "Why do people enjoy walking in the rain?",
        "Name something you would take on a long train journey.",
        "What is a small habit that improves a day?",
    ]

    public func run() async throws -> Result {
        let client = OpenAICompatibleModel(baseURL: baseURL, model: model, apiKey: apiKey,
                                           options: RemoteModelOptions(maxConnections: clients, timeout: 600,
                                                                       retry: RetryPolicy(maxRetries: 0)))
        let next = Counter()
        let clock = ContinuousClock()
        let start = clock.now
        let outcomes = try await withThrowingTaskGroup(of: [(Double?, Int, String?)].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [(Double?, Int, String?)] = []
                    while let i = next.take(below: requests) {
                        let request = CompletionRequest(messages: [.user(Self.prompts[i % Self.prompts.count])],
                                                        temperature: 1, maxTokens: maxTokens, seed: UInt64(i))
                        let t0 = clock.now
                        do {
                            let c = try await client.complete(request)
                            mine.append((Self.seconds(clock.now - t0), c.usage.completionTokens, nil))
                        } catch {
                            mine.append((nil, 0, "\(error)"))
                        }
                    }
                    return mine
                }
            }
            var all: [(Double?, Int, String?)] = []
            for try await part in group { all += part }
            return all
        }
        let seconds = Self.seconds(clock.now - start)
        return Result(requests: outcomes.count, errors: outcomes.filter { $0.0 == nil }.count, seconds: seconds,
                      latencies: outcomes.compactMap(\.0).sorted(), completionTokens: outcomes.reduce(0) { $0 + $1.1 },
                      firstError: outcomes.lazy.compactMap(\.2).first)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// Hands out 0, 1, 2, … to concurrent takers.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}
