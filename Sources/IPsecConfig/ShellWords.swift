/// Splits a file of shell commands into commands and words, following the POSIX shell for the subset that
/// `ip xfrm` scripts use (XCU §2.2–2.3):
///
/// - unquoted blanks separate words; an unquoted newline or `;` ends a command;
/// - `#` at the start of a word comments out the rest of the line;
/// - backslash-newline joins lines (a continuation); elsewhere an unquoted backslash quotes the next character;
/// - `'…'` is literal; in `"…"` a backslash quotes only `"`, `\`, `$`, `` ` `` and newline.
///
/// Expansions are not performed: a word that would expand (`$VAR`, `` `cmd` ``) is marked, and the command parser
/// refuses it rather than read the literal text as a value.
struct ShellWords {
    struct Word {
        var text: String
        /// The line the word starts on.
        var line: Int
        /// Whether any part of it was quoted (so `""` is an empty word, not none).
        var quoted: Bool
        /// Whether it contains an unquoted or double-quoted `$` or a backquote.
        var expands: Bool
    }

    struct Command {
        var words: [Word]
        var line: Int { words.first?.line ?? 0 }
    }

    static func split(_ bytes: [UInt8]) throws(Problem) -> [Command] {
        var commands: [Command] = []
        var words: [Word] = []
        var current: [UInt8] = []
        var inWord = false
        var quoted = false
        var expands = false
        var wordLine = 1
        var line = 1
        var i = 0

        func startWord() {
            if !inWord {
                inWord = true
                wordLine = line
            }
        }
        func endWord() {
            if inWord {
                words.append(Word(text: String(decoding: current, as: UTF8.self), line: wordLine, quoted: quoted,
                                  expands: expands))
            }
            current.removeAll(keepingCapacity: true)
            inWord = false
            quoted = false
            expands = false
        }
        func endCommand() {
            endWord()
            if !words.isEmpty { commands.append(Command(words: words)) }
            words.removeAll()
        }

        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case 0x20, 0x09, 0x0d:
                endWord()
                i += 1
            case 0x0a:
                endCommand()
                line += 1
                i += 1
            case UInt8(ascii: ";"):
                endCommand()
                i += 1
            case UInt8(ascii: "#") where !inWord:
                while i < bytes.count, bytes[i] != 0x0a { i += 1 }
            case UInt8(ascii: "\\"):
                guard i + 1 < bytes.count else {
                    throw Problem(.syntax, "a backslash at the end of the file continues nothing", line: line)
                }
                if bytes[i + 1] == 0x0a {
                    line += 1  // continuation: the word, if any, goes on
                } else {
                    startWord()
                    quoted = true
                    current.append(bytes[i + 1])
                }
                i += 2
            case UInt8(ascii: "'"):
                startWord()
                quoted = true
                let opened = line
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "'") {
                    if bytes[i] == 0x0a { line += 1 }
                    current.append(bytes[i])
                    i += 1
                }
                guard i < bytes.count else {
                    throw Problem(.syntax, "the single quote opened on line \(opened) is never closed", line: opened)
                }
                i += 1
            case UInt8(ascii: "\""):
                startWord()
                quoted = true
                let opened = line
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        let next = bytes[i + 1]
                        if next == 0x0a {
                            line += 1
                            i += 2
                            continue
                        }
                        if next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") || next == UInt8(ascii: "$")
                            || next == UInt8(ascii: "`")
                        {
                            current.append(next)
                            i += 2
                            continue
                        }
                    }
                    if c == UInt8(ascii: "$") || c == UInt8(ascii: "`") { expands = true }
                    if c == 0x0a { line += 1 }
                    current.append(c)
                    i += 1
                }
                guard i < bytes.count else {
                    throw Problem(.syntax, "the double quote opened on line \(opened) is never closed", line: opened)
                }
                i += 1
            default:
                startWord()
                if b == UInt8(ascii: "$") || b == UInt8(ascii: "`") { expands = true }
                current.append(b)
                i += 1
            }
        }
        endCommand()
        return commands
    }
}
