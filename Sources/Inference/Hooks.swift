import Core

/// Reads and edits activations during a forward pass: the interventions and captures of one
/// request (or of a whole batch, when passed to `forward` for every row).
///
/// At each point edits apply in this order: directions are projected out (ablation), replacements
/// are applied (e.g. an SAE's reconstruction), scaled vectors are added (steering), then the result
/// is captured. Positions before `promptLength` are
/// the prompt's, later ones the answer's; spans and poolings are decided by a row's position.
/// Without a prompt length every position counts as the prompt's, so only spans `.all`/`.prompt`
/// and `.everyPosition` captures may be used.
public final class Hooks: @unchecked Sendable {
    struct Edit {
        var ablate: [(unit: [Float], span: InterventionSpan)] = []
        var replace: [(map: any ActivationFunction, span: InterventionSpan)] = []
        var addPrompt: [Float]? = nil       // summed over the adds that cover prompt positions, scaled
        var addAnswer: [Float]? = nil       // the same for answer positions
        var poolings: [Pooling] = []
    }

    public private(set) var interventions: [Intervention] = []
    public private(set) var captures: [ActivationCapture] = []
    /// Positions before it are the prompt's.
    public var promptLength: Int?
    private(set) var edits: [HookPoint: Edit] = [:]
    /// Every-position captures: one `[Float]` of the model's width per processed token, in the order
    /// the engine processed them.
    public private(set) var captured: [HookPoint: [[Float]]] = [:]
    private var answerSums: [HookPoint: (sum: [Double], count: Int)] = [:]
    private var lastPrompt: [HookPoint: [Float]] = [:]

    /// The forward pass stops after this layer and returns no logits (nil: every layer and the head).
    /// Only for teacher-forced captures: the sequence is left without the deeper layers' keys and values.
    public var lastLayer: Int?

    public init(promptLength: Int? = nil) { self.promptLength = promptLength }

    /// The hooks of a request: its interventions and captures, prompt positions before `promptLength`.
    public convenience init(interventions: [Intervention], captures: [ActivationCapture], promptLength: Int?) {
        self.init(promptLength: promptLength)
        for i in interventions { apply(i) }
        for c in captures { capture(c) }
    }

    public var isEmpty: Bool { edits.isEmpty }

    /// Records every token's vector at `point` (`.everyPosition`).
    public func capture(_ point: HookPoint) { capture(ActivationCapture(point, pooling: .everyPosition)) }

    public func capture(_ c: ActivationCapture) {
        guard !captures.contains(c) else { return }
        captures.append(c)
        edits[c.point, default: Edit()].poolings.append(c.pooling)
    }

    /// Adds `scale · vector` to every token's vector at `point` (steering).
    public func add(_ vector: [Float], scale: Float = 1, at point: HookPoint) {
        apply(.add(vector, coefficient: scale, at: point))
    }

    /// Removes the component along `direction` from every token's vector at `point` (ablation).
    public func projectOut(_ direction: [Float], at point: HookPoint) {
        apply(.projectOut(direction, at: point))
    }

    /// Registers an intervention. A zero direction projects nothing out.
    public func apply(_ intervention: Intervention) {
        interventions.append(intervention)
        var e = edits[intervention.point, default: Edit()]
        switch intervention.operation {
        case .add(let vector, let coefficient):
            let scaled = vector.map { $0 * coefficient }
            func sum(_ existing: [Float]?) -> [Float] { existing.map { zip($0, scaled).map { $0 + $1 } } ?? scaled }
            if intervention.span.covers(prompt: true) { e.addPrompt = sum(e.addPrompt) }
            if intervention.span.covers(prompt: false) { e.addAnswer = sum(e.addAnswer) }
        case .projectOut(let direction):
            let norm = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { e.ablate.append((direction.map { $0 / norm }, intervention.span)) }
        case .replace(let map):
            e.replace.append((map.function, intervention.span))
        }
        edits[intervention.point] = e
    }

    public func removeAll() {
        interventions.removeAll()
        captures.removeAll()
        edits.removeAll()
        clearCaptured()
    }

    public func clearCaptured() {
        captured.removeAll()
        answerSums.removeAll()
        lastPrompt.removeAll()
    }

    /// A copy with the same interventions, captures and what was captured so far (a prompt's hooks
    /// forked into each of its samples).
    public func copy() -> Hooks {
        let h = Hooks(promptLength: promptLength)
        h.interventions = interventions
        h.captures = captures
        h.edits = edits
        h.captured = captured
        h.answerSums = answerSums
        h.lastPrompt = lastPrompt
        return h
    }

    /// The interventions that change the keys and values of a sequence's first `length` positions:
    /// the prefix cache's key beside the tokens (those over prompt positions, and all of them when
    /// the sequence runs past the prompt).
    public func variant(forLength length: Int) -> [Intervention] {
        if let p = promptLength, length > p { return interventions }
        return interventions.filter { $0.span != .answer }
    }

    /// The first position whose activations a capture needs (nil: none). Positions from here on must
    /// be computed, not served from a cache.
    public var firstCapturedPosition: Int? {
        captures.map { c -> Int in
            switch c.pooling {
            case .everyPosition: return 0
            case .lastPromptToken: return max((promptLength ?? 1) - 1, 0)
            case .answerMean: return promptLength ?? 0
            }
        }.min()
    }

    /// What `c` recorded.
    public func activations(_ c: ActivationCapture) -> [[Float]] {
        switch c.pooling {
        case .everyPosition: return captured[c.point] ?? []
        case .lastPromptToken: return lastPrompt[c.point].map { [$0] } ?? []
        case .answerMean:
            guard let s = answerSums[c.point], s.count > 0 else { return [] }
            return [s.sum.map { Float($0 / Double(s.count)) }]
        }
    }

    /// Everything captured, in the order the captures were asked for.
    public var recorded: [CapturedActivations] { captures.map { CapturedActivations(capture: $0, vectors: activations($0)) } }

    /// Checks vector widths and layers against the model, and that spans and poolings have a prompt length.
    func validate(width: Int, layers: Int) throws {
        for i in interventions {
            if i.point.layer >= layers { throw ModelError.hookLayerOutOfRange(point: i.point.description, layers: layers) }
            if i.width != width {
                throw ModelError.invalidHookVector(point: i.point.description, expected: width, found: i.width)
            }
            if i.span != .all && promptLength == nil {
                throw ModelError.invalidHook("intervention at \(i.point) over the \(i.span.rawValue) positions needs the prompt length")
            }
        }
        for c in captures {
            if c.point.layer >= layers { throw ModelError.hookLayerOutOfRange(point: c.point.description, layers: layers) }
            if c.pooling != .everyPosition && promptLength == nil {
                throw ModelError.invalidHook("capture \(c) needs the prompt length")
            }
        }
    }

    /// Applies the edits registered at `point` to one row of `width` floats at `position`.
    func apply(_ point: HookPoint, row v: UnsafeMutablePointer<Float>, position: Int, width: Int) {
        guard let e = edits[point] else { return }
        let inPrompt = promptLength.map { position < $0 } ?? true
        for (unit, span) in e.ablate where span.covers(prompt: inPrompt) {
            unit.withUnsafeBufferPointer { u in
                var dot: Float = 0
                for i in 0..<width { dot += v[i] * u[i] }
                for i in 0..<width { v[i] -= dot * u[i] }
            }
        }
        for (map, span) in e.replace where span.covers(prompt: inPrompt) { map.apply(v) }
        if let a = inPrompt ? e.addPrompt : e.addAnswer {
            a.withUnsafeBufferPointer { s in for i in 0..<width { v[i] += s[i] } }
        }
        for pooling in e.poolings {
            switch pooling {
            case .everyPosition:
                captured[point, default: []].append(Array(UnsafeBufferPointer(start: v, count: width)))
            case .lastPromptToken:
                if let p = promptLength, position == p - 1 { lastPrompt[point] = Array(UnsafeBufferPointer(start: v, count: width)) }
            case .answerMean:
                guard !inPrompt else { continue }
                var s = answerSums.removeValue(forKey: point) ?? ([Double](repeating: 0, count: width), 0)
                for i in 0..<width { s.sum[i] += Double(v[i]) }
                s.count += 1
                answerSums[point] = s
            }
        }
    }
}

/// The hooks of each row of one forward pass: a row's own (`Batch.rowHooks`) or the pass's shared ones.
/// Models call `apply` at each hook point; rows without hooks are left alone.
struct RowHooks {
    private let hooks: [Hooks]          // distinct objects
    private let rowIndex: [Int]         // per row: index into `hooks`, or -1
    private let positions: [Int]

    /// nil when no row has anything to do; throws when any row's hooks do not fit the model.
    init?(_ batch: Batch, shared: Hooks?, width: Int, layers: Int) throws {
        var hooks: [Hooks] = [], index = [Int](repeating: -1, count: batch.count)
        var seen: [ObjectIdentifier: Int] = [:]
        for r in 0..<batch.count {
            guard let h = (r < batch.rowHooks.count ? batch.rowHooks[r] : nil) ?? shared, !h.isEmpty else { continue }
            if let i = seen[ObjectIdentifier(h)] { index[r] = i; continue }
            try h.validate(width: width, layers: layers)
            seen[ObjectIdentifier(h)] = hooks.count
            index[r] = hooks.count
            hooks.append(h)
        }
        guard !hooks.isEmpty else { return nil }
        self.hooks = hooks
        self.rowIndex = index
        self.positions = batch.positions
    }

    /// Applies each row's edits at `point` to `rows` vectors of `width` floats (row r is batch row r).
    func apply(_ point: HookPoint, _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows where rowIndex[r] >= 0 {
            hooks[rowIndex[r]].apply(point, row: x + r * width, position: positions[r], width: width)
        }
    }
}
