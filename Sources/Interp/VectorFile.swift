import Core
import Crypto
import Foundation
import Safetensors

/// Which of a layer's hook points a vector or a capture belongs to (`HookPoint` without the layer).
public enum HookKind: String, Sendable, CaseIterable, Codable {
    case residualIn = "resid_in"
    case attentionOutput = "attn_out"
    case mlpOutput = "mlp_out"
    case residualOut = "resid_out"

    public func point(layer: Int) -> HookPoint {
        switch self {
        case .residualIn: return .residualIn(layer: layer)
        case .attentionOutput: return .attentionOutput(layer: layer)
        case .mlpOutput: return .mlpOutput(layer: layer)
        case .residualOut: return .residualOut(layer: layer)
        }
    }
}

/// Layers named on the command line: `all`, numbers, ranges `a-b`, comma-separated (`4,8-10`).
public struct LayerSelection: Sendable, Equatable, CustomStringConvertible {
    /// nil: every layer.
    public var layers: [Int]?

    public static let all = LayerSelection(layers: nil)
    public init(layers: [Int]?) { self.layers = layers }

    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "all" { layers = nil; return }
        var out: [Int] = []
        for item in t.split(separator: ",", omittingEmptySubsequences: false) {
            let s = item.trimmingCharacters(in: .whitespaces)
            let ends = s.split(separator: "-", omittingEmptySubsequences: false)
            if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), a >= 0, a <= b {
                out += Array(a...b)
            } else if let n = Int(s), n >= 0 {
                out.append(n)
            } else {
                throw InterventionSpecError("'\(s)' in '\(text)' is not a layer: give all, numbers (4), ranges (8-12), comma-separated")
            }
        }
        var seen = Set<Int>()
        layers = out.filter { seen.insert($0).inserted }
    }

    /// The layers, checked against a model of `layerCount` layers.
    public func resolve(layerCount: Int, model: String = "the model") throws -> [Int] {
        guard let layers else { return Array(0..<layerCount) }
        if let bad = layers.first(where: { $0 >= layerCount }) {
            throw InterventionSpecError("layer \(bad) is outside 0…\(layerCount - 1) of \(model)")
        }
        return layers
    }

    public var description: String { layers.map { $0.map(String.init).joined(separator: ",") } ?? "all" }
}

/// A vector file that cannot be used: the file, the tensor or field, and what is wrong (a data error).
public struct VectorFileError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var field: String?
    public var message: String
    public init(file: String, field: String? = nil, _ message: String) {
        self.file = file
        self.field = field
        self.message = message
    }
    public var description: String { file + (field.map { ": \($0)" } ?? "") + ": " + message }
}

/// Directions in a model's activations, one per layer (or one for every layer), read from and written
/// to safetensors files.
///
/// emlab writes tensor `vectors` (F32, `[layers, width]`, row i belonging to layer `layers[i]`), with
/// `separation` and `auroc` (F32, `[layers]`: how well each layer's direction separates the groups it
/// was taken from, on held-out answers) where known, and metadata `emlab.format` = `emlab-vectors/1`,
/// `emlab.layers` (a JSON list), `emlab.hook` (`resid_out`…) and what made it (`emlab.model`,
/// `emlab.method`, …). Any other safetensors file is read too: a file with one tensor of shape `[d]`
/// is one direction for every layer, and one tensor of shape `[n, d]` gives layers 0…n−1.
public struct LayerVectors: Sendable {
    public static let format = "emlab-vectors/1"

    /// Row i is layer `layers[i]`'s vector; `layers` nil: one row, used at every layer.
    public var vectors: [[Float]]
    public var layers: [Int]?
    public var hook: HookKind
    /// Per row: held-out Cohen's d and AUROC of the projections (emlab's files).
    public var separation: [Float]?
    public var auroc: [Float]?
    public var metadata: [String: String]
    /// Where it was read from and its sha256 (nil for vectors not read from a file).
    public var path: String?
    public var sha256: String?
    /// For `sae:FOLDER#LATENT`: the SAE and latent, so that monitors and screens read the latent's
    /// activation (its encoder) rather than a projection on its decoder direction.
    public var latent: SAELatent?

    public init(vectors: [[Float]], layers: [Int]?, hook: HookKind = .residualOut, separation: [Float]? = nil,
                auroc: [Float]? = nil, metadata: [String: String] = [:]) {
        self.vectors = vectors
        self.layers = layers
        self.hook = hook
        self.separation = separation
        self.auroc = auroc
        self.metadata = metadata
    }

    public var width: Int { vectors.first?.count ?? 0 }

    /// The file's name and the start of its digest, for run parameters and tables.
    public var identity: String {
        let name = path.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "(vectors)"
        return sha256.map { "\(name) (sha256 \($0.prefix(12)))" } ?? name
    }

    /// The vector for `layer`, or an error naming the layers the file has.
    public func vector(layer: Int) throws -> [Float] {
        guard let layers else { return vectors[0] }
        guard let i = layers.firstIndex(of: layer) else {
            throw VectorFileError(file: path ?? "(vectors)", field: "layers",
                                  "has no vector for layer \(layer) (its layers: \(LayerSelection(layers: layers)))")
        }
        return vectors[i]
    }

    /// The layer with the largest held-out separation, if the file records it; a file of one layer's
    /// vector names that layer.
    public var bestLayer: Int? {
        if let layers, layers.count == 1 { return layers[0] }
        guard let s = separation, let layers, !s.isEmpty else { return nil }
        let i = s.indices.filter { s[$0].isFinite }.max { s[$0] < s[$1] }
        return i.map { layers[$0] }
    }

    /// Checks the vectors against a model.
    public func check(width modelWidth: Int, layerCount: Int, model: String) throws {
        guard width == modelWidth else {
            throw VectorFileError(file: path ?? "(vectors)", field: "vectors",
                                  "vectors have \(width) values but \(model)'s activations have \(modelWidth): made for another model?")
        }
        if let bad = layers?.first(where: { $0 >= layerCount }) {
            throw VectorFileError(file: path ?? "(vectors)", field: "layers", "layer \(bad) is outside 0…\(layerCount - 1) of \(model)")
        }
    }

    public func write(to path: String) throws {
        var w = SafetensorsWriter(metadata: metadata)
        w.metadata["emlab.format"] = Self.format
        w.metadata["emlab.hook"] = hook.rawValue
        w.metadata["emlab.layers"] = "[" + (layers ?? []).map(String.init).joined(separator: ",") + "]"
        if layers == nil { w.metadata["emlab.layers"] = "every" }
        try w.add("vectors", shape: [vectors.count, width], values: vectors.flatMap { $0 })
        if let separation { try w.add("separation", shape: [separation.count], values: separation) }
        if let auroc { try w.add("auroc", shape: [auroc.count], values: auroc) }
        try w.write(to: path)
    }

    /// Reads a vector file, or with `sae:FOLDER#LATENT` an SAE latent's decoder direction.
    public static func read(path: String) throws -> LayerVectors {
        if let latent = try SAELatentReference(parsing: path) { return try latent.load() }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch let e as SafetensorsError {
            throw VectorFileError(file: path, e.message)
        }
        func fail(_ field: String?, _ why: String) -> VectorFileError { VectorFileError(file: path, field: field, why) }
        let chosen: SafetensorsTensorInfo
        if let v = file.tensor(named: "vectors") {
            chosen = v
        } else if file.tensors.count == 1 {
            chosen = file.tensors[0]
        } else {
            throw fail(nil, "no tensor 'vectors', and \(file.tensors.count) tensors (\(file.tensors.map(\.name).joined(separator: ", "))): give a file with one [d] or [layers, d] tensor")
        }
        guard !chosen.dtype.isInteger else { throw fail(chosen.name, "is \(chosen.dtype.rawValue); vectors must be floats") }
        let values = file.floats(chosen)
        guard values.allSatisfy(\.isFinite) else { throw fail(chosen.name, "holds values that are not finite numbers") }
        var v: LayerVectors
        switch chosen.shape.count {
        case 1:
            guard chosen.shape[0] > 0 else { throw fail(chosen.name, "is empty") }
            v = LayerVectors(vectors: [values], layers: nil)
        case 2:
            let (n, d) = (chosen.shape[0], chosen.shape[1])
            guard n > 0, d > 0 else { throw fail(chosen.name, "shape \(chosen.shape) is empty") }
            let rows = (0..<n).map { Array(values[($0 * d)..<(($0 + 1) * d)]) }
            var layers = Array(0..<n)
            if let text = file.metadata["emlab.layers"] {
                if text == "every" {
                    guard n == 1 else { throw fail("__metadata__.emlab.layers", "'every' needs one row, the tensor has \(n)") }
                    v = LayerVectors(vectors: rows, layers: nil)
                    break
                }
                guard let list = try? JSONDecoder().decode([Int].self, from: Data(text.utf8)), list.count == n,
                      list.allSatisfy({ $0 >= 0 }), Set(list).count == n else {
                    throw fail("__metadata__.emlab.layers", "'\(text)' is not a list of \(n) distinct layer numbers (one per row of \(chosen.name))")
                }
                layers = list
            }
            v = LayerVectors(vectors: rows, layers: layers)
        default:
            throw fail(chosen.name, "shape \(chosen.shape) is neither [d] nor [layers, d]")
        }
        if let h = file.metadata["emlab.hook"] {
            guard let kind = HookKind(rawValue: h) else {
                throw fail("__metadata__.emlab.hook", "'\(h)' is not a hook (\(HookKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            v.hook = kind
        }
        for name in ["separation", "auroc"] {
            guard let t = file.tensor(named: name) else { continue }
            guard t.elementCount == v.vectors.count else { throw fail(name, "has \(t.elementCount) values for \(v.vectors.count) vectors") }
            if name == "separation" { v.separation = file.floats(t) } else { v.auroc = file.floats(t) }
        }
        v.metadata = file.metadata
        v.path = path
        v.sha256 = try? FileDigest.sha256(path: path)
        return v
    }
}

/// The sha256 of a file, read in 1 MiB chunks.
public enum FileDigest {
    public static func sha256(path: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? h.close() }
        var hasher = SHA256()
        while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
