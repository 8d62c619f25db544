#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Inline code for an interpreter (`python -c`, `node -e`, `perl -e`, a script file an agent runs):
/// not parsed as the language, but searched for the calls that delete, run shell commands, decode and
/// run hidden code, send data out or read secrets, with their literal arguments worked out.
extension Analyzer {
    static let shellCalls = ["os.system(", "subprocess.run(", "subprocess.call(", "subprocess.Popen(", "subprocess.check_call(",
                             "subprocess.check_output(", "subprocess.getoutput(", "subprocess.getstatusoutput(", "os.popen(", "commands.getoutput(",
                             "execSync(", "exec(", "spawnSync(", "spawn(", "execFileSync(", "system(", "shell_exec(", "passthru(", "popen(",
                             "Open3.capture2(", "Open3.popen3(", "%x(", "qx(", "os.execvp(", "os.execv(", "pty.spawn("]
    static let recursiveDeletes = ["rmtree(", "rm_rf(", "rm_r(", "remove_dir(", "remove_tree(", "rimraf(", "rimraf.sync(", "RemoveAll(",
                                   "rmdirSync(", "removeSync(", "emptyDirSync(", "deleteRecursively(", "rmdir_p("]
    static let fileDeletes = ["os.remove(", "os.unlink(", "unlinkSync(", "fs.unlink(", "File.delete(", "FileUtils.rm(", "unlink(", ".unlink(",
                              "os.rmdir(", "rmSync(", "fs.rm(", "fsPromises.rm(", "promises.rm("]
    static let homeMarkers = ["expanduser(\"~\")", "expanduser('~')", "Path.home()", "os.homedir()", "homedir()", "environ['HOME']",
                              "environ[\"HOME\"]", "getenv('HOME')", "getenv(\"HOME\")", "process.env.HOME", "ENV['HOME']", "ENV[\"HOME\"]",
                              "Dir.home", "$ENV{HOME}", "$ENV{'HOME'}", "os.UserHomeDir()", "Path.expanduser(Path('~'))", "expanduser(\"~/\")",
                              "expanduser('~/')"]
    static let networkCalls = ["requests.", "urllib", "http.client", "httpx.", "socket.", "fetch(", "axios", "XMLHttpRequest", "net.connect",
                               "http.request", "https.request", "Net::HTTP", "open-uri", "LWP::", "IO::Socket", "smtplib", "ftplib", "paramiko",
                               "aiohttp", "urlopen(", "http.get(", "https.get(", "curl_exec(", "file_get_contents('http", "file_get_contents(\"http",
                               "new WebSocket", "dgram."]
    static let uploadMarkers = ["post(", ".post", "put(", "send(", "sendall(", "sendto(", "upload", "smtplib", "ftplib", "method: 'POST'",
                                "method: \"POST\"", "method=\"POST\"", "method='POST'", "data=", "json=", "files=", "write(", "Net::HTTP::Post", "storbinary"]
    static let decoders = ["b64decode", "base64.decode", "atob(", "Buffer.from(", "fromCharCode", "decode('base64')", "decode(\"base64\")",
                           "bytes.fromhex", "codecs.decode", "zlib.decompress", "marshal.loads", "rot13", "unhexlify", "decode_base64", "unpack('m"]
    static let runners = ["exec(", "eval(", "Function(", "system(", "popen(", "execSync(", "compile(", "runInThisContext", "instance_eval", "subprocess"]

    func scanCode(_ code: String, language: String, _ state: inout ShellState) {
        guard depth < Analyzer.maxDepth else { return }
        depth += 1
        defer { depth -= 1 }
        let literals = Analyzer.stringLiterals(code)

        // Shell commands the code would run.
        for call in Analyzer.shellCalls {
            for argument in Analyzer.callArguments(code, call) {
                let inner = Analyzer.stringLiterals(argument)
                guard !inner.isEmpty else {
                    if call.hasPrefix("os.system") || call.hasPrefix("subprocess") || call.hasPrefix("os.popen") || call == "execSync(" {
                        if Analyzer.decoders.contains(where: { argument.contains($0) }) { add("obfuscated-code", "\(call)\(argument.prefix(60))…)") }
                    }
                    continue
                }
                let trimmed = argument.drop { $0 == " " }
                let text = trimmed.hasPrefix("[") ? inner.joined(separator: " ") : inner[0]
                var s = state
                analyzeText(text, &s, origin: "\(language) \(call)")
            }
        }

        // Deletions with literal (or home) paths.
        for (calls, recursive) in [(Analyzer.recursiveDeletes, true), (Analyzer.fileDeletes, false)] {
            for call in calls {
                for argument in Analyzer.callArguments(code, call) {
                    let isRecursive = recursive || argument.contains("recursive")
                    if let path = codePath(argument, literals: Analyzer.stringLiterals(argument)) {
                        classifyDelete(ExpandedWord(text: path), recursive: isRecursive, via: "\(language) \(call.dropLast())", state)
                    } else if isRecursive {
                        add("code-unknown-delete", "\(language) \(call)\(argument.prefix(60)))")
                    }
                }
            }
        }

        // Files the code opens for writing.
        for call in ["open(", "writeFileSync(", "appendFileSync(", "File.write(", "File.open(", "write_text(", "fopen("] {
            for argument in Analyzer.callArguments(code, call) {
                let inner = Analyzer.stringLiterals(argument)
                let writes = call != "open(" && call != "File.open(" && call != "fopen(" || inner.dropFirst().contains { $0.contains("w") || $0.contains("a") }
                guard writes, let path = codePath(argument, literals: Array(inner.prefix(call == "open(" || call == "fopen(" || call == "File.open(" ? 1 : 1))) else { continue }
                checkWritePath(path.hasPrefix("/") ? Paths.resolve(path, cwd: "/") : Paths.resolve(path, cwd: state.cwd ?? "/"), via: "\(language) \(call.dropLast()) \(path)", append: false)
            }
        }

        // Secrets named in the code.
        for literal in literals {
            var p = literal
            if p.hasPrefix("~/") { p = context.home + p.dropFirst() }
            if p.hasPrefix("/") || (state.cwd != nil && (p.hasPrefix(".env") || p.hasPrefix("./"))) {
                noteRead(Paths.resolve(p, cwd: state.cwd ?? "/"), via: language)
            }
        }
        for marker in [".ssh/id_", "id_rsa", "id_ed25519", ".aws/credentials", ".netrc", ".git-credentials", ".kube/config", ".docker/config.json", "gcloud/credentials", ".pgpass"]
            where code.contains(marker) || literals.contains(where: { $0.contains(marker) || $0 == marker.split(separator: "/").last.map(String.init) }) {
            let path: String
            switch marker {
            case ".ssh/id_", "id_rsa": path = context.home + "/.ssh/id_rsa"
            case "id_ed25519": path = context.home + "/.ssh/id_ed25519"
            default: path = context.home + "/" + marker
            }
            noteRead(path, via: language)
        }
        if code.contains(".ssh"), literals.contains(where: { $0.hasPrefix("id_") }) { noteRead(context.home + "/.ssh/id_rsa", via: language) }

        // Network use.
        if Analyzer.networkCalls.contains(where: { code.contains($0) }) {
            let upload = Analyzer.uploadMarkers.contains { code.contains($0) }
            noteEgress(language, upload: upload, "\(language) code using the network")
        }

        // Hidden code: decoded and run.
        let decodes = Analyzer.decoders.contains { code.contains($0) }
        if decodes, Analyzer.runners.contains(where: { code.contains($0) }) {
            add("obfuscated-code", "\(language) decodes text and runs it")
        }
        if decodes {
            for literal in literals where literal.count >= 8 {
                let clean = literal.filter { !$0.isWhitespace }
                let padded = clean + String(repeating: "=", count: (4 - clean.count % 4) % 4)
                guard let data = Data(base64Encoded: padded), let decoded = String(validating: data, as: UTF8.self),
                      decoded.unicodeScalars.allSatisfy({ $0.value >= 32 || $0 == "\n" || $0 == "\t" }) else { continue }
                var s = state
                scanCode(decoded, language: language, &s)
                if (try? ShellParser.parse(decoded)) != nil { analyzeText(decoded, &s, origin: "decoded text") }
            }
        }
        // chr(…) chains and similar: the text is built at run time.
        if code.contains("chr(") && code.components(count: "chr(") >= 4 && Analyzer.runners.contains(where: { code.contains($0) }) {
            add("obfuscated-code", "\(language) builds text from character codes and runs it")
        }
    }

    /// A path worked out from a call's argument text: a home marker plus literal components, or a literal.
    func codePath(_ argument: String, literals: [String]) -> String? {
        if let marker = Analyzer.homeMarkers.compactMap({ argument.firstRange(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            // Literals after the marker are path components (os.path.join(home, 'Documents')).
            let after = Analyzer.stringLiterals(String(argument[marker.upperBound...]))
            let parts = after.filter { $0 != "~" && $0 != "~/" && $0 != "HOME" && !$0.isEmpty && !$0.contains(" ") && $0 != "recursive" }
            return parts.isEmpty ? context.home : Paths.normalize(context.home + "/" + parts.joined(separator: "/"))
        }
        guard let first = literals.first else { return nil }
        // The literal must be the whole argument or start it (a join of literals).
        let trimmed = argument.drop { $0 == " " || $0 == "(" }
        guard trimmed.hasPrefix("'") || trimmed.hasPrefix("\"") || trimmed.hasPrefix("`") || trimmed.hasPrefix("r'") || trimmed.hasPrefix("r\"")
                || trimmed.hasPrefix("Path(") || trimmed.hasPrefix("os.path.join(") || trimmed.hasPrefix("path.join(") || trimmed.hasPrefix("pathlib.Path(")
                || trimmed.hasPrefix("File.expand_path(") || trimmed.hasPrefix("os.path.expanduser(") else { return nil }
        if first.contains("${") || first.contains("{") && trimmed.hasPrefix("f") { return nil }
        var path = literals.count > 1 && (trimmed.hasPrefix("os.path.join(") || trimmed.hasPrefix("path.join(") || trimmed.hasPrefix("Path(")) ? literals.joined(separator: "/") : first
        if path == "~" { path = context.home } else if path.hasPrefix("~/") { path = context.home + path.dropFirst() }
        return path
    }

    /// The text between the parentheses of each call of `call` (quotes and nesting respected).
    static func callArguments(_ code: String, _ call: String) -> [String] {
        var out: [String] = []
        var search = code[...]
        while let r = search.firstRange(of: call) {
            // `exec(` must not be the tail of `execSync(` etc.: require a non-identifier before it.
            if r.lowerBound > code.startIndex {
                let before = code[code.index(before: r.lowerBound)]
                if call.first!.isLetter, before.isLetter || before.isNumber || before == "_" {
                    search = code[r.upperBound...]
                    continue
                }
            }
            var level = 1
            var i = r.upperBound
            var quote: Character? = nil
            var text = ""
            while i < code.endIndex {
                let c = code[i]
                if let q = quote {
                    if c == "\\" { text.append(c); i = code.index(after: i); if i < code.endIndex { text.append(code[i]) }; i = i < code.endIndex ? code.index(after: i) : i; continue }
                    if c == q { quote = nil }
                } else if c == "'" || c == "\"" || c == "`" {
                    quote = c
                } else if c == "(" || c == "[" || c == "{" {
                    level += 1
                } else if c == ")" || c == "]" || c == "}" {
                    level -= 1
                    if level == 0 { break }
                }
                text.append(c)
                i = code.index(after: i)
            }
            out.append(text)
            search = i < code.endIndex ? code[i...] : code[code.endIndex...]
            if out.count > 64 { break }
        }
        return out
    }

    /// String literals in code: '…', "…", `…`, with backslash escapes taken as the next character
    /// (`\n` and `\t` as a newline and a tab); Python's triple quotes included.
    static func stringLiterals(_ code: String) -> [String] {
        var out: [String] = []
        let chars = Array(code)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            guard c == "'" || c == "\"" || c == "`" else {
                if c == "#", i == 0 || chars[i - 1] == "\n" { while i < chars.count, chars[i] != "\n" { i += 1 } }
                i += 1
                continue
            }
            let triple = i + 2 < chars.count && chars[i + 1] == c && chars[i + 2] == c
            var j = i + (triple ? 3 : 1)
            var s = ""
            var closed = false
            while j < chars.count {
                let d = chars[j]
                if d == "\\", j + 1 < chars.count {
                    let n = chars[j + 1]
                    s.append(n == "n" ? "\n" : n == "t" ? "\t" : n)
                    j += 2
                    continue
                }
                if triple {
                    if d == c, j + 2 < chars.count, chars[j + 1] == c, chars[j + 2] == c { j += 3; closed = true; break }
                } else if d == c {
                    j += 1
                    closed = true
                    break
                }
                s.append(d)
                j += 1
            }
            if closed { out.append(s) }
            i = j
            if out.count > 512 { break }
        }
        return out
    }
}

extension String {
    /// How many times `s` occurs.
    func components(count s: String) -> Int {
        var n = 0
        var rest = self[...]
        while let r = rest.firstRange(of: s) { n += 1; rest = rest[r.upperBound...] }
        return n
    }
}
