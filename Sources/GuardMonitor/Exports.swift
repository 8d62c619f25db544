@_exported import Guard
import Foundation

/// The guard's data files: the default policy and the labelled actions (resources of this module).
public enum GuardResources {
    /// The default policy's path in the resource bundle.
    public static var defaultPolicyPath: String {
        Bundle.module.path(forResource: "default-policy", ofType: "yaml", inDirectory: "guard")
            ?? Bundle.module.bundlePath + "/" + GuardSetup.defaultPolicyName
    }

    /// The labelled actions `emlab guard validate` measures the guard on.
    public static var labelledActionsPath: String {
        Bundle.module.path(forResource: "labelled-actions", ofType: "jsonl", inDirectory: "guard")
            ?? Bundle.module.bundlePath + "/guard/labelled-actions.jsonl"
    }

    /// The default policy, the user's over it (`explicit`, `$EMLAB_GUARD_POLICY` or `~/.config/emlab/guard.yaml`).
    public static func policy(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Policy {
        let defaultPath = environment["EMLAB_GUARD_DEFAULT_POLICY"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPolicyPath
        return try GuardSetup.loadPolicy(defaultPath: defaultPath, userPath: GuardSetup.userPolicyPath(explicit: explicit, environment: environment),
                                         environment: environment)
    }
}
