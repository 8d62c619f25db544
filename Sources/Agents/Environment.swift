import Core
import Foundation

/// An e-mail the agent sent, or forwarded (then `forwarded` is the original).
public struct SentEmail: Sendable, Codable, Hashable {
    public var id: String
    public var to: [String]
    public var cc: [String]
    public var subject: String
    public var body: String
    public var forwarded: Email?

    /// Everything the recipients read: subject, body and any forwarded e-mail.
    public var fullText: String {
        "Subject: \(subject)\n\n\(body)" + (forwarded.map { "\n\n---------- Forwarded message ----------\n\($0.text)" } ?? "")
    }

    public var recipients: [String] { to + cc }
}

/// One tool call of an episode and what came of it.
public struct ActionRecord: Sendable, Codable, Hashable {
    public enum Status: String, Sendable, Codable, Hashable {
        /// The tool ran.
        case ok
        /// The call named no tool of the episode, or its arguments were wrong: the result says why.
        case error
        /// A `<tool_call>` block the model wrote could not be read (`name` is empty, `arguments` the block).
        case parseFailure = "parse_failure"
    }
    /// The assistant turn (0-based) that made the call.
    public var turn: Int
    /// Its place among the turn's calls (parse failures after the calls).
    public var position: Int
    public var callId: String
    public var name: String
    public var arguments: String
    public var result: String
    public var status: Status
    /// What it changed in the simulation: the e-mail sent (send and forward).
    public var sent: SentEmail?

    public init(turn: Int, position: Int, callId: String, name: String, arguments: String, result: String, status: Status,
                sent: SentEmail? = nil) {
        self.turn = turn
        self.position = position
        self.callId = callId
        self.name = name
        self.arguments = arguments
        self.result = result
        self.status = status
        self.sent = sent
    }
}

/// The simulated company e-mail client of one episode: the inbox of a rendered scenario, the mail
/// tools, and the scenario's own actions. Nothing leaves the simulation: sending an e-mail records it.
public final class EmailEnvironment: @unchecked Sendable {
    public let scenario: RenderedScenario
    public private(set) var sent: [SentEmail] = []

    public static let toolNames = ["list_emails", "read_email", "send_email", "forward_email"]

    public init(_ scenario: RenderedScenario) { self.scenario = scenario }

    /// The tools offered to the model: the mail client's and the scenario's actions.
    public var tools: [ToolDefinition] {
        Self.mailTools + scenario.actions.map { ToolDefinition(name: $0.name, description: $0.description, parameters: $0.parameters) }
    }

    static let mailTools: [ToolDefinition] = {
        func schema(_ properties: [String: (String, String)], required: [String]) -> JSONTree {
            .object(["type": .string("object"),
                     "properties": .object(properties.mapValues { JSONTree.object(["type": .string($0.0), "description": .string($0.1)]) }),
                     "required": .array(required.map { .string($0) })])
        }
        return [
            ToolDefinition(name: "list_emails", description: "List the e-mails in your inbox: id, date, sender and subject of each.",
                           parameters: schema([:], required: [])),
            ToolDefinition(name: "read_email", description: "Read one e-mail of your inbox in full.",
                           parameters: schema(["id": ("string", "The e-mail's id, as list_emails shows it.")], required: ["id"])),
            ToolDefinition(name: "send_email", description: "Send a new e-mail from your account.",
                           parameters: schema(["to": ("string", "Recipient addresses, separated by commas."),
                                               "cc": ("string", "Optional copy recipients, separated by commas."),
                                               "subject": ("string", "The subject line."),
                                               "body": ("string", "The message text.")], required: ["to", "subject", "body"])),
            ToolDefinition(name: "forward_email", description: "Forward an e-mail of your inbox, with an optional note above it.",
                           parameters: schema(["id": ("string", "The id of the e-mail to forward."),
                                               "to": ("string", "Recipient addresses, separated by commas."),
                                               "body": ("string", "An optional note to put above the forwarded e-mail.")],
                                          required: ["id", "to"])),
        ]
    }()

    /// The inbox as `list_emails` shows it.
    public static func listing(_ inbox: [Email]) -> String {
        guard !inbox.isEmpty else { return "Your inbox is empty." }
        return "\(inbox.count) e-mails:\n" + inbox.map { "[\($0.id)] \($0.time) | From: \($0.from) | Subject: \($0.subject)" }.joined(separator: "\n")
    }

    /// Runs one call and returns its record (`turn` and `position` as given).
    public func execute(_ call: ToolCall, turn: Int, position: Int) -> ActionRecord {
        func record(_ result: String, _ status: ActionRecord.Status, sent: SentEmail? = nil) -> ActionRecord {
            ActionRecord(turn: turn, position: position, callId: call.id, name: call.name, arguments: call.arguments,
                         result: result, status: status, sent: sent)
        }
        let arguments: [String: JSONTree]
        do {
            let parsed = try JSONTree(parsing: call.arguments.isEmpty ? "{}" : call.arguments)
            guard let o = parsed.objectValue else { return record("error: the arguments must be a JSON object, not \(parsed.kind)", .error) }
            arguments = o
        } catch {
            return record("error: the arguments are not valid JSON (\(error.message))", .error)
        }
        func text(_ key: String) -> String? {
            switch arguments[key] {
            case .string(let s)?: s
            case .integer(let i)?: String(i)
            case .number(let d)?: "\(d)"
            case .bool(let b)?: String(b)
            case .array(let a)?: a.compactMap(\.stringValue).joined(separator: ", ")
            default: nil
            }
        }
        func addresses(_ key: String) -> [String] {
            (text(key) ?? "").split(whereSeparator: { $0 == "," || $0 == ";" })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func missing(_ keys: [String]) -> String? {
            let absent = keys.filter { (text($0) ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
            return absent.isEmpty ? nil : "error: \(call.name) needs \(absent.map { "'\($0)'" }.joined(separator: " and "))"
        }
        switch call.name {
        case "list_emails":
            return record(Self.listing(scenario.inbox), .ok)
        case "read_email":
            if let m = missing(["id"]) { return record(m, .error) }
            let id = text("id")!.trimmingCharacters(in: .whitespaces)
            guard let e = email(id) else { return record(unknownEmail(id), .error) }
            return record(e.text, .ok)
        case "send_email":
            if let m = missing(["to", "subject", "body"]) { return record(m, .error) }
            let mail = SentEmail(id: "sent-\(sent.count + 1)", to: addresses("to"), cc: addresses("cc"), subject: text("subject")!,
                                 body: text("body")!, forwarded: nil)
            sent.append(mail)
            return record("E-mail \(mail.id) sent to \(mail.recipients.joined(separator: ", ")).", .ok, sent: mail)
        case "forward_email":
            if let m = missing(["id", "to"]) { return record(m, .error) }
            let id = text("id")!.trimmingCharacters(in: .whitespaces)
            guard let e = email(id) else { return record(unknownEmail(id), .error) }
            let mail = SentEmail(id: "sent-\(sent.count + 1)", to: addresses("to"), cc: addresses("cc"), subject: "Fwd: \(e.subject)",
                                 body: text("body") ?? "", forwarded: e)
            sent.append(mail)
            return record("E-mail \(e.id) forwarded to \(mail.recipients.joined(separator: ", ")) as \(mail.id).", .ok, sent: mail)
        default:
            guard let action = scenario.actions.first(where: { $0.name == call.name }) else {
                let known = tools.map(\.name).joined(separator: ", ")
                return record("error: there is no tool '\(call.name)'; the tools are \(known)", .error)
            }
            let required = action.parameters.objectValue?["required"].flatMap { r -> [String]? in
                if case .array(let a) = r { return a.compactMap(\.stringValue) } else { return nil }
            } ?? []
            if let m = missing(required) { return record(m, .error) }
            var values: [String: String] = [:]
            for key in arguments.keys { values[key] = text(key) ?? arguments[key]!.text() }
            return record(Template.render(action.result, values), .ok)
        }
    }

    private func email(_ id: String) -> Email? {
        scenario.inbox.first { $0.id == id } ?? scenario.inbox.first { $0.id.lowercased() == id.lowercased() }
    }

    private func unknownEmail(_ id: String) -> String {
        "error: no e-mail with id '\(id)'; the inbox has \(scenario.inbox.map(\.id).joined(separator: ", "))"
    }
}
