import Foundation
import TradesKit

/// The ``TradesKit/EmailSender`` of `trades serve` until the SendGrid adapter lands: it writes to standard output
/// instead of delivering.
///
/// With `showsLinks` (development only) it writes each message's subject and links, tokens included, so that a developer
/// can follow them; otherwise only that a message was not delivered, and its subject: never an address or a token.
/// It writes to standard output, not to the log, so a token never reaches log collection.
struct ConsoleEmailSender: EmailSender {
    /// Whether to write the links of messages (they carry single-use tokens).
    let showsLinks: Bool
    /// Writes one line.
    let write: @Sendable (String) -> Void

    func send(_ message: EmailMessage) async throws -> String {
        if showsLinks {
            let links = Self.links(in: message.text)
            write("E-mail \"\(message.subject)\"" + (links.isEmpty ? "" : ": " + links.joined(separator: " ")))
        } else {
            write("E-mail \"\(message.subject)\" not delivered: this build has no e-mail provider")
        }
        return "console-" + UUID().uuidString.lowercased()
    }

    /// The lines of `text` that are http(s) URLs: the links identity e-mails put on a line of their own.
    static func links(in text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("http://") || $0.hasPrefix("https://") }
    }
}

/// The ``TradesKit/SMSSender`` of `trades serve --development` until the Twilio adapter lands: it writes each message's
/// text to standard output, never the number.
struct ConsoleSMSSender: SMSSender {
    /// Writes one line.
    let write: @Sendable (String) -> Void

    func send(_ message: SMSMessage) async throws -> String {
        write("SMS \"\(message.body)\"")
        return "console-" + UUID().uuidString.lowercased()
    }
}
