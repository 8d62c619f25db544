/// Problems with dataset files, names and requests; each names the file, line and field at fault.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case unreadableFile(path: String, reason: String)
    case unwritableFile(path: String, reason: String)
    case invalidLine(path: String, line: Int, field: String?, problem: String)
    case noExamples(path: String)
    case sampleTooLarge(dataset: String, requested: Int, available: Int)
    case unknownDataset(String, builtIns: [String])

    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "cannot read \(path): \(reason)"
        case .unwritableFile(let path, let reason):
            "cannot write \(path): \(reason)"
        case .invalidLine(let path, let line, let field, let problem):
            if let field { "\(path):\(line): \(field): \(problem)" } else { "\(path):\(line): \(problem)" }
        case .noExamples(let path):
            "\(path) holds no examples (expected one JSON object per line)"
        case .sampleTooLarge(let dataset, let requested, let available):
            "cannot draw \(requested) examples from \(dataset), which has \(available)"
        case .unknownDataset(let name, let builtIns):
            "'\(name)' is neither a built-in dataset nor a readable file; built-ins: \(builtIns.joined(separator: ", "))"
        }
    }
}
