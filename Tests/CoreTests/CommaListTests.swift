import Core
import Foundation
import Testing

struct CommaListTests {
    @Test func parsesItemsAndTrimsSpaces() throws {
        #expect(try CommaList<Int>(parsing: "1,2,8").elements == [1, 2, 8])
        #expect(try CommaList<Int>(parsing: " 0, 2 ,32 ").elements == [0, 2, 32])
        #expect(try CommaList<Int>(parsing: "7").elements == [7])
        #expect(try CommaList<String>(parsing: "host, pp").elements == ["host", "pp"])
        #expect(try CommaList<Double>(parsing: "0.5,1").elements == [0.5, 1])
    }

    @Test func descriptionRoundTrips() throws {
        let list: CommaList<Int> = [0, 2, 8, 32]
        #expect(list.description == "0,2,8,32")
        #expect(try CommaList<Int>(parsing: list.description) == list)
    }

    @Test func errorNamesTheBadItem() {
        #expect(throws: CommaListError(text: "1,x,3", item: "x", position: 2, expected: "a whole number")) {
            try CommaList<Int>(parsing: "1,x,3")
        }
        do {
            _ = try CommaList<Int>(parsing: "1,x,3")
        } catch {
            #expect(error.description == "'x' (item 2 of '1,x,3') is not a whole number")
        }
    }

    @Test func rangeCheckUsesTheCallersWords() {
        do {
            _ = try CommaList<Int>(parsing: "0,2,-8", expected: "a whole number ≥ 0") { $0 >= 0 }
            Issue.record("a negative item was accepted")
        } catch {
            #expect(error.position == 3)
            #expect(error.description == "'-8' (item 3 of '0,2,-8') is not a whole number ≥ 0")
        }
    }

    @Test func emptyListsAndItemsAreErrors() {
        for (text, position) in [("", 0), ("  ", 0), ("1,,2", 2), ("1,2,", 3), (",1", 1)] {
            do {
                _ = try CommaList<Int>(parsing: text)
                Issue.record("'\(text)' was accepted")
            } catch {
                #expect(error.position == position, "\(text)")
                #expect(error.description.contains(position == 0 ? "empty list" : "is empty"), "\(error.description)")
            }
        }
    }
}

struct ChatMessageTests {
    @Test func plainMessagesEncodeAsBefore() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(ChatMessage.user("hi")), as: UTF8.self)
        #expect(json == #"{"content":"hi","role":"user"}"#)   // response-cache keys hash this
        let decoded = try JSONDecoder().decode(ChatMessage.self, from: Data(#"{"role":"assistant","content":"a"}"#.utf8))
        #expect(decoded == .assistant("a"))
        #expect(decoded.toolCalls == nil && decoded.toolCallId == nil)
    }

    @Test func toolCallsAndResultsRoundTrip() throws {
        let call = ToolCall(id: "call_1", name: "weather", arguments: #"{"city":"Paris"}"#)
        let messages: [ChatMessage] = [.user("weather?"), .assistant(toolCalls: [call]), .tool("sunny", callId: "call_1")]
        let data = try JSONEncoder().encode(messages)
        #expect(try JSONDecoder().decode([ChatMessage].self, from: data) == messages)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""tool_calls""#) && text.contains(#""tool_call_id":"call_1""#))
        #expect(ChatMessage.Role(rawValue: "tool") == .tool)
    }
}
