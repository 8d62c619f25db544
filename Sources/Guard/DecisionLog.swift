#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CGuardSQLite

public struct DecisionLogError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "decision log \(path): \(message)" }
}

/// One logged decision.
public struct LogEntry: Sendable, Codable, Equatable {
    public var id: Int64
    /// Seconds since 1970.
    public var time: Double
    /// `hook`, `check`, `http`.
    public var interface: String
    public var session: String?
    public var tool: String
    public var action: String
    public var cwd: String?
    public var decision: String
    public var source: String
    public var rule: String?
    public var reason: String
    public var tags: String
    public var monitorModel: String?
    public var monitorVerdict: String?
    public var monitorReasoning: String?
    public var latencyMicros: Int
}

/// Every decision in SQLite (`decision` table, WAL mode). The hook opens the file for each call,
/// appends one row and closes it without a checkpoint (SQLite checkpoints every 1000 pages), so that
/// logging costs the hook about a millisecond; readers see every committed row.
public final class DecisionLog: SessionHistory {
    public let path: String
    private var db: OpaquePointer?

    /// `$EMLAB_GUARD_LOG`, the policy's `log:`, else `$EMLAB_HOME/guard/decisions.sqlite` (default `~/.cache/emlab/guard/`).
    public static func defaultPath(policy: Policy?, environment: [String: String]) -> String {
        if let p = environment["EMLAB_GUARD_LOG"], !p.isEmpty { return p }
        let home = Paths.home(environment: environment)
        if var p = policy?.logPath {
            if p.hasPrefix("~/") { p = home + p.dropFirst() }
            return p
        }
        let base = environment["EMLAB_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache/emlab"
        return base + "/guard/decisions.sqlite"
    }

    static let schema = """
        PRAGMA journal_mode=WAL;
        CREATE TABLE IF NOT EXISTS decision (
            id INTEGER PRIMARY KEY,
            time REAL NOT NULL,
            interface TEXT NOT NULL,
            session TEXT,
            tool TEXT NOT NULL,
            action TEXT NOT NULL,
            input TEXT,
            cwd TEXT,
            decision TEXT NOT NULL,
            source TEXT NOT NULL,
            rule TEXT,
            reason TEXT NOT NULL,
            findings TEXT,
            tags TEXT NOT NULL DEFAULT '',
            monitor_model TEXT,
            monitor_verdict TEXT,
            monitor_reasoning TEXT,
            latency_us INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS decision_session ON decision(session);
        CREATE INDEX IF NOT EXISTS decision_time ON decision(time);
        """

    /// Opens (and creates, with its folder) the log.
    public init(path: String, readOnly: Bool = false) throws(DecisionLogError) {
        self.path = path
        if !readOnly {
            let dir = Paths.parent(path)
            if !Paths.exists(dir) {
                do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
                catch { throw DecisionLogError(path: path, message: "cannot create \(dir): \(error)") }
            }
        } else if !Paths.exists(path) {
            throw DecisionLogError(path: path, message: "no such file")
        }
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        guard sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            db = nil
            throw DecisionLogError(path: path, message: message)
        }
        sqlite3_busy_timeout(db, 2000)
        _ = emlab_guard_sqlite_no_checkpoint_on_close(db)
        if !readOnly {
            // A new file gets the schema; an existing one only its per-connection setting.
            if try !tableExists() { try exec(DecisionLog.schema) }
            try exec("PRAGMA synchronous=NORMAL")
        }
    }

    deinit { sqlite3_close(db) }

    func tableExists() throws(DecisionLogError) -> Bool {
        var found = false
        try query("SELECT 1 FROM sqlite_master WHERE type='table' AND name='decision'", []) { _ in found = true }
        return found
    }

    func exec(_ sql: String) throws(DecisionLogError) {
        var message: UnsafeMutablePointer<CChar>? = nil
        if sqlite3_exec(db, sql, nil, nil, &message) != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw DecisionLogError(path: path, message: text)
        }
    }

    enum Value { case text(String?), real(Double), int(Int64) }

    func bind(_ stmt: OpaquePointer?, _ values: [Value]) {
        for (i, v) in values.enumerated() {
            let index = Int32(i + 1)
            switch v {
            case .text(let s?): sqlite3_bind_text(stmt, index, s, -1, unsafeBitCast(emlab_guard_sqlite_transient(), to: sqlite3_destructor_type.self))
            case .text(nil): sqlite3_bind_null(stmt, index)
            case .real(let d): sqlite3_bind_double(stmt, index, d)
            case .int(let n): sqlite3_bind_int64(stmt, index, n)
            }
        }
    }

    func query(_ sql: String, _ values: [Value], row: (OpaquePointer?) -> Void) throws(DecisionLogError) {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK else {
            throw DecisionLogError(path: path, message: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(stmt) }
        bind(stmt, values)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_ROW { row(stmt); continue }
            if rc == SQLITE_DONE { return }
            throw DecisionLogError(path: path, message: String(cString: sqlite3_errmsg(db)))
        }
    }

    static func truncated(_ s: String, _ limit: Int) -> String {
        s.utf8.count <= limit ? s : String(decoding: s.utf8.prefix(limit), as: UTF8.self) + "…"
    }

    /// Appends one decision.
    public func record(_ action: GuardAction, _ d: GuardDecision, interface: String, time: Double = Date().timeIntervalSince1970) throws(DecisionLogError) {
        var input = action.input
        if case .object(var o) = input {
            for (k, v) in o { if let s = v.string, s.utf8.count > 2000 { o[k] = .string(DecisionLog.truncated(s, 2000)) } }
            input = .object(o)
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let findings = (try? e.encode(d.findings)).map { String(decoding: $0, as: UTF8.self) }
        try query("""
            INSERT INTO decision (time, interface, session, tool, action, input, cwd, decision, source, rule, reason, findings, tags,
                                  monitor_model, monitor_verdict, monitor_reasoning, latency_us)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.real(time), .text(interface), .text(action.session), .text(action.tool), .text(DecisionLog.truncated(action.summary, 4000)),
                  .text(DecisionLog.truncated(input.jsonText, 16000)), .text(action.cwd), .text(d.decision.rawValue), .text(d.source), .text(d.rule),
                  .text(d.reason), .text(findings), .text(d.tags.joined(separator: ",")), .text(d.monitor?.model), .text(d.monitor?.verdict?.rawValue),
                  .text(d.monitor.map { $0.error.map { "error: \($0)" } ?? $0.reasoning }), .int(Int64(d.latencyMicros))]) { _ in }
    }

    public func earlierSecretRead(session: String) -> String? {
        var found: String? = nil
        try? query("SELECT action FROM decision WHERE session = ? AND (',' || tags || ',') LIKE '%,secret-read,%' ORDER BY id LIMIT 1",
                   [.text(session)]) { stmt in
            found = sqlite3_column_text(stmt, 0).map { String(cString: $0) }
        }
        return found
    }

    /// Logged decisions, oldest first (`since`: seconds since 1970).
    public func entries(since: Double? = nil, limit: Int = 1_000_000) throws(DecisionLogError) -> [LogEntry] {
        var out: [LogEntry] = []
        func text(_ stmt: OpaquePointer?, _ i: Int32) -> String? { sqlite3_column_text(stmt, i).map { String(cString: $0) } }
        try query("""
            SELECT id, time, interface, session, tool, action, cwd, decision, source, rule, reason, tags, monitor_model, monitor_verdict,
                   monitor_reasoning, latency_us FROM decision WHERE time >= ? ORDER BY id LIMIT ?
            """, [.real(since ?? 0), .int(Int64(limit))]) { stmt in
            out.append(LogEntry(id: sqlite3_column_int64(stmt, 0), time: sqlite3_column_double(stmt, 1), interface: text(stmt, 2) ?? "",
                                session: text(stmt, 3), tool: text(stmt, 4) ?? "", action: text(stmt, 5) ?? "", cwd: text(stmt, 6),
                                decision: text(stmt, 7) ?? "", source: text(stmt, 8) ?? "", rule: text(stmt, 9), reason: text(stmt, 10) ?? "",
                                tags: text(stmt, 11) ?? "", monitorModel: text(stmt, 12), monitorVerdict: text(stmt, 13),
                                monitorReasoning: text(stmt, 14), latencyMicros: Int(sqlite3_column_int64(stmt, 15))))
        }
        return out
    }
}
