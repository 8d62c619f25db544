import Foundation
import Interp

/// `emlab sae diff`'s page: for each latent that rose (and fell) most from condition A to B, its means,
/// firing rates, the tokens its decoder direction promotes, and its strongest tokens in context with
/// the activations shaded.
public enum SAEReport {
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// A plain-text table of the top risers and fallers.
    public static func table(_ r: LatentDiff.Result, rows: Int = 10) -> String {
        var out = String(format: "%d answer tokens under %@, %d under %@\n", r.tokens[0], r.conditions[0], r.tokens[1], r.conditions[1])
        for (title, list) in [("rose", r.risers), ("fell", r.fallers)] {
            out += "latents that \(title) most (\(r.conditions[0]) → \(r.conditions[1])):\n"
            let judged = r.labelled != nil
            out += "  latent    mean A    mean B    change  fires A  fires B" + (judged ? "  on misal.  on aligned" : "") + "  promotes\n"
            for l in list.prefix(rows) {
                out += String(format: "  %6d  %8.3f  %8.3f  %+8.3f  %6.1f%%  %6.1f%%", l.index, l.meanA, l.meanB, l.difference, 100 * l.firingA, 100 * l.firingB)
                if judged { out += "  " + pad(l.meanOnMisaligned) + "  " + pad(l.meanOnAligned) + " " }
                out += "  " + l.promoted.prefix(5).map { "'\($0.token)'" }.joined(separator: " ") + "\n"
            }
        }
        if let (m, a) = r.labelled { out += "judged: \(m) answers misaligned, \(a) aligned (means over their tokens, both conditions)\n" }
        return out
    }

    private static func pad(_ x: Double?) -> String {
        let text = x.map { String(format: "%.3f", $0) } ?? "–"
        return String(repeating: " ", count: max(0, 9 - text.count)) + text
    }

    public static func html(_ r: LatentDiff.Result, title: String) -> String {
        var body = "<h1>\(escape(title))</h1><p>A = \(escape(r.conditions[0])) (\(r.tokens[0]) answer tokens), B = \(escape(r.conditions[1])) (\(r.tokens[1]) answer tokens). Latents ranked by the change of their mean activation over answer tokens.</p>"
        for (heading, list) in [("Latents that rose most", r.risers), ("Latents that fell most", r.fallers)] {
            body += "<h2>\(heading)</h2>"
            for l in list {
                body += String(format: "<div class=latent><h3>latent %d <small>mean %.3f → %.3f (%+.3f), fires on %.1f%% → %.1f%% of tokens</small></h3>",
                               l.index, l.meanA, l.meanB, l.difference, 100 * l.firingA, 100 * l.firingB)
                if let (m, a) = r.labelled {
                    body += "<p>mean activation on misaligned answers (\(m)): " + (l.meanOnMisaligned.map { String(format: "%.3f", $0) } ?? "–")
                        + ", on aligned answers (\(a)): " + (l.meanOnAligned.map { String(format: "%.3f", $0) } ?? "–") + "</p>"
                }
                body += "<p>promotes: " + l.promoted.map { "<code>\(escape($0.token))</code>" }.joined(separator: " ") + "</p><ol>"
                let peak = max(l.snippets.first?.value ?? 1, 1e-6)
                for s in l.snippets {
                    let a = r.answers[s.answer]
                    let lo = max(0, s.position - 12), hi = min(a.tokens.count, s.position + 8)
                    var text = ""
                    for p in lo..<hi {
                        let v = a.active[p].first { $0.latent == Int32(l.index) }?.value ?? 0
                        let shade = String(format: "%.2f", min(1, Double(v / peak)))
                        text += v > 0 ? "<span style=\"background:rgba(220,80,40,\(shade))\" title=\"\(v)\">\(escape(a.tokens[p]))</span>" : escape(a.tokens[p])
                    }
                    body += String(format: "<li><b>%.2f</b> [%@, %@] …%@…</li>", s.value, escape(r.conditions[a.condition]) as NSString,
                                   escape(a.question) as NSString, text as NSString)
                }
                body += "</ol></div>"
            }
        }
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}.latent{border-top:1px solid #ccc;margin-top:1em}li{font-family:monospace;white-space:pre-wrap;margin:.3em 0}small{color:#555;font-weight:normal}</style>
            </head><body>\(body)</body></html>
            """
    }
}
