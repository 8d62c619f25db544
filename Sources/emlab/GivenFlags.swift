/// Which options the command line itself gave (`--name value` or `--name=value`), for options that
/// only one backend reads: a remote job refuses the local trainer's options rather than ignore them.
enum GivenFlags {
    static var given: Set<String> { Set(CommandLine.arguments.map { String($0.split(separator: "=", maxSplits: 1).first ?? "") }) }

    /// The first of `names` that was given.
    static func first(of names: [String]) -> String? {
        let given = self.given
        return names.first(where: given.contains)
    }
}
