import IPsecCore

/// Messages about `hc-fields` values, shared by every format.
enum HeaderCompressionText {
    static func problem(_ text: String) -> String {
        let names = text.split(separator: ",").map(String.init)
        if let bad = names.first(where: { HeaderCompressionFields.neverElided[$0] != nil }) {
            return "\(ConfigError.shown(bad)) can never be elided: \(HeaderCompressionFields.neverElided[bad]!)"
        }
        let presets = HeaderCompressionFields.presets.map(\.name).joined(separator: ", ")
        let fields = HeaderCompressionFields.catalogue.map(\.name).joined(separator: ", ")
        return "\(ConfigError.shown(text)) is neither a preset (\(presets)) nor a list of fields (\(fields))"
    }
}
