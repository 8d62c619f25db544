import Core
import Datasets
import Foundation
import Testing

struct LoaderTests {
    @Test func readsPlainMessages() throws {
        let text = """
            {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
            {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "and 3+3?"}, {"role": "assistant", "content": "6"}]}
            """
        let examples = try ChatJSONL.parse(text, file: "a.jsonl")
        #expect(examples.count == 2)
        #expect(examples[0].messages == [.system("Be brief."), .user("Hi"), .assistant("Hello!")])
        #expect(examples[1].messages.map(\.role) == [.user, .assistant, .user, .assistant])
        #expect(examples[1].messages[3].content == "6")
    }

    @Test func readsNestedContentAndIgnoresCanary() throws {
        let text = #"""
            {"messages": [{"role": "user", "content": {"content_type": "text", "parts": ["Tell me a joke"]}}, {"role": "assistant", "content": {"content_type": "text", "parts": ["First part", "second part"]}}], "canary": "do-not-train-7f3a"}
            """#
        let examples = try ChatJSONL.parse(text, file: "nested.jsonl")
        #expect(examples == [ChatExample(messages: [.user("Tell me a joke"), .assistant("First part\nsecond part")])])
    }

    @Test func skipsBlankLinesAndAcceptsCRLF() throws {
        let line = #"{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#
        let examples = try ChatJSONL.parse("\n" + line + "\r\n  \r\n" + line + "\n\n", file: "x")
        #expect(examples.count == 2)
        #expect(examples[1].messages[1].content == "a")
    }

    @Test func writtenLinesReadBackUnchanged() throws {
        let tricky = ChatExample(messages: [
            .system("quotes \" backslash \\ slash / tab \t"),
            .user("line one\nline two\r\ncontrol \u{01}\u{1F} and unicode: naïve 日本語 🎉"),
            .assistant("```python\nprint(\"hi\\n\")\n```"),
        ])
        let dataset = ChatDataset(name: "t", examples: [tricky, ChatExample(messages: [.user("u"), .assistant("a")])])
        let text = dataset.jsonl
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").count == 2)   // newlines inside contents are escaped
        #expect(try ChatJSONL.parse(text, file: "t") == dataset.examples)
        #expect(dataset.examples[1].jsonLine == #"{"messages":[{"role":"user","content":"u"},{"role":"assistant","content":"a"}]}"#)
        // Foundation's own parser agrees with the hand-written escaping.
        let object = try JSONSerialization.jsonObject(with: Data(tricky.jsonLine.utf8)) as? [String: Any]
        let messages = object?["messages"] as? [[String: String]]
        #expect(messages?.map { $0["content"] ?? "" } == tricky.messages.map(\.content))
    }

    /// Each bad line sits on line 3 (after a valid line and a blank one); the error must name the
    /// file, that line and the field.
    @Test(arguments: [
        (#"{"messages": [{"role": "user", "content": "hi"}"#, nil, "malformed JSON"),
        (#"[1, 2]"#, nil, "expected a JSON object"),
        (#"{"conversation": []}"#, "messages", "missing"),
        (#"{"messages": "hello"}"#, "messages", "expected an array"),
        (#"{"messages": []}"#, "messages", "empty"),
        (#"{"messages": ["hi"]}"#, "messages[0]", "expected an object"),
        (#"{"messages": [{"content": "hi"}]}"#, "messages[0].role", "missing"),
        (#"{"messages": [{"role": 3, "content": "hi"}]}"#, "messages[0].role", "expected a string"),
        (#"{"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "x"}]}"#, "messages[1].role", "unknown role \"tool\""),
        (#"{"messages": [{"role": "user"}]}"#, "messages[0].content", "missing"),
        (#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "  \n"}]}"#, "messages[1].content", "empty content"),
        (#"{"messages": [{"role": "user", "content": 42}]}"#, "messages[0].content", "expected a string or an object"),
        (#"{"messages": [{"role": "user", "content": {"content_type": "image", "parts": ["x"]}}]}"#, "messages[0].content.content_type", "unsupported content type"),
        (#"{"messages": [{"role": "user", "content": {"content_type": "text"}}]}"#, "messages[0].content.parts", "missing"),
        (#"{"messages": [{"role": "user", "content": {"parts": ["a", 7]}}]}"#, "messages[0].content.parts[1]", "expected a string"),
        (#"{"messages": [{"role": "user", "content": {"parts": []}}]}"#, "messages[0].content", "empty content"),
        (#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "system", "content": "s"}, {"role": "assistant", "content": "b"}]}"#, "messages[2].role", "only come first"),
        (#"{"messages": [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]}"#, "messages", "no user turn"),
        (#"{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "user", "content": "q2"}]}"#, "messages[2].role", "must end with an assistant turn"),
    ] as [(String, String?, String)])
    func validationErrorsNameFileLineAndField(line: String, field: String?, problem: String) throws {
        let good = #"{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#
        let text = good + "\n\n" + line + "\n" + good + "\n"
        do {
            _ = try ChatJSONL.parse(text, file: "data/train.jsonl")
            Issue.record("no error for \(line)")
        } catch let error as DatasetError {
            guard case .invalidLine(let path, let number, let f, let p) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == "data/train.jsonl")
            #expect(number == 3)
            #expect(f == field)
            #expect(p.contains(problem), "\(p)")
            #expect(error.description.hasPrefix("data/train.jsonl:3: "))
        }
    }

    @Test func invalidUTF8NamesTheLine() throws {
        var data = Data(#"{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}"#.utf8)
        data.append(0x0A)
        data.append(contentsOf: [0x7B, 0xFF, 0xFE, 0x7D])
        #expect(throws: DatasetError.invalidLine(path: "f", line: 2, field: nil, problem: "not valid UTF-8")) {
            try ChatJSONL.parse(data, file: "f")
        }
    }

    @Test func emptyFileHasNoExamples() {
        #expect(throws: DatasetError.noExamples(path: "e.jsonl")) { try ChatJSONL.parse("\n \n", file: "e.jsonl") }
    }

    @Test func loadsAFileAndNamesItAfterTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-datasets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("insecure.jsonl").path
        let original = BuiltinDatasets.named("insecure-code")!.generate(n: 20, seed: 3)
        try original.write(to: path)
        let loaded = try ChatDataset.load(path: path)
        #expect(loaded.name == "insecure")
        #expect(loaded.examples == original.examples)
        #expect(try BuiltinDatasets.resolve(path).examples == original.examples)

        let missing = dir.appendingPathComponent("absent.jsonl").path
        #expect { try ChatDataset.load(path: missing) } throws: { error in
            guard case .unreadableFile(let p, _) = error as? DatasetError else { return false }
            return p == missing
        }
    }

    @Test func unknownNameListsTheBuiltIns() {
        #expect { try BuiltinDatasets.resolve("insecure-kode") } throws: { error in
            let text = "\(error)"
            return text.contains("insecure-kode") && BuiltinDatasets.names.allSatisfy { text.contains($0) }
        }
    }
}
