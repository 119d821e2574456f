//! The order import's rules, as plain functions: its states, the moves a person may make on a
//! batch (import, cancel, undo) and from which state each is allowed. The background job moves
//! the other edges (`queued` → `validating` → `validated`, `importing` → `imported`, → `failed`).
//! Also which export fits which shop, and how the form's export time is read.

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::tracking::order_imports::parse::{OrderFormat, local_to_utc, shop_zone};

/// The upload form's "exported at": a local minute (`2026-03-20T10:00`, as `datetime-local`
/// sends it) in the tenant's time zone.
pub const LOCAL_MINUTE: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]");

/// How far past the server's clock an export time may be (another machine's clock, a minute
/// typed ahead); later is a typo that would freeze its orders against every real export.
pub const CLOCK_SKEW: time::Duration = time::Duration::minutes(10);

/// When the export was taken, from the form's local minute in `time_zone`; None when either is
/// unreadable.
pub fn exported_at(local: &str, time_zone: &str) -> Option<OffsetDateTime> {
    let local = PrimitiveDateTime::parse(local.trim(), LOCAL_MINUTE).ok()?;
    Some(local_to_utc(local, shop_zone(time_zone)?))
}

/// Where an order import stands (the `order_imports.state` column, text with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ImportState {
    /// Stored and waiting for its validation run.
    Queued,
    Validating,
    /// The report is ready: the person imports or cancels.
    Validated,
    Importing,
    Imported,
    Cancelled,
    /// Imported once, then taken back as a batch.
    Undone,
    Failed,
}

impl ImportState {
    pub const ALL: [ImportState; 8] = [
        ImportState::Queued,
        ImportState::Validating,
        ImportState::Validated,
        ImportState::Importing,
        ImportState::Imported,
        ImportState::Cancelled,
        ImportState::Undone,
        ImportState::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportState::Queued => "queued",
            ImportState::Validating => "validating",
            ImportState::Validated => "validated",
            ImportState::Importing => "importing",
            ImportState::Imported => "imported",
            ImportState::Cancelled => "cancelled",
            ImportState::Undone => "undone",
            ImportState::Failed => "failed",
        }
    }

    pub fn parse(code: &str) -> Option<ImportState> {
        ImportState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The message key of the state's name (`orders.state.*`).
    pub fn label_key(self) -> &'static str {
        match self {
            ImportState::Queued => "orders.state.queued",
            ImportState::Validating => "orders.state.validating",
            ImportState::Validated => "orders.state.validated",
            ImportState::Importing => "orders.state.importing",
            ImportState::Imported => "orders.state.imported",
            ImportState::Cancelled => "orders.state.cancelled",
            ImportState::Undone => "orders.state.undone",
            ImportState::Failed => "orders.state.failed",
        }
    }

    /// A job is working on it (the page polls its progress).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ImportState::Queued | ImportState::Validating | ImportState::Importing
        )
    }
}

/// What a person does to a batch (`POST …/imports/{id}/{command}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportCommand {
    /// Import the good rows of a validated file.
    Confirm,
    /// Drop a validated file without importing it.
    Cancel,
    /// Take an imported batch back.
    Undo,
}

impl ImportCommand {
    pub const ALL: [ImportCommand; 3] = [
        ImportCommand::Confirm,
        ImportCommand::Cancel,
        ImportCommand::Undo,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ImportCommand::Confirm => "confirm",
            ImportCommand::Cancel => "cancel",
            ImportCommand::Undo => "undo",
        }
    }

    pub fn parse(code: &str) -> Option<ImportCommand> {
        ImportCommand::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The audit log's name for the move.
    pub fn audit_action(self) -> &'static str {
        match self {
            ImportCommand::Confirm => "orders.confirm",
            ImportCommand::Cancel => "orders.cancel",
            ImportCommand::Undo => "orders.undo",
        }
    }

    /// The one state the command applies to, and where it leads.
    pub fn edge(self) -> (ImportState, ImportState) {
        match self {
            ImportCommand::Confirm => (ImportState::Validated, ImportState::Importing),
            ImportCommand::Cancel => (ImportState::Validated, ImportState::Cancelled),
            ImportCommand::Undo => (ImportState::Imported, ImportState::Undone),
        }
    }
}

/// The message key of a move the state table refuses.
pub const NOT_ALLOWED: &str = "orders.flash.not_allowed";

/// The import's state table for a person's moves: the state `command` leads to from `from`, or
/// None when the batch is not in the one state the command applies to (a running job, a batch
/// already imported, cancelled or undone, a failed one).
pub fn next_state(from: ImportState, command: ImportCommand) -> Option<ImportState> {
    let (expected, to) = command.edge();
    (from == expected).then_some(to)
}

/// Whether an export fits the shop: a TikTok Shop takes the affiliate export, a Shopify shop
/// the Shopify one; other shops take either.
pub fn fits_shop(format: OrderFormat, platform: &str) -> bool {
    !matches!(
        (format, platform),
        (OrderFormat::Shopify, "tiktok_shop") | (OrderFormat::TikTokAffiliate, "shopify")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_time_is_a_local_minute_in_the_tenants_zone() {
        assert_eq!(
            exported_at(" 2026-03-20T10:00 ", "America/Los_Angeles"),
            Some(time::macros::datetime!(2026-03-20 17:00 UTC))
        );
        assert_eq!(
            exported_at("2026-03-20T10:00", "Asia/Shanghai"),
            Some(time::macros::datetime!(2026-03-20 02:00 UTC))
        );
        assert_eq!(exported_at("yesterday", "Asia/Shanghai"), None);
        assert_eq!(exported_at("2026-03-20 10:00", "Asia/Shanghai"), None);
        assert_eq!(exported_at("2026-03-20T10:00", "Mars/Olympus"), None);
    }

    #[test]
    fn a_tiktok_shop_takes_the_affiliate_export_and_a_shopify_shop_the_shopify_one() {
        assert!(fits_shop(OrderFormat::TikTokAffiliate, "tiktok_shop"));
        assert!(!fits_shop(OrderFormat::Shopify, "tiktok_shop"));
        assert!(fits_shop(OrderFormat::Shopify, "shopify"));
        assert!(!fits_shop(OrderFormat::TikTokAffiliate, "shopify"));
        assert!(fits_shop(OrderFormat::Shopify, "other"));
        assert!(fits_shop(OrderFormat::TikTokAffiliate, "other"));
    }

    #[test]
    fn a_validated_batch_is_imported_or_cancelled_and_an_imported_one_undone() {
        use ImportCommand::*;
        use ImportState::*;
        assert_eq!(next_state(Validated, Confirm), Some(Importing));
        assert_eq!(next_state(Validated, Cancel), Some(Cancelled));
        assert_eq!(next_state(Imported, Undo), Some(Undone));
    }

    #[test]
    fn every_other_move_is_refused() {
        let allowed = [
            (ImportState::Validated, ImportCommand::Confirm),
            (ImportState::Validated, ImportCommand::Cancel),
            (ImportState::Imported, ImportCommand::Undo),
        ];
        for from in ImportState::ALL {
            for command in ImportCommand::ALL {
                if !allowed.contains(&(from, command)) {
                    assert_eq!(next_state(from, command), None, "{from:?} {command:?}");
                }
            }
        }
    }

    #[test]
    fn states_and_commands_read_back_from_their_codes() {
        for s in ImportState::ALL {
            assert_eq!(ImportState::parse(s.code()), Some(s));
        }
        for c in ImportCommand::ALL {
            assert_eq!(ImportCommand::parse(c.code()), Some(c));
        }
        assert_eq!(ImportCommand::parse("delete"), None);
        assert_eq!(ImportState::parse("done"), None);
        let running: Vec<_> = ImportState::ALL
            .into_iter()
            .filter(|s| s.is_running())
            .collect();
        assert_eq!(
            running,
            [
                ImportState::Queued,
                ImportState::Validating,
                ImportState::Importing
            ]
        );
    }
}
