import ArgumentParser

@main
struct IPsecLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipsec-lab",
        abstract: "Analyse the IPsec data plane: dissect, protect, verify, fuzz and measure ESP and AH.",
        version: "0.1.0",
        subcommands: []
    )
}
