/// Why a campaign could not run (an oracle missing or broken), in one line. Disagreements are results, not errors.
public struct DiffError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
