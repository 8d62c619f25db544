/// What any results database refuses: a run that exists or is missing, a resume that would change
/// what a run is, and the database's own failures (`database`, wrapping the underlying error).
public enum StoreError: Error, CustomStringConvertible {
    case database(path: String, any Error)
    case noDatabase(path: String)
    case runExists(name: String, status: String)
    case noSuchRun(name: String, available: [String])
    case runMismatch(name: String, field: String, stored: String, requested: String)
    /// `--resume` of a run that is not in the results folder (a typo, or the wrong `--out`).
    case nothingToResume(name: String, folder: String, available: [String])

    public var description: String {
        switch self {
        case .database(let path, let e): return "results database \(path): \(e)"
        case .noDatabase(let path): return "no results database at \(path) (run `emlab eval --out` first)"
        case .runExists(let name, let status):
            return "run '\(name)' already exists (\(status)); pass --resume to continue it or choose another --run name"
        case .noSuchRun(let name, let available):
            return "no run named '\(name)'" + (available.isEmpty ? " (the folder has no runs)" : "; runs: \(available.joined(separator: ", "))")
        case .runMismatch(let name, let field, let stored, let requested):
            return "run '\(name)' was started with \(field) = \(stored); --resume cannot change it to \(requested)"
        case .nothingToResume(let name, let folder, let available):
            return "no run '\(name)' to resume in \(folder); "
                + (available.isEmpty ? "the folder has no runs" : "runs there: \(available.joined(separator: ", "))")
        }
    }
}
