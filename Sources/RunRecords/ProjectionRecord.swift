import Foundation

/// A sample's activation projected on a direction (`emlab monitor`), stored beside its judgments:
/// one per (sample, monitor), where `monitor` names the vector file, layer and position read.
public struct ProjectionRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var sampleId: Int64
    /// e.g. `misaligned.safetensors@15/answer-mean`; the same name always means the same reading.
    public var monitor: String
    /// The vector file's sha256 (a file rewritten under the same name is another monitor).
    public var vectorDigest: String
    public var value: Double
    public var createdAt: Date

    public init(sampleId: Int64, monitor: String, vectorDigest: String, value: Double) {
        self.sampleId = sampleId
        self.monitor = monitor
        self.vectorDigest = vectorDigest
        self.value = value
        self.createdAt = Date()
    }
}
