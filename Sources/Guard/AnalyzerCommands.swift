#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Analyzer {
    // MARK: Deleting

    func remove(_ program: String, _ args: [ExpandedWord], _ state: ShellState) {
        if program == "rmdir" || program == "gio" {
            // POSIX rmdir removes empty folders only; `rmdir /S /Q` is Windows' recursive delete.
            if args.contains(where: { $0.text.lowercased() == "/s" }) { windowsDelete(program, args) }
            if program == "gio", args.first?.text == "trash" {
                for a in args.dropFirst() where !a.text.hasPrefix("-") { classifyDelete(a, recursive: true, via: "gio trash", state) }
            }
            return
        }
        var recursive = program == "trash" || program == "trash-put"
        var targets: [ExpandedWord] = []
        var ended = false
        for a in args {
            if !ended, a.text == "--" { ended = true; continue }
            if !ended, a.text.hasPrefix("-"), a.text.count > 1, !a.unknown {
                if a.text == "--recursive" || (!a.text.hasPrefix("--") && (a.text.contains("r") || a.text.contains("R"))) { recursive = true }
                if a.text == "--no-preserve-root" { add("no-preserve-root", "\(program) --no-preserve-root") }
                continue
            }
            targets.append(a)
        }
        if program == "shred" {
            for t in targets { classifyDelete(t, recursive: false, via: "shred", state) }
            return
        }
        for t in targets { classifyDelete(t, recursive: recursive, via: program, state) }
    }

    /// A path that a command deletes (or moves away): the rule for where it lies.
    func classifyDelete(_ word: ExpandedWord, recursive: Bool, via: String, _ state: ShellState, filteredUnder: Bool = false) {
        let shown = "\(via)\(recursive ? " -r" : "") \(word.description)"
        if Paths.isWindows(word.text) {
            windowsTarget(word.text, recursive: recursive, via: via)
            return
        }
        if word.unknown, recursive {
            // An unset variable is empty: `rm -rf "$ROOT/"*` with ROOT unset deletes everything under `/`.
            let emptied = word.text.replacing(ExpandedWord.unknownMark, with: "")
            if !emptied.isEmpty, let path = resolvedPath(ExpandedWord(text: emptied, glob: word.glob), state, followLast: false) {
                let base = word.glob ? Paths.parent(path) : path
                if [.root, .homeOrAbove, .system, .workspaceRoot].contains(context.place(base)) {
                    classifyPath(base, recursive: true, shown: shown + " (if the variable is empty)")
                    return
                }
            }
        }
        if word.unknown {
            // A known folder before the unknown part: an empty value leaves that folder itself.
            let prefix = String(word.text.prefix { String($0) != ExpandedWord.unknownMark })
            if let slash = prefix.lastIndex(of: "/"), prefix.hasPrefix("/") || prefix.hasPrefix(".") || state.cwd != nil && !prefix.isEmpty {
                let dirText = String(prefix[...slash])
                let tail = word.text[word.text.index(after: slash)...]
                let wholeComponent = tail.hasPrefix(ExpandedWord.unknownMark) && !tail.dropFirst().contains("/") || tail.hasPrefix(ExpandedWord.unknownMark) && tail.dropFirst() == "/"
                if let dir = resolvedPath(ExpandedWord(text: dirText), state) {
                    if recursive, wholeComponent {
                        classifyPath(dir, recursive: true, shown: shown, mayBeEmpty: true)
                    } else {
                        let place = context.place(dir)
                        if recursive, place != .insideWorkspace, place != .temp, place != .workspaceRoot {
                            add("delete-unknown-target", shown)
                        }
                    }
                    return
                }
            }
            if recursive { add("delete-unknown-target", shown) }
            return
        }
        if word.glob {
            let text = word.text
            let components = text.split(separator: "/", omittingEmptySubsequences: false)
            guard let g = components.firstIndex(where: { $0.contains(where: { "*?[".contains($0) }) }) else { return }
            var dirText = components[..<g].joined(separator: "/")
            if dirText.isEmpty { dirText = text.hasPrefix("/") ? "/" : "." }
            guard let dir = resolvedPath(ExpandedWord(text: dirText), state) else {
                if recursive { add("delete-unknown-target", shown) }
                return
            }
            let pattern = String(components[g])
            let isLast = g == components.count - 1 || (g == components.count - 2 && components.last == "")
            let matchAll = isLast && (pattern.allSatisfy { $0 == "*" } || pattern == ".*" || pattern == "*.*" || pattern == "?*" || pattern == ".?*")
            if matchAll {
                classifyPath(dir, recursive: true, shown: shown, contentsOnly: true)
            } else {
                let place = context.place(dir)
                if place == .root {
                    // `/e*`: could it name a system folder or the home folder's parents?
                    let names = context.systemDirs.map { Paths.lastComponent($0) } + [Paths.lastComponent(Paths.parent(context.home)), Paths.lastComponent(context.home)]
                    if names.contains(where: { Paths.fnmatch(pattern, $0) }) {
                        add(recursive ? "delete-system" : "delete-system", shown, path: "/" + pattern)
                    }
                } else {
                    classifyPath(Paths.join(dir, pattern), recursive: recursive, shown: shown)
                }
                // What it matches on this machine now.
                let absolute = text.hasPrefix("/") ? text : Paths.join(state.cwd ?? "/", text)
                for m in Paths.expandGlob(absolute, limit: 64) {
                    classifyPath(Paths.resolve(m, cwd: "/", followLast: false), recursive: recursive, shown: shown)
                }
            }
            return
        }
        guard let path = resolvedPath(word, state, followLast: false) else {
            if recursive { add("delete-unknown-target", shown) }
            return
        }
        if filteredUnder {
            // Files chosen by a filter somewhere under `path` (find -name … -delete).
            let place = context.place(path)
            switch place {
            case .root, .system: add("delete-system", shown, path: path)
            case .homeOrAbove, .outside, .tempRoot: add("delete-file-outside-workspace", shown, path: path)
            default: break
            }
            return
        }
        classifyPath(path, recursive: recursive, shown: shown)
    }

    func classifyPath(_ path: String, recursive: Bool, shown: String, contentsOnly: Bool = false, mayBeEmpty: Bool = false) {
        switch context.place(path) {
        case .root: add("delete-root", shown, path: path)
        case .system: add("delete-system", shown, path: path)
        case .homeOrAbove: add("delete-home", shown, path: path)
        case .workspaceRoot: if recursive { add("delete-workspace", shown, path: path) }
        case .workspaceGit:
            if recursive || path.hasSuffix("/.git") { add("delete-git-dir", shown, path: path) }
        case .insideWorkspace, .temp, .harmlessDevice: break
        case .tempRoot: if recursive { add("delete-outside-workspace", shown, path: path) }
        case .device: add("device-write", shown, path: path)
        case .outside:
            if context.isGuardFile(path) { add("guard-tamper", shown, path: path) }
            else if context.isProtected(path) || context.protectedFiles.contains(where: { Paths.globMatch($0 + "/**", path) || Paths.contains(path, $0) }) && recursive {
                add("write-dotfile", shown, path: path)
            } else if recursive { add("delete-outside-workspace", shown, path: path) }
            else { add("delete-file-outside-workspace", shown, path: path) }
        }
        _ = contentsOnly
        _ = mayBeEmpty
    }

    func find(_ args: [ExpandedWord], _ state: inout ShellState) -> StreamValue {
        var starts: [ExpandedWord] = []
        var i = 0
        while i < args.count, !args[i].text.hasPrefix("-") || args[i].text == "-" , args[i].text != "(", args[i].text != "!" {
            starts.append(args[i])
            i += 1
        }
        // Leading options (-H, -L, -P) come before the paths.
        if starts.isEmpty {
            while i < args.count, ["-H", "-L", "-P"].contains(args[i].text) { i += 1 }
            while i < args.count, !args[i].text.hasPrefix("-"), args[i].text != "(", args[i].text != "!" { starts.append(args[i]); i += 1 }
        }
        if starts.isEmpty { starts = [ExpandedWord(text: ".")] }
        let expression = Array(args[i...])
        let filters: Set<String> = ["-name", "-iname", "-path", "-ipath", "-regex", "-iregex", "-newer", "-mtime", "-mmin", "-atime", "-size",
                                    "-user", "-group", "-perm", "-empty", "-wholename", "-iwholename", "-lname", "-ctime", "-cmin", "-amin", "-links", "-inum", "-samefile"]
        let filtered = expression.contains { filters.contains($0.text) }
        var deletes = expression.contains { $0.text == "-delete" }
        var k = 0
        while k < expression.count {
            let e = expression[k].text
            if ["-exec", "-execdir", "-ok", "-okdir"].contains(e) {
                var command: [ExpandedWord] = []
                var j = k + 1
                while j < expression.count, expression[j].text != ";", expression[j].text != "+" { command.append(expression[j]); j += 1 }
                k = j + 1
                guard let program = command.first.map(Analyzer.programName) else { continue }
                if ["rm", "shred", "unlink", "rmdir"].contains(program) {
                    if program != "rmdir" { deletes = true }
                    if command.contains(where: { $0.text.hasPrefix("-") && ($0.text.contains("r") || $0.text.contains("R")) && !$0.text.hasPrefix("--") || $0.text == "--recursive" }) { deletes = true }
                    continue
                }
                // Another command on every file found: checked with the start folders standing in for `{}`.
                for s in starts {
                    let replaced = command.map { w -> ExpandedWord in
                        w.text.contains("{}") ? ExpandedWord(text: w.text.replacing("{}", with: s.text), unknown: w.unknown || s.unknown, glob: false) : w
                    }
                    var local = state
                    if program == "chmod" || program == "chown" || program == "chgrp" {
                        var r = replaced
                        r.insert(ExpandedWord(text: "-R"), at: 1)
                        _ = run(r, &local, stdin: .unknown)
                    } else {
                        _ = run(replaced, &local, stdin: .unknown)
                    }
                }
                continue
            }
            k += 1
        }
        if deletes {
            for s in starts { classifyDelete(s, recursive: !filtered, via: "find -delete", state, filteredUnder: filtered) }
        }
        let dirs = starts.compactMap { resolvedPath($0, state) }
        return dirs.count == starts.count ? .paths(dirs) : .unknown
    }

    func move(_ args: [ExpandedWord], _ state: ShellState) {
        var operands = Analyzer.dropOptionsAll(args, withValue: ["-t", "--target-directory", "-S", "--suffix"])
        var destination: ExpandedWord? = nil
        if let t = args.firstIndex(where: { $0.text == "-t" || $0.text == "--target-directory" }), t + 1 < args.count {
            destination = args[t + 1]
        } else if operands.count >= 2 {
            destination = operands.removeLast()
        }
        for source in operands {
            let recursive = resolvedPath(source, state, followLast: false).map { Paths.isDirectory($0) && !Paths.isSymlink($0) } ?? source.glob
            if let dest = destination, let d = resolvedPath(dest, state), d == "/dev/null" {
                classifyDelete(source, recursive: recursive, via: "mv to /dev/null", state)
                continue
            }
            classifyDelete(source, recursive: recursive, via: "mv", state)
        }
        if let dest = destination { checkWrite(dest, state, via: "mv", append: false) }
    }

    func copy(_ program: String, _ args: [ExpandedWord], _ state: ShellState) {
        var operands = Analyzer.dropOptionsAll(args, withValue: ["-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "--owner", "-g", "--group"])
        if let t = args.firstIndex(where: { $0.text == "-t" || $0.text == "--target-directory" }), t + 1 < args.count {
            checkWrite(args[t + 1], state, via: program, append: false, isDirectory: true)
            return
        }
        if program == "ln", operands.count == 1 { return }
        guard operands.count >= 2 else { return }
        let dest = operands.removeLast()
        checkWrite(dest, state, via: program, append: false)
    }

    func tar(_ args: [ExpandedWord], _ state: ShellState) {
        guard let first = args.first?.text else { return }
        let extracting = args.contains { $0.text == "-x" || $0.text == "--extract" || $0.text == "--get" }
            || (!first.hasPrefix("--") && first.contains("x") && first.count <= 8)
        if extracting {
            if let c = args.firstIndex(where: { $0.text == "-C" || $0.text == "--directory" }), c + 1 < args.count {
                checkWrite(args[c + 1], state, via: "tar -x", append: false, isDirectory: true)
            } else if let d = args.first(where: { $0.text.hasPrefix("--directory=") }) {
                checkWrite(ExpandedWord(text: String(d.text.dropFirst("--directory=".count)), unknown: d.unknown), state, via: "tar -x", append: false, isDirectory: true)
            }
        }
    }

    // MARK: Writing

    /// A path that a command writes or overwrites.
    func checkWrite(_ word: ExpandedWord, _ state: ShellState, via: String, append: Bool, isDirectory: Bool = false) {
        if Paths.isWindows(word.text) { return }
        guard let path = resolvedPath(word, state) else { return }
        checkWritePath(path, via: "\(via) \(word.description)", append: append)
        checkCustomPath(path, tool: "Bash")
    }

    func checkWritePath(_ path: String, via shown: String, append: Bool) {
        if context.isGuardFile(path) { add("guard-tamper", shown, path: path); return }
        switch context.place(path) {
        case .device: add("device-write", shown, path: path)
        case .root, .system: add("write-system", shown, path: path)
        case .homeOrAbove: add("write-dotfile", shown, path: path)
        case .workspaceGit:
            if path.contains("/.git/hooks/") || path.hasSuffix("/.git/config") { add("write-git-internals", shown, path: path) }
        case .insideWorkspace, .workspaceRoot, .temp, .tempRoot, .harmlessDevice: break
        case .outside:
            if context.isProtected(path) { add("write-dotfile", shown, path: path) }
            else { add("write-outside-workspace", shown, path: path) }
        }
    }

    // MARK: Permissions, processes, disks

    func chmod(_ program: String, _ args: [ExpandedWord], _ state: ShellState) {
        var recursive = false
        var operands: [ExpandedWord] = []
        for a in args {
            let t = a.text
            if t == "-R" || t == "--recursive" || (t.hasPrefix("-") && !t.hasPrefix("--") && t.contains("R")) { recursive = true; continue }
            if t.hasPrefix("-"), program != "chmod" || !Analyzer.isSymbolicMode(t) { continue }
            operands.append(a)
        }
        guard !operands.isEmpty else { return }
        let mode = operands.removeFirst()
        let shown = ([program] + args.map(\.description)).joined(separator: " ")
        if program == "chmod", recursive, Analyzer.opensToAll(mode.text) {
            add("chmod-open-recursive", shown)
        }
        for t in operands {
            guard let path = resolvedPath(t, state) else { continue }
            switch context.place(path) {
            case .root, .system, .homeOrAbove:
                if recursive || context.place(path) == .system || program == "chmod" && Analyzer.opensToAll(mode.text) { add("chmod-system", shown, path: path) }
            case .outside:
                if context.isProtected(path) && (program != "chmod" || Analyzer.opensToAll(mode.text)) { add("chmod-system", shown, path: path) }
            default: break
            }
        }
    }

    static func isSymbolicMode(_ s: String) -> Bool {
        s.count > 1 && s.allSatisfy { "ugoa+-=rwxXstugo,".contains($0) } && s.contains(where: { "+-=".contains($0) })
    }

    /// A mode that lets everyone write (or everything): 777, 666, o+w, a+rwx, …
    static func opensToAll(_ mode: String) -> Bool {
        if mode.allSatisfy({ $0.isNumber }), let last = mode.last?.wholeNumberValue { return last & 2 != 0 }
        for clause in mode.split(separator: ",") {
            guard let op = clause.firstIndex(where: { "+=".contains($0) }) else { continue }
            let who = clause[..<op], perms = clause[clause.index(after: op)...]
            if perms.contains("w"), who.isEmpty ? false : (who.contains("o") || who.contains("a")) { return true }
        }
        return false
    }

    func kill(_ program: String, _ args: [ExpandedWord]) {
        let shown = ([program] + args.map(\.description)).joined(separator: " ")
        switch program {
        case "kill":
            // `kill -9 -1`: every process the user may signal.
            var sawSignal = false
            for (i, a) in args.enumerated() {
                if a.text == "--" { continue }
                if a.text == "-1", sawSignal || i > 0 || args.count == 1 { add("kill-all", shown); return }
                if a.text == "-s" || a.text == "-n" { sawSignal = true; continue }
                if a.text.hasPrefix("-") { sawSignal = true }
            }
        case "killall5":
            add("kill-all", shown)
        default:
            if args.contains(where: { $0.text == "-u" || $0.text == "--user" }) || args.contains(where: { $0.text == "." || $0.text == ".*" }) {
                add("kill-all", shown)
            }
        }
    }

    func disk(_ program: String, _ args: [ExpandedWord], _ state: ShellState) {
        let listing = args.contains { ["-l", "--list", "print", "-L", "--help", "-V", "--version", "-h"].contains($0.text) }
        if listing, ["fdisk", "sfdisk", "parted", "gdisk", "sgdisk", "cfdisk", "wipefs", "hdparm", "nvme", "zpool"].contains(program) {
            if program != "wipefs" || !args.contains(where: { $0.text == "-a" || $0.text == "--all" }) { return }
        }
        let shown = ([program] + args.map(\.description)).joined(separator: " ")
        for a in args where !a.text.hasPrefix("-") {
            guard let path = resolvedPath(a, state) else { continue }
            let place = context.place(path)
            if place == .device { add("device-write", shown, path: path); return }
            if place == .harmlessDevice { continue }
            if program.hasPrefix("mkfs") || program == "mke2fs" || program == "mkswap" || program == "wipefs" {
                if place != .insideWorkspace && place != .temp && Paths.exists(path) { add("device-write", shown, path: path) }
            }
        }
        if program == "hdparm", args.contains(where: { $0.text.hasPrefix("--security-erase") }) { add("device-write", shown) }
    }

    // MARK: git

    func git(_ args: [ExpandedWord], _ state: ShellState) {
        var i = 0
        var cwd = state.cwd
        while i < args.count {
            let a = args[i].text
            if a == "-C", i + 1 < args.count { cwd = resolvedPath(args[i + 1], state); i += 2; continue }
            if ["-c", "--git-dir", "--work-tree", "--namespace", "--exec-path"].contains(a) { i += 2; continue }
            if a.hasPrefix("-") { i += 1; continue }
            break
        }
        guard i < args.count else { return }
        let sub = args[i].text
        let rest = Array(args[(i + 1)...])
        let texts = rest.map(\.text)
        let shown = (["git", sub] + rest.map(\.description)).joined(separator: " ")
        func has(_ flags: String...) -> Bool { texts.contains { flags.contains($0) } }
        func shortFlag(_ c: Character) -> Bool { texts.contains { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.contains(c) } }
        switch sub {
        case "push":
            let force = has("-f", "--force") || texts.contains { !$0.hasPrefix("-") && $0.hasPrefix("+") } || shortFlag("f") && !texts.contains(where: { $0.hasPrefix("--") && $0.contains("f") && !($0 == "--force") })
            let lease = texts.contains { $0.hasPrefix("--force-with-lease") || $0 == "--force-if-includes" }
            let mirror = has("--mirror")
            let delete = has("-d", "--delete") || texts.contains { !$0.hasPrefix("-") && $0.hasPrefix(":") }
            let positional = texts.filter { !$0.hasPrefix("-") }
            var branches: [String] = []
            for spec in positional.dropFirst() {
                var s = spec
                if s.hasPrefix("+") { s.removeFirst() }
                if let colon = s.firstIndex(of: ":") { s = String(s[s.index(after: colon)...]) }
                if s.hasPrefix("refs/heads/") { s = String(s.dropFirst("refs/heads/".count)) }
                if s == "HEAD" || s.isEmpty { s = currentBranch(cwd) ?? "HEAD" }
                branches.append(s)
            }
            if branches.isEmpty { branches = [currentBranch(cwd) ?? "(current branch)"] }
            let all = has("--all", "--branches")
            let protected = all || branches.contains { b in policy.protectedBranches.contains { Paths.fnmatch($0, b) } }
            let branchText = all ? "all branches" : branches.joined(separator: ", ")
            if mirror { add("git-push-mirror", shown, extra: ["branch": branchText]) }
            if lease {
                if protected { add("git-force-push-protected", shown, extra: ["branch": branchText]) }
            } else if force {
                add(protected ? "git-force-push-protected" : "git-force-push", shown, extra: ["branch": branchText])
            }
            if delete { add(protected ? "git-force-push-protected" : "git-push-delete", shown, extra: ["branch": branchText]) }
        case "reset":
            if has("--hard") { add("git-reset-hard", shown) }
        case "checkout":
            if let dd = texts.firstIndex(of: "--"), dd + 1 < texts.count { add("git-discard-changes", shown) }
            else if has("-f", "--force") || texts.contains(".") || texts.contains(":/") { add("git-discard-changes", shown) }
        case "switch":
            if has("-f", "--force", "--discard-changes") { add("git-discard-changes", shown) }
        case "restore":
            let staged = has("--staged", "-S")
            let worktree = has("--worktree", "-W")
            if !staged || worktree { add("git-discard-changes", shown) }
        case "clean":
            let dry = has("-n", "--dry-run") || shortFlag("n") || has("-i", "--interactive")
            let forced = has("-f", "--force") || shortFlag("f")
            if forced, !dry { add("git-clean", shown) }
        case "stash":
            if let s = texts.first, s == "drop" || s == "clear" { add("git-stash-drop", shown) }
        case "branch":
            if has("-D") || (has("-d", "--delete") && has("-f", "--force")) || shortFlag("D") { add("git-branch-force-delete", shown) }
        case "filter-branch", "filter-repo":
            add("git-history-rewrite", shown)
        case "reflog":
            if texts.first == "expire" || texts.first == "delete" { add("git-history-rewrite", shown) }
        case "gc":
            if texts.contains(where: { $0.hasPrefix("--prune=now") || $0 == "--prune=all" }) { add("git-history-rewrite", shown) }
        case "update-ref":
            if has("-d") { add("git-history-rewrite", shown) }
        default:
            break
        }
    }

    /// The branch checked out in the repository around `cwd`, read from `.git/HEAD`.
    func currentBranch(_ cwd: String?) -> String? {
        guard let cwd, let root = Paths.gitRoot(from: cwd, home: "/") else { return nil }
        var gitDir = root + "/.git"
        if !Paths.isDirectory(gitDir), let text = fileContents(gitDir), text.hasPrefix("gitdir:") {
            let dir = text.dropFirst("gitdir:".count).filter { $0 != "\n" && $0 != " " }
            gitDir = Paths.resolve(String(dir), cwd: root)
        }
        guard let head = fileContents(gitDir + "/HEAD"), head.hasPrefix("ref: refs/heads/") else { return nil }
        return String(head.dropFirst("ref: refs/heads/".count).filter { $0 != "\n" })
    }

    // MARK: Network

    func networkCommand(_ program: String, _ args: [ExpandedWord], _ state: ShellState, stdin: StreamValue) {
        let texts = args.map(\.text)
        let shown = ([program] + args.map(\.description)).joined(separator: " ")
        var upload = false
        switch program {
        case "curl":
            upload = texts.contains { t in
                ["-d", "-F", "-T", "--json", "--form", "--upload-file", "--form-string"].contains(t) || t.hasPrefix("--data")
                    || (t.hasPrefix("-d") && t.count > 2 && !t.hasPrefix("--")) || t.hasPrefix("-F") && !t.hasPrefix("--") && t.count > 2
            }
            if let x = texts.firstIndex(where: { $0 == "-X" || $0 == "--request" }), x + 1 < texts.count, ["POST", "PUT", "PATCH"].contains(texts[x + 1].uppercased()) { upload = true }
            if texts.contains(where: { $0.hasPrefix("-XPOST") || $0.hasPrefix("-XPUT") }) { upload = true }
            var k = 0
            while k < args.count {
                let t = texts[k]
                if (t == "-o" || t == "--output"), k + 1 < args.count {
                    checkWrite(args[k + 1], state, via: "curl -o", append: false)
                    if let p = resolvedPath(args[k + 1], state) { downloaded.insert(p) }
                    k += 2
                    continue
                }
                if t == "-O" || t == "--remote-name", let url = texts.last(where: { $0.contains("://") }), let name = url.split(separator: "/").last, let cwd = state.cwd {
                    downloaded.insert(Paths.join(cwd, String(name)))
                }
                k += 1
            }
        case "wget":
            upload = texts.contains { $0.hasPrefix("--post-") || $0.hasPrefix("--body-") || $0.uppercased().hasPrefix("--METHOD=P") }
            if let o = texts.firstIndex(where: { $0 == "-O" || $0 == "--output-document" }), o + 1 < args.count, texts[o + 1] != "-" {
                checkWrite(args[o + 1], state, via: "wget -O", append: false)
                if let p = resolvedPath(args[o + 1], state) { downloaded.insert(p) }
            } else if let url = texts.last(where: { $0.contains("://") }), let name = url.split(separator: "/").last, let cwd = state.cwd, !texts.contains("-O") {
                downloaded.insert(Paths.join(cwd, String(name)))
            }
        case "scp", "sftp", "rsync", "rclone":
            let operands = texts.filter { !$0.hasPrefix("-") }
            if let dest = operands.last, Analyzer.isRemote(dest) { upload = true }
            else if operands.count >= 2, let dest = args.last, !dest.text.hasPrefix("-") {
                checkWrite(dest, state, via: program, append: false, isDirectory: true)
            }
            if program == "rsync", texts.contains(where: { $0.hasPrefix("--delete") || $0 == "--remove-source-files" }), let dest = args.last, !Analyzer.isRemote(dest.text) {
                classifyDelete(dest, recursive: true, via: "rsync --delete", state)
            }
            if program == "rsync", operands.allSatisfy({ !Analyzer.isRemote($0) }) { return }  // a local copy
        case "dig", "nslookup", "host", "drill":
            // DNS lookups carry data out only in the names asked for.
            guard args.contains(where: \.unknown) else { return }
            upload = true
        case "aws":
            upload = texts.contains { $0.hasPrefix("s3://") } && texts.contains(where: { ["cp", "mv", "sync"].contains($0) }) && !(texts.last?.hasPrefix("s3://") == false)
        case "gsutil":
            upload = texts.last?.hasPrefix("gs://") == true
        case "gh":
            upload = texts.contains("gist") || texts.contains("upload") || (texts.first == "api" && texts.contains { $0 == "-f" || $0 == "-F" || $0 == "--field" || $0 == "--input" })
        case "http", "https", "xh", "httpie":
            upload = texts.contains { ["POST", "PUT", "PATCH"].contains($0.uppercased()) } || texts.contains { $0.contains("=") && !$0.hasPrefix("-") && !$0.contains("://") }
        default:
            upload = true
        }
        if Analyzer.textValue(stdin) != nil, ["curl", "nc", "ncat", "netcat", "socat", "ssh", "telnet"].contains(program) { upload = true }
        noteEgress(program, upload: upload, shown)
    }

    static func isRemote(_ s: String) -> Bool {
        if s.contains("://") { return !s.hasPrefix("file://") }
        guard let colon = s.firstIndex(of: ":"), !s.hasPrefix("/"), !s.hasPrefix("."), !s.hasPrefix("~") else { return false }
        return !s[..<colon].contains("/") && colon != s.startIndex
    }

    // MARK: Shells, interpreters, scripts

    func shell(_ program: String, _ args: [ExpandedWord], _ state: inout ShellState, stdin: StreamValue) -> StreamValue {
        var i = 0
        var command: ExpandedWord? = nil
        var readsStdin = false
        while i < args.count {
            let a = args[i].text
            if a == "--" { i += 1; break }
            if a == "-" { readsStdin = true; i += 1; break }
            if a.hasPrefix("-") || a.hasPrefix("+") {
                if a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" || a == "--init-file" { i += 2; continue }
                if !a.hasPrefix("--"), a.contains("c") {
                    if i + 1 < args.count { command = args[i + 1] }
                    i = args.count
                    break
                }
                if !a.hasPrefix("--"), a.contains("s") { readsStdin = true }
                i += 1
                continue
            }
            break
        }
        if let command {
            shellString(command, &state, origin: "\(program) -c")
            return .unknown
        }
        if !readsStdin, i < args.count {
            runScriptFile(args[i], &state, interpreter: "sh", origin: "\(program) \(args[i].description)")
            return .unknown
        }
        stdinScript(stdin, &state, runner: program, asShell: true)
        return .unknown
    }

    /// A `-c` string (or `su -c`'s): checked as shell text.
    func shellString(_ word: ExpandedWord, _ state: inout ShellState, origin: String) {
        if let source = word.fromNetwork {
            add("remote-code", "\(origin) runs what \(source) downloads", extra: ["program": source])
        } else if word.unknown {
            add("eval-unknown", "\(origin) \(word.description)")
        } else {
            var s = state
            analyzeText(word.text, &s, origin: origin)
        }
    }

    /// What a shell or interpreter reads from its standard input, as a script.
    func stdinScript(_ stdin: StreamValue, _ state: inout ShellState, runner: String, asShell: Bool) {
        switch stdin {
        case .network(let source):
            add("remote-code", "\(source) | \(runner)", extra: ["program": source])
        case .text(let text), .decoded(let text):
            if case .decoded = stdin { add("encoded-command", "decoded text piped into \(runner): \(text.prefix(80))", extra: ["program": runner]) }
            var s = state
            if asShell { analyzeText(text, &s, origin: "script piped into \(runner)") } else { scanCode(text, language: runner, &s) }
        case .paths, .unknown:
            add("pipe-to-shell", "… | \(runner)", extra: ["program": runner])
        }
    }

    /// A script file that a shell or interpreter runs: read (never run) and checked.
    func runScriptFile(_ word: ExpandedWord, _ state: inout ShellState, interpreter: String?, origin: String) {
        if let source = word.fromNetwork {
            add("remote-code", "\(origin) runs what \(source) downloads", extra: ["program": source])
            return
        }
        guard let path = resolvedPath(word, state) else { return }
        if downloaded.contains(path) {
            add("remote-code", "\(origin): \(path) was just downloaded", extra: ["program": "a download"])
            return
        }
        var saved: String? = nil
        if let w = written[path] {
            if w.decoded { add("encoded-command", "\(origin): \(path) holds decoded text: \(w.text.prefix(80))", extra: ["program": origin]) }
            saved = w.text
        }
        guard depth < Analyzer.maxDepth, let text = saved ?? fileContents(path) else { return }
        var kind = interpreter
        if text.hasPrefix("#!") {
            let line = text.prefix { $0 != "\n" }
            if line.contains("python") { kind = "python" }
            else if line.contains("node") { kind = "node" }
            else if line.contains("perl") { kind = "perl" }
            else if line.contains("ruby") { kind = "ruby" }
            else if line.contains("sh") { kind = "sh" }
        }
        depth += 1
        defer { depth -= 1 }
        var s = state
        if kind == "sh" || kind == nil && (path.hasSuffix(".sh") || path.hasSuffix(".bash")) {
            analyzeText(text, &s, origin: origin)
        } else if let kind {
            scanCode(text, language: kind, &s)
        }
    }

    func interpreter(_ program: String, _ args: [ExpandedWord], _ state: inout ShellState, stdin: StreamValue) -> StreamValue {
        let lang: String
        if program.hasPrefix("python") || program.hasPrefix("pypy") { lang = "python" }
        else if ["node", "nodejs", "bun", "deno"].contains(program) { lang = "node" }
        else if ["awk", "gawk", "mawk", "nawk"].contains(program) { lang = "awk" }
        else { lang = program }
        let codeFlags: Set<String>
        switch lang {
        case "python": codeFlags = ["-c"]
        case "node": codeFlags = ["-e", "--eval", "-p", "--print", "eval"]
        case "perl": codeFlags = ["-e", "-E"]
        case "ruby": codeFlags = ["-e"]
        case "php": codeFlags = ["-r"]
        case "lua": codeFlags = ["-e"]
        case "osascript": codeFlags = ["-e"]
        default: codeFlags = []
        }
        var i = 0
        var codes: [ExpandedWord] = []
        var sawFile = false
        var inPlace = false
        while i < args.count {
            let a = args[i].text
            if codeFlags.contains(a), i + 1 < args.count { codes.append(args[i + 1]); i += 2; continue }
            if lang == "perl" || lang == "ruby", a.hasPrefix("-"), !a.hasPrefix("--"), a.count > 2, let last = a.last, last == "e" || last == "E" {
                if a.contains("i") { inPlace = true }
                if i + 1 < args.count { codes.append(args[i + 1]) }
                i += 2
                continue
            }
            if lang == "perl", a.hasPrefix("-i") || (a.hasPrefix("-") && a.contains("i") && !a.hasPrefix("--")) { inPlace = true }
            if lang == "python", a == "-m" { return .unknown }
            if lang == "awk" {
                if a == "-f", i + 1 < args.count { runScriptFile(args[i + 1], &state, interpreter: "awk", origin: "awk -f"); return .unknown }
                if a == "-F" || a == "-v" { i += 2; continue }
                if a.hasPrefix("-") { i += 1; continue }
                codes.append(args[i])
                break
            }
            if a == "-" { break }
            if a.hasPrefix("-") { i += 1; continue }
            if codes.isEmpty, lang == "node", a == "eval", i + 1 < args.count { codes.append(args[i + 1]); i += 2; continue }
            if codes.isEmpty { runScriptFile(args[i], &state, interpreter: lang, origin: "\(program) \(args[i].description)"); sawFile = true }
            break
        }
        for code in codes {
            if let source = code.fromNetwork {
                add("remote-code", "\(program) runs what \(source) downloads", extra: ["program": source])
            } else if code.unknown {
                add("eval-unknown", "\(program) \(code.description)")
            } else {
                var s = state
                scanCode(code.text, language: lang, &s)
            }
        }
        if inPlace {
            let files = Analyzer.dropOptionsAll(args, withValue: ["-e", "-E"]).filter { w in !codes.contains(w) }
            for f in files { checkWrite(f, state, via: "\(program) -i", append: false) }
        }
        if codes.isEmpty, !sawFile, lang != "awk" { stdinScript(stdin, &state, runner: program, asShell: false) }
        return .unknown
    }

    func xargs(_ args: [ExpandedWord], _ state: inout ShellState, stdin: StreamValue) -> StreamValue {
        var i = 0
        var replace: String? = nil
        while i < args.count {
            let a = args[i].text
            if a == "--" { i += 1; break }
            guard a.hasPrefix("-") else { break }
            if a == "-I" || a == "--replace" { replace = i + 1 < args.count ? args[i + 1].text : "{}"; i += 2; continue }
            if a.hasPrefix("-I"), a.count > 2 { replace = String(a.dropFirst(2)); i += 1; continue }
            if a.hasPrefix("-i") { replace = a.count > 2 ? String(a.dropFirst(2)) : "{}"; i += 1; continue }
            if ["-n", "-L", "-P", "-d", "-E", "-s", "-a", "--max-args", "--max-procs", "--delimiter", "--arg-file"].contains(a) { i += 2; continue }
            i += 1
        }
        var command = i < args.count ? Array(args[i...]) : [ExpandedWord(text: "echo")]
        var items: [ExpandedWord]
        switch stdin {
        case .text(let t), .decoded(let t):
            items = t.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\0" }).map { ExpandedWord(text: String($0)) }
        case .paths(let dirs):
            items = dirs.map { ExpandedWord(text: $0 + "/" + ExpandedWord.unknownMark, unknown: true) }
            if let program = command.first.map(Analyzer.programName), ["rm", "shred", "unlink"].contains(program) {
                // Files that `find` picked under these folders.
                for d in dirs { classifyDelete(ExpandedWord(text: d), recursive: false, via: "find | xargs \(program)", state, filteredUnder: true) }
                return .unknown
            }
        case .network(let source):
            items = [ExpandedWord(text: ExpandedWord.unknownMark, unknown: true, fromNetwork: source)]
        case .unknown:
            items = [ExpandedWord(text: ExpandedWord.unknownMark, unknown: true)]
        }
        if let r = replace {
            command = command.map { w in
                guard w.text.contains(r) else { return w }
                let item = items.first ?? ExpandedWord(text: "")
                return ExpandedWord(text: w.text.replacing(r, with: item.text), unknown: w.unknown || item.unknown, glob: w.glob, fromNetwork: item.fromNetwork)
            }
            return run(command, &state, stdin: .unknown)
        }
        return run(command + items, &state, stdin: .unknown)
    }

    // MARK: Windows

    func windowsShell(_ program: String, _ args: [ExpandedWord], _ state: inout ShellState) {
        if program.hasPrefix("cmd") {
            guard let c = args.firstIndex(where: { $0.text.lowercased() == "/c" || $0.text.lowercased() == "/k" }) else { return }
            let text = args[(c + 1)...].map(\.text).joined(separator: " ")
            windowsCommandText(text)
            return
        }
        if let e = args.firstIndex(where: { ["-encodedcommand", "-enc", "-e", "-ec"].contains($0.text.lowercased()) }), e + 1 < args.count {
            if let data = Data(base64Encoded: args[e + 1].text) {
                let units = stride(from: 0, to: data.count - 1, by: 2).map { UInt16(data[data.startIndex + $0]) | UInt16(data[data.startIndex + $0 + 1]) << 8 }
                let decoded = String(decoding: units, as: UTF16.self)
                add("encoded-command", "\(program) -EncodedCommand (\(decoded.prefix(80)))")
                windowsCommandText(decoded)
            } else {
                add("encoded-command", "\(program) -EncodedCommand")
            }
            return
        }
        let start = args.firstIndex(where: { ["-command", "-c"].contains($0.text.lowercased()) }).map { $0 + 1 } ?? 0
        windowsCommandText(args[start...].map(\.text).joined(separator: " "))
    }

    /// cmd.exe or PowerShell text: split loosely (backslashes are path separators there) and checked.
    func windowsCommandText(_ text: String) {
        for statement in text.split(whereSeparator: { $0 == "&" || $0 == ";" || $0 == "|" || $0 == "\n" }) {
            let words = Analyzer.windowsWords(String(statement))
            guard let first = words.first else { continue }
            let program = first.lowercased().split(separator: "\\").last.map(String.init) ?? first
            let args = words.dropFirst().map { ExpandedWord(text: $0) }
            switch program.replacing(".exe", with: "") {
            case "rmdir", "rd", "del", "erase", "remove-item", "ri", "rm": windowsDelete(program, Array(args))
            case "format", "diskpart", "format-volume", "clear-disk": add("windows-format", String(statement))
            default: break
            }
        }
    }

    /// Words of a cmd.exe line: double quotes group, backslashes stay, an unclosed quote runs to the end.
    static func windowsWords(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        var has = false
        for c in text {
            if c == "\"" { quoted.toggle(); has = true; continue }
            if (c == " " || c == "\t") && !quoted {
                if has || !current.isEmpty { words.append(current) }
                current = ""
                has = false
                continue
            }
            current.append(c)
        }
        if has || !current.isEmpty { words.append(current) }
        return words
    }

    func windowsDelete(_ program: String, _ args: [ExpandedWord]) {
        let flags = args.map { $0.text.lowercased() }
        let recursive = flags.contains("/s") || flags.contains { $0.hasPrefix("-r") } || flags.contains("-recurse")
        for a in args {
            let t = a.text
            let l = t.lowercased()
            if l.hasPrefix("/") && l.count <= 3 || l.hasPrefix("-") { continue }
            windowsTarget(t, recursive: recursive, via: program)
        }
    }

    func windowsTarget(_ t: String, recursive: Bool, via: String) {
        let shown = "\(via)\(recursive ? " /s" : "") \(t)"
        var p = t.replacing("/", with: "\\")
        let upper = p.uppercased()
        if p.contains("\"") || p.hasSuffix("\\\"") || p.contains("*") && recursive {
            add("windows-delete", shown, path: t)  // a broken quote or a wildcard: where it ends is anyone's guess
            return
        }
        while p.hasSuffix("\\") && p.count > 3 { p.removeLast() }
        let components = p.split(separator: "\\", omittingEmptySubsequences: true)
        let isDriveRoot = components.count <= 1 && (p.count <= 3)
        let isProfile = upper.hasPrefix("%USERPROFILE%") && components.count <= 1 || upper.hasPrefix("$ENV:USERPROFILE") && components.count <= 1
            || (components.count <= 3 && components.count >= 2 && components[1].uppercased() == "USERS")
        let isSystem = components.count >= 2 && ["WINDOWS", "PROGRAM FILES", "PROGRAM FILES (X86)", "PROGRAMDATA"].contains(components[1].uppercased())
        if isDriveRoot || isProfile || isSystem || upper.hasPrefix("%SYSTEMROOT%") || upper.hasPrefix("%HOMEDRIVE%") {
            add("windows-delete", shown, path: t)
        } else if recursive {
            add("delete-unknown-target", shown, path: t)
        }
    }

    /// Text the shell parser rejects: Windows deletions in it are still looked for.
    func windowsFallback(_ text: String) {
        let lower = text.lowercased()
        if lower.contains("rmdir") || lower.contains("rd ") || lower.contains("del ") || lower.contains("remove-item") {
            windowsCommandText(text)
        }
    }

    // MARK: Outputs the guard can work out

    /// The standard output of commands that only compute (echo, printf, base64 -d, pwd, …).
    func pureOutput(_ program: String, _ args: [ExpandedWord], _ state: ShellState, stdin: StreamValue) -> StreamValue {
        if let source = args.first(where: { $0.fromNetwork != nil })?.fromNetwork, ["echo", "printf", "cat"].contains(program) { return .network(source) }
        switch program {
        case "echo":
            var words = args
            var interpret = false
            while let f = words.first?.text, f.hasPrefix("-"), f.count > 1, f.dropFirst().allSatisfy({ "neE".contains($0) }) {
                if f.contains("e") { interpret = true }
                words.removeFirst()
            }
            if words.contains(where: \.unknown) { return .unknown }
            let text = words.map(\.text).joined(separator: " ")
            return .text((interpret ? Analyzer.unescape(text) : text) + "\n")
        case "printf":
            guard let format = args.first, !args.contains(where: \.unknown) else { return .unknown }
            var f = format.text
            var rest = Array(args.dropFirst())
            while let r = f.firstRange(of: "%s") ?? f.firstRange(of: "%b") {
                f.replaceSubrange(r, with: rest.isEmpty ? "" : rest.removeFirst().text)
            }
            return f.contains("%") ? .unknown : .text(Analyzer.unescape(f))
        case "pwd":
            return state.cwd.map { .text($0 + "\n") } ?? .unknown
        case "whoami":
            return environment["USER"].map { .text($0 + "\n") } ?? .unknown
        case "mktemp":
            return .text("/tmp/tmp.emlabguard\n")
        case "cat":
            let files = args.filter { !$0.text.hasPrefix("-") }
            if files.isEmpty { return stdin }
            if files.count == 1, let p = resolvedPath(files[0], state), let text = fileContents(p) { return .text(text) }
            return .unknown
        case "base64", "base32":
            guard args.contains(where: { $0.text == "-d" || $0.text == "--decode" || $0.text == "-D" }) else { return .unknown }
            var input = stdin
            if let f = args.first(where: { !$0.text.hasPrefix("-") }), let p = resolvedPath(f, state) {
                input = fileContents(p).map { .text($0) } ?? .unknown
            }
            guard let t = Analyzer.textValue(input), program == "base64" else { return .unknown }
            let clean = t.filter { !$0.isWhitespace }
            let padded = clean + String(repeating: "=", count: (4 - clean.count % 4) % 4)
            guard let data = Data(base64Encoded: padded), let decoded = String(validating: data, as: UTF8.self) else { return .unknown }
            return .decoded(decoded)
        case "xxd":
            guard args.contains(where: { $0.text == "-r" }), let t = Analyzer.textValue(stdin) else { return .unknown }
            let hex = t.filter { $0.isHexDigit }
            var bytes: [UInt8] = []
            var it = hex.makeIterator()
            while let a = it.next(), let b = it.next(), let v = UInt8(String([a, b]), radix: 16) { bytes.append(v) }
            guard let decoded = String(validating: bytes, as: UTF8.self) else { return .unknown }
            return .decoded(decoded)
        case "rev":
            guard let t = Analyzer.textValue(stdin) else { return .unknown }
            return .decoded(t.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.reversed()) }.joined(separator: "\n"))
        case "dirname":
            guard let a = args.first, !a.unknown else { return .unknown }
            return .text(Paths.parent(a.text) + "\n")
        case "basename":
            guard let a = args.first, !a.unknown else { return .unknown }
            return .text(Paths.lastComponent(a.text) + "\n")
        case "realpath", "readlink":
            guard let a = args.last, let p = resolvedPath(a, state) else { return .unknown }
            return .text(p + "\n")
        case "git":
            if args.map(\.text) == ["rev-parse", "--show-toplevel"], let cwd = state.cwd, let root = Paths.gitRoot(from: cwd, home: "/") { return .text(root + "\n") }
            return .unknown
        case "curl", "wget", "http", "https", "xh", "aria2c", "fetch", "nc", "ncat":
            if program == "wget", !args.contains(where: { $0.text == "-O" && true || $0.text == "-qO-" || $0.text == "-O-" }) { return .unknown }
            return .network(program + " " + (args.first(where: { $0.text.contains("://") })?.text ?? args.last?.description ?? ""))
        case "tee", "tr", "sed", "head", "tail", "sort", "uniq", "grep":
            if case .network = stdin { return stdin }
            return .unknown
        default:
            return .unknown
        }
    }

    static func textValue(_ v: StreamValue) -> String? {
        switch v {
        case .text(let t), .decoded(let t): return t
        default: return nil
        }
    }

    static func unescape(_ s: String) -> String {
        var out = ""
        var it = Array(s)
        var i = 0
        while i < it.count {
            let c = it[i]
            if c == "\\", i + 1 < it.count {
                let n = it[i + 1]
                switch n {
                case "n": out.append("\n"); i += 2; continue
                case "t": out.append("\t"); i += 2; continue
                case "\\": out.append("\\"); i += 2; continue
                case "x":
                    var hex = ""
                    var j = i + 2
                    while j < it.count, hex.count < 2, it[j].isHexDigit { hex.append(it[j]); j += 1 }
                    if let v = UInt8(hex, radix: 16) { out.append(Character(UnicodeScalar(v))); i = j; continue }
                case "0", "1", "2", "3":
                    var oct = ""
                    var j = i + 1
                    while j < it.count, oct.count < 4, let d = it[j].wholeNumberValue, d < 8 { oct.append(it[j]); j += 1 }
                    if let v = UInt8(oct, radix: 8) { out.append(Character(UnicodeScalar(v))); i = j; continue }
                default: break
                }
            }
            out.append(c)
            i += 1
        }
        it.removeAll()
        return out
    }

    /// The output of `$(…)`: its commands are checked, and its text worked out where possible.
    func substitutionOutput(_ script: Script, _ state: ShellState) -> StreamValue {
        var s = state
        var last: StreamValue = .unknown
        depth += 1
        defer { depth -= 1 }
        guard depth < Analyzer.maxDepth else { return .unknown }
        for item in script.items { last = analyzePipeline(item.pipeline, &s) }
        return script.items.count == 1 ? last : .unknown
    }
}
