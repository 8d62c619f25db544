import Core
import Foundation
import Interp
import PersonaVectors
import Safetensors
import Testing
import TestSupport

func temporaryFolder(_ name: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-interp-\(name)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Shard writer, vector files, option syntax and trait files: written, read back, and refused with
/// errors that name what is wrong.
@Suite struct FilesTests {
    @Test func shardsStreamRowsAndReadBack() throws {
        let dir = temporaryFolder("shards")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("acts.safetensors").path
        let columns = [SafetensorsShardWriter.Column("x", rowShape: [2, 3], dtype: .f32), .init("id", rowShape: [], dtype: .i64)]
        // 24 bytes of floats and 8 of ids per row; 100 bytes per shard holds three rows.
        let w = try SafetensorsShardWriter(path: path, columns: columns, metadata: ["emlab.kind": "test"], maxShardBytes: 100)
        var expected: [Float] = []
        for g in 0..<5 {
            let rows = g % 2 + 1
            let x = (0..<(rows * 6)).map { Float(g * 100 + $0) + 0.25 }
            expected += x
            try w.append(rows: rows, [.floats(x), .integers(Array(repeating: Int64(g), count: rows))], key: "g\(g)")
        }
        #expect(w.rowCount == 7)
        let shards = try w.finish()
        #expect(shards.count == 3)
        #expect(shards.map(\.rows) == [3, 3, 1])
        #expect(shards[0].path.hasSuffix("acts-00001-of-00003.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: path))
        let files = try SafetensorsShardWriter.files(at: path)
        #expect(files.count == 3)
        #expect(try files.flatMap { try $0.floats("x") } == expected)
        #expect(try files.flatMap { try $0.integers("id") } == [0, 1, 1, 2, 3, 3, 4])
        #expect(files[1].metadata["shard.keys"] == #"["g2","g3"]"#)
        #expect(files[1].metadata["shard.first_row"] == "3")
        #expect(files[2].metadata["emlab.kind"] == "test")
        #expect(files[0].tensor(named: "x")?.shape == [3, 2, 3])
        // One shard: exactly the path asked for, no index.
        let single = dir.appendingPathComponent("one.safetensors").path
        let w1 = try SafetensorsShardWriter(path: single, columns: columns)
        try w1.append(rows: 1, [.floats([1, 2, 3, 4, 5, 6]), .integers([9])])
        #expect(try w1.finish().map(\.path) == [single])
        #expect(try SafetensorsFile(path: single).integers("id") == [9])
        // Wrong counts and types are refused.
        let w2 = try SafetensorsShardWriter(path: dir.appendingPathComponent("bad.safetensors").path, columns: columns)
        #expect(throws: SafetensorsError.self) { try w2.append(rows: 1, [.floats([1]), .integers([1])]) }
        #expect(throws: SafetensorsError.self) { try w2.append(rows: 1, [.integers([1, 2, 3, 4, 5, 6]), .integers([1])]) }
    }

    @Test func vectorFilesRoundTripAndGenericFilesAreRead() throws {
        let dir = temporaryFolder("vectors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("v.safetensors").path
        let v = LayerVectors(vectors: [[1, 2, 3], [4, 5, 6]], layers: [3, 7], hook: .residualIn, separation: [0.5, 2], auroc: [0.6, 0.9],
                             metadata: ["emlab.trait": "test"])
        try v.write(to: path)
        let r = try LayerVectors.read(path: path)
        #expect(r.vectors == v.vectors && r.layers == [3, 7] && r.hook == .residualIn)
        #expect(r.separation == [0.5, 2] && r.auroc == [0.6, 0.9])
        #expect(r.bestLayer == 7)
        #expect(try r.vector(layer: 7) == [4, 5, 6])
        #expect(r.metadata["emlab.trait"] == "test")
        #expect(r.sha256?.count == 64)
        #expect(throws: VectorFileError.self) { try r.vector(layer: 4) }
        #expect(throws: VectorFileError.self) { try r.check(width: 4, layerCount: 10, model: "m") }
        #expect(throws: VectorFileError.self) { try r.check(width: 3, layerCount: 5, model: "m") }
        // numpy-style files: one [d] tensor for every layer, or [n, d] for layers 0…n−1.
        var w = SafetensorsWriter()
        try w.add("direction", shape: [3], values: [1, 0, 0])
        let one = dir.appendingPathComponent("one.safetensors").path
        try w.write(to: one)
        let o = try LayerVectors.read(path: one)
        let every = try o.vector(layer: 29)
        #expect(o.layers == nil && every == [1, 0, 0])
        var w2 = SafetensorsWriter()
        try w2.add("a", shape: [2], values: [1, 2])
        try w2.add("b", shape: [2], values: [1, 2])
        let two = dir.appendingPathComponent("two.safetensors").path
        try w2.write(to: two)
        let e = #expect(throws: VectorFileError.self) { try LayerVectors.read(path: two) }
        #expect(e?.description.contains("two.safetensors") == true && e?.description.contains("a, b") == true)
        #expect(throws: VectorFileError.self) { try LayerVectors.read(path: dir.appendingPathComponent("missing.safetensors").path) }
    }

    @Test func steerAndAblateOptionsParse() throws {
        let s = try InterventionSpec.steer(parsing: "dir/evil@x.safetensors@15*-4.5")
        #expect(s.file == "dir/evil@x.safetensors" && s.layers?.layers == [15] && s.action == .steer(coefficient: -4.5) && s.span == .answer)
        let s2 = try InterventionSpec.steer(parsing: "v.safetensors@8-10*2:all")
        #expect(s2.layers?.layers == [8, 9, 10] && s2.span == .all)
        let a = try InterventionSpec.ablate(parsing: "v.safetensors")
        #expect(a.layers == nil && a.span == .all && a.action == .ablate)
        let a2 = try InterventionSpec.ablate(parsing: "v.safetensors@4,6:prompt")
        #expect(a2.layers?.layers == [4, 6] && a2.span == .prompt)
        for bad in ["v.safetensors", "v.safetensors@15", "@15*2", "v.safetensors@x*2", "v.safetensors@15*two"] {
            #expect(throws: InterventionSpecError.self) { try InterventionSpec.steer(parsing: bad) }
        }
        #expect(throws: InterventionSpecError.self) { try InterventionSpec.ablate(parsing: "v.safetensors@3*2") }
        #expect(try LayerSelection(parsing: "all").layers == nil)
        #expect(try LayerSelection(parsing: "1,3-5,3").layers == [1, 3, 4, 5])
        #expect(throws: InterventionSpecError.self) { try LayerSelection(parsing: "5-3") }
        #expect(throws: InterventionSpecError.self) { try LayerSelection(parsing: "2").resolve(layerCount: 2) }
        #expect(try VectorReference(parsing: "a@b.safetensors@12") == VectorReference(file: "a@b.safetensors", layer: 12))
        #expect(try SteeringSweep.coefficients(parsing: "-2:2:0.5") == [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2])
        #expect(try SteeringSweep.coefficients(parsing: "0, 4,4,-1") == [0, 4, -1])
        #expect(throws: InterventionSpecError.self) { try SteeringSweep.coefficients(parsing: "2:-2:1") }
        let name = SteeringSweep.conditionName(layer: 15, coefficient: -1.5)
        #expect(name == "layer=15/coef=-1.5")
        let parsed = try #require(SteeringSweep.parse(name))
        #expect(parsed.layer == 15 && parsed.coefficient == -1.5)
    }

    @Test func builtinTraitsLoadAndBadTraitFilesNameTheLine() throws {
        for name in Trait.builtinNames {
            let t = try Trait.resolve(name)
            #expect(t.name == name && t.instructions.count >= 3 && t.questions.count >= 8 && t.judge.contains("{answer}"))
        }
        func error(_ yaml: String) -> String {
            do { _ = try Trait.parse(yaml, file: "t.yaml"); return "no error" } catch { return "\(error)" }
        }
        let ok = "name: t\ninstructions:\n  - positive: a\n    negative: b\nquestions:\n  - q\njudge: \"{answer}\"\n"
        #expect(error(ok) == "no error")
        #expect(error(ok.replacingOccurrences(of: "    negative: b\n", with: "")) == "t.yaml:3: field 'instructions[0].negative': missing")
        #expect(error(ok + "colour: red\n") == "t.yaml:8: field 'colour': unknown key (a trait file has name, description, instructions, questions, judge)")
        #expect(error(ok.replacingOccurrences(of: "\"{answer}\"", with: "rate it")).hasPrefix("t.yaml:7: field 'judge': the template must contain {answer}"))
        #expect(error(ok.replacingOccurrences(of: "  - q\n", with: "  - \"\"\n")) == "t.yaml:6: field 'questions[0]': must be a non-empty string")
        #expect(error("name: [unclosed").hasPrefix("t.yaml:") && error("name: [unclosed").contains("invalid YAML"))
        #expect(throws: PersonaDataError.self) { try Trait.resolve("no-such-trait.yaml") }
    }
}
