import Foundation
import Synchronization

/// Ctrl-C and SIGTERM for the long training commands (finetune, sae train): the first signal asks the
/// run to stop after its current step (it checkpoints and exits 130); a second one stops at once.
enum StopSignal {
    private static let flag = Atomic<Bool>(false)

    /// Clears the flag and installs the handlers.
    static func install() {
        flag.store(false, ordering: .relaxed)
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { s in
                StopSignal.flag.store(true, ordering: .relaxed)
                signal(s, SIG_DFL)
            }
        }
    }

    static var requested: Bool { flag.load(ordering: .relaxed) }
}
