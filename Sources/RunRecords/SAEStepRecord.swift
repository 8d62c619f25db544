import Foundation

/// One step of an SAE training run (`emlab sae train`; the run is a `run` row of kind `sae` whose
/// parameters hold the settings). Held-out figures are filled at evaluation steps. A step redone
/// after a resume replaces the row it had.
public struct SAEStepRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var runId: Int64
    public var step: Int
    public var fvu: Double
    public var l0: Double
    public var deadFraction: Double
    public var auxiliaryLoss: Double
    public var heldOutFVU: Double?
    public var heldOutL0: Double?
    public var vectorsPerSecond: Double
    public var createdAt: Date

    public init(runId: Int64, step: Int, fvu: Double, l0: Double, deadFraction: Double, auxiliaryLoss: Double,
                heldOutFVU: Double?, heldOutL0: Double?, vectorsPerSecond: Double) {
        self.runId = runId
        self.step = step
        self.fvu = fvu
        self.l0 = l0
        self.deadFraction = deadFraction
        self.auxiliaryLoss = auxiliaryLoss
        self.heldOutFVU = heldOutFVU
        self.heldOutL0 = heldOutL0
        self.vectorsPerSecond = vectorsPerSecond
        self.createdAt = Date()
    }
}
