import Foundation

/// Rows of several tensors (columns) written to disk as they come, in shards of bounded size, so that
/// memory stays flat however many rows are written.
///
/// Each column is one tensor of shape `[rows] + rowShape` in every shard. Rows are appended in groups
/// (e.g. one sample's rows) that never straddle two shards; each group may carry a key (a sample id),
/// and a shard lists its groups' keys in its metadata (`shard.keys`, a JSON array), beside the
/// metadata every shard carries, its index (`shard.index`, from 0) and its first row in the whole
/// collection (`shard.first_row`).
///
/// `finish()` names the files: with one shard, exactly `path`; with several,
/// `STEM-00001-of-0000N.safetensors`… beside it (STEM is `path` without `.safetensors`) and an
/// index, `path + ".index.json"`, listing the shards with their rows. Shards are written under
/// temporary names first, so a killed collection leaves no file under a final name.
public final class SafetensorsShardWriter {
    public struct Column: Sendable, Equatable {
        public var name: String
        /// The shape of one row; the tensor's shape is `[rows] + rowShape`.
        public var rowShape: [Int]
        public var dtype: SafetensorsDType
        public init(_ name: String, rowShape: [Int], dtype: SafetensorsDType) {
            self.name = name
            self.rowShape = rowShape
            self.dtype = dtype
        }
        public var rowElements: Int { rowShape.reduce(1, *) }
    }

    /// One column's values for the rows of a group, row-major.
    public enum Values {
        case floats([Float])
        case integers([Int64])
    }

    /// One written shard.
    public struct Shard: Sendable, Equatable {
        public var path: String
        public var rows: Int
        public var firstRow: Int
        public var keys: Int
    }

    public let path: String
    public let columns: [Column]
    public let metadata: [String: String]
    /// A shard is closed before a group that would take it past this many data bytes (a group larger
    /// than this gets a shard of its own).
    public let maxShardBytes: Int

    private var buffers: [Data]
    private var rows = 0
    private var keys: [String] = []
    private var shards: [Shard] = []
    private var finished = false

    public init(path: String, columns: [Column], metadata: [String: String] = [:], maxShardBytes: Int = 256 << 20) throws {
        let names = columns.map(\.name)
        guard !columns.isEmpty, Set(names).count == names.count, !names.contains("__metadata__") else {
            throw SafetensorsError(file: path, "columns must be named, once each, and not __metadata__ (given \(names))")
        }
        self.path = path
        self.columns = columns
        self.metadata = metadata
        self.maxShardBytes = max(1, maxShardBytes)
        buffers = columns.map { _ in Data() }
    }

    /// Rows written so far, in all shards.
    public var rowCount: Int { shards.reduce(rows) { $0 + $1.rows } }

    private var bufferedBytes: Int { buffers.reduce(0) { $0 + $1.count } }

    /// Appends a group of `count` rows; `values[i]` holds column i's `count × rowElements` values
    /// (floats for float columns, integers for integer columns).
    public func append(rows count: Int, _ values: [Values], key: String? = nil) throws {
        precondition(!finished, "append after finish")
        guard values.count == columns.count else {
            throw SafetensorsError(file: path, "a group gives \(values.count) columns, the file has \(columns.count)")
        }
        var encoded: [Data] = []
        for (c, v) in zip(columns, values) {
            var d = Data(capacity: count * c.rowElements * c.dtype.byteSize)
            switch v {
            case .floats(let x):
                guard x.count == count * c.rowElements else { throw mismatch(c, count, x.count) }
                SafetensorsWriter.append(x, as: c.dtype, to: &d)
            case .integers(let x):
                guard c.dtype.isInteger else {
                    throw SafetensorsError(file: path, "column '\(c.name)' is \(c.dtype.rawValue): give floats, not integers")
                }
                guard x.count == count * c.rowElements else { throw mismatch(c, count, x.count) }
                SafetensorsWriter.append(x, to: &d)
            }
            encoded.append(d)
        }
        let adding = encoded.reduce(0) { $0 + $1.count }
        if rows > 0 && bufferedBytes + adding > maxShardBytes { try flush() }
        for i in buffers.indices { buffers[i].append(encoded[i]) }
        rows += count
        if let key { keys.append(key) }
    }

    private func mismatch(_ c: Column, _ rows: Int, _ given: Int) -> SafetensorsError {
        SafetensorsError(file: path, "column '\(c.name)': \(rows) rows of shape \(c.rowShape) need \(rows * c.rowElements) values, given \(given)")
    }

    private func temporaryPath(_ index: Int) -> String { "\(path).part\(index).tmp" }

    /// Writes the buffered rows as the next shard (under its temporary name).
    private func flush() throws {
        let index = shards.count
        var meta = metadata
        meta["shard.index"] = "\(index)"
        meta["shard.first_row"] = "\(rowCount - rows)"
        let keyData = try JSONSerialization.data(withJSONObject: keys, options: [.withoutEscapingSlashes])
        meta["shard.keys"] = String(decoding: keyData, as: UTF8.self)
        let head = try SafetensorsWriter.header(
            zip(columns, buffers).map { ($0.name, $0.dtype, [rows] + $0.rowShape, $1.count) }, metadata: meta)
        let temp = temporaryPath(index)
        guard FileManager.default.createFile(atPath: temp, contents: nil) else {
            throw SafetensorsError(file: temp, "cannot create the file")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temp))
            defer { try? handle.close() }
            try handle.write(contentsOf: head)
            for b in buffers { try handle.write(contentsOf: b) }
            try handle.synchronize()
        } catch {
            throw SafetensorsError(file: temp, "cannot write: \(error.localizedDescription)")
        }
        shards.append(Shard(path: temp, rows: rows, firstRow: rowCount - rows, keys: keys.count))
        for i in buffers.indices { buffers[i] = Data() }
        rows = 0
        keys = []
    }

    /// Writes what is left and gives the shards their final names: the files written, in order
    /// (one file: `path`; several: the shards, and the index at `path + ".index.json"`).
    @discardableResult
    public func finish() throws -> [Shard] {
        precondition(!finished, "finish called twice")
        finished = true
        if rows > 0 || shards.isEmpty { try flush() }
        let fm = FileManager.default
        func move(_ from: String, _ to: String) throws {
            try? fm.removeItem(atPath: to)
            do { try fm.moveItem(atPath: from, toPath: to) } catch {
                throw SafetensorsError(file: to, "cannot write: \(error.localizedDescription)")
            }
        }
        let index = Self.indexPath(for: path)
        if shards.count == 1 {
            try move(shards[0].path, path)
            shards[0].path = path
            try? fm.removeItem(atPath: index)   // a stale index would point at other shards
            return shards
        }
        let stem = path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path
        for i in shards.indices {
            let name = stem + String(format: "-%05d-of-%05d.safetensors", i + 1, shards.count)
            try move(shards[i].path, name)
            shards[i].path = name
        }
        try? fm.removeItem(atPath: path)        // a stale single file under the name asked for
        let listing: [String: Any] = [
            "metadata": metadata,
            "rows": rowCount,
            "shards": shards.map { ["file": URL(fileURLWithPath: $0.path).lastPathComponent, "rows": $0.rows,
                                    "first_row": $0.firstRow, "keys": $0.keys] as [String: Any] },
        ]
        let json = try JSONSerialization.data(withJSONObject: listing, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        do { try json.write(to: URL(fileURLWithPath: index), options: .atomic) } catch {
            throw SafetensorsError(file: index, "cannot write: \(error.localizedDescription)")
        }
        return shards
    }

    /// Where the index of a sharded `path` is written.
    public static func indexPath(for path: String) -> String { path + ".index.json" }

    /// The files of a collection written to `path`: `path` itself, or the shards its index lists.
    public static func files(at path: String) throws -> [SafetensorsFile] {
        let index = indexPath(for: path)
        guard !FileManager.default.fileExists(atPath: path), FileManager.default.fileExists(atPath: index) else {
            return [try SafetensorsFile(path: path)]
        }
        guard let data = FileManager.default.contents(atPath: index),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let list = object["shards"] as? [[String: Any]] else {
            throw SafetensorsError(file: index, "not a shard index (a JSON object with a 'shards' list)")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try list.enumerated().map { i, entry in
            guard let file = entry["file"] as? String else { throw SafetensorsError(file: index, "shards[\(i)]: missing 'file'") }
            return try SafetensorsFile(path: folder.appendingPathComponent(file).path)
        }
    }
}
