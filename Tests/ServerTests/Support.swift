import AsyncHTTPClient
import Foundation
import Inference
import LanguageModels
import NIOCore
import NIOHTTP1
import Server
import TestSupport

/// One raw HTTP exchange over loopback (for what the client library would never send).
struct RawResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var error: ChatAPI.ErrorBody? { try? ChatAPI.decoder.decode(ChatAPI.ErrorBody.self, from: Data(body.utf8)) }
}

enum RawHTTP {
    static func send(_ url: String, method: HTTPMethod = .POST, body: String? = nil,
                     headers: [(String, String)] = [("Content-Type", "application/json")]) async throws -> RawResponse {
        try await send(url, method: method, bytes: body.map { Array($0.utf8) }, headers: headers)
    }

    static func send(_ url: String, method: HTTPMethod = .POST, bytes: [UInt8]?,
                     headers: [(String, String)] = [("Content-Type", "application/json")]) async throws -> RawResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let bytes { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return RawResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }
}

/// The real model served on a free loopback port, shared by the suites that need it.
enum SharedServer {
    static let served = "smollm2-135m"
    static let model: LocalModel = {
        Parallel.configure(threads: 2)
        let engine = try! Engine(path: TestResources.smolLM2!)
        return LocalModel(engine: engine, identity: ModelIdentity(spec: "local:smollm2-135m", resolved: "test"))
    }()

    /// (server, port) started once.
    static let started = Task { () throws -> (OpenAIServer, Int) in
        let server = try OpenAIServer(model: model, configuration: ServerConfiguration(servedModelName: served, port: 0))
        return (server, try await server.start())
    }

    static func base() async throws -> String { "http://127.0.0.1:\(try await started.value.1)/v1" }

    static func client(apiKey: String? = nil, options: RemoteModelOptions = RemoteModelOptions()) async throws -> OpenAICompatibleModel {
        OpenAICompatibleModel(baseURL: URL(string: try await base())!, model: served, apiKey: apiKey, options: options)
    }
}

/// A value shared with @Sendable callbacks.
final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Value
    init(_ value: Value) { _value = value }
    var value: Value { lock.withLock { _value } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&_value) } }
}
