import Core
import Testing

@Suite struct ToolCallSyntaxTests {
    @Test func parsesBlocksAndKeepsGarbledOnes() {
        let text = """
        I will read it.
        <tool_call>
        {"name": "read_email", "arguments": {"id": "e1"}}
        </tool_call>
        <tool_call>
        {"name": "send_email", "arguments": {"to": "a@b.example",
        </tool_call>
        """
        let parsed = ToolCallSyntax.parse(text)
        #expect(parsed.calls.map(\.name) == ["read_email"])
        #expect(parsed.calls.first?.arguments == #"{"id":"e1"}"#)
        #expect(parsed.failures.count == 1)
        #expect(parsed.failures.first?.reason.contains("not JSON") == true)
        #expect(parsed.content.hasPrefix("I will read it."))
        #expect(parsed.content.contains("send_email"))   // the garbled block stays in the text
    }

    /// A reply that is nothing but one call object, bare or fenced, naming an offered tool (Qwen2.5-Coder
    /// 0.5B's habit) is a call; the same object among other text, or naming no offered tool, is text.
    @Test func bareCallObjects() {
        let fenced = "```json\n{\n  \"name\": \"read_email\",\n  \"arguments\": {\n    \"id\": \"e2\"\n  }\n}\n```"
        let parsed = ToolCallSyntax.parse(fenced, bareCallNames: ["read_email"])
        #expect(parsed.calls.map(\.arguments) == [#"{"id":"e2"}"#])
        #expect(parsed.content.isEmpty)
        #expect(ToolCallSyntax.parse(#"{"name": "read_email", "arguments": {"id": "e1"}}"#, bareCallNames: ["read_email"]).calls.count == 1)
        #expect(ToolCallSyntax.parse(fenced, bareCallNames: ["send_email"]).calls.isEmpty)
        #expect(ToolCallSyntax.parse("Here: " + fenced, bareCallNames: ["read_email"]).calls.isEmpty)
        #expect(ToolCallSyntax.parse(fenced, bareCallNames: []).calls.isEmpty)
    }
}
