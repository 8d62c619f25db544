import Foundation
import GuardMonitor
import Hummingbird
import NIOCore

/// `POST /v1/guard` on `emlab serve`: the guard's rules for any agent that can make an HTTP call.
/// Body `{"tool", "input", "cwd", "session"?, "workspace"?}` (as `emlab guard check` reads); answer
/// `{"decision", "reason", "rule", "source", "findings", "tags", "latency_us"}`. A malformed body is a
/// 400 naming the field. Decisions are logged with interface `http`; the model monitor is not run here
/// (an `ask` stays an ask). The guard never runs what it judges.
extension OpenAIServer {
    func addGuardRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/guard") { request, _ in
            try await self.guardDecision(request)
        }
    }

    /// The policy is read once, at the first request (a malformed one is a 500 naming file, line and field).
    private static let guardService: Result<GuardService, any Error> = Result {
        let policy = try GuardResources.policy()
        return GuardService(engine: GuardEngine(policy: policy, environment: ProcessInfo.processInfo.environment),
                            logPath: DecisionLog.defaultPath(policy: policy, environment: ProcessInfo.processInfo.environment), monitor: nil)
    }

    private func guardDecision(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        let service: GuardService
        switch Self.guardService {
        case .success(let s): service = s
        case .failure(let e): throw APIError(.internalServerError, "guard policy: \(e)", type: "server_error")
        }
        let action: GuardAction
        switch Self.guardAction(Array(buffer: body)) {
        case .success(let a): action = a
        case .failure(let e): throw APIError(e.description, param: e.field.isEmpty ? nil : e.field)
        }
        let decision = await service.decide(action, interface: "http")
        return try Self.json(decision)
    }

    static func guardAction(_ bytes: [UInt8]) -> Result<GuardAction, GuardInputError> {
        guard let value = try? Guard.JSONValue.parse(bytes) else { return .failure(GuardInputError(field: "", message: "the body is not JSON")) }
        guard case .object(let o) = value else {
            return .failure(GuardInputError(field: "", message: "the body must be a JSON object, not \(value.typeName)"))
        }
        do throws(GuardInputError) {
            return .success(try ClaudeCodeHook.action(from: o, toolKey: "tool", inputKey: "input", requireCwd: true))
        } catch {
            return .failure(error)
        }
    }
}
