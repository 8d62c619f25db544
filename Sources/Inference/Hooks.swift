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

/// Reads and edits activations during a forward pass.
///
/// At each point edits apply in this order: directions are projected out (ablation), then
/// scaled vectors are added (steering), then the result is captured. Captured vectors are
/// appended per token in the order the engine processed them.
public final class Hooks: @unchecked Sendable {
    struct Edit {
        var ablate: [[Float]] = []        // unit vectors
        var add: [Float]? = nil           // summed, already scaled
        var capture = false
    }

    private(set) var edits: [HookPoint: Edit] = [:]
    /// Captured vectors per point: one `[Float]` of the model's width per processed token.
    public private(set) var captured: [HookPoint: [[Float]]] = [:]

    public init() {}

    public var isEmpty: Bool { edits.isEmpty }

    /// Records every token's vector at `point`.
    public func capture(_ point: HookPoint) { edits[point, default: Edit()].capture = true }

    /// Adds `scale · vector` to every token's vector at `point` (steering).
    public func add(_ vector: [Float], scale: Float = 1, at point: HookPoint) {
        var e = edits[point, default: Edit()]
        let scaled = vector.map { $0 * scale }
        if let existing = e.add {
            e.add = zip(existing, scaled).map { $0 + $1 }
        } else {
            e.add = scaled
        }
        edits[point] = e
    }

    /// Removes the component along `direction` from every token's vector at `point` (ablation).
    public func projectOut(_ direction: [Float], at point: HookPoint) {
        let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return }
        edits[point, default: Edit()].ablate.append(direction.map { $0 / norm })
    }

    public func removeAll() {
        edits.removeAll()
        captured.removeAll()
    }

    public func clearCaptured() { captured.removeAll() }

    /// Checks vector widths against the model before a pass.
    func validate(width: Int, layers: Int) throws {
        for (point, e) in edits {
            if point.layer >= layers { throw ModelError.hookLayerOutOfRange(point: point.description, layers: layers) }
            if let a = e.add, a.count != width {
                throw ModelError.invalidHookVector(point: point.description, expected: width, found: a.count)
            }
            for d in e.ablate where d.count != width {
                throw ModelError.invalidHookVector(point: point.description, expected: width, found: d.count)
            }
        }
    }

    /// Applies the edits registered at `point` to `rows` vectors of `width` floats.
    func apply(_ point: HookPoint, _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        guard let e = edits[point] else { return }
        for r in 0..<rows {
            let v = x + r * width
            for d in e.ablate {
                d.withUnsafeBufferPointer { u in
                    var dot: Float = 0
                    for i in 0..<width { dot += v[i] * u[i] }
                    for i in 0..<width { v[i] -= dot * u[i] }
                }
            }
            if let a = e.add {
                a.withUnsafeBufferPointer { s in for i in 0..<width { v[i] += s[i] } }
            }
            if e.capture {
                captured[point, default: []].append(Array(UnsafeBufferPointer(start: v, count: width)))
            }
        }
    }
}
