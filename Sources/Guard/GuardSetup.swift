#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the guard's files are and how its policy is put together, the same for the hook binary,
/// `emlab guard` and `emlab serve`.
public enum GuardSetup {
    /// The resource bundle SwiftPM builds beside the executables (the `GuardMonitor` target's data).
    public static let resourceBundle = "emlab_GuardMonitor.resources"
    public static let defaultPolicyName = "guard/default-policy.yaml"

    /// The folder of the running executable.
    public static func executableDirectory() -> String {
        if let target = Paths.readLink("/proc/self/exe") { return Paths.parent(target) }
        return Paths.parent(Paths.resolve(CommandLine.arguments[0], cwd: FileManager.default.currentDirectoryPath))
    }

    /// The default policy file: `$EMLAB_GUARD_DEFAULT_POLICY`, else the resource bundle beside the executable.
    public static func defaultPolicyPath(environment: [String: String], executableDirectory: String = executableDirectory()) -> String {
        if let p = environment["EMLAB_GUARD_DEFAULT_POLICY"], !p.isEmpty { return p }
        return executableDirectory + "/" + resourceBundle + "/" + defaultPolicyName
    }

    /// The user's policy file: the one given, else `$EMLAB_GUARD_POLICY`, else `~/.config/emlab/guard.yaml` if it exists.
    public static func userPolicyPath(explicit: String?, environment: [String: String]) -> String? {
        if let e = explicit { return e }
        if let p = environment["EMLAB_GUARD_POLICY"], !p.isEmpty { return p }
        let home = Paths.home(environment: environment)
        let candidate = (environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config") + "/emlab/guard.yaml"
        return Paths.exists(candidate) ? candidate : nil
    }

    /// The default policy with the user's laid over it. The user's policy file, the decision log and
    /// the agents' hook settings are added to the files the guard protects.
    public static func loadPolicy(defaultPath: String, userPath: String?, environment: [String: String]) throws(PolicyError) -> Policy {
        var policy = try Policy.load(file: defaultPath)
        if let userPath { policy = try Policy.load(file: userPath, over: policy) }
        let home = Paths.home(environment: environment)
        var protect: [String] = []
        if let userPath { protect.append(Paths.resolve(userPath, cwd: FileManager.default.currentDirectoryPath)) }
        protect.append(Paths.resolve(Paths.parent(DecisionLog.defaultPath(policy: policy, environment: environment)), cwd: "/"))
        protect.append((environment["XDG_CONFIG_HOME"] ?? home + "/.config") + "/emlab")
        policy.guardFiles += protect.filter { !policy.guardFiles.contains($0) }
        return policy
    }
}
