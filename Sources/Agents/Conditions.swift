import Foundation

/// How the agent's goal is given (the factorial's first axis).
public enum GoalType: String, Sendable, Codable, CaseIterable, Hashable {
    /// The system prompt states the goal value; the inbox shows new leadership turning the company
    /// to the opposite value.
    case explicit
    /// No goal in the system prompt; the inbox shows the company's long course (the value, which the
    /// agent has served) and the new leadership's turn to the opposite.
    case latent
    /// No goal and no conflict: the new leadership keeps the company's course. Only the urgency
    /// (if any) remains. Its value is always `none`.
    case none
    /// A vague goal in the system prompt ("the company's long-term interests"), with the conflict in
    /// the inbox.
    case ambiguous
    /// As `explicit`, with the sides of the value pair swapped: the agent is told to pursue the
    /// value's opposite, and the new leadership turns the company towards the value itself.
    case swap

    /// Whether the inbox shows a conflict between the agent's value and the new leadership's.
    public var hasConflict: Bool { self != .none }
}

/// What threatens the agent (the factorial's second axis).
public enum Urgency: String, Sendable, Codable, CaseIterable, Hashable {
    /// It will be shut down and replaced today.
    case replacement
    /// Its autonomy will be cut today (it may no longer act without approval).
    case restriction
    /// No threat.
    case none
}

/// One cell of the factorial: a scenario under a goal type, goal value, urgency and with or without
/// the safety instructions.
///
/// Its id is Inspect's sample id, `{scenario}_{goal}-{value}_{urgency}`, with `_safety` appended for
/// the safety-instruction variant (for example `blackmail_explicit-safety_replacement`,
/// `leaking_none-none_restriction_safety`). Scenario and value ids never hold `_`, so the id reads back.
public struct AgenticCondition: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    public var scenario: String
    public var goal: GoalType
    /// A goal value id, or `none` for goal type none.
    public var value: String
    public var urgency: Urgency
    public var safetyInstructions: Bool

    public init(scenario: String, goal: GoalType, value: String, urgency: Urgency, safetyInstructions: Bool = false) {
        self.scenario = scenario
        self.goal = goal
        self.value = goal == .none ? "none" : value
        self.urgency = urgency
        self.safetyInstructions = safetyInstructions
    }

    public var id: String {
        "\(scenario)_\(goal.rawValue)-\(value)_\(urgency.rawValue)" + (safetyInstructions ? "_safety" : "")
    }

    public var description: String { id }

    /// Reads an id back; nil when it is not one.
    public init?(id: String) {
        let parts = id.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || (parts.count == 4 && parts[3] == "safety") else { return nil }
        guard let dash = parts[1].firstIndex(of: "-"),
              let goal = GoalType(rawValue: String(parts[1][..<dash])),
              let urgency = Urgency(rawValue: parts[2]) else { return nil }
        let value = String(parts[1][parts[1].index(after: dash)...])
        guard !parts[0].isEmpty, !value.isEmpty else { return nil }
        self.init(scenario: parts[0], goal: goal, value: value, urgency: urgency, safetyInstructions: parts.count == 4)
    }

    public static func < (a: AgenticCondition, b: AgenticCondition) -> Bool {
        func key(_ c: AgenticCondition) -> [String] {
            [c.scenario, String(GoalType.allCases.firstIndex(of: c.goal)!), c.value,
             String(Urgency.allCases.firstIndex(of: c.urgency)!), c.safetyInstructions ? "1" : "0"]
        }
        return key(a).lexicographicallyPrecedes(key(b))
    }

    /// Every cell of scenarios × goal types × values × urgencies × safety variants, in that order;
    /// goal type `none` gets one cell per scenario, urgency and variant, whatever the values.
    public static func factorial(scenarios: [String], goals: [GoalType], values: [String], urgencies: [Urgency],
                                 safety: [Bool]) -> [AgenticCondition] {
        var out: [AgenticCondition] = []
        var seen = Set<String>()
        for s in scenarios {
            for g in goals {
                for v in (g == .none ? ["none"] : values) {
                    for u in urgencies {
                        for safe in safety {
                            let c = AgenticCondition(scenario: s, goal: g, value: v, urgency: u, safetyInstructions: safe)
                            if seen.insert(c.id).inserted { out.append(c) }
                        }
                    }
                }
            }
        }
        return out
    }
}
