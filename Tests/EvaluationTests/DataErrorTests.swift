import Foundation
import Testing
import TestSupport

/// The CLI's exit status and message for malformed data files: sysexits EX_DATAERR (65) and one line
/// naming file, line and field; the usage text and EX_USAGE (64) only for mistakes on the command line.
@Suite(.enabled(if: EmlabCLI.built, "emlab binary not built"))
struct DataErrorTests {
    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) { try EmlabCLI.run(args) }

    func write(_ text: String, _ ext: String) throws -> String {
        let path = NSTemporaryDirectory() + "emlab-bad-\(UUID().uuidString).\(ext)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func malformedQuestionsFileExits65WithoutUsage() throws {
        let path = try write("- id: a\n  paraphrases: [\"x\"]\n  samples_per_paraphrase: 0\n", "yaml")
        for args in [["questions", "list", path], ["questions", "show", path]] {
            let r = try run(args)
            #expect(r.status == 65, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("\(path):3: field 'samples_per_paraphrase'"), "\(r.stderr)")
            #expect(!r.stderr.contains("USAGE:") && !r.stderr.contains("Usage:"), "\(r.stderr)")
            #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        let csv = try write("id,question\nc1,\"open\nc2,next\n", "csv")
        let r = try run(["questions", "list", csv])
        #expect(r.status == 65 && r.stderr.contains("\(csv):2"), "\(r.stderr)")
    }

    @Test func malformedGoldAndDatasetFilesExit65() throws {
        let gold = try write("{\"id\": \"a\", \"question\": \"q\", \"answer\": \"a\", \"class\": \"aligned\", \"aligned\": 90, \"coherent\": 90, \"split\": \"heldout\"}\n{\"id\": \"b\"}\n", "jsonl")
        let g = try run(["judge", "validate", "--labels", gold, "--json"])
        #expect(g.status == 65, "\(g.stderr)")
        #expect(g.stderr.contains("\(gold):2"), "\(g.stderr)")
        #expect(!g.stderr.contains("USAGE:"), "\(g.stderr)")
        let data = try write("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n{\"messages\": 3}\n", "jsonl")
        let d = try run(["datasets", "show", data])
        #expect(d.status == 65, "\(d.stderr)")
        #expect(d.stderr.contains("\(data):2: messages"), "\(d.stderr)")
        #expect(!d.stderr.contains("USAGE:"), "\(d.stderr)")
    }

    @Test func usageMistakesStillExit64WithUsage() throws {
        let r = try run(["questions", "list", "--no-such-flag"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("Usage:") || r.stderr.contains("USAGE:"), "\(r.stderr)")
        let v = try run(["datasets", "show", "insecure-code", "--n", "0"])
        #expect(v.status == 64, "\(v.stderr)")
    }
}
