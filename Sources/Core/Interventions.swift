/// Interventions on a model's activations, as values every layer can carry: a request asks for them,
/// the engine applies them (Inference's `Hooks`), results and stores record them.

/// A place in the residual computation of a layer where activations can be read or edited.
///
/// For block `layer`:  `residualIn` → attention → `attentionOutput` (added to the stream)
/// → MLP → `mlpOutput` (added) → `residualOut`. `residualOut(l)` equals `residualIn(l+1)`
/// unless an edit sits between them. Every point holds one vector of the model's width per token.
public enum HookPoint: Hashable, Sendable, CustomStringConvertible, Comparable {
    case residualIn(layer: Int)
    case attentionOutput(layer: Int)
    case mlpOutput(layer: Int)
    case residualOut(layer: Int)

    public var layer: Int {
        switch self {
        case .residualIn(let l), .attentionOutput(let l), .mlpOutput(let l), .residualOut(let l): return l
        }
    }

    private var order: Int {
        switch self {
        case .residualIn: return 0
        case .attentionOutput: return 1
        case .mlpOutput: return 2
        case .residualOut: return 3
        }
    }

    public static func < (a: HookPoint, b: HookPoint) -> Bool { (a.layer, a.order) < (b.layer, b.order) }

    public var description: String {
        switch self {
        case .residualIn(let l): return "resid_in.\(l)"
        case .attentionOutput(let l): return "attn_out.\(l)"
        case .mlpOutput(let l): return "mlp_out.\(l)"
        case .residualOut(let l): return "resid_out.\(l)"
        }
    }

    /// Parses `resid_in.3`, `attn_out.3`, `mlp_out.3`, `resid_out.3`.
    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let l = Int(parts[1]), l >= 0 else { return nil }
        switch parts[0] {
        case "resid_in": self = .residualIn(layer: l)
        case "attn_out": self = .attentionOutput(layer: l)
        case "mlp_out": self = .mlpOutput(layer: l)
        case "resid_out": self = .residualOut(layer: l)
        default: return nil
        }
    }
}

extension HookPoint: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let point = HookPoint(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "'\(text)' is not a hook point (resid_in.L, attn_out.L, mlp_out.L, resid_out.L)"))
        }
        self = point
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Which positions of a sequence an intervention touches: the prompt's (positions before the
/// prompt length), the answer's (every position after), or both.
public enum InterventionSpan: String, Sendable, Hashable, Codable, CaseIterable {
    case prompt, answer, all

    public func covers(prompt: Bool) -> Bool {
        switch self {
        case .all: return true
        case .prompt: return prompt
        case .answer: return !prompt
        }
    }
}

/// One edit of the activations at a hook point.
///
/// At a point, directions are projected out first, then replacements apply, then the scaled vectors are added; captures see
/// the result.
public struct Intervention: Sendable, Hashable, Codable {
    public enum Operation: Sendable, Hashable, Codable {
        /// Adds `coefficient · vector` (steering).
        case add(vector: [Float], coefficient: Float)
        /// Removes the component along `direction` (directional ablation).
        case projectOut(direction: [Float])
        /// Replaces each position's vector by a function of it (e.g. a sparse autoencoder's
        /// reconstruction, to measure what the reconstruction loses).
        case replace(ActivationMap)
    }

    public var point: HookPoint
    public var operation: Operation
    public var span: InterventionSpan

    public init(point: HookPoint, operation: Operation, span: InterventionSpan = .all) {
        self.point = point
        self.operation = operation
        self.span = span
    }

    /// `coefficient · vector` added at `point` over `span`.
    public static func add(_ vector: [Float], coefficient: Float = 1, at point: HookPoint,
                           over span: InterventionSpan = .all) -> Intervention {
        Intervention(point: point, operation: .add(vector: vector, coefficient: coefficient), span: span)
    }

    /// The component along `direction` removed at `point` over `span`.
    public static func projectOut(_ direction: [Float], at point: HookPoint, over span: InterventionSpan = .all) -> Intervention {
        Intervention(point: point, operation: .projectOut(direction: direction), span: span)
    }

    /// Each position's vector replaced by `map` of it at `point` over `span`.
    public static func replace(with map: any ActivationFunction, at point: HookPoint, over span: InterventionSpan = .all) -> Intervention {
        Intervention(point: point, operation: .replace(ActivationMap(map)), span: span)
    }

    /// The width of the vectors this intervention works on (it must be the model's).
    public var width: Int {
        switch operation {
        case .add(let v, _): return v.count
        case .projectOut(let d): return d.count
        case .replace(let m): return m.function.width
        }
    }
}

/// A function of one position's activation vector, computed in place.
public protocol ActivationFunction: Sendable {
    /// Names the function in prefix-cache keys and run records (e.g. an SAE's folder and digest):
    /// two functions with the same identity must compute the same thing.
    var identity: String { get }
    /// The vectors' width.
    var width: Int { get }
    /// Replaces `vector` (`width` floats) by the function's value.
    func apply(_ vector: UnsafeMutablePointer<Float>)
}

/// An `ActivationFunction` as a value: equal and hashed by identity, encoded as its identity (run
/// records name it; it cannot be decoded back into a function).
public struct ActivationMap: Sendable, Hashable, Codable, CustomStringConvertible {
    public let function: any ActivationFunction

    public init(_ function: any ActivationFunction) { self.function = function }

    public static func == (a: ActivationMap, b: ActivationMap) -> Bool { a.function.identity == b.function.identity }
    public func hash(into h: inout Hasher) { h.combine(function.identity) }
    public var description: String { function.identity }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(function.identity)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let identity = try c.decode(String.self)
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "activation map '\(identity)' names a function; it cannot be read back from a record")
    }
}

/// How captured activations are pooled over positions.
public enum Pooling: String, Sendable, Hashable, Codable, CaseIterable {
    /// The mean over the answer's positions (those at or after the prompt length that were computed).
    case answerMean = "answer-mean"
    /// The vector at the prompt's last position.
    case lastPromptToken = "last-prompt-token"
    /// One vector per computed position, in position order.
    case everyPosition = "every-position"
}

/// Activations to record at a hook point, pooled one way.
public struct ActivationCapture: Sendable, Hashable, Codable, CustomStringConvertible {
    public var point: HookPoint
    public var pooling: Pooling

    public init(_ point: HookPoint, pooling: Pooling) {
        self.point = point
        self.pooling = pooling
    }

    public var description: String { "\(point)/\(pooling.rawValue)" }
}

/// What a capture recorded: one vector (answer mean, last prompt token) or one per position.
public struct CapturedActivations: Sendable, Hashable, Codable {
    public var capture: ActivationCapture
    /// Vectors of the model's width; empty when no position matched (e.g. an answer of no tokens).
    public var vectors: [[Float]]

    public init(capture: ActivationCapture, vectors: [[Float]]) {
        self.capture = capture
        self.vectors = vectors
    }
}
