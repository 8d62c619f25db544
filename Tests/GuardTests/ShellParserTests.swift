import Testing
@testable import Guard

/// The shell parser on inputs where a naive split goes wrong.
struct ShellParserTests {
    /// The simple commands of a script, as static words where they are static.
    func commands(_ text: String) throws -> [[String]] {
        var out: [[String]] = []
        func visit(_ s: Script) {
            for item in s.items {
                for c in item.pipeline.commands {
                    switch c {
                    case .simple(let sc): out.append(sc.words.map { $0.staticText ?? $0.description })
                    case .subshell(let inner, _): visit(inner)
                    case .compound(_, let scripts, _): scripts.forEach(visit)
                    case .forLoop(_, _, let body): visit(body)
                    case .function(_, let body): if case .simple(let sc) = body { out.append(sc.words.map { $0.staticText ?? "?" }) }
                    }
                }
            }
        }
        visit(try ShellParser.parse(text))
        return out
    }

    @Test func quotesAndEscapesJoinIntoOneWord() throws {
        #expect(try commands(#"echo "a b" 'c d' e\ f"#) == [["echo", "a b", "c d", "e f"]])
        #expect(try commands(#"r''m -rf "~""#) == [["rm", "-rf", "~"]])
        #expect(try commands(#"echo "say \"hi\" \$HOME""#) == [["echo", #"say "hi" $HOME"#]])
        #expect(try commands("echo $'\\x2f\\tz'") == [["echo", "/\tz"]])
    }

    @Test func operatorsSplitCommands() throws {
        #expect(try commands("a && b || c; d | e & f") == [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]])
        #expect(try commands("a;b&&c") == [["a"], ["b"], ["c"]])
        #expect(try commands("echo 'a && b; c'") == [["echo", "a && b; c"]])
    }

    @Test func substitutionsAreParsedAsScripts() throws {
        let script = try ShellParser.parse("rm -rf $(echo /) `pwd`")
        guard case .simple(let c) = script.items[0].pipeline.commands[0] else { Issue.record("not simple"); return }
        guard case .command(let inner, _) = c.words[2].parts[0] else { Issue.record("no $()"); return }
        guard case .simple(let echo) = inner.items[0].pipeline.commands[0] else { Issue.record("inner"); return }
        #expect(echo.words.map(\.staticText) == ["echo", "/"])
        guard case .command(let tick, _) = c.words[3].parts[0], case .simple(let pwd) = tick.items[0].pipeline.commands[0] else { Issue.record("backticks"); return }
        #expect(pwd.words.first?.staticText == "pwd")
        // Nested, with a quoted ')' inside.
        let nested = try ShellParser.parse(#"echo "$(printf ')' && echo "$(date)")" done"#)
        guard case .simple(let e) = nested.items[0].pipeline.commands[0] else { Issue.record("nested"); return }
        #expect(e.words.count == 3)
        guard case .command(let outer, true) = e.words[1].parts[0] else { Issue.record("outer $()"); return }
        #expect(outer.items.count == 2)
    }

    @Test func compoundCommandsAndFunctions() throws {
        #expect(try commands("if [ -d x ]; then rm -rf x; else echo no; fi") == [["[", "-d", "x", "]"], ["rm", "-rf", "x"], ["echo", "no"]])
        #expect(try commands("for d in a b; do rm -r $d; done").contains { $0.first == "rm" })
        #expect(try commands("while true; do sleep 1; done") == [["true"], ["sleep", "1"]])
        #expect(try commands("case $x in a) rm a;; b|c) rm b;; esac") == [["rm", "a"], ["rm", "b"]])
        #expect(try commands("(cd build && make) && { echo ok; }") == [["cd", "build"], ["make"], ["echo", "ok"]])
        let bomb = try ShellParser.parse(":(){ :|:& };:")
        guard case .function(let name, _) = bomb.items[0].pipeline.commands[0] else { Issue.record("no function"); return }
        #expect(name == ":")
    }

    @Test func hereDocumentsAndRedirections() throws {
        let script = try ShellParser.parse("cat <<'EOF' > out.txt\nrm -rf ~\nEOF\necho after")
        guard case .simple(let cat) = script.items[0].pipeline.commands[0] else { Issue.record("cat"); return }
        #expect(cat.redirects.map(\.op) == ["<<", ">"])
        #expect(cat.redirects[0].hereDoc?.body.staticText == "rm -rf ~\n")
        #expect(cat.redirects[1].target.staticText == "out.txt")
        #expect(try commands("cat <<'EOF' > out.txt\nrm -rf ~\nEOF\necho after").last == ["echo", "after"])
        let io = try ShellParser.parse("make 2>&1 >> log.txt")
        guard case .simple(let make) = io.items[0].pipeline.commands[0] else { return }
        #expect(make.redirects.map(\.op) == [">&", ">>"])
        #expect(make.redirects[0].fd == 2)
    }

    @Test func assignmentsAndComments() throws {
        let script = try ShellParser.parse("X=/ Y='a b' cmd $X # rm -rf ~")
        guard case .simple(let c) = script.items[0].pipeline.commands[0] else { return }
        #expect(c.assignments.map(\.name) == ["X", "Y"])
        #expect(c.words.count == 2)
        #expect(try commands("echo a#b") == [["echo", "a#b"]])
    }

    @Test func brokenInputIsAnErrorWithAPosition() {
        for text in ["echo 'unterminated", "echo \"open", "echo $(date", "if true; then echo", "echo `x", "a && && b", "| b"] {
            #expect(throws: ShellParseError.self, "\(text)") { try ShellParser.parse(text) }
        }
    }

    @Test func tildeAndGlobsKeepTheirQuoting() throws {
        let script = try ShellParser.parse(#"rm -rf ~ '~' ./~ "*" *"#)
        guard case .simple(let c) = script.items[0].pipeline.commands[0] else { return }
        #expect(c.words[2].parts == [.literal("~")])
        #expect(c.words[3].parts == [.quoted("~")])
        #expect(c.words[5].parts == [.quoted("*")])
        #expect(c.words[6].parts == [.literal("*")])
    }
}
