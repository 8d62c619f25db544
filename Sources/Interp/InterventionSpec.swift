import Core
import Foundation

/// A steering or ablation option that does not parse (a usage mistake; the message says what to write).
public struct InterventionSpecError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `--steer FILE@LAYER*COEF[:prompt|answer|all]` (or `sae:FOLDER#LATENT*COEF`, at the SAE's layer) and
/// `--ablate FILE[@LAYERS][:prompt|answer|all]`: a vector file, the layers, and what to do there,
/// turned into `Intervention`s for a model.
///
/// Steering adds `COEF ×` the file's vector for each layer at that layer's hook point (the file's,
/// `resid_out` by default), over the answer's positions unless a span is given; ablation projects the
/// direction out over all positions unless a span is given, at the layers given or else at every
/// layer the file has a vector for (every layer of the model for a single-vector file).
public struct InterventionSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Action: Sendable, Equatable {
        case steer(coefficient: Float)
        case ablate
    }

    public var file: String
    public var layers: LayerSelection?
    public var action: Action
    public var span: InterventionSpan

    public init(file: String, layers: LayerSelection?, action: Action, span: InterventionSpan? = nil) {
        self.file = file
        self.layers = layers
        self.action = action
        if let span { self.span = span } else if case .steer = action { self.span = .answer } else { self.span = .all }
    }

    /// Splits a `:prompt`, `:answer` or `:all` suffix off.
    private static func span(_ text: String) -> (String, InterventionSpan?) {
        for s in InterventionSpan.allCases where text.hasSuffix(":" + s.rawValue) {
            return (String(text.dropLast(s.rawValue.count + 1)), s)
        }
        return (text, nil)
    }

    /// `FILE@LAYER*COEF[:span]`; LAYER may be a list or range (`8,12`, `8-12`), the same coefficient at each.
    public static func steer(parsing text: String) throws -> InterventionSpec {
        let (body, span) = Self.span(text)
        if body.hasPrefix(SAELatentReference.prefix), !body.contains("@") {
            // sae:FOLDER#LATENT*COEF: the layer is the SAE's.
            guard let star = body.lastIndex(of: "*") else {
                throw InterventionSpecError("--steer '\(text)': write sae:FOLDER#LATENT*COEF[:prompt|answer|all], e.g. sae:saes/qwen-l12#1234*8")
            }
            let file = String(body[..<star])
            _ = try SAELatentReference(parsing: file)
            let c = try coefficient(String(body[body.index(after: star)...]), in: text)
            return InterventionSpec(file: file, layers: nil, action: .steer(coefficient: c), span: span)
        }
        guard let at = body.lastIndex(of: "@"), let star = body[at...].firstIndex(of: "*") else {
            throw InterventionSpecError("--steer '\(text)': write FILE@LAYER*COEF[:prompt|answer|all], e.g. evil.safetensors@15*4")
        }
        let file = String(body[..<at])
        guard !file.isEmpty else { throw InterventionSpecError("--steer '\(text)': the vector file is missing before '@'") }
        let layers = try LayerSelection(parsing: String(body[body.index(after: at)..<star]))
        let c = try coefficient(String(body[body.index(after: star)...]), in: text)
        return InterventionSpec(file: file, layers: layers, action: .steer(coefficient: c), span: span)
    }

    private static func coefficient(_ coefText: String, in text: String) throws -> Float {
        guard let c = Float(coefText), c.isFinite else {
            throw InterventionSpecError("--steer '\(text)': coefficient '\(coefText)' is not a number")
        }
        return c
    }

    /// `FILE[@LAYERS][:span]`.
    public static func ablate(parsing text: String) throws -> InterventionSpec {
        let (body, span) = Self.span(text)
        guard let at = body.lastIndex(of: "@") else {
            guard !body.isEmpty else { throw InterventionSpecError("--ablate '\(text)': give a vector file") }
            return InterventionSpec(file: body, layers: nil, action: .ablate, span: span)
        }
        let file = String(body[..<at])
        guard !file.isEmpty else { throw InterventionSpecError("--ablate '\(text)': the vector file is missing before '@'") }
        if body[at...].contains("*") {
            throw InterventionSpecError("--ablate '\(text)': ablation takes no coefficient; write FILE[@LAYERS][:prompt|answer|all]")
        }
        return InterventionSpec(file: file, layers: try LayerSelection(parsing: String(body[body.index(after: at)...])),
                                action: .ablate, span: span)
    }

    public var description: String {
        var s: String
        switch action {
        case .steer(let c): s = "steer \(file)@\(layers?.description ?? "all")*\(c)"
        case .ablate: s = "ablate \(file)" + (layers.map { "@\($0)" } ?? "")
        }
        return s + ":" + span.rawValue
    }

    /// The interventions for a model of `layerCount` layers and `width`, with the vector file read and
    /// checked, and a description for run records (the file's digest included).
    public func resolve(layerCount: Int, width: Int, model: String) throws -> (interventions: [Intervention], description: String) {
        let v = try LayerVectors.read(path: file)
        try v.check(width: width, layerCount: layerCount, model: model)
        let chosen = try layers?.resolve(layerCount: layerCount, model: model) ?? v.layers ?? Array(0..<layerCount)
        let out: [Intervention] = try chosen.map { l in
            let vector = try v.vector(layer: l)
            switch action {
            case .steer(let c): return .add(vector, coefficient: c, at: v.hook.point(layer: l), over: span)
            case .ablate: return .projectOut(vector, at: v.hook.point(layer: l), over: span)
            }
        }
        let what: String
        switch action {
        case .steer(let c): what = "steer \(c) ×"
        case .ablate: what = "ablate"
        }
        let layerText = LayerSelection(layers: chosen).description
        return (out, "\(what) \(v.identity) at \(v.hook.rawValue).\(layerText) over \(span.rawValue) positions")
    }
}

/// `FILE[@LAYER]`: a vector file and the layer to read (nil: the layer the file's separation ranks first).
public struct VectorReference: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var layer: Int?

    public init(file: String, layer: Int? = nil) {
        self.file = file
        self.layer = layer
    }

    public init(parsing text: String) throws {
        guard let at = text.lastIndex(of: "@") else {
            guard !text.isEmpty else { throw InterventionSpecError("give a vector file, FILE[@LAYER]") }
            self.init(file: text)
            return
        }
        let layerText = text[text.index(after: at)...]
        guard let l = Int(layerText), l >= 0, at > text.startIndex else {
            throw InterventionSpecError("'\(text)': write FILE@LAYER with one layer number, e.g. misaligned.safetensors@15")
        }
        self.init(file: String(text[..<at]), layer: l)
    }

    /// The file read, and the layer: the one given, else the file's best-separating layer, else an
    /// error asking for one.
    public func load() throws -> (vectors: LayerVectors, layer: Int) {
        let v = try LayerVectors.read(path: file)
        if let layer {
            _ = try v.vector(layer: layer)
            return (v, layer)
        }
        guard let best = v.bestLayer else {
            throw InterventionSpecError("\(file) records no per-layer separation: name the layer, \(file)@LAYER")
        }
        return (v, best)
    }

    public var description: String { file + (layer.map { "@\($0)" } ?? "") }
}
