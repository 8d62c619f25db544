import Foundation

/// Writes text to standard output at once (streamed tokens), through the same buffer as `print`.
func emit(_ text: String) {
    print(text, terminator: "")
    fflush(nil)   // all output streams; `stdout` itself is not concurrency-safe to name in Swift 6
}

/// Prints `message` to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Encodes a value as one line of JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let enc = JSONEncoder()
    enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try enc.encode(value), as: UTF8.self))
}
