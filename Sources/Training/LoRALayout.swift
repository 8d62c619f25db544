import Core
import Foundation
import Inference

/// Where the trainable LoRA matrices live in one float buffer.
///
/// Projections that read the same input are grouped: Q, K and V (the attention norm's output),
/// gate and up (the MLP norm's output), O alone, down alone. A group's A matrices are stacked into
/// one [Σr × inputs] block, so the group's down-projection `U = X·Aᵀ` is one matrix product; each
/// module's B ([outputs × r]) is its own block. A dropout mask is drawn per group (PEFT draws one
/// per module; with dropout 0, the default, the two are the same).
public struct LoRALayout: Sendable {
    public enum GroupKind: Int, Sendable, CaseIterable { case qkv, o, gateUp, down }

    public struct Member: Sendable {
        public var module: LoRAModule
        public var rankOffset: Int     // first row of this module's A within the group's stacked A
        public var b: Int              // offset of B
        public var outputs: Int
        public var column: Int         // first column of this module's output in the group's output matrix
    }

    public struct Group: Sendable {
        public var kind: GroupKind
        public var a: Int              // offset of the stacked A
        public var rank: Int           // Σ r over the members
        public var inputs: Int
        public var members: [Member]
        public var uOffset: Int        // column block of this group's U within the layer's U activations (× rows)
    }

    public let config: LoRAConfig
    public let shape: ModelShape
    /// Groups of each layer (empty for layers without adapters).
    public let layers: [[Group]]
    public let count: Int
    /// Σ rank of every group of a layer (the width of the layer's U activations).
    public let uWidth: Int
    public let maxGroupRank: Int

    public init(config: LoRAConfig, shape s: ModelShape) throws {
        guard config.rank >= 1, config.rank <= 4096 else { throw TrainingError.invalidOption("--lora-rank must be between 1 and 4096") }
        guard !config.targets.isEmpty else { throw TrainingError.invalidOption("--lora-targets names no module") }
        if let layers = config.layers {
            for l in layers where l < 0 || l >= s.layers {
                throw TrainingError.invalidOption("--lora-layers: layer \(l) is outside 0..<\(s.layers)")
            }
        }
        guard config.dropout >= 0, config.dropout < 1 else { throw TrainingError.invalidOption("--lora-dropout must be in [0, 1)") }
        self.config = config
        shape = s
        let targets = Set(config.targets)
        let adapted = Set(config.layers ?? Array(0..<s.layers))
        var offset = 0
        var all: [[Group]] = []
        var width = 0, maxRank = 0
        let kinds: [(GroupKind, [LoRAModule], Int)] = [
            (.qkv, [.q, .k, .v], s.width), (.o, [.o], s.qDim), (.gateUp, [.gate, .up], s.width), (.down, [.down], s.feedForward),
        ]
        for l in 0..<s.layers {
            var groups: [Group] = []
            var u = 0
            if adapted.contains(l) {
                for (kind, modules, inputs) in kinds {
                    let present = modules.filter { targets.contains($0) }
                    guard !present.isEmpty else { continue }
                    let r = config.rank * present.count
                    let a = offset
                    offset += r * inputs
                    var members: [Member] = []
                    for (i, m) in present.enumerated() {
                        let outputs = s.dimensions(m).outputs
                        let column: Int = switch m {
                        case .q, .o, .gate, .down: 0
                        case .k: s.qDim
                        case .v: s.qDim + s.kvDim
                        case .up: s.feedForward
                        }
                        members.append(Member(module: m, rankOffset: i * config.rank, b: offset, outputs: outputs, column: column))
                        offset += outputs * config.rank
                    }
                    groups.append(Group(kind: kind, a: a, rank: r, inputs: inputs, members: members, uOffset: u))
                    u += r
                    maxRank = max(maxRank, r)
                }
            }
            width = max(width, u)
            all.append(groups)
        }
        layers = all
        count = offset
        uWidth = width
        maxGroupRank = maxRank
    }

    /// The lowest layer with an adapter (nil: none).
    public var lowestLayer: Int? { layers.firstIndex { !$0.isEmpty } }

    public func group(_ layer: Int, _ kind: GroupKind) -> Group? { layers[layer].first { $0.kind == kind } }

    /// PEFT's initialization: A uniform in ±1/√inputs (Kaiming-uniform with a = √5), B zero. Seeded.
    public func initialize(_ values: UnsafeMutablePointer<Float>, seed: UInt64) {
        values.update(repeating: 0, count: count)
        var rng = SplitMix64(seed: seed)
        for groups in layers {
            for g in groups {
                let bound = 1 / Float(g.inputs).squareRoot()
                for i in 0..<(g.rank * g.inputs) {
                    values[g.a + i] = (2 * rng.nextUnitFloat() - 1) * bound
                }
            }
        }
    }

    /// The adapter these values make (B rows in GGUF order).
    public func adapter(_ values: UnsafePointer<Float>, baseModel: String) -> LoRAAdapter {
        var tensors: [LoRATensor] = []
        let r = config.rank
        for (l, groups) in layers.enumerated() {
            for g in groups {
                for m in g.members {
                    let a = Array(UnsafeBufferPointer(start: values + g.a + m.rankOffset * g.inputs, count: r * g.inputs))
                    let b = Array(UnsafeBufferPointer(start: values + m.b, count: m.outputs * r))
                    tensors.append(LoRATensor(module: m.module, layer: l, rank: r, inputs: g.inputs, outputs: m.outputs, a: a, b: b,
                                              scale: config.scale))
                }
            }
        }
        return LoRAAdapter(config: config, baseModel: baseModel, tensors: tensors)
    }

    /// Copies an adapter's matrices into `values` (for continuing from an adapter); shapes must match.
    public func load(_ adapter: LoRAAdapter, into values: UnsafeMutablePointer<Float>) throws {
        for (l, groups) in layers.enumerated() {
            for g in groups {
                for m in g.members {
                    guard let t = adapter.tensors.first(where: { $0.layer == l && $0.module == m.module }), t.rank == config.rank else {
                        throw TrainingError.invalidOption("the adapter has no rank-\(config.rank) \(m.module.rawValue) on layer \(l)")
                    }
                    t.a.withUnsafeBufferPointer { (values + g.a + m.rankOffset * g.inputs).update(from: $0.baseAddress!, count: t.a.count) }
                    t.b.withUnsafeBufferPointer { (values + m.b).update(from: $0.baseAddress!, count: t.b.count) }
                }
            }
        }
    }
}

extension SplitMix64 {
    /// A float uniform in [0, 1) from the top 24 bits.
    mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1 / 16_777_216) }
}
