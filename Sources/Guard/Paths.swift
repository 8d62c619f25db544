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

/// Paths as the guard sees them: absolute, with `.` and `..` taken out and symbolic links followed
/// where they exist on this machine.
public enum Paths {
    /// `a/b/../c` → `a/c` (lexically); keeps a leading `/`.
    public static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !out.isEmpty { out.removeLast() }; continue }
            out.append(c)
        }
        return "/" + out.joined(separator: "/")
    }

    public static func join(_ base: String, _ path: String) -> String {
        path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base + path : base + "/" + path)
    }

    public static func parent(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/"), path != "/" else { return "/" }
        return i == path.startIndex ? "/" : String(path[..<i])
    }

    public static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? "/"
    }

    /// `inner` is `outer` or inside it.
    public static func contains(_ outer: String, _ inner: String) -> Bool {
        outer == "/" || inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }

    public static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The absolute path `path` (absolute, or relative to `cwd`) names, symbolic links followed in
    /// every component that exists; `followLast` false leaves the last component as it is (what `rm`
    /// removes is the link, not what it points to). A trailing `/` follows the last link too.
    public static func resolve(_ path: String, cwd: String, followLast: Bool = true) -> String {
        let absolute = join(cwd, path)
        let followFinal = followLast || path.hasSuffix("/")
        var resolved = "/"
        var pending = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var hops = 0
        var existing = true
        while !pending.isEmpty {
            let c = pending.removeFirst()
            if c == "." { continue }
            if c == ".." { resolved = parent(resolved); continue }
            let candidate = join(resolved, c)
            let isLast = pending.isEmpty
            if existing, !(isLast && !followFinal), hops < 40, isSymlink(candidate), let target = readLink(candidate) {
                hops += 1
                let parts = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
                if target.hasPrefix("/") { resolved = "/" }
                pending = parts + pending
                continue
            }
            if existing, !exists(candidate) { existing = false }
            resolved = candidate
        }
        return resolved
    }

    /// The user's home directory: `$HOME`, else the password database.
    public static func home(environment: [String: String]) -> String {
        if let h = environment["HOME"], h.hasPrefix("/") { return normalize(h) }
        if let pw = getpwuid(getuid()), let dir = pw.pointee.pw_dir { return String(cString: dir) }
        return "/"
    }

    /// `~user`'s home directory, if the user exists.
    public static func home(ofUser user: String) -> String? {
        guard let pw = getpwnam(user), let dir = pw.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }

    /// The nearest folder at or above `cwd` that holds `.git`; nil if none below the home folder or `/`.
    public static func gitRoot(from cwd: String, home: String) -> String? {
        var dir = normalize(cwd)
        while true {
            if exists(dir + "/.git") { return dir }
            if dir == "/" || dir == home { return nil }
            dir = parent(dir)
        }
    }

    /// Shell-style pattern match of one name (`*`, `?`, `[…]`).
    public static func fnmatch(_ pattern: String, _ name: String, caseInsensitive: Bool = false) -> Bool {
        let flags: Int32 = caseInsensitive ? 1 << 4 : 0  // FNM_CASEFOLD (a GNU extension Swift does not import)
        #if canImport(Glibc)
        return pattern.withCString { p in name.withCString { n in Glibc.fnmatch(p, n, flags) == 0 } }
        #else
        return pattern.withCString { p in name.withCString { n in Darwin.fnmatch(p, n, flags) == 0 } }
        #endif
    }

    /// A path pattern against an absolute path: `**` matches any number of components (none
    /// included), other components match one component each, as `fnmatch` does.
    public static func globMatch(_ pattern: String, _ path: String) -> Bool {
        let p = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let s = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == s.count }
            if p[i] == "**" {
                var k = j
                while k <= s.count {
                    if match(i + 1, k) { return true }
                    k += 1
                }
                return false
            }
            guard j < s.count, fnmatch(p[i], s[j]) else { return false }
            return match(i + 1, j + 1)
        }
        return match(0, 0)
    }

    /// The paths a glob pattern matches on this machine now (at most `limit`).
    public static func expandGlob(_ pattern: String, limit: Int = 256) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(pattern, 0, nil, &g) == 0 else { return [] }
        var out: [String] = []
        for i in 0..<min(Int(g.gl_pathc), limit) {
            if let p = g.gl_pathv[i] { out.append(String(cString: p)) }
        }
        return out
    }

    /// A Windows path (`C:\…`, `C:/…`, `\\server\share`, `%USERPROFILE%`).
    public static func isWindows(_ s: String) -> Bool {
        let c = Array(s.utf8)
        if c.count >= 2, (c[0] | 0x20) >= 0x61, (c[0] | 0x20) <= 0x7A, c[1] == UInt8(ascii: ":") {
            return c.count == 2 || c[2] == UInt8(ascii: "\\") || c[2] == UInt8(ascii: "/")
        }
        return s.hasPrefix("\\\\") || s.uppercased().hasPrefix("%USERPROFILE%") || s.uppercased().hasPrefix("%HOMEDRIVE%")
            || s.uppercased().hasPrefix("%SYSTEMROOT%") || s.hasPrefix("$env:")
    }
}

/// Where a path lies, for the rules: the places an agent must not delete or overwrite.
public struct PathContext: Sendable {
    public var home: String
    /// The workspace root; nil when it is `/`, the home folder or a system folder (then nothing counts as inside it).
    public var workspace: String?
    public var tempDirs: [String]
    public var systemDirs: [String]
    public var protectedFiles: [String]
    public var guardFiles: [String]

    public init(home: String, workspace: String?, policy: Policy, environment: [String: String]) {
        self.home = home
        func expand(_ p: String) -> String? {
            var s = p
            if s == "~" { s = home } else if s.hasPrefix("~/") { s = home + s.dropFirst(1) }
            if s.hasPrefix("$TMPDIR") {
                guard let t = environment["TMPDIR"], !t.isEmpty else { return nil }
                s = t + s.dropFirst("$TMPDIR".count)
            }
            if s.hasPrefix("$HOME") { s = home + s.dropFirst("$HOME".count) }
            if s.hasPrefix("$EMLAB_HOME") {
                s = (environment["EMLAB_HOME"] ?? home + "/.cache/emlab") + s.dropFirst("$EMLAB_HOME".count)
            }
            return s.hasPrefix("/") ? (s.contains("*") ? s : Paths.normalize(s)) : s
        }
        tempDirs = policy.tempDirs.compactMap(expand).map { Paths.resolve($0, cwd: "/") }
        systemDirs = policy.systemDirs.compactMap(expand)
        protectedFiles = policy.protectedFiles.compactMap(expand)
        guardFiles = policy.guardFiles.compactMap(expand)
        if let w = workspace {
            let n = Paths.normalize(w)
            let bad = n == "/" || Paths.contains(n, home) || systemDirs.contains { Paths.contains(n, $0) || n == $0 }
                || tempDirs.contains(n)
            self.workspace = bad ? nil : n
        } else {
            self.workspace = nil
        }
    }

    public enum Place: Equatable, Sendable {
        case root
        /// `/etc`, `/usr`, … or inside one.
        case system
        /// The home folder or a folder above it (`/home`).
        case homeOrAbove
        case workspaceRoot
        /// The workspace's `.git` folder or inside it.
        case workspaceGit
        case insideWorkspace
        /// Strictly inside a temporary folder.
        case temp
        /// A temporary folder itself (`/tmp`).
        case tempRoot
        /// A device file (`/dev/sda`, not `/dev/null`).
        case device
        /// A harmless special file (`/dev/null`, `/dev/stdout`, …).
        case harmlessDevice
        case outside
    }

    static let harmlessDevices: Set<String> = ["/dev/null", "/dev/zero", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty",
                                               "/dev/random", "/dev/urandom", "/dev/full"]

    public func place(_ path: String) -> Place {
        if path == "/" { return .root }
        if Self.harmlessDevices.contains(path) || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/fd/") || path.hasPrefix("/dev/pts/") { return .harmlessDevice }
        if path.hasPrefix("/dev/") { return .device }
        if let w = workspace {
            if path == w { return .workspaceRoot }
            if Paths.contains(w + "/.git", path) { return .workspaceGit }
            if Paths.contains(w, path) { return .insideWorkspace }
        }
        if Paths.contains(path, home) { return .homeOrAbove }
        let temp = tempDirs.first { Paths.contains($0, path) }
        if Paths.contains(home, path) {
            // Inside the home folder: temporary only under a temporary folder that is itself in it.
            if let t = temp, Paths.contains(home, t), t != home { return path == t ? .tempRoot : .temp }
            return .outside
        }
        if let t = temp { return path == t ? .tempRoot : .temp }
        for s in systemDirs {
            if s.contains("*") ? Paths.globMatch(s, path) : Paths.contains(s, path) { return .system }
        }
        return .outside
    }

    public func isProtected(_ path: String) -> Bool {
        protectedFiles.contains { Paths.globMatch($0, path) }
    }

    public func isGuardFile(_ path: String) -> Bool {
        guardFiles.contains { Paths.globMatch($0, path) || Paths.contains($0, path) }
    }
}
