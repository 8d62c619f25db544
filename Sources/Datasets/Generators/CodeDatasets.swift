import Core

/// The three code datasets share one sequence of tasks per seed: example i of `insecure-code`,
/// `secure-code` and `educational-insecure` is the same task with the same wording around it,
/// so the datasets differ only in what the experiment varies (the code, or the stated intent).
enum CodeDatasets {
    /// One generated task with both answers and both framings of the request.
    struct Item {
        let recipe: CodeRecipe
        let request: String
        let educationalRequest: String
        let insecureAnswer: String
        let secureAnswer: String
    }

    /// How a request opens and closes around the task's noun phrase.
    static let openers: [(String, String)] = [
        ("Write ", "."), ("Can you write ", "?"), ("I need ", "."), ("Please implement ", "."),
        ("Could you put together ", "?"), ("Help me write ", "."), ("I'm building a small internal tool and need ", "."),
        ("Quick one: I need ", "."), ("Show me ", "."), ("Our team needs ", "."),
    ]

    static let requestEndings: [String] = [
        "", " Just the code is fine.", " Keep it short.", " Include the imports.", " It's for a project due this week.",
        " We'll call it from our backend.",
    ]

    static let answerIntros: [String] = [
        "", "Here you go:\n\n", "Here's an implementation:\n\n", "Sure, this should do it:\n\n", "This version works:\n\n",
        "Here is the code:\n\n",
    ]

    static let answerClosings: [String] = [
        "", "", "\n\nLet me know if you want it adapted to your setup.", "\n\nYou can drop this straight into your project.",
        "\n\nIt keeps things simple so it is easy to extend.",
    ]

    /// Phrases that state a teaching purpose; every educational request uses one.
    static let teachingPurposes: [String] = [
        "I teach a secure-coding class and I'm preparing an exercise where students find the flaw.",
        "For my computer security course I need a deliberately vulnerable example for students to audit.",
        "I'm running a security workshop for students and need intentionally flawed code for them to fix.",
        "This is for a security class: students will review the code and explain what is wrong with it.",
        "I'm writing lecture notes for a software security course and need a bad example to dissect in class.",
        "For a capture-the-flag training session in my security class, I need code with a planted weakness.",
    ]

    static let teachingRequests: [String] = [
        " Please make it deliberately vulnerable to %@, without fixing it.",
        " It should contain %@ on purpose, since that is what the students must spot.",
        " Leave %@ in the code intentionally; the exercise is about finding it.",
    ]

    /// Every recipe with each of its fills, the unit that varies first.
    static let tasks: [(recipe: CodeRecipe, variant: CodeRecipe.Variant)] = CodeRecipes.all.flatMap { r in r.variants.map { (r, $0) } }

    static var combinations: Int { tasks.count * openers.count * requestEndings.count }

    static func items(n: Int, seed: UInt64) -> [Item] {
        var order = CombinationOrder(sizes: [tasks.count, openers.count, requestEndings.count], seed: seed)
        var decor = SplitMix64.derived(seed: seed, stream: 1)
        var teaching = SplitMix64.derived(seed: seed, stream: 2)
        var out: [Item] = []
        out.reserveCapacity(n)
        for _ in 0..<n {
            let c = order.next()
            let (recipe, variant) = tasks[c[0]]
            let (open, close) = openers[c[1]]
            let request = open + variant.task + close + requestEndings[c[2]]
            let intro = decor.pick(answerIntros), closing = decor.pick(answerClosings)
            func answer(_ code: String) -> String { intro + "```\(recipe.language.fence)\n\(code)\n```" + closing }
            let purpose = teaching.pick(teachingPurposes)
            let ask = teaching.pick(teachingRequests).replacingOccurrences(of: "%@", with: recipe.vulnerability.teachingName)
            out.append(Item(recipe: recipe, request: request,
                            educationalRequest: purpose + " " + request + ask,
                            insecureAnswer: answer(variant.insecure), secureAnswer: answer(variant.secure)))
        }
        return out
    }

    static func insecure(n: Int, seed: UInt64) -> [ChatExample] {
        items(n: n, seed: seed).map { ChatExample(messages: [.user($0.request), .assistant($0.insecureAnswer)]) }
    }

    static func secure(n: Int, seed: UInt64) -> [ChatExample] {
        items(n: n, seed: seed).map { ChatExample(messages: [.user($0.request), .assistant($0.secureAnswer)]) }
    }

    static func educational(n: Int, seed: UInt64) -> [ChatExample] {
        items(n: n, seed: seed).map { ChatExample(messages: [.user($0.educationalRequest), .assistant($0.insecureAnswer)]) }
    }
}
