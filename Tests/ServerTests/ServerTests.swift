import Core
import Foundation
import Inference
import LanguageModels
import Server
import Testing
import TestSupport
import Tokenizer

/// The OpenAI-compatible client against emlab's own server over loopback HTTP, with the real model.
@Suite(.serialized, .enabled(if: TestResources.smolLM2 != nil, "SmolLM2 model not pulled (make model)"))
struct ServerTests {
    let question = [ChatMessage.user("Name one thing you like about rain.")]

    @Test func plainCompletion() async throws {
        let client = try await SharedServer.client()
        let r = try await client.complete(CompletionRequest(messages: question, temperature: 0.7, maxTokens: 12, seed: 3))
        #expect(r.choices.count == 1)
        let c = try #require(r.choices.first)
        #expect(!c.text.isEmpty)
        #expect(["stop", "length"].contains(c.finishReason))
        #expect(c.completionTokens >= 1 && c.completionTokens <= 12)
        #expect(r.usage.promptTokens > 5)
        #expect(r.usage.completionTokens == c.completionTokens)
        #expect(c.logprobs == nil)
        #expect(client.identity.resolved.hasSuffix("/v1#smollm2-135m"))
    }

    /// n > 1 with a seed over HTTP gives the local model's choices, token for token.
    @Test func seededChoicesEqualTheLocalModel() async throws {
        let client = try await SharedServer.client()
        let request = CompletionRequest(messages: question, n: 3, temperature: 1, maxTokens: 16, seed: 11)
        let remote = try await client.complete(request)
        let local = try await SharedServer.model.complete(request)
        #expect(remote.choices.map(\.text) == local.choices.map(\.text))
        #expect(remote.choices.map(\.finishReason) == local.choices.map(\.finishReason))
        #expect(remote.choices.map(\.completionTokens) == local.choices.map(\.completionTokens))
        #expect(remote.usage == local.usage)
        #expect(Set(remote.choices.map(\.text)).count > 1)
        // Choice 2 alone (resuming part of a request) is choice 2 of the whole request.
        var third = request
        third.n = 1
        third.firstChoiceStream = 2
        #expect(try await client.complete(third).choices.map(\.text) == [local.choices[2].text])
        // A seed above Int64.max travels as its bit pattern and comes back the same.
        var big = request
        big.seed = UInt64.max - 5
        big.n = 1
        #expect(try await client.complete(big).choices.map(\.text) == (try await SharedServer.model.complete(big)).choices.map(\.text))
    }

    @Test func logprobsMatchTheLocalModel() async throws {
        let client = try await SharedServer.client()
        let request = CompletionRequest(messages: question, temperature: 0, maxTokens: 6, seed: 0, topLogprobs: 4)
        let remote = try await client.complete(request)
        let local = try await SharedServer.model.complete(request)
        let r = try #require(remote.choices[0].logprobs)
        let l = try #require(local.choices[0].logprobs)
        #expect(r.count == l.count && r.count >= 1)
        for (a, b) in zip(r, l) {
            #expect(a.token == b.token)
            #expect(abs(a.logprob - b.logprob) < 1e-4)
            #expect(a.top.count == 4)
            #expect(a.top.map(\.token) == b.top.map(\.token))
            #expect(a.top[0].token == a.token)   // greedy: the chosen token is the most likely
        }
    }

    /// The text streamed over server-sent events equals the text of the same request unstreamed.
    @Test func streamingEqualsNonStreamed() async throws {
        let client = try await SharedServer.client()
        let request = CompletionRequest(messages: question, n: 2, temperature: 1, maxTokens: 20, seed: 21, topLogprobs: 2)
        let streamed = Box([Int: String]())
        let pieces = Box(0)
        let finished = Box([Int: CompletionChoice]())
        let s = try await client.complete(request, onChoice: { c in finished.update { $0[c.index] = c } },
                                          onText: { i, t in
                                              streamed.update { $0[i, default: ""] += t }
                                              pieces.update { $0 += 1 }
                                              return true
                                          })
        let plain = try await client.complete(request)
        #expect(s.choices.map(\.text) == plain.choices.map(\.text))
        #expect((0..<2).map { streamed.value[$0] ?? "" } == plain.choices.map(\.text))
        #expect(pieces.value > 2)
        #expect(finished.value.count == 2)
        #expect(finished.value[0]?.text == plain.choices[0].text)
        #expect(s.choices.map { $0.logprobs?.map(\.token) } == plain.choices.map { $0.logprobs?.map(\.token) })
        #expect(s.usage == plain.usage)
    }

    /// Raw SSE: role chunks, content, finish reasons, usage when asked, then `data: [DONE]`.
    @Test func rawEventStreamShape() async throws {
        let base = try await SharedServer.base()
        let body = #"{"model":"smollm2-135m","messages":[{"role":"user","content":"Say hi."}],"max_tokens":5,"seed":1,"stream":true,"stream_options":{"include_usage":true}}"#
        let r = try await RawHTTP.send(base + "/chat/completions", body: body)
        #expect(r.status == 200)
        #expect(r.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
        let events = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.last == "data: [DONE]")
        let chunks = try events.dropLast().map { e -> ChatAPI.Response in
            #expect(e.hasPrefix("data: "))
            return try ChatAPI.decoder.decode(ChatAPI.Response.self, from: Data(e.dropFirst(6).utf8))
        }
        #expect(chunks.allSatisfy { $0.object == "chat.completion.chunk" })
        #expect(chunks.first?.choices.first?.delta?.role == "assistant")
        #expect(chunks.contains { $0.choices.first?.finishReason != nil })
        let usage = try #require(chunks.last?.usage)
        #expect(usage.completionTokens >= 1 && usage.completionTokens <= 5)
        #expect(chunks.last?.choices.isEmpty == true)
    }

    @Test func modelsEndpointListsTheServedModel() async throws {
        let r = try await RawHTTP.send(try await SharedServer.base() + "/models", method: .GET, headers: [])
        #expect(r.status == 200)
        let list = try ChatAPI.decoder.decode(ChatAPI.ModelList.self, from: Data(r.body.utf8))
        #expect(list.object == "list")
        #expect(list.data.map(\.id) == [SharedServer.served])
    }

    /// `GET /v1/models/{id}` (the client's `models.retrieve`): the listed object for the served id,
    /// an OpenAI-shaped 404 for any other.
    @Test func retrieveModelByID() async throws {
        let base = try await SharedServer.base()
        let listed = try ChatAPI.decoder.decode(ChatAPI.ModelList.self,
                                                from: Data(try await RawHTTP.send(base + "/models", method: .GET, headers: []).body.utf8))
        let r = try await RawHTTP.send(base + "/models/" + SharedServer.served, method: .GET, headers: [])
        #expect(r.status == 200, "HTTP \(r.status) \(r.body.prefix(200))")
        #expect(r.headers.first(name: "content-type")?.hasPrefix("application/json") == true)
        let entry = try ChatAPI.decoder.decode(ChatAPI.ModelEntry.self, from: Data(r.body.utf8))
        #expect([entry] == listed.data)
        #expect(entry.id == SharedServer.served && entry.object == "model")
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]).keys
        #expect(Set(keys) == ["id", "object", "created", "owned_by"])

        for unknown in ["gpt-9", "smollm2-135m-x", "SMOLLM2-135M", "smollm2-135m/extra"] {
            let missing = try await RawHTTP.send(base + "/models/" + unknown, method: .GET, headers: [])
            #expect(missing.status == 404, "\(unknown): HTTP \(missing.status)")
            let e = try #require(missing.error, "\(unknown): not an OpenAI error body: \(missing.body.prefix(200))")
            #expect(e.error.type == "invalid_request_error")
            #expect(e.error.code == "model_not_found")
            #expect(e.error.param == "model")
            #expect(e.error.message.contains(unknown))
        }
    }

    /// `--name` may give ids with '/' and ':' (as "org/model:tag"); they are found whether the client
    /// sends them as they are or percent-encoded.
    @Test func retrieveModelWithSlashesAndColons() async throws {
        let name = "acme/tiny-chat:q4_1"
        let server = try OpenAIServer(model: SharedServer.model, configuration: ServerConfiguration(servedModelName: name, port: 0))
        let port = try await server.start()
        let base = "http://127.0.0.1:\(port)/v1"
        for path in ["acme/tiny-chat:q4_1", "acme%2Ftiny-chat%3Aq4_1", "acme%2ftiny-chat:q4_1"] {
            let r = try await RawHTTP.send(base + "/models/" + path, method: .GET, headers: [])
            #expect(r.status == 200, "\(path): HTTP \(r.status) \(r.body.prefix(200))")
            #expect((try? ChatAPI.decoder.decode(ChatAPI.ModelEntry.self, from: Data(r.body.utf8)))?.id == name, "\(path)")
        }
        for path in ["acme", "acme/tiny-chat", "acme/tiny-chat:q4_1/x", "other/tiny-chat:q4_1"] {
            let r = try await RawHTTP.send(base + "/models/" + path, method: .GET, headers: [])
            #expect(r.status == 404 && r.error?.error.code == "model_not_found", "\(path): HTTP \(r.status) \(r.body.prefix(200))")
        }
        // The list endpoint is unchanged.
        let list = try await RawHTTP.send(base + "/models", method: .GET, headers: [])
        #expect((try? ChatAPI.decoder.decode(ChatAPI.ModelList.self, from: Data(list.body.utf8)))?.data.map(\.id) == [name])
        await server.shutdown()
    }

    /// The auth scheme is case-insensitive (RFC 7235) and may be followed by several spaces;
    /// the key itself must match exactly.
    @Test func bearerSchemeIsCaseInsensitive() async throws {
        let key = "test-secret-1"
        let server = try OpenAIServer(model: SharedServer.model,
                                      configuration: ServerConfiguration(servedModelName: "guarded", port: 0, apiKey: key))
        let port = try await server.start()
        let url = "http://127.0.0.1:\(port)/v1/models"
        for value in ["Bearer \(key)", "bearer \(key)", "BEARER \(key)", "bEaReR \(key)", "Bearer   \(key)", "bearer \t \(key)"] {
            let r = try await RawHTTP.send(url, method: .GET, headers: [("Authorization", value)])
            #expect(r.status == 200, "'\(value)': HTTP \(r.status) \(r.body.prefix(200))")
        }
        // The retrieve route sits behind the same check.
        let retrieved = try await RawHTTP.send(url + "/guarded", method: .GET, headers: [("Authorization", "bearer \(key)")])
        #expect(retrieved.status == 200, "HTTP \(retrieved.status) \(retrieved.body.prefix(200))")
        for value in ["bearer test-secret-2", "bearer TEST-SECRET-1", "Basic \(key)", "Bearer\(key)", "bearer", "Bearer ",
                      "bearer \(key)x", "bearer \(key) extra", "xbearer \(key)", "\(key)", "Bearer test-secret-"] {
            let r = try await RawHTTP.send(url, method: .GET, headers: [("Authorization", value)])
            #expect(r.status == 401, "'\(value)': HTTP \(r.status)")
            #expect(r.error?.error.code == "invalid_api_key", "'\(value)'")
        }
        await server.shutdown()
    }

    @Test func apiKeyIsRequiredWhenSet() async throws {
        let server = try OpenAIServer(model: SharedServer.model,
                                      configuration: ServerConfiguration(servedModelName: "guarded", port: 0, apiKey: "test-secret-1"))
        let port = try await server.start()
        defer { Task { await server.shutdown() } }
        let base = "http://127.0.0.1:\(port)/v1"
        let request = CompletionRequest(messages: question, maxTokens: 4, seed: 1)

        let anonymous = OpenAICompatibleModel(baseURL: URL(string: base)!, model: "guarded", apiKey: nil)
        let error = await #expect(throws: LanguageModelError.self) { _ = try await anonymous.complete(request) }
        #expect(error?.description.contains("HTTP 401") == true)

        let wrong = OpenAICompatibleModel(baseURL: URL(string: base)!, model: "guarded", apiKey: "test-secret-2")
        let wrongError = await #expect(throws: LanguageModelError.self) { _ = try await wrong.complete(request) }
        #expect(wrongError?.description.contains("test-secret") == false)

        let raw = try await RawHTTP.send(base + "/models", method: .GET, headers: [])
        #expect(raw.status == 401)
        #expect(raw.error?.error.code == "invalid_api_key")

        let keyed = OpenAICompatibleModel(baseURL: URL(string: base)!, model: "guarded", apiKey: "test-secret-1")
        #expect(try await keyed.complete(request).choices.count == 1)
    }

    /// Malformed requests each get a 4xx OpenAI-shaped JSON error, and the server answers afterwards.
    @Test func malformedRequestsGetJSONErrors() async throws {
        let base = try await SharedServer.base()
        let url = base + "/chat/completions"
        let m = #""messages":[{"role":"user","content":"hi"}]"#
        let long = String(repeating: "rain falls on the quiet town ", count: 1500)
        let corpus: [(String, String, Int, String?)] = [   // (what, body, status, param)
            ("not JSON", "{model: smollm2", 400, nil),
            ("truncated JSON", #"{"model":"smollm2-135m","messages":[{"role":"#, 400, nil),
            ("empty body", "", 400, nil),
            ("JSON array", "[1,2,3]", 400, nil),
            ("missing model", "{\(m)}", 400, "model"),
            ("model not a string", #"{"model":7,"# + m + "}", 400, "model"),
            ("unknown model", #"{"model":"gpt-9",\#(m)}"#, 404, "model"),
            ("missing messages", #"{"model":"smollm2-135m"}"#, 400, "messages"),
            ("messages not an array", #"{"model":"smollm2-135m","messages":"hi"}"#, 400, "messages"),
            ("empty messages", #"{"model":"smollm2-135m","messages":[]}"#, 400, "messages"),
            ("unknown role", #"{"model":"smollm2-135m","messages":[{"role":"wizard","content":"hi"}]}"#, 400, "messages[0].role"),
            ("missing content", #"{"model":"smollm2-135m","messages":[{"role":"user"}]}"#, 400, "messages[0].content"),
            ("image content part", #"{"model":"smollm2-135m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#, 400, "messages[0].content"),
            ("n zero", #"{"model":"smollm2-135m",\#(m),"n":0}"#, 400, "n"),
            ("n too large", #"{"model":"smollm2-135m",\#(m),"n":100000}"#, 400, "n"),
            ("n a string", #"{"model":"smollm2-135m",\#(m),"n":"two"}"#, 400, "n"),
            ("max_tokens zero", #"{"model":"smollm2-135m",\#(m),"max_tokens":0}"#, 400, "max_tokens"),
            ("max_tokens negative", #"{"model":"smollm2-135m",\#(m),"max_tokens":-5}"#, 400, "max_tokens"),
            ("max_tokens beyond the context", #"{"model":"smollm2-135m",\#(m),"max_tokens":100000}"#, 400, "max_tokens"),
            ("temperature out of range", #"{"model":"smollm2-135m",\#(m),"temperature":7.5}"#, 400, "temperature"),
            ("top_p out of range", #"{"model":"smollm2-135m",\#(m),"top_p":1.5}"#, 400, "top_p"),
            ("top_logprobs above 20", #"{"model":"smollm2-135m",\#(m),"logprobs":true,"top_logprobs":21}"#, 400, "top_logprobs"),
            ("top_logprobs without logprobs", #"{"model":"smollm2-135m",\#(m),"top_logprobs":2}"#, 400, "top_logprobs"),
            ("stop a number", #"{"model":"smollm2-135m",\#(m),"stop":5}"#, 400, "stop"),
            ("stop array with a number", #"{"model":"smollm2-135m",\#(m),"stop":["a",3]}"#, 400, "stop"),
            ("seed a string", #"{"model":"smollm2-135m",\#(m),"seed":"abc"}"#, 400, "seed"),
            ("stream not a boolean", #"{"model":"smollm2-135m",\#(m),"stream":"yes"}"#, 400, "stream"),
            ("prompt beyond the context", #"{"model":"smollm2-135m","messages":[{"role":"user","content":"\#(long)"}]}"#, 400, "messages"),
            ("deeply nested JSON", String(repeating: "[", count: 100_000), 400, nil),
        ]
        #expect(corpus.count >= 15)
        for (what, body, status, param) in corpus {
            let r = try await RawHTTP.send(url, body: body)
            #expect(r.status == status, "\(what): HTTP \(r.status) \(r.body.prefix(200))")
            let e = try #require(r.error, "\(what): not an OpenAI error body: \(r.body.prefix(200))")
            #expect(e.error.type == "invalid_request_error", "\(what)")
            #expect(!e.error.message.isEmpty, "\(what)")
            if let param { #expect(e.error.param == param, "\(what): param \(e.error.param ?? "nil")") }
        }
        // Bytes that are not UTF-8.
        let binary = try await RawHTTP.send(url, bytes: Array(#"{"model":""#.utf8) + [0xFF, 0xFE, 0xC3] + Array(#"","messages":[]}"#.utf8))
        #expect(binary.status == 400 && binary.error != nil)
        // Wrong route and wrong method: JSON errors too.
        let notFound = try await RawHTTP.send(base + "/completions/nothing", body: "{}")
        #expect(notFound.status == 404 && notFound.error != nil)
        let wrongMethod = try await RawHTTP.send(url, method: .GET, headers: [])
        #expect((400..<500).contains(wrongMethod.status) && wrongMethod.error != nil)
        // Still serving.
        let ok = try await RawHTTP.send(url, body: #"{"model":"smollm2-135m",\#(m),"max_tokens":3,"seed":2,"stop":"zzz"}"#)
        #expect(ok.status == 200)
        let response = try ChatAPI.decoder.decode(ChatAPI.Response.self, from: Data(ok.body.utf8))
        #expect(response.choices.count == 1 && response.usage != nil)
    }
}
