import ArgumentParser
import Foundation
import LanguageModels
import Server

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a local model over OpenAI's chat-completions API (GET /v1/models, POST /v1/chat/completions).",
        discussion: """
        Concurrent requests are batched into the engine. Binds 127.0.0.1 unless --host says otherwise. \
        With --api-key, requests without 'Authorization: Bearer KEY' get 401. Ctrl-C stops it after the \
        requests in flight.
        """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var steering: InterventionOptions

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8000

    @Option(help: "Require this key as 'Authorization: Bearer KEY'.")
    var apiKey: String?

    @Option(help: "The model name clients send (default: the model's registered name, or its file name without .gguf).")
    var name: String?

    @Option(help: "Most sequences decoded together.")
    var maxBatch = 64

    @Option(help: "max_tokens when a request gives none.")
    var defaultMaxTokens = 512

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
        guard defaultMaxTokens >= 1 else { throw ValidationError("--default-max-tokens must be at least 1") }
    }

    func run() async throws {
        let why = "emlab serve serves local models only (local:NAME or local:PATH.gguf)"
        let localName = try options.localName(why: why)
        let local = try options.openLocalModel(why: why, maxBatch: maxBatch)
        let served = name ?? (localName.hasSuffix(".gguf") ? URL(fileURLWithPath: localName).deletingPathExtension().lastPathComponent : localName)
        var configuration = ServerConfiguration(
            servedModelName: served, host: host, port: port, apiKey: apiKey, defaultMaxTokens: defaultMaxTokens)
        configuration.interventions = try steering.resolve(for: local).interventions
        let server = try OpenAIServer(model: local, configuration: configuration)
        let bound = try await server.start(stopOnSignals: true)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        print("serving '\(served)' (\(local.identity.resolved)) at http://\(shownHost):\(bound)/v1")
        if !["127.0.0.1", "::1", "localhost"].contains(host) { print("note: listening beyond this machine (\(host))") }
        fflush(nil)
        try await server.wait()
        local.shutdown()
    }
}

struct ServeBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-bench",
        abstract: "Load-test an OpenAI-compatible server on this machine: N clients, M requests in all.",
        discussion: "Loopback hosts only. Each request is one short chat question with its own seed.")

    @Option(help: "The server's API base, e.g. http://127.0.0.1:8000/v1.")
    var url: String

    @Option(help: "The model name the server knows.")
    var model: String

    @Option(help: "Concurrent clients.")
    var clients = 8

    @Option(help: "Requests in all.")
    var requests = 64

    @Option(help: "max_tokens of each request.")
    var maxTokens = 32

    func run() async throws {
        guard let base = URL(string: url) else { throw ValidationError("--url '\(url)' is not a URL") }
        let test = try LoadTest(baseURL: base, model: model, clients: clients, requests: requests, maxTokens: maxTokens,
                                apiKey: ProcessInfo.processInfo.environment["EMLAB_API_KEY"])
        let r = try await test.run()
        func ms(_ s: Double?) -> String { s.map { String(format: "%.0f ms", $0 * 1000) } ?? "-" }
        print("\(r.requests) requests, \(clients) clients, max_tokens \(maxTokens): \(String(format: "%.2f", r.seconds)) s")
        print(String(format: "requests/s %.2f   completion tokens/s %.1f", r.requestsPerSecond, r.tokensPerSecond))
        print("latency p50 \(ms(r.percentile(50)))   p99 \(ms(r.percentile(99)))   max \(ms(r.latencies.last))")
        print("errors \(r.errors)" + (r.firstError.map { " (first: \($0))" } ?? ""))
    }
}
