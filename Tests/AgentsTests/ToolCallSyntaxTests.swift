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
}
