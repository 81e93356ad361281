/// The channels a user wants notices by (``TradesKit/User/notifications``): both on, for users already there too (the
/// defaults fill the existing rows; no `UPDATE`, so row-level security needs no lifting). The app role's table
/// privileges on `users` cover the new columns.
///
/// Frozen: this text is checksummed once applied. Change the schema with a new migration.
enum Migration0009NotificationPreferences {
    static let migration = Migration(
        version: 9, name: "notification_preferences",
        statements: [
            "ALTER TABLE users ADD COLUMN notify_email boolean NOT NULL DEFAULT true",
            "ALTER TABLE users ADD COLUMN notify_sms boolean NOT NULL DEFAULT true",
        ])
}
