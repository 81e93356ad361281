import GRDB

/// The versioned schema. Applied migrations are never edited: a change is a new migration.
///
/// Every tenant table leads its primary key, unique constraints, foreign keys and indexes with `tenant_id`, and its
/// foreign keys are composite `(tenant_id, x_id)`, so a row can never point into another tenant. Ids are lower-case UUID
/// text, instants are integer milliseconds since 1970, money is an integer amount of minor units beside a currency code.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            for statement in v1 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v2-identity") { db in
            for statement in v2Identity { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v3-settlement-instructions") { db in
            for statement in v3SettlementInstructions { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v4-session-generations") { db in
            for statement in v4SessionGenerations { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v5-identity-purge-indexes") { db in
            for statement in v5IdentityPurgeIndexes { try db.execute(sql: statement) }
        }
        // Foreign keys are off while a migration runs and every one is checked before it commits (GRDB's default), so
        // a rebuilt table keeps the references other tables make to it, and a database with a dangling reference stops
        // here rather than carrying it on.
        migrator.registerMigration("v6-complete-references") { db in
            for statement in v6CompleteReferences { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v7-held-escrows-index") { db in
            for statement in v7HeldEscrowsIndex { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v8-settlement-retries") { db in
            for statement in v8SettlementRetries { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v9-notification-preferences") { db in
            for statement in v9NotificationPreferences { try db.execute(sql: statement) }
        }
        return migrator
    }

    /// The channels a user wants notices by (``TradesKit/User/notifications``): both on, for users already there too.
    static let v9NotificationPreferences: [String] = [
        "ALTER TABLE users ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 1 CHECK (notify_email IN (0, 1))",
        "ALTER TABLE users ADD COLUMN notify_sms INTEGER NOT NULL DEFAULT 1 CHECK (notify_sms IN (0, 1))",
    ]

    /// When an owed settlement is due, and how many attempts at it failed in a row
    /// (``TradesKit/Escrow/settlementDueAt``, ``TradesKit/Escrow/settlementFailures``): the instructions owed already
    /// are due since they were set, and the index of owed instructions follows the due time.
    static let v8SettlementRetries: [String] = [
        "ALTER TABLE escrows ADD COLUMN settlement_due_at INTEGER",
        "ALTER TABLE escrows ADD COLUMN settlement_failures INTEGER NOT NULL DEFAULT 0 CHECK (settlement_failures >= 0)",
        "UPDATE escrows SET settlement_due_at = updated_at WHERE instruction IS NOT NULL",
        "DROP INDEX escrows_pending",
        "CREATE INDEX escrows_pending ON escrows(tenant_id, settlement_due_at, id) WHERE instruction IS NOT NULL",
    ]

    /// The held payments by age, for capturing them before their authorisation lapses
    /// (``TradesKit/TenantStorage/heldEscrows(openedBefore:limit:)``).
    static let v7HeldEscrowsIndex: [String] = [
        "CREATE INDEX escrows_held ON escrows(tenant_id, created_at, id) WHERE status = 'held' AND instruction IS NULL"
    ]

    /// The references PostgreSQL has had from the start and SQLite lacked: a job's accepted bid, an escrow's homeowner
    /// and contractor, and the admin who resolved a dispute. SQLite cannot add a foreign key to a table, so the three
    /// tables are rebuilt (SQLite's "generalized ALTER TABLE procedure"): a new table with every column, check and key,
    /// the rows copied by name, the old table dropped, the new one renamed, its indexes made again.
    static let v6CompleteReferences: [String] = [
        """
        CREATE TABLE jobs_v6 (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            category_id TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT NOT NULL,
            latitude REAL NOT NULL,
            longitude REAL NOT NULL,
            budget_min INTEGER NOT NULL,
            budget_max INTEGER NOT NULL,
            currency TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'awarded', 'in_progress', 'completed', 'disputed', 'closed', 'cancelled')),
            accepted_bid_id TEXT,
            contractor_id TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            completed_at INTEGER,
            closed_at INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, owner_id) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, contractor_id) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, category_id) REFERENCES categories(tenant_id, id),
            FOREIGN KEY (tenant_id, accepted_bid_id) REFERENCES bids(tenant_id, id)
        )
        """,
        """
        INSERT INTO jobs_v6 (tenant_id, id, owner_id, category_id, title, description, latitude, longitude, budget_min,
                             budget_max, currency, status, accepted_bid_id, contractor_id, created_at, updated_at,
                             completed_at, closed_at, version)
        SELECT tenant_id, id, owner_id, category_id, title, description, latitude, longitude, budget_min, budget_max,
               currency, status, accepted_bid_id, contractor_id, created_at, updated_at, completed_at, closed_at, version
        FROM jobs
        """,
        "DROP TABLE jobs",
        "ALTER TABLE jobs_v6 RENAME TO jobs",
        "CREATE INDEX jobs_created ON jobs(tenant_id, created_at, id)",
        "CREATE INDEX jobs_status ON jobs(tenant_id, status, created_at, id)",
        "CREATE INDEX jobs_owner ON jobs(tenant_id, owner_id, created_at, id)",
        "CREATE INDEX jobs_contractor ON jobs(tenant_id, contractor_id, created_at, id)",
        "CREATE INDEX jobs_category ON jobs(tenant_id, category_id, created_at, id)",
        "CREATE INDEX jobs_location ON jobs(tenant_id, latitude, longitude)",
        "CREATE INDEX jobs_completed ON jobs(tenant_id, status, completed_at)",
        """
        CREATE TABLE escrows_v6 (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            bid_id TEXT NOT NULL,
            homeowner_id TEXT NOT NULL,
            contractor_id TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            fee_basis_points INTEGER NOT NULL,
            status TEXT NOT NULL,
            payment_reference TEXT,
            transfer_reference TEXT,
            refunded_amount INTEGER NOT NULL,
            released_amount INTEGER NOT NULL,
            platform_fee INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            instruction TEXT CHECK (
                instruction IN ('capture', 'void')
                OR (instruction GLOB 'settle:[0-9]*' AND length(instruction) <= 26 AND substr(instruction, 8) NOT GLOB '*[^0-9]*')
            ),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, bid_id) REFERENCES bids(tenant_id, id),
            FOREIGN KEY (tenant_id, homeowner_id) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, contractor_id) REFERENCES users(tenant_id, id)
        )
        """,
        """
        INSERT INTO escrows_v6 (tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency,
                                fee_basis_points, status, payment_reference, transfer_reference, refunded_amount,
                                released_amount, platform_fee, created_at, updated_at, version, instruction)
        SELECT tenant_id, id, job_id, bid_id, homeowner_id, contractor_id, amount, currency, fee_basis_points, status,
               payment_reference, transfer_reference, refunded_amount, released_amount, platform_fee, created_at,
               updated_at, version, instruction
        FROM escrows
        """,
        "DROP TABLE escrows",
        "ALTER TABLE escrows_v6 RENAME TO escrows",
        "CREATE UNIQUE INDEX escrow_job ON escrows(tenant_id, job_id)",
        "CREATE INDEX escrows_pending ON escrows(tenant_id, updated_at, id) WHERE instruction IS NOT NULL",
        """
        CREATE TABLE disputes_v6 (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            respondent TEXT NOT NULL,
            reason TEXT NOT NULL,
            response TEXT,
            status TEXT NOT NULL CHECK (status IN ('awaiting_response', 'under_review', 'resolved')),
            job_status_before TEXT NOT NULL,
            outcome TEXT,
            refund_amount INTEGER,
            refund_currency TEXT,
            note TEXT,
            resolved_by TEXT,
            resolved_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, opened_by) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, respondent) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, resolved_by) REFERENCES users(tenant_id, id)
        )
        """,
        """
        INSERT INTO disputes_v6 (tenant_id, id, job_id, opened_by, respondent, reason, response, status, job_status_before,
                                 outcome, refund_amount, refund_currency, note, resolved_by, resolved_at, created_at,
                                 updated_at, version)
        SELECT tenant_id, id, job_id, opened_by, respondent, reason, response, status, job_status_before, outcome,
               refund_amount, refund_currency, note, resolved_by, resolved_at, created_at, updated_at, version
        FROM disputes
        """,
        "DROP TABLE disputes",
        "ALTER TABLE disputes_v6 RENAME TO disputes",
        "CREATE UNIQUE INDEX open_dispute ON disputes(tenant_id, job_id) WHERE status <> 'resolved'",
        "CREATE INDEX disputes_created ON disputes(tenant_id, created_at, id)",
        "CREATE INDEX disputes_opened_by ON disputes(tenant_id, opened_by)",
        "CREATE INDEX disputes_respondent ON disputes(tenant_id, respondent)",
    ]

    /// What the purge of spent identity records (``TradesKit/TenantStorage/purgeIdentityRecords(tokensExpiredBefore:throttlesIdleSince:)``)
    /// finds without reading every row.
    static let v5IdentityPurgeIndexes: [String] = [
        "CREATE INDEX refresh_tokens_expiry ON refresh_tokens(tenant_id, expires_at)",
        "CREATE INDEX one_time_tokens_expiry ON one_time_tokens(tenant_id, expires_at)",
        "CREATE INDEX login_throttles_last_failure ON login_throttles(tenant_id, last_failure_at)",
    ]

    /// The generation of a user's sessions (``TradesKit/User/sessionGeneration``): access tokens name it, and moving it on
    /// ends them.
    static let v4SessionGenerations: [String] = [
        "ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0 CHECK (session_generation >= 0)"
    ]

    /// Where an escrow's money is to go next (``TradesKit/SettlementInstruction``), and an index of the owed ones.
    static let v3SettlementInstructions: [String] = [
        """
        ALTER TABLE escrows ADD COLUMN instruction TEXT CHECK (
            instruction IN ('capture', 'void')
            OR (instruction GLOB 'settle:[0-9]*' AND length(instruction) <= 26 AND substr(instruction, 8) NOT GLOB '*[^0-9]*')
        )
        """,
        "CREATE INDEX escrows_pending ON escrows(tenant_id, updated_at, id) WHERE instruction IS NOT NULL",
    ]

    static let v1: [String] = [
        """
        CREATE TABLE tenants (
            id TEXT NOT NULL PRIMARY KEY,
            slug TEXT NOT NULL,
            display_name TEXT NOT NULL,
            settings TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            version INTEGER NOT NULL
        )
        """,
        // The platform's one index not led by tenant_id: slugs are unique across tenants.
        "CREATE UNIQUE INDEX tenant_slug ON tenants(slug)",
        """
        CREATE TABLE users (
            tenant_id TEXT NOT NULL REFERENCES tenants(id),
            id TEXT NOT NULL,
            email TEXT NOT NULL,
            email_normalized TEXT NOT NULL,
            display_name TEXT NOT NULL,
            phone TEXT,
            role TEXT NOT NULL CHECK (role IN ('homeowner', 'contractor', 'admin')),
            password_hash TEXT,
            email_verified INTEGER NOT NULL,
            suspended INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX user_email ON users(tenant_id, email_normalized)",
        "CREATE INDEX users_created ON users(tenant_id, created_at, id)",
        "CREATE INDEX users_role ON users(tenant_id, role, created_at, id)",
        """
        CREATE TABLE contractor_profiles (
            tenant_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            headline TEXT NOT NULL,
            trades TEXT NOT NULL,
            center_latitude REAL NOT NULL,
            center_longitude REAL NOT NULL,
            radius_km REAL NOT NULL,
            licence_number TEXT,
            licence_region TEXT,
            licence_expires_at INTEGER,
            insurance_expires_at INTEGER,
            vetting TEXT NOT NULL CHECK (vetting IN ('pending', 'approved', 'rejected')),
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, user_id),
            FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
        )
        """,
        """
        CREATE TABLE categories (
            tenant_id TEXT NOT NULL REFERENCES tenants(id),
            id TEXT NOT NULL,
            slug TEXT NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY (tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX category_slug ON categories(tenant_id, slug)",
        """
        CREATE TABLE jobs (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            owner_id TEXT NOT NULL,
            category_id TEXT NOT NULL,
            title TEXT NOT NULL,
            description TEXT NOT NULL,
            latitude REAL NOT NULL,
            longitude REAL NOT NULL,
            budget_min INTEGER NOT NULL,
            budget_max INTEGER NOT NULL,
            currency TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'awarded', 'in_progress', 'completed', 'disputed', 'closed', 'cancelled')),
            accepted_bid_id TEXT,
            contractor_id TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            completed_at INTEGER,
            closed_at INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, owner_id) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, contractor_id) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, category_id) REFERENCES categories(tenant_id, id)
        )
        """,
        "CREATE INDEX jobs_created ON jobs(tenant_id, created_at, id)",
        "CREATE INDEX jobs_status ON jobs(tenant_id, status, created_at, id)",
        "CREATE INDEX jobs_owner ON jobs(tenant_id, owner_id, created_at, id)",
        "CREATE INDEX jobs_contractor ON jobs(tenant_id, contractor_id, created_at, id)",
        "CREATE INDEX jobs_category ON jobs(tenant_id, category_id, created_at, id)",
        "CREATE INDEX jobs_location ON jobs(tenant_id, latitude, longitude)",
        "CREATE INDEX jobs_completed ON jobs(tenant_id, status, completed_at)",
        """
        CREATE TABLE bids (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            contractor_id TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            message TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('submitted', 'withdrawn', 'accepted', 'declined')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, contractor_id) REFERENCES users(tenant_id, id)
        )
        """,
        // One live bid per contractor per job.
        "CREATE UNIQUE INDEX live_bid ON bids(tenant_id, job_id, contractor_id) WHERE status IN ('submitted', 'accepted')",
        "CREATE INDEX bids_job ON bids(tenant_id, job_id, created_at, id)",
        "CREATE INDEX bids_contractor ON bids(tenant_id, contractor_id, created_at, id)",
        """
        CREATE TABLE escrows (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            bid_id TEXT NOT NULL,
            homeowner_id TEXT NOT NULL,
            contractor_id TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            currency TEXT NOT NULL,
            fee_basis_points INTEGER NOT NULL,
            status TEXT NOT NULL,
            payment_reference TEXT,
            transfer_reference TEXT,
            refunded_amount INTEGER NOT NULL,
            released_amount INTEGER NOT NULL,
            platform_fee INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, bid_id) REFERENCES bids(tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX escrow_job ON escrows(tenant_id, job_id)",
        """
        CREATE TABLE ledger_entries (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            transaction_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            job_id TEXT NOT NULL,
            account TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            posted_at INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id)
        )
        """,
        "CREATE INDEX ledger_job ON ledger_entries(tenant_id, job_id, posted_at)",
        "CREATE INDEX ledger_transaction ON ledger_entries(tenant_id, transaction_id)",
        // The ledger is append-only: corrections are new, balancing entries.
        "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END",
        "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END",
        """
        CREATE TABLE disputes (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            opened_by TEXT NOT NULL,
            respondent TEXT NOT NULL,
            reason TEXT NOT NULL,
            response TEXT,
            status TEXT NOT NULL CHECK (status IN ('awaiting_response', 'under_review', 'resolved')),
            job_status_before TEXT NOT NULL,
            outcome TEXT,
            refund_amount INTEGER,
            refund_currency TEXT,
            note TEXT,
            resolved_by TEXT,
            resolved_at INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, opened_by) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, respondent) REFERENCES users(tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX open_dispute ON disputes(tenant_id, job_id) WHERE status <> 'resolved'",
        "CREATE INDEX disputes_created ON disputes(tenant_id, created_at, id)",
        "CREATE INDEX disputes_opened_by ON disputes(tenant_id, opened_by)",
        "CREATE INDEX disputes_respondent ON disputes(tenant_id, respondent)",
        """
        CREATE TABLE reviews (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            author_id TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            text TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            visible_from INTEGER NOT NULL,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, author_id) REFERENCES users(tenant_id, id),
            FOREIGN KEY (tenant_id, subject_id) REFERENCES users(tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX review_author ON reviews(tenant_id, job_id, author_id)",
        "CREATE INDEX reviews_subject ON reviews(tenant_id, subject_id, created_at, id)",
        """
        CREATE TABLE messages (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            job_id TEXT NOT NULL,
            sender_id TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, job_id) REFERENCES jobs(tenant_id, id),
            FOREIGN KEY (tenant_id, sender_id) REFERENCES users(tenant_id, id)
        )
        """,
        "CREATE INDEX messages_job ON messages(tenant_id, job_id, created_at, id)",
        """
        CREATE TABLE events (
            tenant_id TEXT NOT NULL REFERENCES tenants(id),
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            aggregate_id TEXT NOT NULL,
            recipients TEXT NOT NULL,
            payload BLOB NOT NULL,
            occurred_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts INTEGER NOT NULL,
            available_at INTEGER NOT NULL,
            last_error TEXT,
            PRIMARY KEY (tenant_id, id)
        )
        """,
        "CREATE INDEX events_feed ON events(tenant_id, occurred_at, id)",
        "CREATE INDEX events_delivery ON events(tenant_id, status, available_at, occurred_at, id)",
        """
        CREATE TABLE event_recipients (
            tenant_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            event_id TEXT NOT NULL,
            PRIMARY KEY (tenant_id, user_id, occurred_at, event_id),
            FOREIGN KEY (tenant_id, event_id) REFERENCES events(tenant_id, id)
        )
        """,
    ]

    /// Sessions, e-mailed tokens, two-factor enrolments and login throttles. Tokens are stored as hex SHA-256 only (the
    /// CHECKs refuse anything else, such as a plain token), TOTP secrets only sealed. Login throttles are keyed by a hash
    /// of tenant and e-mail, not by user, so they exist for addresses without an account too (and reference only the tenant).
    static let v2Identity: [String] = [
        """
        CREATE TABLE refresh_tokens (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            family_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            token_hash TEXT NOT NULL CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
            issued_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            revoked_at INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX refresh_token_hash ON refresh_tokens(tenant_id, token_hash)",
        "CREATE INDEX refresh_tokens_family ON refresh_tokens(tenant_id, family_id)",
        "CREATE INDEX refresh_tokens_user ON refresh_tokens(tenant_id, user_id)",
        """
        CREATE TABLE one_time_tokens (
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            purpose TEXT NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
            token_hash TEXT NOT NULL CHECK (length(token_hash) = 64 AND token_hash NOT GLOB '*[^0-9a-f]*'),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
        )
        """,
        "CREATE UNIQUE INDEX one_time_token_hash ON one_time_tokens(tenant_id, token_hash)",
        "CREATE INDEX one_time_tokens_user ON one_time_tokens(tenant_id, user_id, purpose)",
        """
        CREATE TABLE two_factor_enrollments (
            tenant_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            sealed_secret BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            confirmed_at INTEGER,
            last_accepted_step INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, user_id),
            FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)
        )
        """,
        """
        CREATE TABLE login_throttles (
            tenant_id TEXT NOT NULL REFERENCES tenants(id),
            account_key TEXT NOT NULL CHECK (length(account_key) = 64 AND account_key NOT GLOB '*[^0-9a-f]*'),
            failures INTEGER NOT NULL CHECK (failures >= 0),
            locked_until INTEGER,
            last_failure_at INTEGER,
            version INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, account_key)
        )
        """,
    ]
}
