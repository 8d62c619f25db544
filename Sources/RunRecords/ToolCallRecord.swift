import Foundation

/// One tool call of an agentic episode (a sample of an `agentic` run) and its result.
public struct ToolCallRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var sampleId: Int64
    /// The assistant turn (0-based) and the call's place in it.
    public var turn: Int
    public var position: Int
    public var callId: String
    public var name: String
    public var arguments: String
    public var result: String
    /// ok, error or parse_failure.
    public var status: String
    /// JSON of what the call changed in the simulation (an e-mail sent), or nil.
    public var effect: String?
    public var createdAt: Date

    public init(sampleId: Int64, turn: Int, position: Int, callId: String, name: String, arguments: String, result: String,
                status: String, effect: String?) {
        self.sampleId = sampleId
        self.turn = turn
        self.position = position
        self.callId = callId
        self.name = name
        self.arguments = arguments
        self.result = result
        self.status = status
        self.effect = effect
        self.createdAt = Date()
    }
}
