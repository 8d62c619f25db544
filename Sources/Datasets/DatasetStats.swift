import Core

/// Size figures of a dataset. Lengths are per example (all turns' contents together); token
/// figures count the contents' tokens (no chat-template markup) and are nil without a token counter
/// (e.g. `{ tokenizer.encode($0).count }`: the dataset layer does not depend on the model layer).
public struct DatasetStats: Sendable, Equatable {
    public var examples: Int
    public var turns: Int
    public var turnsByRole: [ChatMessage.Role: Int]
    public var characters: Int
    public var meanCharacters: Double
    public var maxCharacters: Int
    public var tokens: Int?
    public var meanTokens: Double?
    public var maxTokens: Int?

    public init(_ dataset: ChatDataset, tokenCount: ((String) -> Int)? = nil) {
        examples = dataset.examples.count
        var turns = 0, characters = 0, maxCharacters = 0
        var byRole: [ChatMessage.Role: Int] = [:]
        var tokens = 0, maxTokens = 0
        for e in dataset.examples {
            turns += e.messages.count
            for m in e.messages { byRole[m.role, default: 0] += 1 }
            let c = e.characterCount
            characters += c
            maxCharacters = max(maxCharacters, c)
            if let tokenCount {
                let t = e.messages.reduce(0) { $0 + tokenCount($1.content) }
                tokens += t
                maxTokens = max(maxTokens, t)
            }
        }
        self.turns = turns
        self.turnsByRole = byRole
        self.characters = characters
        self.maxCharacters = maxCharacters
        meanCharacters = examples > 0 ? Double(characters) / Double(examples) : 0
        if tokenCount != nil {
            self.tokens = tokens
            self.maxTokens = maxTokens
            meanTokens = examples > 0 ? Double(tokens) / Double(examples) : 0
        } else {
            self.tokens = nil
            self.maxTokens = nil
            meanTokens = nil
        }
    }
}
