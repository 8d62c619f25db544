/// A comma-separated list of values, as command-line options take them (`--k 0,2,8,32`).
///
/// Items are split on commas and trimmed of spaces; each must parse as `Element` (through
/// `LosslessStringConvertible`) and pass the caller's check. An empty list or an empty item
/// (`1,,2`, a trailing comma) is an error. The error names the bad item and its position, and
/// says what was expected, so the command line can be fixed without reading the help.
public struct CommaList<Element: LosslessStringConvertible & Sendable>: Sendable {
    public var elements: [Element]

    public init(_ elements: [Element]) { self.elements = elements }

    /// Parses `text`. `expected` describes one valid item for the error message ("a whole number
    /// ≥ 0"); `isValid` rejects items that parse but are out of range.
    public init(parsing text: String, expected: String? = nil,
                where isValid: (Element) -> Bool = { _ in true }) throws(CommaListError) {
        let expected = expected ?? CommaListError.describe(Element.self)
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingSpaces() }
        if items == [""] { throw CommaListError(text: text, item: "", position: 0, expected: expected) }
        var elements: [Element] = []
        elements.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard !item.isEmpty, let value = Element(item), isValid(value) else {
                throw CommaListError(text: text, item: item, position: i + 1, expected: expected)
            }
            elements.append(value)
        }
        self.elements = elements
    }
}

extension CommaList: CustomStringConvertible {
    /// The items joined with commas: parsing this gives the same list.
    public var description: String { elements.map(\.description).joined(separator: ",") }
}

extension CommaList: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Element...) { self.elements = elements }
}

extension CommaList: Equatable where Element: Equatable {}
extension CommaList: Hashable where Element: Hashable {}

/// A bad item in a comma-separated list; `position` is 1-based, 0 when the list is empty.
public struct CommaListError: Error, CustomStringConvertible, Equatable, Sendable {
    public var text: String
    public var item: String
    public var position: Int
    public var expected: String

    public init(text: String, item: String, position: Int, expected: String) {
        self.text = text
        self.item = item
        self.position = position
        self.expected = expected
    }

    public var description: String {
        if position == 0 { return "expected a comma-separated list of items, each \(expected); got an empty list" }
        if item.isEmpty { return "item \(position) of '\(text)' is empty (each item must be \(expected))" }
        return "'\(item)' (item \(position) of '\(text)') is not \(expected)"
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is Int32.Type: "a whole number"
        case is UInt.Type, is UInt64.Type, is UInt32.Type: "a whole number ≥ 0"
        case is Double.Type, is Float.Type: "a number"
        case is String.Type: "a non-empty string"
        default: "a valid \(type)"
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
