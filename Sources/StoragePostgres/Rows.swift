import Foundation
import PostgresNIO
import TradesKit

// Decoding rows into domain values. Every SELECT names its columns through these lists so reads and decoders agree.

extension PostgresRandomAccessRow {
    func value<T: PostgresDecodable>(_ column: String, as _: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }

    func date(_ column: String) throws -> Date { Date(millisecondsSince1970: try value(column, as: Int64.self)) }

    func optionalDate(_ column: String) throws -> Date? { try value(column, as: Int64?.self).map(Date.init(millisecondsSince1970:)) }

    func id<Tag>(_ column: String) throws -> Identifier<Tag> { Identifier(try value(column, as: UUID.self)) }

    func optionalID<Tag>(_ column: String) throws -> Identifier<Tag>? { try value(column, as: UUID?.self).map(Identifier.init) }

    func money(_ amountColumn: String, _ currencyColumn: String) throws -> Money {
        Money(try value(amountColumn, as: Int64.self), try currency(currencyColumn))
    }

    func currency(_ column: String) throws -> Currency {
        guard let currency = Currency(code: try value(column, as: String.self)) else { throw Self.corrupt(column) }
        return currency
    }

    func enumeration<E: RawRepresentable>(_ column: String, as _: E.Type = E.self) throws -> E where E.RawValue == String {
        guard let value = E(rawValue: try value(column, as: String.self)) else { throw Self.corrupt(column) }
        return value
    }

    static func corrupt(_ column: String) -> StorageError {
        StorageError(.failure, message: "A stored value is not valid (column \(column))")
    }
}

enum Columns {
    static let tenant = "id, slug, display_name, settings::text AS settings, created_at, version"
    static let user = """
        id, email, display_name, phone, role, password_hash, email_verified, suspended, session_generation, notify_email, notify_sms, \
        created_at, version
        """
    static let profile = """
        user_id, headline, trades, service_latitude, service_longitude, service_radius_km, licence_number, licence_region, \
        licence_expires_at, insurance_expires_at, vetting, version
        """
    static let category = "id, slug, name"
    static let job = """
        id, owner_id, category_id, title, description, latitude, longitude, budget_min_amount, budget_min_currency, budget_max_amount, \
        budget_max_currency, status, accepted_bid_id, contractor_id, created_at, updated_at, completed_at, closed_at, version
        """
    static let bid = "id, job_id, contractor_id, amount, currency, message, status, created_at, updated_at, version"
    static let escrow = """
        id, job_id, bid_id, homeowner_id, contractor_id, amount, currency, fee_basis_points, status, payment_reference, transfer_reference, \
        refunded_amount, refunded_currency, released_amount, released_currency, platform_fee_amount, platform_fee_currency, instruction, \
        settlement_due_at, settlement_failures, created_at, updated_at, version
        """
    static let ledgerEntry = "id, transaction_id, kind, job_id, account, amount, currency, posted_at"
    static let dispute = """
        id, job_id, opened_by, respondent, reason, response, status, job_status_before, resolution_outcome, resolution_refund_amount, \
        resolution_refund_currency, resolution_note, resolved_by, resolved_at, created_at, updated_at, version
        """
    static let review = "id, job_id, author_id, subject_id, rating, text, created_at, visible_from, version"
    static let message = "id, job_id, sender_id, body, created_at"
    static let event = "id, type, schema_version, aggregate_id, recipients, payload, occurred_at, status, attempts, available_at, last_error"

    /// The same list with every column qualified by `alias`, for joins.
    static func qualified(_ list: String, _ alias: String) -> String {
        list.split(separator: ",").map { column in
            let trimmed = column.trimmingCharacters(in: .whitespacesAndNewlines)
            return "\(alias).\(trimmed)"
        }.joined(separator: ", ")
    }
}

enum Decode {
    static func tenant(_ row: PostgresRandomAccessRow) throws -> Tenant {
        let settingsJSON: String = try row.value("settings")
        let settings: TenantSettings
        do {
            settings = try TenantSettings.decoded(fromStoredJSON: settingsJSON)
        } catch {
            throw PostgresRandomAccessRow.corrupt("settings")
        }
        return Tenant(
            id: try row.id("id"), slug: try row.value("slug"), displayName: try row.value("display_name"), settings: settings,
            createdAt: try row.date("created_at"), version: try row.value("version"))
    }

    static func user(_ row: PostgresRandomAccessRow) throws -> User {
        let email: EmailAddress
        let phone: PhoneNumber?
        do {
            email = try EmailAddress(try row.value("email", as: String.self))
            phone = try row.value("phone", as: String?.self).map { raw throws(TradesKitError) in try PhoneNumber(raw) }
        } catch {
            throw PostgresRandomAccessRow.corrupt("email/phone")
        }
        return User(
            id: try row.id("id"), email: email, displayName: try row.value("display_name"), phone: phone, role: try row.enumeration("role"),
            passwordHash: try row.value("password_hash"), emailVerified: try row.value("email_verified"),
            suspended: try row.value("suspended"), sessionGeneration: try row.value("session_generation"),
            notifications: NotificationPreferences(email: try row.value("notify_email"), sms: try row.value("notify_sms")),
            createdAt: try row.date("created_at"), version: try row.value("version"))
    }

    static func profile(_ row: PostgresRandomAccessRow) throws -> ContractorProfile {
        var licence: Licence?
        if let number = try row.value("licence_number", as: String?.self), let region = try row.value("licence_region", as: String?.self),
            let expires = try row.optionalDate("licence_expires_at")
        {
            licence = Licence(number: number, region: region, expiresAt: expires)
        }
        let trades = try row.value("trades", as: [UUID].self).map(CategoryID.init)
        let area = GeoCircle(
            center: GeoPoint(latitude: try row.value("service_latitude"), longitude: try row.value("service_longitude")),
            radiusKm: try row.value("service_radius_km"))
        return ContractorProfile(
            userID: try row.id("user_id"), headline: try row.value("headline"), trades: trades, serviceArea: area,
            licence: licence, insuranceExpiresAt: try row.optionalDate("insurance_expires_at"),
            vetting: try row.enumeration("vetting"), version: try row.value("version"))
    }

    static func category(_ row: PostgresRandomAccessRow) throws -> TradeCategory {
        TradeCategory(id: try row.id("id"), slug: try row.value("slug"), name: try row.value("name"))
    }

    static func job(_ row: PostgresRandomAccessRow) throws -> Job {
        Job(
            id: try row.id("id"), ownerID: try row.id("owner_id"), categoryID: try row.id("category_id"), title: try row.value("title"),
            description: try row.value("description"),
            location: GeoPoint(latitude: try row.value("latitude"), longitude: try row.value("longitude")),
            budget: BudgetRange(
                min: try row.money("budget_min_amount", "budget_min_currency"),
                max: try row.money("budget_max_amount", "budget_max_currency")),
            status: try row.enumeration("status"), acceptedBidID: try row.optionalID("accepted_bid_id"),
            contractorID: try row.optionalID("contractor_id"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            completedAt: try row.optionalDate("completed_at"), closedAt: try row.optionalDate("closed_at"), version: try row.value("version"))
    }

    static func bid(_ row: PostgresRandomAccessRow) throws -> Bid {
        Bid(
            id: try row.id("id"), jobID: try row.id("job_id"), contractorID: try row.id("contractor_id"), amount: try row.money("amount", "currency"),
            message: try row.value("message"), status: try row.enumeration("status"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), version: try row.value("version"))
    }

    static func escrow(_ row: PostgresRandomAccessRow) throws -> Escrow {
        let amount = try row.money("amount", "currency")
        var instruction: SettlementInstruction?
        if let stored = try row.value("instruction", as: String?.self) {
            guard let parsed = SettlementInstruction(storageValue: stored, currency: amount.currency) else {
                throw PostgresRandomAccessRow.corrupt("instruction")
            }
            instruction = parsed
        }
        return Escrow(
            id: try row.id("id"), jobID: try row.id("job_id"), bidID: try row.id("bid_id"), homeownerID: try row.id("homeowner_id"),
            contractorID: try row.id("contractor_id"), amount: amount,
            feeBasisPoints: try row.value("fee_basis_points"), status: try row.enumeration("status"),
            paymentReference: try row.value("payment_reference"), transferReference: try row.value("transfer_reference"),
            refundedAmount: try row.money("refunded_amount", "refunded_currency"),
            releasedAmount: try row.money("released_amount", "released_currency"),
            platformFee: try row.money("platform_fee_amount", "platform_fee_currency"), instruction: instruction,
            settlementDueAt: try row.optionalDate("settlement_due_at"), settlementFailures: try row.value("settlement_failures"),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"), version: try row.value("version"))
    }

    static func ledgerEntry(_ row: PostgresRandomAccessRow) throws -> LedgerEntry {
        LedgerEntry(
            id: try row.id("id"), transactionID: try row.id("transaction_id"), kind: try row.enumeration("kind"), jobID: try row.id("job_id"),
            account: try row.enumeration("account"), amount: try row.money("amount", "currency"), postedAt: try row.date("posted_at"))
    }

    static func dispute(_ row: PostgresRandomAccessRow) throws -> Dispute {
        var resolution: DisputeResolution?
        if let outcomeName = try row.value("resolution_outcome", as: String?.self) {
            let outcome: DisputeOutcome
            switch outcomeName {
            case "release": outcome = .release
            case "full_refund": outcome = .fullRefund
            case "partial_refund": outcome = .partialRefund(try row.money("resolution_refund_amount", "resolution_refund_currency"))
            default: throw PostgresRandomAccessRow.corrupt("resolution_outcome")
            }
            guard let resolvedBy: UserID = try row.optionalID("resolved_by"), let resolvedAt = try row.optionalDate("resolved_at"),
                let note = try row.value("resolution_note", as: String?.self)
            else {
                throw PostgresRandomAccessRow.corrupt("resolution")
            }
            resolution = DisputeResolution(outcome: outcome, note: note, resolvedBy: resolvedBy, resolvedAt: resolvedAt)
        }
        return Dispute(
            id: try row.id("id"), jobID: try row.id("job_id"), openedBy: try row.id("opened_by"), respondent: try row.id("respondent"),
            reason: try row.value("reason"), response: try row.value("response"), status: try row.enumeration("status"),
            jobStatusBefore: try row.enumeration("job_status_before"), resolution: resolution, createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), version: try row.value("version"))
    }

    static func review(_ row: PostgresRandomAccessRow) throws -> Review {
        Review(
            id: try row.id("id"), jobID: try row.id("job_id"), authorID: try row.id("author_id"), subjectID: try row.id("subject_id"),
            rating: try row.value("rating"), text: try row.value("text"), createdAt: try row.date("created_at"),
            visibleFrom: try row.date("visible_from"), version: try row.value("version"))
    }

    static func message(_ row: PostgresRandomAccessRow) throws -> Message {
        Message(
            id: try row.id("id"), jobID: try row.id("job_id"), senderID: try row.id("sender_id"), body: try row.value("body"),
            createdAt: try row.date("created_at"))
    }

    static func event(_ row: PostgresRandomAccessRow) throws -> OutboxEvent {
        let delivery = OutboxEvent.Delivery(
            status: try row.enumeration("status"), attempts: try row.value("attempts"),
            availableAt: try row.date("available_at"), lastError: try row.value("last_error"))
        return OutboxEvent(
            id: try row.id("id"), type: try row.value("type"), schemaVersion: try row.value("schema_version"),
            aggregateID: try row.value("aggregate_id"), recipients: try row.value("recipients", as: [UUID].self).map(UserID.init),
            payload: try row.value("payload"), occurredAt: try row.date("occurred_at"), delivery: delivery)
    }
}
