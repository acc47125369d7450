import IPsecDiff

/// The throwaway VM: Debian's cloud kernel and a minimal initramfs, built once by
/// `scripts/linux-oracle/build-image.sh` into a cache folder and booted under qemu's TCG (docs/linux-oracle.md).
///
/// A campaign is a text file the agent in the guest reads; it travels as a small uncompressed cpio archive placed in
/// front of the cached (compressed) initramfs, and the agent's answers come back on the second serial port, written
/// by qemu to a file. The kernel's own console (first serial port) goes to a log kept beside it.
public struct LinuxVM: Sendable {
    /// Where the image is cached: `$IPSECLAB_LINUX_ORACLE_CACHE`, or `.build-linux-oracle` in the package root.
    public let cacheDirectory: String
    /// The package root (where `scripts/linux-oracle/` is).
    public let root: String
    /// Seconds a boot may take before it is killed, besides a per-line allowance for the campaign.
    public var bootTimeout: Double = 120

    public init(root: String? = nil) throws(DiffError) {
        let found = root ?? LinuxVM.packageRoot()
        guard let found else {
            throw DiffError("cannot find scripts/linux-oracle/build-image.sh (run ipsec-lab from the IPsecLab checkout, "
                            + "or set IPSECLAB_ROOT)")
        }
        self.root = found
        cacheDirectory = HostSystem.environment("IPSECLAB_LINUX_ORACLE_CACHE") ?? found + "/.build-linux-oracle"
    }

    static let script = "scripts/linux-oracle/build-image.sh"

    /// `$IPSECLAB_ROOT`, the working directory or one of its parents, or the checkout this file was compiled from.
    static func packageRoot() -> String? {
        var candidates: [String] = []
        if let env = HostSystem.environment("IPSECLAB_ROOT") { candidates.append(env) }
        var dir = "."
        for _ in 0..<4 {
            candidates.append(dir)
            dir += "/.."
        }
        let source = #filePath
        if let range = source.range(of: "/Sources/IPsecKernelOracle/") {
            candidates.append(String(source[..<range.lowerBound]))
        }
        return candidates.first { HostSystem.exists($0 + "/" + script) }
    }

    public var kernelPath: String { cacheDirectory + "/vmlinuz" }
    public var initrdPath: String { cacheDirectory + "/initrd.img" }

    /// Builds the image unless the cached one is current (the script decides, from the kernel package version and
    /// the hashes of the guest's sources). Its messages go to `cacheDirectory/build.log`.
    public func prepare() throws(DiffError) {
        try HostSystem.makeDirectory(cacheDirectory)
        let log = cacheDirectory + "/build.log"
        let exit = try HostSystem.run(["/bin/bash", root + "/" + LinuxVM.script, cacheDirectory], log: log,
                                      timeout: 600)
        guard exit == .status(0), HostSystem.exists(kernelPath), HostSystem.exists(initrdPath) else {
            let tail = (try? HostSystem.readFile(log)).map { lastLine(of: $0) } ?? ""
            throw DiffError("building the Linux oracle VM failed (\(log)): \(tail)")
        }
    }

    /// What one boot returned.
    public struct Boot: Sendable {
        /// The agent's answer lines.
        public var answers: [String]
        /// The kernel console, for diagnosis.
        public var consolePath: String
        public var seconds: Double
    }

    /// Boots the VM once with `campaign` and returns the agent's answers. Throws when the VM could not run or the
    /// agent did not finish (no `E` line): results are never guessed from a partial run.
    public func boot(campaign: String, workDirectory: String) throws(DiffError) -> Boot {
        try HostSystem.makeDirectory(workDirectory)
        let initrd = workDirectory + "/initrd.img"
        let answersPath = workDirectory + "/answers.txt"
        let console = workDirectory + "/console.log"
        let qemuLog = workDirectory + "/qemu.log"
        let prefix = CPIOArchive.archive([("campaign.txt", Array(campaign.utf8))])
        try HostSystem.writeFile(initrd, [prefix, try HostSystem.readFile(initrdPath)])
        try HostSystem.writeFile(answersPath, [])
        let lines = campaign.utf8.reduce(0) { $1 == 0x0a ? $0 + 1 : $0 }
        let command = [
            "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "512", "-smp", "1", "-nodefaults",
            "-display", "none", "-no-reboot", "-monitor", "none",
            "-kernel", kernelPath, "-initrd", initrd,
            "-append", "console=ttyS0 rdinit=/init quiet panic=-1",
            "-serial", "file:" + console, "-serial", "file:" + answersPath,
        ]
        let started = HostSystem.now()
        let exit = try HostSystem.run(command, log: qemuLog, timeout: bootTimeout + Double(lines) * 0.5)
        let seconds = HostSystem.now() - started
        if exit == .timedOut {
            throw DiffError("the Linux oracle VM did not finish in time (console: \(console))")
        }
        guard exit == .status(0) else {
            let tail = (try? HostSystem.readFile(qemuLog)).map { lastLine(of: $0) } ?? ""
            throw DiffError("qemu-system-x86_64 failed (\(exit)): \(tail) (run scripts/setup.sh to install qemu)")
        }
        let text = String(decoding: try HostSystem.readFile(answersPath), as: UTF8.self)
        let answers = text.split(separator: "\n", omittingEmptySubsequences: true).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
        if let failure = answers.first(where: { $0.hasPrefix("F ") }) {
            throw DiffError("the guest agent failed: \(failure.dropFirst(2)) (console: \(console))")
        }
        guard answers.last == "E" else {
            throw DiffError("the guest agent stopped before the end of the campaign (console: \(console))")
        }
        return Boot(answers: answers, consolePath: console, seconds: seconds)
    }

    private func lastLine(of bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n").last.map(String.init) ?? ""
    }
}
