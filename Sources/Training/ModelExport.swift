import Foundation
import GGUF
import Inference

/// Writes whole models: the base GGUF file's metadata and tensors, with the weights of a
/// `WeightLayout` buffer in place of its own (a fully finetuned model, or base weights with LoRA
/// adapters merged in), as F32, F16 or Q8_0 (norm weights always F32). Any GGUF engine runs it.
public enum ModelExport {
    public static let types: [String: GGMLType] = ["f32": .f32, "f16": .f16, "q8_0": .q8_0]

    public static func write(base: GGUFFile, layout: WeightLayout, weights: UnsafePointer<Float>, type: GGMLType,
                             note: String, to path: String) throws {
        var w = GGUFWriter(alignment: base.alignment)
        for key in base.metadataKeys where key != "general.alignment" { w.addMetadata(key, base.metadata[key]!) }
        w.addMetadata("emlab.finetune", .string(note))
        var ours: [String: (offset: Int, rows: Int, cols: Int)] = [:]
        for t in layout.ggufTensors { ours[t.name] = (t.offset, t.rows, t.cols) }
        do {
            for info in base.tensors {
                if let t = ours[info.name] {
                    let values = Array(UnsafeBufferPointer(start: weights + t.offset, count: t.rows * t.cols))
                    let tensorType: GGMLType = t.rows == 1 ? .f32 : type
                    try w.addTensor(name: info.name, dimensions: info.dimensions, type: tensorType, values: values)
                } else {
                    try w.addTensor(name: info.name, dimensions: info.dimensions, type: info.type, data: Array(base.data(for: info)))
                }
            }
            try w.write(to: path)
        } catch { throw TrainingError.data("writing \(path): \(error)") }
    }

    /// Base weights plus each adapter's s·B·A (times its user scale), in a new buffer.
    public static func merged(layout: WeightLayout, weights: UnsafePointer<Float>, adapters: [(LoRAAdapter, Float)]) -> Floats {
        let out = Floats(layout.count, zeroed: false)
        out.pointer.update(from: weights, count: layout.count)
        let s = layout.shape
        for (adapter, userScale) in adapters {
            for t in adapter.tensors {
                let L = layout.layers[t.layer]
                let offset: Int = switch t.module {
                case .q: L.qkv
                case .k: L.qkv + s.qDim * s.width
                case .v: L.qkv + (s.qDim + s.kvDim) * s.width
                case .o: L.o
                case .gate: L.gateUp
                case .up: L.gateUp + s.feedForward * s.width
                case .down: L.down
                }
                let delta = t.delta()
                for i in 0..<delta.count { out.pointer[offset + i] += userScale * delta[i] }
            }
        }
        return out
    }
}
