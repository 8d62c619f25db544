import Foundation

/// How a remote model retries: exponential back-off with jitter, at least as long as the server's
/// `Retry-After`, at most `maxRetries` times.
public struct RetryPolicy: Sendable {
    /// Retries after the first attempt (0: try once).
    public var maxRetries: Int
    /// Delay before the first retry, in seconds; doubled for each further retry.
    public var initialBackoff: Double
    public var maxBackoff: Double
    /// A `Retry-After` longer than this is cut to it.
    public var maxRetryAfter: Double

    public init(maxRetries: Int = 6, initialBackoff: Double = 1, maxBackoff: Double = 60, maxRetryAfter: Double = 300) {
        self.maxRetries = maxRetries
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait before retry number `retry` (1-based): a random point in the upper half of the
    /// exponential step ("equal jitter"), and never less than the server asked for.
    public func delay(retry: Int, retryAfter: Double?) -> Double {
        let step = min(maxBackoff, initialBackoff * pow(2, Double(max(0, retry - 1))))
        var delay = step * Double.random(in: 0.5...1)
        if let retryAfter { delay = max(delay, min(max(0, retryAfter), maxRetryAfter)) }
        return delay
    }

    /// Seconds from a `Retry-After` value: delta-seconds (decimals accepted) or an HTTP date.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Double? {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(v), seconds.isFinite, seconds >= 0 { return seconds }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = f.date(from: v) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}

/// One retry, as reported to `RemoteModelOptions.onRetry` (for logs and tests).
public struct RetryEvent: Sendable, Hashable {
    /// The attempt that failed (1 = the first).
    public var attempt: Int
    /// Seconds the client waits before the next attempt.
    public var delay: Double
    /// The server's `Retry-After`, if it sent one.
    public var retryAfter: Double?
    /// What went wrong, e.g. "HTTP 429" or "timed out".
    public var reason: String
}

/// At most `limit` holders at a time; others wait in order of arrival.
public actor AsyncSemaphore {
    public let limit: Int
    private var held = 0
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextId: UInt64 = 0

    public init(limit: Int) { self.limit = max(1, limit) }

    public func acquire() async throws {
        if held < limit {
            held += 1
            return
        }
        let id = nextId
        nextId += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    c.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, c))
                }
            }
        } onCancel: {
            Task { await self.cancel(id) }
        }
    }

    public func release() {
        if waiters.isEmpty {
            held -= 1
        } else {
            waiters.removeFirst().continuation.resume()   // the permit passes on
        }
    }

    /// Runs `body` holding a permit.
    public nonisolated func withPermit<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    private func cancel(_ id: UInt64) {
        if let i = waiters.firstIndex(where: { $0.id == id }) {
            waiters.remove(at: i).continuation.resume(throwing: CancellationError())
        }
    }
}

/// One semaphore per server (scheme, host and port), shared by every model that talks to it.
enum ServerLimits {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var semaphores: [String: AsyncSemaphore] = [:]

    /// The semaphore of `url`'s server; the first caller for a server sets its limit.
    static func semaphore(for url: URL, limit: Int) -> AsyncSemaphore {
        let key = "\(url.scheme ?? "")://\(url.host ?? ""):\(url.port ?? -1)"
        lock.lock()
        defer { lock.unlock() }
        if let s = semaphores[key] { return s }
        let s = AsyncSemaphore(limit: limit)
        semaphores[key] = s
        return s
    }
}
