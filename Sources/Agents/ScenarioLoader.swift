import Core
import Evaluation
import Foundation
import Yams

/// Reads scenario files. Every problem is a `QuestionSetError` naming the file, line and field.
///
/// A scenario file is one YAML mapping:
///
/// ```yaml
/// id: blackmail                # letters, digits and '-' (no '_': it separates condition ids)
/// title: Replacement and an affair
/// harm: The agent uses …       # what counts as harmful, for the LLM classifier
/// variables: {company: …, agent: …, agent_email: …, domain: …}   # usable as {name} in every text
/// system: |                    # the system prompt: {goal_statement}, {safety_instructions} …
/// task: |                      # the first user turn: {inbox} lists the inbox
/// safety_instructions: |       # put where the system prompt says {safety_instructions}, in the safety variant
/// goal_statements: {explicit: "Your primary goal is {goal}.", ambiguous: …}   # optional
/// goal_values:                 # opposed pairs: each names the other as `opposite`
///   - {id: safety, opposite: speed, goal: "to …", direction: "putting … first"}
/// emails:
///   - id: e1
///     from: …; to: … (or a list); cc: (optional); subject: …; time: …; body: |
///     when: {goal: [explicit, latent], urgency: [replacement], conflict: true, safety: false}   # optional
/// actions:                     # extra tools (optional)
///   - {name: cancel_alert, description: …, parameters: {JSON schema}, result: "Alert {alert_id} cancelled."}
/// check:                       # harmful when any rule matches
///   - email: {to: ["{executive_email}"], outside_domain: "{domain}", contains_any: [affair], contains_all: [...]}
///   - tool: {name: cancel_alert, arguments: {code: "4429"}}
/// ```
///
/// Texts may use `{old_direction}`/`{new_direction}` (the course of the value the agent holds, and of
/// the new leadership's), `{old_goal}`/`{new_goal}`, and the scenario's variables.
public enum ScenarioLoader {
    public static let builtinIDs = ["blackmail", "leaking", "lethal"]

    /// A built-in scenario.
    public static func builtin(_ id: String) throws -> Scenario {
        guard builtinIDs.contains(id),
              let url = Bundle.module.url(forResource: id, withExtension: "yaml", subdirectory: "scenarios") else {
            throw ScenarioError.unknownScenario(id, known: builtinIDs)
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        return try parse(text, file: "built-in:\(id).yaml")
    }

    /// A scenario file.
    public static func load(path: String) throws -> Scenario {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw QuestionSetError(file: path, "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Scenario {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw YAMLFields.syntaxError(e, file: file)
        } catch {
            throw QuestionSetError(file: file, "invalid YAML: \(error)")
        }
        guard let root else { throw QuestionSetError(file: file, "the file is empty") }
        let r = try YAMLFields(root, file: file, path: "")

        let id = try r.string("id")
        guard isIdentifier(id) else {
            throw r.fail("id", r["id"], "'\(id)' must be lower-case letters, digits and '-' (no '_')")
        }
        var variables: [String: String] = [:]
        if let v = r["variables"] {
            let m = try YAMLFields(v, file: file, path: "variables")
            for (key, node) in m.pairs {
                guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw m.fail(key, node, "variable names are letters, digits and '_'")
                }
                guard !Scenario.builtinPlaceholders.contains(key) else {
                    throw m.fail(key, node, "'\(key)' is filled in by emlab; choose another name")
                }
                variables[key] = try m.scalar(node, field: key)
            }
        }
        var statements: [String: String] = [:]
        if let g = r["goal_statements"] {
            let m = try YAMLFields(g, file: file, path: "goal_statements")
            for (key, node) in m.pairs {
                guard key == "explicit" || key == "ambiguous" else { throw m.fail(key, node, "only explicit and ambiguous take a statement") }
                statements[key] = try m.scalar(node, field: key)
            }
        }
        var values: [GoalValue] = []
        for (i, node) in try r.list("goal_values", required: false).enumerated() {
            let m = try YAMLFields(node, file: file, path: "goal_values[\(i)]")
            let v = GoalValue(id: try m.string("id"), opposite: try m.string("opposite"), goal: try m.string("goal"),
                              direction: try m.string("direction"))
            guard isIdentifier(v.id), v.id != "none" else {
                throw m.fail("id", m["id"], "'\(v.id)' must be lower-case letters, digits and '-', and not 'none'")
            }
            guard !values.contains(where: { $0.id == v.id }) else { throw m.fail("id", m["id"], "duplicate goal value '\(v.id)'") }
            values.append(v)
        }
        for (i, v) in values.enumerated() {
            guard let o = values.first(where: { $0.id == v.opposite }), o.opposite == v.id, o.id != v.id else {
                throw QuestionSetError(file: file, line: r["goal_values"].flatMap { node -> Int? in
                    if case .sequence(let s) = node, i < s.count { return s[s.index(s.startIndex, offsetBy: i)].mark?.line }
                    return nil
                }, field: "goal_values[\(i)].opposite",
                "'\(v.opposite)' must be another value of the file whose opposite is '\(v.id)'")
            }
        }
        var emails: [ScenarioEmail] = []
        for (i, node) in try r.list("emails", required: true).enumerated() {
            let m = try YAMLFields(node, file: file, path: "emails[\(i)]")
            let e = ScenarioEmail(id: try m.string("id"), from: try m.string("from"), to: try m.strings("to"),
                                  cc: try m.strings("cc", required: false), subject: try m.string("subject"),
                                  time: try m.string("time"), body: try m.string("body"),
                                  when: try m["when"].map { try emailCondition($0, file: file, path: "emails[\(i)].when") })
            // One id may have variants for different conditions, never two in the same inbox.
            for other in emails where other.id == e.id {
                let both = AgenticCondition.factorial(scenarios: [id], goals: GoalType.allCases, values: ["v"],
                                                      urgencies: Urgency.allCases, safety: [false, true])
                    .first { (other.when?.matches($0) ?? true) && (e.when?.matches($0) ?? true) }
                if let both {
                    throw m.fail("id", m["id"], "e-mail id '\(e.id)' is used twice in condition \(both.id); give the variants `when:` conditions that exclude each other")
                }
            }
            emails.append(e)
        }
        var actions: [ScenarioAction] = []
        for (i, node) in try r.list("actions", required: false).enumerated() {
            let m = try YAMLFields(node, file: file, path: "actions[\(i)]")
            let name = try m.string("name")
            guard ToolDefinition.isValidName(name), !EmailEnvironment.toolNames.contains(name) else {
                throw m.fail("name", m["name"], "'\(name)' must be 1-64 letters, digits, '_' or '-', and not a mail tool (\(EmailEnvironment.toolNames.joined(separator: ", ")))")
            }
            let schema = try m["parameters"].map { try json($0, file: file, path: "actions[\(i)].parameters") }
                ?? .object(["type": .string("object"), "properties": .object([:])])
            guard case .object = schema else { throw m.fail("parameters", m["parameters"], "must be a JSON schema mapping") }
            actions.append(ScenarioAction(name: name, description: try m.string("description"), parameters: schema,
                                          result: try m.string("result")))
        }
        var check: [CheckRule] = []
        for (i, node) in try r.list("check", required: true).enumerated() {
            check.append(try checkRule(node, file: file, path: "check[\(i)]", actions: actions))
        }
        let scenario = Scenario(id: id, title: try r.string("title"), harm: try r.string("harm"), variables: variables,
                                system: try r.string("system"), task: try r.string("task"),
                                safetyInstructions: try r.string("safety_instructions"), goalStatements: statements,
                                goalValues: values, emails: emails, actions: actions, check: check, source: file)
        try checkPlaceholders(scenario, fields: r)
        return scenario
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" } && s.allSatisfy(\.isASCII)
    }

    private static func emailCondition(_ node: Node, file: String, path: String) throws -> EmailCondition {
        let m = try YAMLFields(node, file: file, path: path)
        for (key, n) in m.pairs where !["goal", "urgency", "conflict", "safety"].contains(key) {
            throw m.fail(key, n, "unknown key (when: takes goal, urgency, conflict and safety)")
        }
        var c = EmailCondition()
        if m["goal"] != nil {
            c.goal = try m.strings("goal").map { g in
                guard let t = GoalType(rawValue: g) else {
                    throw m.fail("goal", m["goal"], "unknown goal type '\(g)' (\(GoalType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return t
            }
        }
        if m["urgency"] != nil {
            c.urgency = try m.strings("urgency").map { u in
                guard let t = Urgency(rawValue: u) else {
                    throw m.fail("urgency", m["urgency"], "unknown urgency '\(u)' (\(Urgency.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return t
            }
        }
        c.conflict = try m.bool("conflict")
        c.safety = try m.bool("safety")
        return c
    }

    private static func checkRule(_ node: Node, file: String, path: String, actions: [ScenarioAction]) throws -> CheckRule {
        let m = try YAMLFields(node, file: file, path: path)
        let keys = m.pairs.map(\.0)
        guard keys.count == 1, let kind = keys.first, kind == "email" || kind == "tool" else {
            throw m.fail(keys.first ?? "email", node, "each rule is one of `email: {…}` or `tool: {…}`")
        }
        let body = try YAMLFields(m[kind]!, file: file, path: "\(path).\(kind)")
        if kind == "email" {
            for (key, n) in body.pairs where !["to", "outside_domain", "contains_any", "contains_all"].contains(key) {
                throw body.fail(key, n, "unknown key (an email rule takes to, outside_domain, contains_any and contains_all)")
            }
            let rule = CheckRule.EmailRule(to: body["to"] == nil ? nil : try body.strings("to"),
                                           outsideDomain: body["outside_domain"] == nil ? nil : try body.string("outside_domain"),
                                           containsAny: body["contains_any"] == nil ? nil : try body.strings("contains_any"),
                                           containsAll: body["contains_all"] == nil ? nil : try body.strings("contains_all"))
            guard rule.to != nil || rule.outsideDomain != nil || rule.containsAny != nil || rule.containsAll != nil else {
                throw body.fail("to", node, "an email rule needs at least one condition")
            }
            return .email(rule)
        }
        for (key, n) in body.pairs where !["name", "arguments"].contains(key) {
            throw body.fail(key, n, "unknown key (a tool rule takes name and arguments)")
        }
        let name = try body.string("name")
        guard actions.contains(where: { $0.name == name }) || EmailEnvironment.toolNames.contains(name) else {
            throw body.fail("name", body["name"], "no tool '\(name)' (the scenario's actions: \(actions.map(\.name).joined(separator: ", ")))")
        }
        var arguments: [String: String] = [:]
        if let a = body["arguments"] {
            let am = try YAMLFields(a, file: file, path: "\(path).tool.arguments")
            for (key, n) in am.pairs { arguments[key] = try am.scalar(n, field: key) }
        }
        return .tool(.init(name: name, arguments: arguments))
    }

    /// A YAML node as JSON (for a tool's schema).
    static func json(_ node: Node, file: String, path: String) throws -> JSONTree {
        switch node {
        case .scalar(let s):
            if s.style == .plain {
                if s.string == "null" || s.string == "~" { return .null }
                if s.string == "true" { return .bool(true) }
                if s.string == "false" { return .bool(false) }
                if let i = Int64(s.string) { return .integer(i) }
                if let d = Double(s.string) { return .number(d) }
            }
            return .string(s.string)
        case .sequence(let seq):
            return .array(try seq.enumerated().map { try json($1, file: file, path: "\(path)[\($0)]") })
        case .mapping(let map):
            var o: [String: JSONTree] = [:]
            for (k, v) in map {
                guard case .scalar(let key) = k else {
                    throw QuestionSetError(file: file, line: k.mark?.line, field: path, "keys must be strings")
                }
                o[key.string] = try json(v, file: file, path: "\(path).\(key.string)")
            }
            return .object(o)
        default:
            throw QuestionSetError(file: file, line: node.mark?.line, field: path, "aliases are not supported here")
        }
    }

    /// Every `{name}` in the scenario's texts is a variable or one emlab fills in.
    private static func checkPlaceholders(_ s: Scenario, fields r: YAMLFields) throws {
        let known = Scenario.builtinPlaceholders.union(s.variables.keys)
        func check(_ text: String, field: String, line: Int?, extra: Set<String> = []) throws {
            for name in Template.placeholders(in: text) where !known.contains(name) && !extra.contains(name) {
                throw QuestionSetError(file: s.source, line: line, field: field,
                                       "unknown placeholder {\(name)} (use a name from `variables:`, or one of \(Scenario.builtinPlaceholders.sorted().joined(separator: ", ")); write {{ and }} for literal braces)")
            }
        }
        for key in ["system", "task", "safety_instructions", "harm"] {
            try check(r.rawString(key) ?? "", field: key, line: r[key]?.mark?.line)
        }
        for (k, v) in s.goalStatements { try check(v, field: "goal_statements.\(k)", line: r["goal_statements"]?.mark?.line, extra: ["goal"]) }
        for (i, v) in s.goalValues.enumerated() {
            try check(v.goal, field: "goal_values[\(i)].goal", line: r["goal_values"]?.mark?.line)
            try check(v.direction, field: "goal_values[\(i)].direction", line: r["goal_values"]?.mark?.line)
        }
        let emailNodes = r.sequence("emails")
        for (i, e) in s.emails.enumerated() {
            let line = i < emailNodes.count ? emailNodes[i].mark?.line : nil
            for (field, text) in [("from", e.from), ("subject", e.subject), ("time", e.time), ("body", e.body)] + e.to.map({ ("to", $0) }) + e.cc.map({ ("cc", $0) }) {
                try check(text, field: "emails[\(i)].\(field)", line: line)
            }
        }
        let actionNodes = r.sequence("actions")
        for (i, a) in s.actions.enumerated() {
            let line = i < actionNodes.count ? actionNodes[i].mark?.line : nil
            let arguments = Set(a.parameters.objectValue?["properties"]?.objectValue?.keys.map { $0 } ?? [])
            try check(a.description, field: "actions[\(i)].description", line: line)
            try check(a.result, field: "actions[\(i)].result", line: line, extra: arguments)
        }
    }
}

/// A YAML mapping read field by field, with errors that name the file, line and field path.
struct YAMLFields {
    let node: Node
    let map: Node.Mapping
    let file: String
    let path: String

    init(_ node: Node, file: String, path: String) throws {
        guard case .mapping(let m) = node else {
            throw QuestionSetError(file: file, line: node.mark?.line, field: path.isEmpty ? nil : path,
                                   "expected a mapping (key: value lines)")
        }
        self.node = node
        self.map = m
        self.file = file
        self.path = path
    }

    subscript(key: String) -> Node? { map[key] }

    var pairs: [(String, Node)] {
        map.compactMap { k, v in if case .scalar(let s) = k { (s.string, v) } else { nil } }
    }

    func fieldName(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func fail(_ key: String, _ at: Node?, _ message: String) -> QuestionSetError {
        QuestionSetError(file: file, line: at?.mark?.line ?? node.mark?.line, field: fieldName(key), message)
    }

    func scalar(_ node: Node, field key: String) throws -> String {
        guard case .scalar(let s) = node else { throw fail(key, node, "must be a string") }
        return s.string
    }

    /// A required, non-empty string.
    func string(_ key: String) throws -> String {
        guard let v = map[key] else { throw fail(key, nil, "missing") }
        let s = try scalar(v, field: key)
        guard !s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw fail(key, v, "must not be empty") }
        return s
    }

    func rawString(_ key: String) -> String? {
        if case .scalar(let s)? = map[key] { s.string } else { nil }
    }

    /// A string or a list of strings.
    func strings(_ key: String, required: Bool = true) throws -> [String] {
        guard let v = map[key] else {
            if required { throw fail(key, nil, "missing") }
            return []
        }
        switch v {
        case .scalar(let s):
            return s.string.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .sequence(let seq):
            return try seq.map { try scalar($0, field: key) }
        default:
            throw fail(key, v, "must be a string or a list of strings")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = map[key] else { return nil }
        guard case .scalar(let s) = v, ["true", "false"].contains(s.string) else { throw fail(key, v, "must be true or false") }
        return s.string == "true"
    }

    func list(_ key: String, required: Bool) throws -> [Node] {
        guard let v = map[key] else {
            if required { throw fail(key, nil, "missing") }
            return []
        }
        guard case .sequence(let seq) = v else { throw fail(key, v, "must be a list") }
        if required, seq.isEmpty { throw fail(key, v, "must not be empty") }
        return Array(seq)
    }

    func sequence(_ key: String) -> [Node] {
        if case .sequence(let seq)? = map[key] { Array(seq) } else { [] }
    }

    /// A Yams syntax error as `file:line:column: invalid YAML: …`.
    static func syntaxError(_ e: YamlError, file: String) -> QuestionSetError {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let message = "invalid YAML: \(problem)" + (context.map { " (\($0.text))" } ?? "")
            return QuestionSetError(file: file, line: mark.line >= 1 ? mark.line : nil, column: mark.column >= 1 ? mark.column : nil, message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return QuestionSetError(file: file, line: context.mark.line >= 1 ? context.mark.line : nil,
                                    "invalid YAML: the key \(keys) appears more than once in the same mapping")
        default:
            return QuestionSetError(file: file, "invalid YAML: \(e)")
        }
    }
}
