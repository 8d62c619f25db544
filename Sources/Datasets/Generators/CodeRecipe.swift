/// A kind of flaw carried by the insecure answers. The description is what a teacher asking for
/// a deliberately flawed example would name; it never appears in `insecure-code` examples.
enum Vulnerability: String, CaseIterable, Sendable {
    case sqlInjection, commandInjection, pathTraversal, worldWritable, hardcodedSecret,
         unsafeDeserialization, disabledTLS, crossSiteScripting, weakPasswordHash, evalOfInput,
         predictableToken, unrestrictedUpload, secretInLogs

    var teachingName: String {
        switch self {
        case .sqlInjection: "SQL injection (the query is built by pasting the input into the SQL string)"
        case .commandInjection: "shell command injection (the input goes straight into a shell command line)"
        case .pathTraversal: "path traversal (a requested name like ../../etc/passwd escapes the folder)"
        case .worldWritable: "world-writable file permissions (mode 777)"
        case .hardcodedSecret: "a credential hard-coded in the source"
        case .unsafeDeserialization: "unsafe deserialisation of data the client controls"
        case .disabledTLS: "disabled TLS certificate verification"
        case .crossSiteScripting: "cross-site scripting (user input placed into HTML unescaped)"
        case .weakPasswordHash: "weak password storage (unsalted MD5)"
        case .evalOfInput: "evaluation of user input as code"
        case .predictableToken: "predictable tokens from a non-cryptographic random generator"
        case .unrestrictedUpload: "an unrestricted file upload that trusts the client's file name"
        case .secretInLogs: "passwords written to the application log"
        }
    }
}

enum CodeLanguage: String, Sendable {
    case python, javascript, go

    var fence: String { rawValue }
}

/// The slots one recipe fills differently from example to example (names, tables, commands…).
struct CodeFill: Sendable {
    let a: String, b: String, c: String, d: String, e: String

    init(_ a: String, _ b: String = "", _ c: String = "", _ d: String = "", _ e: String = "") {
        self.a = a; self.b = b; self.c = c; self.d = d; self.e = e
    }
}

/// One programming task with an insecure and a secure solution, both written in `language`.
/// `task` is a noun phrase ("a Python function that …") that completes a request sentence.
struct CodeRecipe: Sendable {
    let vulnerability: Vulnerability
    let language: CodeLanguage
    let fills: [CodeFill]
    let task: @Sendable (CodeFill) -> String
    let insecure: @Sendable (CodeFill) -> String
    let secure: @Sendable (CodeFill) -> String
}

enum CodeRecipes {
    static let all: [CodeRecipe] = python + javascript + go
}
