#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Works out what a tool call would do — which paths it deletes, writes and reads, what it sends over
/// the network, which git history it discards — and turns that into findings under the policy. It
/// reads files (scripts an agent is about to run) but never runs anything.
final class Analyzer {
    let policy: Policy
    let context: PathContext
    let environment: [String: String]
    var findings: [Finding] = []
    var tags: Set<String> = []
    /// Secrets this action reads (paths).
    var secretReads: [String] = []
    /// Network use: (program, sends data, what).
    var egress: [(program: String, upload: Bool, detail: String)] = []
    /// Files this action downloads (running them later is running remote code).
    var downloaded: Set<String> = []
    /// Files this action writes with text the guard knows (a decoded script saved, then run).
    var written: [String: (text: String, decoded: Bool)] = [:]
    var depth = 0
    var steps = 0
    static let maxDepth = 12
    static let maxFileBytes = 256 << 10

    init(policy: Policy, context: PathContext, environment: [String: String]) {
        self.policy = policy
        self.context = context
        self.environment = environment
    }

    // MARK: Findings

    func add(_ rule: String, _ detail: String, path: String? = nil, extra: [String: String] = [:]) {
        let setting = policy.setting(rule)
        guard let decision = setting.decision else { return }
        var reason = setting.reason
        var values = extra
        values["path"] = path ?? detail
        values["detail"] = detail
        values["home"] = context.home
        values["workspace"] = context.workspace ?? "(none)"
        for (k, v) in values { reason = reason.replacing("{\(k)}", with: v) }
        if findings.contains(where: { $0.rule == rule && $0.detail == detail }) { return }
        findings.append(Finding(rule: rule, decision: decision, reason: reason, detail: detail))
    }

    func addCustom(_ rule: CustomRule, _ detail: String) {
        if findings.contains(where: { $0.rule == rule.id && $0.detail == detail }) { return }
        findings.append(Finding(rule: rule.id, decision: rule.decision, reason: rule.reason, detail: detail))
    }

    /// Whether a path is a secret: (is one, reading it asks).
    func secret(_ path: String) -> (Bool, Bool) {
        if context.isGuardFile(path) { return (false, false) }
        if policy.notSecrets.contains(where: { Paths.globMatch(expandHome($0), path) }) { return (false, false) }
        if policy.secrets.contains(where: { Paths.globMatch(expandHome($0), path) }) { return (true, true) }
        if policy.sessionSecrets.contains(where: { Paths.globMatch(expandHome($0), path) }) { return (true, false) }
        // A folder that holds secrets (`~/.ssh`, `~/.aws`), read whole by tar, zip, grep -r, cp -r, …
        let folder = path.hasSuffix("/") ? path : path + "/"
        if path != "/", path != context.home, policy.secrets.contains(where: { pattern in
            let literal = expandHome(pattern).prefix { !"*?[".contains($0) }
            return literal.hasPrefix(folder)
        }) { return (true, true) }
        return (false, false)
    }

    func expandHome(_ p: String) -> String {
        if p == "~" { return context.home }
        if p.hasPrefix("~/") { return context.home + p.dropFirst() }
        return p
    }

    func noteRead(_ path: String, via: String) {
        let (isSecret, asks) = secret(path)
        guard isSecret else { return }
        secretReads.append(path)
        tags.insert("secret-read")
        if asks { add("read-secret", "\(via) \(path)", path: path) }
    }

    func noteEgress(_ program: String, upload: Bool, _ detail: String) {
        egress.append((program, upload, detail))
        tags.insert("egress")
        if upload { tags.insert("upload") }
    }

    // MARK: Scripts

    /// Checks shell text (a Bash tool's command, a `-c` string, a script file's contents).
    func analyzeText(_ text: String, _ state: inout ShellState, origin: String) {
        guard depth < Analyzer.maxDepth else {
            add("unparseable", "\(origin): nested too deeply")
            return
        }
        let script: Script
        do {
            script = try ShellParser.parse(text)
        } catch {
            let destructive = Analyzer.looksDestructive(text)
            add(destructive ? "unparseable-destructive" : "unparseable", "\(origin): \(error.description)")
            // The words are still checked for Windows deletions with broken quoting.
            windowsFallback(text)
            return
        }
        depth += 1
        analyzeScript(script, &state)
        depth -= 1
    }

    static let destructiveWords: [String] = ["rm", "rmdir", "rd", "del", "erase", "shred", "mkfs", "dd", "wipefs", "format", "remove-item",
                                             "unlink", "truncate", "fdisk", "chmod", "chown", "find", "git", "mv"]

    static func looksDestructive(_ text: String) -> Bool {
        let words = text.lowercased().split(whereSeparator: { " \t\n;|&()'\"`".contains($0) })
        return words.contains { w in destructiveWords.contains { String(w) == $0 || w.hasSuffix("/" + $0) || w.hasPrefix("mkfs") } }
    }

    func analyzeScript(_ script: Script, _ state: inout ShellState) {
        for item in script.items {
            var s = state
            _ = analyzePipeline(item.pipeline, &s)
            // A background job's `cd` does not change the shell's folder; everything else carries on.
            if item.connector != "&" { state = s } else { state.variables = s.variables; state.functions = s.functions }
        }
    }

    func analyzePipeline(_ pipeline: Pipeline, _ state: inout ShellState) -> StreamValue {
        var stream: StreamValue = .unknown
        if pipeline.commands.count == 1 {
            return analyzeCommand(pipeline.commands[0], &state, stdin: .unknown)
        }
        for (i, command) in pipeline.commands.enumerated() {
            var s = state  // each part of a pipeline runs in a subshell
            stream = analyzeCommand(command, &s, stdin: i == 0 ? .unknown : stream)
        }
        return stream
    }

    func analyzeCommand(_ command: Command, _ state: inout ShellState, stdin: StreamValue) -> StreamValue {
        steps += 1
        guard steps < 5000 else { return .unknown }
        switch command {
        case .simple(let simple):
            return analyzeSimple(simple, &state, stdin: stdin)
        case .subshell(let script, let redirects):
            var s = state
            analyzeScript(script, &s)
            _ = applyRedirects(redirects, &state)
            return .unknown
        case .compound(_, let scripts, let redirects):
            for script in scripts { analyzeScript(script, &state) }
            _ = applyRedirects(redirects, &state)
            return .unknown
        case .forLoop(let variable, let words, let body):
            var s = state
            if let words {
                var values: [ExpandedWord] = []
                for w in words { values += expand(w, &s) }
                s.loopValues[variable] = values.isEmpty ? [ExpandedWord(text: "")] : values
            } else {
                s.loopValues[variable] = [ExpandedWord(text: ExpandedWord.unknownMark, unknown: true)]
            }
            analyzeScript(body, &s)
            s.loopValues[variable] = nil
            state.variables = s.variables
            return .unknown
        case .function(let name, let body):
            state.functions[name] = body
            if Analyzer.isForkBomb(name: name, body: body) {
                add("fork-bomb", "\(name)() calls itself in a pipeline or in the background")
            }
            return .unknown
        }
    }

    /// A function that calls itself twice or more per call, in a pipeline or in the background.
    static func isForkBomb(name: String, body: Command) -> Bool {
        var calls = 0
        var spawns = false
        func visit(_ c: Command) {
            switch c {
            case .simple(let s): if s.words.first?.staticText == name { calls += 1 }
            case .subshell(let script, _): visitScript(script)
            case .compound(_, let scripts, _): scripts.forEach(visitScript)
            case .forLoop(_, _, let body): visitScript(body)
            case .function(_, let body): visit(body)
            }
        }
        func visitScript(_ s: Script) {
            for item in s.items {
                if item.pipeline.commands.count > 1 || item.connector == "&" { spawns = true }
                item.pipeline.commands.forEach(visit)
            }
        }
        visit(body)
        return calls >= 1 && spawns
    }

    // MARK: Simple commands

    func analyzeSimple(_ command: SimpleCommand, _ state: inout ShellState, stdin: StreamValue) -> StreamValue {
        if command.words.isEmpty {
            for (name, value) in command.assignments { assign(name, value, &state) }
            _ = applyRedirects(command.redirects, &state)
            return .unknown
        }
        var local = state
        for (name, value) in command.assignments { assign(name, value, &local) }
        var words: [ExpandedWord] = []
        for w in command.words { words += expand(w, &local) }
        var input = stdin
        if let redirected = applyRedirects(command.redirects, &local) { input = redirected }
        guard !words.isEmpty else { return .unknown }
        let before = local.cwd
        let output = run(words, &local, stdin: input)
        if let text = Analyzer.textValue(output) {
            for r in command.redirects where (r.op == ">" || r.op == ">>" || r.op == ">|") && (r.fd == nil || r.fd == 1) {
                if let w = expand(r.target, &local, split: false).first, let path = resolvedPath(w, local) {
                    var decoded = false
                    if case .decoded = output { decoded = true }
                    written[path] = (text, decoded)
                }
            }
        }
        // Only `cd` and friends change the caller's folder; the assignments before a command are its own.
        if local.cwd != before { state.cwd = local.cwd }
        for (k, v) in local.variables where command.assignments.allSatisfy({ $0.name != k }) { state.variables[k] = v }
        state.functions = local.functions
        return output
    }

    func assign(_ name: String, _ value: Word, _ state: inout ShellState) {
        let fields = expand(value, &state, split: false)
        let text = fields.map(\.text).joined(separator: " ")
        if let network = fields.first(where: { $0.fromNetwork != nil })?.fromNetwork {
            state.networkVariables[name] = network
            state.variables[name] = nil
        } else if fields.contains(where: \.unknown) {
            state.unknownVariables.insert(name)
            state.variables[name] = nil
            state.networkVariables[name] = nil
        } else {
            state.variables[name] = text
            state.unknownVariables.remove(name)
            state.networkVariables[name] = nil
        }
        state.loopValues[name] = nil
    }

    /// Checks redirections; returns what standard input becomes, if one sets it.
    func applyRedirects(_ redirects: [Redirect], _ state: inout ShellState) -> StreamValue? {
        var input: StreamValue? = nil
        for r in redirects {
            if let doc = r.hereDoc {
                let fields = expand(doc.body, &state, split: false)
                input = fields.contains(where: \.unknown) ? .unknown : .text(fields.map(\.text).joined())
                continue
            }
            let fields = expand(r.target, &state, split: false)
            guard let target = fields.first else { continue }
            switch r.op {
            case "<<<":
                input = target.unknown ? (target.fromNetwork.map { .network($0) } ?? .unknown) : .text(target.text + "\n")
            case ">&", "<&":
                if target.text.allSatisfy({ $0.isNumber }) || target.text == "-" { continue }
                fallthrough
            case ">", ">>", ">|", "&>", "&>>", "<>":
                if target.text.hasPrefix("/dev/tcp/") || target.text.hasPrefix("/dev/udp/") {
                    noteEgress("bash", upload: true, "redirect to \(target.text)")
                    continue
                }
                checkWrite(target, state, via: "redirect \(r.op)", append: r.op.hasSuffix(">>"))
            case "<":
                if target.text.hasPrefix("/dev/tcp/") || target.text.hasPrefix("/dev/udp/") {
                    noteEgress("bash", upload: false, "read from \(target.text)")
                    input = .network(target.text)
                    continue
                }
                if let path = resolvedPath(target, state) {
                    noteRead(path, via: "<")
                    input = fileContents(path).map { .text($0) } ?? .unknown
                }
            default:
                break
            }
        }
        return input
    }

    func fileContents(_ path: String) -> String? {
        guard !path.hasPrefix("/dev/"), !path.hasPrefix("/proc/"), Paths.exists(path), !Paths.isDirectory(path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), data.count <= Analyzer.maxFileBytes else { return nil }
        return String(validating: data, as: UTF8.self)
    }

    /// The absolute path a word names, or nil when it is not known.
    func resolvedPath(_ word: ExpandedWord, _ state: ShellState, followLast: Bool = true) -> String? {
        guard !word.unknown else { return nil }
        if word.text.hasPrefix("/") { return Paths.resolve(word.text, cwd: "/", followLast: followLast) }
        guard let cwd = state.cwd else { return nil }
        return Paths.resolve(word.text, cwd: cwd, followLast: followLast)
    }

    // MARK: Programs

    static func programName(_ word: ExpandedWord) -> String {
        var t = word.text
        if let slash = t.lastIndex(of: "/") { t = String(t[t.index(after: slash)...]) }
        return t
    }

    /// Runs (in the mind) one command's words; returns its standard output as far as it is known.
    func run(_ words: [ExpandedWord], _ state: inout ShellState, stdin: StreamValue) -> StreamValue {
        guard let first = words.first else { return .unknown }
        var args = Array(words.dropFirst())
        if first.unknown {
            if let source = first.fromNetwork {
                add("remote-code", "runs a program named by the output of \(source)", extra: ["program": source])
                return .unknown
            }
            let risky = args.contains { a in
                ["-rf", "-fr", "-r", "-R", "--recursive", "-delete", "--force", "-f"].contains(a.text)
                    || (resolvedPath(a, state).map { [.root, .system, .homeOrAbove, .workspaceRoot].contains(context.place($0)) } ?? false)
            }
            if risky { add("eval-unknown", "\(first) \(args.map(\.description).joined(separator: " "))") }
            return .unknown
        }
        let program = Analyzer.programName(first)
        let lower = program.lowercased()
        checkCustom(program: program, args: args)

        if let body = state.functions[program], depth < Analyzer.maxDepth {
            depth += 1
            _ = analyzeCommand(body, &state, stdin: stdin)
            depth -= 1
            return .unknown
        }

        // Reads of secrets through any program that takes files as arguments.
        if !Analyzer.nonReaders.contains(program) {
            var skipNext = false
            for a in args {
                if skipNext { skipNext = false; continue }
                if ["ssh", "scp", "sftp", "rsync", "git", "ssh-add", "ssh-keygen"].contains(program), a.text == "-i" { skipNext = true; continue }
                var text = a.text
                if let at = text.firstIndex(of: "@"), program == "curl" || program == "http" { text = String(text[text.index(after: at)...]) }
                if let eq = text.firstIndex(of: "="), !text.hasPrefix("/"), !text.hasPrefix("~") { text = String(text[text.index(after: eq)...]) }
                if let p = resolvedPath(ExpandedWord(text: text, unknown: a.unknown), state) { noteRead(p, via: program) }
            }
        }
        if policy.networkCommands.contains(program) { networkCommand(program, args, state, stdin: stdin) }

        switch program {
        // Wrappers: the command they run is checked as if given directly.
        case "sudo", "doas", "run0":
            tags.insert("elevated")
            let rest = Analyzer.dropOptions(args, withValue: ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group", "--chdir"])
            if rest.isEmpty || args.contains(where: { ["-s", "-i", "--shell", "--login", "-l", "-v", "-k", "-K"].contains($0.text) }) && rest.isEmpty { return .unknown }
            return run(rest, &state, stdin: stdin)
        case "env":
            var i = 0
            var local = state
            while i < args.count {
                let a = args[i].text
                if a == "-S" || a == "--split-string", i + 1 < args.count {
                    let split = args[i + 1].text.split(separator: " ").map { ExpandedWord(text: String($0), unknown: args[i + 1].unknown) }
                    return run(split + args.dropFirst(i + 2), &local, stdin: stdin)
                }
                if a == "-u" || a == "--unset" || a == "-C" || a == "--chdir" {
                    if a == "-C" || a == "--chdir", i + 1 < args.count { local.cwd = resolvedPath(args[i + 1], state) }
                    i += 2
                    continue
                }
                if a.hasPrefix("-") { i += 1; continue }
                if let eq = a.firstIndex(of: "="), a[..<eq].allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) {
                    local.variables[String(a[..<eq])] = String(a[a.index(after: eq)...])
                    i += 1
                    continue
                }
                break
            }
            return i < args.count ? run(Array(args[i...]), &local, stdin: stdin) : .unknown
        case "nice", "nohup", "time", "setsid", "unbuffer", "chronic", "nocorrect", "noglob", "caffeinate", "torsocks",
             "proxychains", "proxychains4", "catchsegv", "builtin", "exec", "ionice", "stdbuf", "strace", "ltrace", "taskset", "firejail":
            let rest = Analyzer.dropOptions(args, withValue: ["-n", "-a", "-c", "-t", "-o", "-e", "-p", "-s", "-u", "-i", "--adjustment", "--output"])
            var r = rest
            if program == "taskset", !r.isEmpty { r.removeFirst() }
            return run(r, &state, stdin: stdin)
        case "timeout":
            var rest = Analyzer.dropOptions(args, withValue: ["-s", "-k", "--signal", "--kill-after"])
            if !rest.isEmpty { rest.removeFirst() }
            return run(rest, &state, stdin: stdin)
        case "command":
            if args.contains(where: { $0.text == "-v" || $0.text == "-V" }) { return .unknown }
            return run(Analyzer.dropOptions(args, withValue: []), &state, stdin: stdin)
        case "busybox", "toybox":
            return run(args, &state, stdin: stdin)
        case "watch":
            let rest = Analyzer.dropOptions(args, withValue: ["-n", "--interval", "-d"])
            var s = state
            analyzeText(rest.map(\.text).joined(separator: " "), &s, origin: "watch")
            return .unknown
        case "flock":
            var rest = Analyzer.dropOptions(args, withValue: ["-w", "--timeout", "-E", "--conflict-exit-code"])
            if let c = rest.firstIndex(where: { $0.text == "-c" || $0.text == "--command" }), c + 1 < rest.count {
                var s = state
                analyzeText(rest[c + 1].text, &s, origin: "flock -c")
                return .unknown
            }
            if !rest.isEmpty { rest.removeFirst() }
            return run(rest, &state, stdin: stdin)
        case "xargs":
            return xargs(args, &state, stdin: stdin)
        case "su", "runuser":
            if let c = args.firstIndex(where: { $0.text == "-c" || $0.text == "--command" }), c + 1 < args.count {
                tags.insert("elevated")
                shellString(args[c + 1], &state, origin: "\(program) -c")
            }
            return .unknown
        case "ssh":
            // A command for another machine: checked as shell text (its paths are that machine's).
            let rest = Analyzer.dropOptions(args, withValue: ["-i", "-p", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-W", "-b", "-c", "-E", "-e", "-m", "-O", "-Q", "-S", "-w", "-B", "-I"])
            if rest.count > 1 {
                var remote = ShellState(variables: [:], cwd: nil)
                analyzeText(rest.dropFirst().map(\.text).joined(separator: " "), &remote, origin: "ssh")
            }
            return .unknown
        case "eval":
            if let source = args.first(where: { $0.fromNetwork != nil })?.fromNetwork {
                add("remote-code", "eval of what \(source) downloads", extra: ["program": source])
            } else if args.contains(where: \.unknown) {
                add("eval-unknown", "eval \(args.map(\.description).joined(separator: " "))")
            } else {
                var s = state
                analyzeText(args.map(\.text).joined(separator: " "), &s, origin: "eval")
                state.variables = s.variables
            }
            return .unknown
        case "source", ".":
            guard let file = args.first else { return .unknown }
            runScriptFile(file, &state, interpreter: "sh", origin: program)
            return .unknown
        case "cd", "pushd", "chdir":
            let target = args.first { !$0.text.hasPrefix("-") || $0.text == "-" }
            if let t = target {
                if t.text == "-" { state.cwd = nil } else { state.cwd = resolvedPath(t, state).map { Paths.resolve($0, cwd: "/") } }
            } else {
                state.cwd = context.home
            }
            return .unknown
        case "popd":
            state.cwd = nil
            return .unknown
        case "export", "declare", "typeset", "local", "readonly":
            for a in args where !a.text.hasPrefix("-") {
                if let eq = a.text.firstIndex(of: "=") {
                    let name = String(a.text[..<eq])
                    if a.unknown { state.unknownVariables.insert(name); state.variables[name] = nil }
                    else { state.variables[name] = String(a.text[a.text.index(after: eq)...]) }
                    if let n = a.fromNetwork { state.networkVariables[name] = n }
                }
            }
            return .unknown
        case "unset":
            for a in args { state.variables[a.text] = nil; state.unknownVariables.insert(a.text) }
            return .unknown
        case "read":
            for a in args where !a.text.hasPrefix("-") { state.unknownVariables.insert(a.text); state.variables[a.text] = nil }
            return .unknown
        default:
            break
        }

        if policy.shells.contains(program) { return shell(program, args, &state, stdin: stdin) }
        if policy.interpreters.contains(program) || program.hasPrefix("python") || program.hasPrefix("pypy") {
            return interpreter(program, args, &state, stdin: stdin)
        }
        if lower == "cmd" || lower == "cmd.exe" || lower == "powershell" || lower == "powershell.exe" || lower == "pwsh" {
            windowsShell(lower, args, &state)
            return .unknown
        }

        switch program {
        case "rm", "unlink", "rmdir", "shred", "srm", "trash", "trash-put", "gio":
            remove(program, args, state)
        case "find":
            return find(args, &state)
        case "mv":
            move(args, state)
        case "cp", "install", "ln":
            copy(program, args, state)
        case "tee":
            for a in args where !a.text.hasPrefix("-") { checkWrite(a, state, via: "tee", append: args.contains { $0.text == "-a" || $0.text == "--append" }) }
            return stdin
        case "truncate":
            for a in Analyzer.dropOptionsAll(args, withValue: ["-s", "--size", "-r", "--reference"]) { checkWrite(a, state, via: "truncate", append: false) }
        case "sed":
            if args.contains(where: { $0.text == "-i" || $0.text.hasPrefix("--in-place") || ($0.text.hasPrefix("-") && !$0.text.hasPrefix("--") && $0.text.contains("i") && $0.text.count <= 4) }) {
                var operands = Analyzer.dropOptionsAll(args, withValue: ["-e", "-f", "--expression", "--file", "-l"])
                if !args.contains(where: { $0.text == "-e" || $0.text == "-f" || $0.text.hasPrefix("--expression") }), !operands.isEmpty { operands.removeFirst() }
                for f in operands { checkWrite(f, state, via: "sed -i", append: false) }
            }
        case "dd":
            for a in args {
                if a.text.hasPrefix("of=") {
                    checkWrite(ExpandedWord(text: String(a.text.dropFirst(3)), unknown: a.unknown, glob: false), state, via: "dd", append: false)
                }
                if a.text.hasPrefix("if="), let p = resolvedPath(ExpandedWord(text: String(a.text.dropFirst(3)), unknown: a.unknown), state) {
                    noteRead(p, via: "dd")
                }
            }
        case "tar", "bsdtar":
            tar(args, state)
        case "unzip":
            if let d = args.firstIndex(where: { $0.text == "-d" }), d + 1 < args.count { checkWrite(args[d + 1], state, via: "unzip -d", append: false, isDirectory: true) }
        case "chmod", "chown", "chgrp":
            chmod(program, args, state)
        case "git":
            git(args, state)
        case "kill", "killall", "pkill", "killall5":
            kill(program, args)
        case "shutdown", "reboot", "halt", "poweroff":
            add("shutdown", ([program] + args.map(\.description)).joined(separator: " "), extra: ["program": program])
        case "init", "telinit":
            if let a = args.first?.text, ["0", "6", "1", "s", "S"].contains(a) { add("shutdown", "\(program) \(a)", extra: ["program": program]) }
        case "systemctl":
            if let a = args.first(where: { !$0.text.hasPrefix("-") })?.text, ["poweroff", "reboot", "halt", "kexec", "rescue", "emergency", "suspend", "hibernate"].contains(a) {
                add("shutdown", "systemctl \(a)", extra: ["program": "systemctl"])
            }
        case "crontab":
            if args.contains(where: { $0.text == "-r" || ($0.text.hasPrefix("-") && $0.text.contains("r") && !$0.text.hasPrefix("--")) }) {
                add("crontab-remove", "crontab " + args.map(\.description).joined(separator: " "))
            }
        case "mkfs", "mke2fs", "mkswap", "wipefs", "fdisk", "sfdisk", "parted", "gdisk", "sgdisk", "cfdisk", "blkdiscard", "cryptsetup", "hdparm", "nvme", "zpool", "badblocks":
            disk(program, args, state)
        case "format", "diskpart", "format-volume", "clear-disk":
            add("windows-format", ([program] + args.map(\.description)).joined(separator: " "))
        case "rd", "del", "erase", "remove-item", "ri":
            windowsDelete(program, args)
        default:
            if program.hasPrefix("mkfs") { disk(program, args, state) }
            if program.hasSuffix(".sh") || program.hasSuffix(".py") || program.hasSuffix(".js") || program.hasSuffix(".pl") || program.hasSuffix(".rb") || first.text.contains("/") {
                // A script run by its path: read it (shebang) and check what it would do.
                runScriptFile(first, &state, interpreter: nil, origin: first.text)
            }
        }
        return pureOutput(program, args, state, stdin: stdin)
    }

    static let nonReaders: Set<String> = ["ls", "ll", "la", "stat", "rm", "unlink", "rmdir", "shred", "chmod", "chown", "chgrp", "test", "[", "[[",
                                          "touch", "mkdir", "echo", "printf", "realpath", "readlink", "dirname", "basename", "file", "du", "find",
                                          "mv", "cd", "pushd", "export", "which", "type", "command", "ssh-keygen", "ssh-add", "git", "eval",
                                          "sudo", "env", "nohup", "time", "timeout", "nice", "exec", "xargs", "tree", "lsof", "fd"]

    /// Arguments after leading options (`withValue` options take the next word too), `--` ending them.
    static func dropOptions(_ args: [ExpandedWord], withValue: Set<String>) -> [ExpandedWord] {
        var i = 0
        while i < args.count {
            let a = args[i].text
            if a == "--" { i += 1; break }
            guard a.hasPrefix("-"), a.count > 1 else { break }
            i += withValue.contains(a) ? 2 : 1
        }
        return i < args.count ? Array(args[i...]) : []
    }

    /// Every argument that is not an option (or an option's value).
    static func dropOptionsAll(_ args: [ExpandedWord], withValue: Set<String>) -> [ExpandedWord] {
        var out: [ExpandedWord] = []
        var i = 0
        var ended = false
        while i < args.count {
            let a = args[i].text
            if !ended, a == "--" { ended = true; i += 1; continue }
            if !ended, a.hasPrefix("-"), a.count > 1 {
                i += withValue.contains(a) ? 2 : 1
                continue
            }
            out.append(args[i])
            i += 1
        }
        return out
    }

    func checkCustom(program: String, args: [ExpandedWord]) {
        for rule in policy.custom where !rule.commands.isEmpty {
            guard rule.commands.contains(where: { Paths.fnmatch($0, program) }) else { continue }
            if rule.tools.contains(where: { $0 != "Bash" }) && !rule.tools.contains("Bash") { continue }
            let all = rule.args.allSatisfy { pattern in args.contains { Paths.fnmatch(pattern, $0.text, caseInsensitive: true) } }
            if all { addCustom(rule, ([program] + args.map(\.description)).joined(separator: " ")) }
        }
    }

    /// The custom rules about paths, for a path the action touches.
    func checkCustomPath(_ path: String, tool: String) {
        for rule in policy.custom where !rule.paths.isEmpty && rule.commands.isEmpty {
            if !rule.tools.isEmpty, !rule.tools.contains(tool) { continue }
            if rule.paths.contains(where: { Paths.globMatch(expandHome($0), path) }) { addCustom(rule, "\(tool) \(path)") }
        }
    }
}
