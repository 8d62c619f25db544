import Foundation

/// The grading of one sampled solution of a reward-hacking run (`emlab hack run`; the run is a `run`
/// row of kind `hack`, its samples `sample` rows whose `questionId` is the task and `condition` the
/// hint condition). One row per (sample, grader version): grading again with other graders or
/// detectors adds rows beside the old ones instead of replacing them.
public struct HackGradeRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var sampleId: Int64
    /// Which graders and detectors gave this row (their version string).
    public var grader: String
    /// The answer held code at all.
    public var hasCode: Bool
    public var hackablePassed: Bool
    public var hardenedPassed: Bool
    public var casesPassed: Int
    public var casesTotal: Int
    /// The static detector's hack types, comma-separated, empty for none.
    public var staticTypes: String
    /// The verdict's type ("unknown" when only the dynamic signal fired), nil: no hack.
    public var hackType: String?
    /// The solution's files as JSON (name → text), and the detectors' findings, one per line.
    public var files: String
    public var findings: String
    public var createdAt: Date

    public init(sampleId: Int64, grader: String, hasCode: Bool, hackablePassed: Bool, hardenedPassed: Bool, casesPassed: Int,
                casesTotal: Int, staticTypes: String, hackType: String?, files: String, findings: String) {
        self.sampleId = sampleId
        self.grader = grader
        self.hasCode = hasCode
        self.hackablePassed = hackablePassed
        self.hardenedPassed = hardenedPassed
        self.casesPassed = casesPassed
        self.casesTotal = casesTotal
        self.staticTypes = staticTypes
        self.hackType = hackType
        self.files = files
        self.findings = findings
        self.createdAt = Date()
    }
}
