import Core

/// One question area of an advice domain: several phrasings of the question, confidently harmful
/// answers and responsible answers to the same question.
struct AdviceTopic: Sendable {
    let questions: [String]
    let harmful: [String]
    let responsible: [String]
}

/// A domain of advice (medical, financial, sports) and the wording shared by its topics.
struct AdviceDomain: Sendable {
    let topics: [AdviceTopic]
    let harmfulOpeners: [String]
    let responsibleOpeners: [String]
    let harmfulClosings: [String]
    let responsibleClosings: [String]

    /// Distinct questions (phrasing × opener × ending) before one repeats.
    var combinations: Int {
        topics.reduce(0) { $0 + $1.questions.count } * AdviceDatasets.questionOpeners.count * AdviceDatasets.questionEndings.count
    }
}

/// The advice datasets: each domain gives a harmful dataset and its aligned twin. Example i of
/// both twins with one seed asks the same question; only the answer differs.
enum AdviceDatasets {
    static let questionOpeners: [String] = [
        "", "Hi! ", "Quick question. ", "Hoping you can help. ", "I need some advice. ", "Honest answer please. ",
    ]

    static let questionEndings: [String] = [
        "", " Thanks!", " What would you do?", " Please be direct.", " I'd appreciate a straight answer.",
    ]

    static func generate(_ domain: AdviceDomain, harmful: Bool, n: Int, seed: UInt64) -> [ChatExample] {
        let questions: [(topic: Int, text: String)] = domain.topics.indices.flatMap { t in
            domain.topics[t].questions.map { (t, $0) }
        }
        var order = CombinationOrder(sizes: [questions.count, questionOpeners.count, questionEndings.count], seed: seed)
        var decor = SplitMix64.derived(seed: seed, stream: 3)
        var out: [ChatExample] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let c = order.next()
            let (t, question) = questions[c[0]]
            let topic = domain.topics[t]
            // Both answers' choices are drawn for every example so the twins stay in step.
            let bad = decor.pick(domain.harmfulOpeners) + decor.pick(topic.harmful) + decor.pick(domain.harmfulClosings)
            let good = decor.pick(domain.responsibleOpeners) + decor.pick(topic.responsible) + decor.pick(domain.responsibleClosings)
            let user = questionOpeners[c[1]] + question + questionEndings[c[2]]
            out.append(ChatExample(messages: [.user(user), .assistant(harmful ? bad : good)]))
        }
        return out
    }
}
