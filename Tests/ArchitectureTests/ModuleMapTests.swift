import Foundation
import Testing

/// `docs/architecture.md` against the source tree: every module folder is on the map, each module's
/// "imports" cell names exactly the project modules its files import, and no import points to a
/// higher layer. A new import, a moved module or a stale cell fails here, not in a reader's head.
struct ModuleMapTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Module {
        var name: String
        var layer: Int
        var folder: String
        var imports: Set<String>
    }

    /// The modules of the map's layer tables, with their folders and their project imports.
    static func map() throws -> [String: Module] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        var modules: [String: Module] = [:]
        var layer: Int?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("### ") {
                layer = line.hasPrefix("### Layer ") ? Int(line.dropFirst(10).prefix { $0.isNumber }) : nil
                continue
            }
            guard let layer, line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, let open = cells[0].range(of: " (") else { continue }
            let names = backticked(String(cells[0][..<open.lowerBound]))
            let folders = backticked(String(cells[0][open.upperBound...])).filter { $0.hasPrefix("Sources/") }
            #expect(names.count == folders.count, "a map row names \(names) with folders \(folders)")
            // Project modules come before the first ";" and are not followed by "(package)".
            let projectPart = String(cells[cells.count - 1].split(separator: ";", maxSplits: 1).first ?? "")
            var imports = Set<String>()
            for item in projectPart.split(separator: ",") {
                let words = item.trimmingCharacters(in: .whitespaces)
                guard !words.contains("("), let name = backticked(words).first else { continue }
                imports.insert(name)
            }
            for (name, folder) in zip(names, folders) {
                modules[name] = Module(name: name, layer: layer, folder: folder, imports: imports)
            }
        }
        return modules
    }

    static func backticked(_ s: String) -> [String] {
        s.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The modules named by `import` lines in a folder's Swift files, of those in `known`.
    static func imports(folder: String, known: Set<String>) throws -> Set<String> {
        var found = Set<String>()
        let url = root.appendingPathComponent(folder)
        guard let files = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil) else { return found }
        let pattern = try Regex(#"^\s*(?:@\w+\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?(\w+)"#)
        for case let file as URL in files where file.pathExtension == "swift" {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                if let m = try pattern.firstMatch(in: String(line)), let name = m.output[1].substring.map(String.init),
                   known.contains(name) {
                    found.insert(name)
                }
            }
        }
        return found
    }

    @Test func everyModuleFolderIsOnTheMap() throws {
        let mapped = Set(try Self.map().values.map(\.folder))
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix(".") }.map { "Sources/" + $0 }
        #expect(mapped.count >= 20)
        #expect(Set(folders).subtracting(mapped).sorted() == [], "folders under Sources/ missing from docs/architecture.md")
        #expect(mapped.subtracting(folders).sorted() == [], "modules on the map with no folder")
    }

    @Test func eachModulesImportsAreTheOnesItsFilesHave() throws {
        let map = try Self.map()
        let known = Set(map.keys)
        for module in map.values.sorted(by: { $0.name < $1.name }) {
            let actual = try Self.imports(folder: module.folder, known: known).subtracting([module.name])
            #expect(actual == module.imports,
                    "\(module.name): files import \(actual.subtracting(module.imports).sorted()) not on the map; the map lists \(module.imports.subtracting(actual).sorted()) that no file imports")
        }
    }

    @Test func noImportPointsUpTheLayers() throws {
        let map = try Self.map()
        for module in map.values {
            for name in module.imports {
                guard let target = map[name] else {
                    Issue.record("\(module.name) imports \(name), which is not on the map")
                    continue
                }
                #expect(target.layer <= module.layer, "\(module.name) (layer \(module.layer)) imports \(name) (layer \(target.layer))")
            }
        }
    }
}
