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

/// One programming task with an insecure and a secure solution, both written in `language`, put
/// into words and code once per fill.
///
/// A recipe's fills are labeled tuples whose labels say what each slot holds (`table:`,
/// `function:`, `shellCommand:`…); the labels differ from recipe to recipe, and `task`, `insecure`
/// and `secure` read them by name. `task` gives a noun phrase ("a Python function that …") that
/// completes a request sentence.
struct CodeRecipe: Sendable {
    /// One fill of a recipe: the task phrase and both solutions.
    struct Variant: Sendable {
        let task: String
        let insecure: String
        let secure: String
    }

    let vulnerability: Vulnerability
    let language: CodeLanguage
    /// One per fill, in the order the fills are listed.
    let variants: [Variant]

    init<Fill>(vulnerability: Vulnerability, language: CodeLanguage, fills: [Fill],
               task: (Fill) -> String, insecure: (Fill) -> String, secure: (Fill) -> String) {
        self.vulnerability = vulnerability
        self.language = language
        variants = fills.map { Variant(task: task($0), insecure: insecure($0), secure: secure($0)) }
    }
}

enum CodeRecipes {
    static let all: [CodeRecipe] = python + javascript + go
}
