import Core
import Foundation
import Safetensors

/// Token activations for SAE training: emlab activation files (`emlab-activations/1`, written by
/// `emlab sae collect` or `emlab activations --pool all`) read where they lie (memory-mapped), one
/// layer of each row. Whole transcripts are held out (about one in `heldOutEvery`), so held-out
/// figures never see a training transcript's tokens.
///
/// Batches are drawn without replacement in a seeded order over all training rows (a full shuffle,
/// epoch after epoch), so batch `s` is the same whatever happened before it: a resumed run reads
/// exactly the batches it would have.
public final class ActivationData: @unchecked Sendable {
    struct Source {
        var file: SafetensorsFile
        var tensor: SafetensorsTensorInfo
        var layerIndex: Int
        var layersPerRow: Int
    }

    public let width: Int
    public let layer: Int
    /// The hook kind of the files (`resid_out`, …).
    public let hook: String
    /// `emlab.model` of the files.
    public let model: String
    public let files: [String]
    /// Longest transcript seen, in tokens (the SAE's context size).
    public let longestTranscript: Int
    private let sources: [Source]
    /// Row ids, `source << 32 | row`.
    public let training: [Int64]
    public let heldOut: [Int64]
    private var order: (epoch: Int, permutation: [Int64])?
    private let seed: UInt64

    /// Reads every `.safetensors` activation file in `paths` (files or folders). `layer` picks one of
    /// the files' layers (required when they hold several); positions before `skipPositions` of each
    /// transcript are left out (the first token's vector is an outlier of huge norm in most models).
    public init(paths: [String], layer: Int? = nil, skipPositions: Int = 1, heldOutEvery: Int = 50, seed: UInt64 = 0) throws {
        var found: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else {
                throw SAEFormatError(file: p, "no such file or folder")
            }
            if isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: p).filter { $0.hasSuffix(".safetensors") }.sorted()
                found += names.map { (p as NSString).appendingPathComponent($0) }
            } else {
                found.append(p)
            }
        }
        guard !found.isEmpty else { throw SAEFormatError(file: paths.joined(separator: ", "), "no .safetensors activation files") }
        var sources: [Source] = [], training: [Int64] = [], heldOut: [Int64] = []
        var width = 0, chosenLayer = layer ?? -1, hook = "", model = "", longest = 0
        for (s, path) in found.enumerated() {
            let file: SafetensorsFile
            do { file = try SafetensorsFile(path: path) } catch let e as SafetensorsError { throw SAEFormatError(file: path, e.message) }
            func fail(_ why: String) -> SAEFormatError { SAEFormatError(file: path, why) }
            guard file.metadata["emlab.format"] == "emlab-activations/1" else {
                throw fail("__metadata__.emlab.format is \(file.metadata["emlab.format"].map { "'\($0)'" } ?? "missing"), not emlab-activations/1: write activations with emlab sae collect or emlab activations --pool all")
            }
            guard file.metadata["emlab.pooling"] == Pooling.everyPosition.rawValue else {
                throw fail("__metadata__.emlab.pooling is '\(file.metadata["emlab.pooling"] ?? "")': an SAE trains on every token's vector; collect with --pool all")
            }
            guard let t = file.tensor(named: "activations"), t.shape.count == 3, !t.dtype.isInteger else {
                throw fail("no float tensor 'activations' of shape [rows, layers, width]")
            }
            let layersText = file.metadata["emlab.layers"] ?? ""
            let layers = layersText.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").compactMap { Int($0) }
            guard layers.count == t.shape[1] else { throw fail("__metadata__.emlab.layers '\(layersText)' does not list the tensor's \(t.shape[1]) layers") }
            if chosenLayer < 0 {
                guard layers.count == 1 else { throw fail("holds layers \(layers): choose one with --layer") }
                chosenLayer = layers[0]
            }
            guard let li = layers.firstIndex(of: chosenLayer) else { throw fail("has no layer \(chosenLayer) (it holds \(layers))") }
            let fileModel = file.metadata["emlab.model"] ?? ""
            if s == 0 {
                width = t.shape[2]
                hook = file.metadata["emlab.hook"] ?? "resid_out"
                model = fileModel
            } else {
                guard t.shape[2] == width else { throw fail("width \(t.shape[2]) differs from \(found[0])'s \(width)") }
                guard fileModel == model else { throw fail("model '\(fileModel)' differs from \(found[0])'s '\(model)'") }
                guard (file.metadata["emlab.hook"] ?? "resid_out") == hook else { throw fail("hook differs from \(found[0])'s \(hook)") }
            }
            let rows = t.shape[0]
            guard rows < Int(Int32.max) else { throw fail("more than 2³¹ rows: split it") }
            let positions = try file.integers("position"), samples = try file.integers("sample")
            guard positions.count == rows, samples.count == rows else { throw fail("'position' and 'sample' must have one value per row (\(rows))") }
            for r in 0..<rows where positions[r] >= Int64(skipPositions) {
                longest = max(longest, Int(positions[r]) + 1)
                let id = Int64(sources.count) << 32 | Int64(r)
                if SplitMix64.mix(UInt64(s) << 40 ^ 0x5AE, UInt64(bitPattern: samples[r])) % UInt64(max(heldOutEvery, 1)) == 0 && heldOutEvery > 1 {
                    heldOut.append(id)
                } else {
                    training.append(id)
                }
            }
            sources.append(Source(file: file, tensor: t, layerIndex: li, layersPerRow: layers.count))
        }
        guard !training.isEmpty else { throw SAEFormatError(file: found[0], "no training rows after leaving out positions before \(skipPositions)") }
        self.width = width
        self.layer = chosenLayer
        self.hook = hook
        self.model = model
        self.files = found
        self.longestTranscript = longest
        self.sources = sources
        self.training = training
        self.heldOut = heldOut
        self.seed = seed
    }

    /// Converts rows `ids` to floats into `out` (`[ids.count, width]`).
    public func fill<C: Collection>(_ ids: C, into out: UnsafeMutablePointer<Float>) where C.Element == Int64 {
        var o = out
        for id in ids {
            let s = sources[Int(id >> 32)], r = Int(id & 0xFFFF_FFFF)
            let start = (r * s.layersPerRow + s.layerIndex) * width
            s.file.floats(s.tensor, elements: start..<(start + width), into: o)
            o += width
        }
    }

    /// The rows of training batch `step` (`size` rows, continuing into the next epoch's order).
    public func batch(step: Int, size: Int) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(size)
        var position = step * size
        while out.count < size {
            let epoch = position / training.count, offset = position % training.count
            let take = min(size - out.count, training.count - offset)
            out += permutation(epoch: epoch)[offset..<(offset + take)]
            position += take
        }
        return out
    }

    /// Training vectors passed by `steps` batches of `size`, as epochs.
    public func epochs(steps: Int, size: Int) -> Double { Double(steps * size) / Double(training.count) }

    private func permutation(epoch: Int) -> [Int64] {
        if let o = order, o.epoch == epoch { return o.permutation }
        var p = training
        var rng = SplitMix64(seed: SplitMix64.mix(seed, UInt64(epoch) &+ 0x5A3))
        if p.count > 1 { for i in stride(from: p.count - 1, to: 0, by: -1) { p.swapAt(i, rng.below(i + 1)) } }
        order = (epoch, p)
        return p
    }
}
