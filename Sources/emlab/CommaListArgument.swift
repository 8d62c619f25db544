import ArgumentParser
import Core

/// `CommaList` as an option type. Declare options with `transform: CommaList.parser(…)` to get
/// the error that names the bad item ("The value '1,x' is invalid for '--k <k>': 'x' (item 2 of
/// '1,x') is not a whole number ≥ 0"); the plain `ExpressibleByArgument` conformance can only
/// say that the value is invalid. ArgumentParser shows no default for an option with a transform:
/// write it into the help text, "(default: 0,2,8,32)".
extension CommaList: ExpressibleByArgument {
    public init?(argument: String) {
        guard let list = try? CommaList(parsing: argument) else { return nil }
        self = list
    }

    public var defaultValueDescription: String { description }

    /// An option transform that parses a comma list whose items are `expected` and pass `isValid`.
    static func parser(_ expected: String? = nil,
                       where isValid: @escaping @Sendable (Element) -> Bool = { _ in true })
        -> @Sendable (String) throws -> CommaList {
        { text in try CommaList(parsing: text, expected: expected, where: isValid) }
    }
}
