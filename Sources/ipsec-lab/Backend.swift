import ArgumentParser
import IPsecCrypto

/// `--backend openssl|ipsec-mb`: which crypto library runs the ESP transforms of every SA the command makes.
/// OpenSSL is the reference; libipsec-mb runs what it offers and leaves the rest to OpenSSL (docs/ipsec-mb.md).
struct BackendOption: ParsableArguments {
    @Option(help: "ESP crypto: openssl (the reference) or ipsec-mb (Intel's IPsec Multi-Buffer library, OpenSSL for what it lacks).")
    var backend: String = CryptoImplementation.openSSL.rawValue

    /// Sets the implementation new SAs use; one clear error when it is unknown or unusable here.
    func apply() throws {
        guard let implementation = CryptoImplementation(rawValue: backend) else {
            throw ValidationFailure("--backend takes openssl or ipsec-mb, not \"\(backend)\"")
        }
        if implementation == .ipsecMB && !IPsecMB.isAvailable {
            throw ValidationFailure("--backend ipsec-mb: \(IPsecMB.status)")
        }
        CryptoImplementation.preferred = implementation
    }
}

/// An error whose description is the whole message.
struct ValidationFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
