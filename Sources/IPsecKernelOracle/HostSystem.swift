#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import IPsecDiff

/// The few host services the oracle needs — files, a child process with a time limit, a monotonic clock — on the C
/// library directly (the package does not use Foundation).
enum HostSystem {
    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func readFile(_ path: String) throws(DiffError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DiffError("cannot read \(path): \(errorText())") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DiffError("cannot read \(path): \(errorText())")
            }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    /// Writes `parts` one after the other to `path` (created or truncated, mode 0644).
    static func writeFile(_ path: String, _ parts: [[UInt8]]) throws(DiffError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DiffError("cannot write \(path): \(errorText())") }
        defer { close(fd) }
        for part in parts {
            var offset = 0
            while offset < part.count {
                let n = part.withUnsafeBytes { write(fd, $0.baseAddress! + offset, part.count - offset) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DiffError("cannot write \(path): \(errorText())")
                }
                offset += n
            }
        }
    }

    static func makeDirectory(_ path: String) throws(DiffError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw DiffError("cannot create \(prefix): \(errorText())")
            }
        }
    }

    /// A fresh private directory under `parent`.
    static func temporaryDirectory(in parent: String) throws(DiffError) -> String {
        try makeDirectory(parent)
        var template = Array("\(parent)/run-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw DiffError("cannot create a directory under \(parent): \(errorText())") }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func removeTree(_ path: String) {
        guard let dir = opendir(path) else {
            unlink(path)
            return
        }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            var st = stat()
            if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
        }
        closedir(dir)
        rmdir(path)
    }

    static func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

    /// How a child process ended.
    enum Exit: Equatable {
        case status(Int32)
        case signal(Int32)
        case timedOut
    }

    /// Runs `command` (absolute path first) with stdin from /dev/null and stdout and stderr appended to `log`, in its
    /// own process group, killing the group after `timeout` seconds.
    static func run(_ command: [String], log: String, timeout: Double) throws(DiffError) -> Exit {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, command[0], &actions, &attributes, argv, environ)
        guard status == 0 else {
            throw DiffError("cannot start \(command[0]): \(String(cString: strerror(status)))")
        }
        let deadline = now() + timeout
        while true {
            var st: Int32 = 0
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid {
                if st & 0x7f == 0 { return .status((st >> 8) & 0xff) }
                return .signal(st & 0x7f)
            }
            if r < 0 && errno != EINTR { return .status(-1) }
            if now() > deadline {
                kill(-pid, SIGKILL)
                waitpid(pid, &st, 0)
                return .timedOut
            }
            usleep(20_000)
        }
    }
}

/// The `newc` cpio format (the one the kernel unpacks as an initramfs): one archive of regular files.
enum CPIOArchive {
    static func archive(_ files: [(name: String, data: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        var inode = 1
        func field(_ v: Int) -> [UInt8] {
            let hex = String(v, radix: 16)
            return Array((String(repeating: "0", count: max(0, 8 - hex.count)) + hex).utf8)
        }
        func entry(_ name: String, _ data: [UInt8], mode: Int) {
            let nameBytes = Array(name.utf8) + [0]
            out += Array("070701".utf8)
            for v in [inode, mode, 0, 0, 1, 0, data.count, 0, 0, 0, 0, nameBytes.count, 0] { out += field(v) }
            out += nameBytes
            while out.count % 4 != 0 { out.append(0) }
            out += data
            while out.count % 4 != 0 { out.append(0) }
            inode += 1
        }
        for f in files { entry(f.name, f.data, mode: 0o100644) }
        entry("TRAILER!!!", [], mode: 0)
        while out.count % 512 != 0 { out.append(0) }
        return out
    }
}
