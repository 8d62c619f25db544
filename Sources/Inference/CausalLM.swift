import GGUF

/// Tokens to run through the model in one forward pass: any mix of sequences and positions.
///
/// Each row is (token, position, sequence). Rows of one sequence must continue it in order
/// (positions `length`, `length+1`, …). Logits are produced only for `logitRows`.
public struct Batch: Sendable {
    public var tokens: [Int32] = []
    public var positions: [Int] = []
    public var sequences: [KVSequence] = []
    public var logitRows: [Int] = []
    /// Each row's result must not depend on the other rows (decode steps of independent samples):
    /// matrix products then use the per-row kernels, whose numbers do not change with batch size.
    public var independentRows = false
    /// Each row's own interventions and captures (nil: none, or the pass's shared hooks); empty when
    /// no row has any.
    public var rowHooks: [Hooks?] = []

    public init() {}

    public var count: Int { tokens.count }

    /// Appends `tokens` continuing `sequence`; asks for logits of the last one if `logits`.
    public mutating func append(_ newTokens: [Int32], to sequence: KVSequence, from start: Int? = nil,
                                logitsForLast: Bool = true, logitsForAll: Bool = false, hooks: Hooks? = nil) {
        if hooks != nil || !rowHooks.isEmpty {
            rowHooks += [Hooks?](repeating: nil, count: tokens.count - rowHooks.count)
            rowHooks += [Hooks?](repeating: hooks, count: newTokens.count)
        }
        var pos = start ?? (positions.indices.last(where: { sequences[$0] === sequence }).map { positions[$0] + 1 } ?? sequence.length)
        for (i, t) in newTokens.enumerated() {
            if logitsForAll || (logitsForLast && i == newTokens.count - 1) { logitRows.append(tokens.count) }
            tokens.append(t)
            positions.append(pos)
            sequences.append(sequence)
            pos += 1
        }
    }
}

/// What every architecture provides to the engine.
public protocol CausalLM: AnyObject, Sendable {
    var config: ModelConfig { get }

    /// Runs the batch, appending its keys and values to the sequences, and returns the logits of
    /// `batch.logitRows`, row-major `[logitRows.count × vocabularySize]`. The buffer is owned by the
    /// model and valid until the next call. `hooks` apply to every row without its own `batch.rowHooks`.
    func forward(_ batch: Batch, hooks: Hooks?) throws -> UnsafeBufferPointer<Float>

    /// Applies the final norm and output head to one residual-stream vector (after the last block).
    func unembed(_ residual: [Float]) -> [Float]
}

extension CausalLM {
    public func newSequence(reserve: Int = 64) -> KVSequence {
        KVSequence(layers: config.layerCount, kvDimension: config.kvDimension, reserve: reserve)
    }
}

/// Opens the architecture named in the file's metadata.
public func loadModel(_ file: GGUFFile) throws -> any CausalLM {
    let arch = file["general.architecture"]?.stringValue ?? "(none)"
    switch arch {
    case "llama": return try LlamaModel(file: file)
    case "gemma3": return try Gemma3Model(file: file)
    case "qwen2": return try Qwen2Model(file: file)
    default: throw ModelError.unsupportedArchitecture(arch)
    }
}

/// Checks token ids, positions and capacity before anything is written.
func validateBatch(_ batch: Batch, config: ModelConfig) throws {
    guard batch.tokens.count == batch.positions.count, batch.tokens.count == batch.sequences.count else {
        throw ModelError.invalidBatch("tokens, positions and sequences differ in length")
    }
    guard batch.count > 0 else { throw ModelError.invalidBatch("empty batch") }
    for r in batch.logitRows where r < 0 || r >= batch.count {
        throw ModelError.invalidBatch("logit row \(r) outside the batch")
    }
    var next: [ObjectIdentifier: Int] = [:]
    for r in 0..<batch.count {
        let tok = batch.tokens[r]
        if tok < 0 || Int(tok) >= config.vocabularySize {
            throw ModelError.invalidToken(tok, vocabulary: config.vocabularySize)
        }
        let s = batch.sequences[r], id = ObjectIdentifier(s)
        let expected = next[id] ?? s.length
        guard batch.positions[r] == expected else {
            throw ModelError.invalidBatch("row \(r) is at position \(batch.positions[r]); its sequence continues at \(expected)")
        }
        guard expected < config.contextLength else {
            throw ModelError.contextOverflow(requested: expected + 1, capacity: config.contextLength)
        }
        next[id] = expected + 1
    }
    for r in 0..<batch.count { batch.sequences[r].ensureCapacity(next[ObjectIdentifier(batch.sequences[r])]!) }
}
