import CIPsecMB
import Synchronization

/// Which library runs an SA's ESP transform.
///
/// OpenSSL is the reference: every algorithm, every check. Intel's IPsec Multi-Buffer library (libipsec-mb) is the
/// fast path: optional (detected when IPsecLab is built, opened when it runs), used for the algorithms it offers and
/// OpenSSL for the rest, with byte-identical output (docs/ipsec-mb.md).
public enum CryptoImplementation: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case openSSL = "openssl"
    case ipsecMB = "ipsec-mb"

    public var description: String { rawValue }

    /// The implementation new SAs use unless they name one (`--backend` sets it once, before any SA is made).
    public static var preferred: CryptoImplementation {
        get { preferredStorage.withLock { $0 } }
        set { preferredStorage.withLock { $0 = newValue } }
    }

    private static let preferredStorage = Mutex<CryptoImplementation>(.openSSL)
}

/// Facts about the optional libipsec-mb backend.
public enum IPsecMB {
    /// True when this build saw `intel-ipsec-mb.h`.
    public static var isCompiled: Bool { ipseclab_mb_compiled() != 0 }

    /// True when the library loaded and runs on this CPU (AES-NI at least).
    public static var isAvailable: Bool { ipseclab_mb_available() != 0 }

    /// One line for `--version` and reports: the library version and its code path (e.g. "libipsec-mb 1.3.0,
    /// AVX-512 with VAES, VPCLMULQDQ, SHA-NI"), or why it is not used.
    public static var status: String { String(cString: ipseclab_mb_status()) }

    /// Whether libipsec-mb runs `algorithm` here; when it does not, an SA asking for it runs on OpenSSL.
    public static func supports(_ algorithm: ESPAlgorithm) -> Bool {
        isAvailable && IPsecMBESP.parameters(algorithm) != nil
    }

    /// Whether libipsec-mb runs AH `algorithm` here: every AH algorithm when the library is usable
    /// (`AHTransform.implementation` says what a transform got).
    public static func supports(_ algorithm: AHAlgorithm) -> Bool {
        guard isAvailable else { return false }
        if case .aesGMAC = algorithm.integrity { return true }
        guard let esp = try? ESPAlgorithm(encryption: .null, integrity: algorithm.integrity) else { return false }
        return IPsecMBESP.parameters(esp) != nil
    }
}
