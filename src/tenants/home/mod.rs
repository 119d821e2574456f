//! "What needs me now" on the tenant's home: shortlists waiting for the seller's decision, posts
//! overdue against their deadlines, order imports that need attention and orders nobody is
//! credited with (issue 13 item 1); ratings due with the days until the evaluation window is
//! final, ratings waiting for the signed-in person's score, open ratings short of raters,
//! blacklist proposals waiting for the owner and open low-score warnings (issue 14 item 8).
//! Each item links to where it is done.

pub mod repo;

use sqlx::PgConnection;
use time::OffsetDateTime;

use super::Access;
use crate::kernel::tier::{Tier, TierBadge};
use crate::matching::repo::ReferenceRates;
use crate::tracking::kpis::campaign::figures as campaign_figures;
use crate::tracking::kpis::figures::{self as kpis, Headline};
use crate::tracking::order_imports::repo::{self as imports_repo, ImportRow, UNATTRIBUTED_CAP};
use crate::tracking::posts::domain::{days_late, deadline_end};
use crate::tracking::windows::Window;
use crate::web::lang::Lang;
use repo::{CreatorItem, DeadlinePending, DueRating, OpenRating, WaitingShortlist};

/// How many items each list shows at most (the oldest first).
const LIMIT: i64 = 20;
/// Raters a rating asks for (SPEC §7: two blind raters).
const RATERS_WANTED: i64 = 2;
/// A failed import stays on the home this long (it is still on the imports page after).
const FAILED_IMPORT_DAYS: i64 = 30;

/// Where a due rating stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueWhen {
    /// The evaluation window becomes final in this many days (rounded up, at least 1).
    InDays(i64),
    /// The window is final: the rating can be opened.
    Final,
    /// No post yet, so no window to wait for.
    NoPosts,
}

/// When the evaluation window of a collaboration's posts is final, as of `now`. A collaboration
/// already moved to evaluating is final whatever its posts say.
pub fn due_when(row: &DueRating, now: OffsetDateTime) -> DueWhen {
    if row.state == "evaluating" {
        return DueWhen::Final;
    }
    let Some(published) = row.last_published_at else {
        return DueWhen::NoPosts;
    };
    let window = Window::from_code(&row.evaluation_window).unwrap_or(Window::D14);
    if window.is_final(published, now) {
        return DueWhen::Final;
    }
    let left = window.boundary(published) - now;
    let seconds = left.whole_seconds().max(1);
    DueWhen::InDays((seconds + 86_399) / 86_400)
}

pub struct DueItem {
    pub row: DueRating,
    pub when: DueWhen,
}

impl DueItem {
    pub fn days(&self) -> i64 {
        match self.when {
            DueWhen::InDays(d) => d,
            _ => 0,
        }
    }
    pub fn is_final(&self) -> bool {
        self.when == DueWhen::Final
    }
    pub fn has_posts(&self) -> bool {
        self.when != DueWhen::NoPosts
    }
}

pub struct CreatorNeed {
    pub row: CreatorItem,
    pub badge: TierBadge,
}

fn with_badges(rows: Vec<CreatorItem>) -> Vec<CreatorNeed> {
    rows.into_iter()
        .map(|row| CreatorNeed {
            badge: TierBadge::new(row.tier.as_deref().and_then(Tier::parse), false),
            row,
        })
        .collect()
}

/// A collaboration past its publishing deadline with nothing published.
pub struct OverduePost {
    pub row: DeadlinePending,
    /// Whole days since the deadline day, in its zone (at least 1).
    pub days_overdue: i64,
}

/// The collaborations overdue at `now` by the posts' rule: a post is due when the deadline day
/// ends in the shop's zone (`posts::domain::deadline_end`), the days counted as a post
/// published now would be late (`days_late`).
pub fn overdue_at(rows: Vec<DeadlinePending>, now: OffsetDateTime) -> Vec<OverduePost> {
    rows.into_iter()
        .filter_map(|row| {
            let zone =
                time_tz::timezones::get_by_name(&row.zone).unwrap_or(time_tz::timezones::db::UTC);
            if now < deadline_end(row.deadline, zone) {
                return None;
            }
            let days_overdue = days_late(now, row.deadline, zone).unwrap_or(1);
            Some(OverduePost { row, days_overdue })
        })
        .take(LIMIT as usize)
        .collect()
}

/// How many running campaigns the home shows (each is computed as on its overview).
const RUNNING_LIMIT: i64 = 10;

/// A running campaign with its ROI against target, computed exactly as its overview does.
pub struct RunningItem {
    pub campaign_id: uuid::Uuid,
    pub title: String,
    pub roi: Headline,
    pub gmv: Headline,
}

/// The running campaigns' ROI and GMV against their targets (`kpis::headlines`, as on the
/// campaign overview).
async fn running(
    conn: &mut PgConnection,
    tenant: uuid::Uuid,
    zone: &str,
    settlement_currency: &str,
    lang: Lang,
) -> Result<Vec<RunningItem>, sqlx::Error> {
    let campaigns = repo::running_campaigns(conn, tenant, RUNNING_LIMIT).await?;
    if campaigns.is_empty() {
        return Ok(Vec::new());
    }
    let rates = ReferenceRates::load(conn).await?;
    let mut items = Vec::with_capacity(campaigns.len());
    for c in campaigns {
        let Some(figures) =
            campaign_figures(conn, tenant, zone, settlement_currency, &rates, c.id).await?
        else {
            continue;
        };
        let (total, targets) = (figures.total, figures.targets);
        // The overview's four big numbers, in its order: GMV, ROI, views, CTR.
        let mut four = kpis::headlines(lang, &total, &targets).into_iter();
        let (Some(gmv), Some(roi)) = (four.next(), four.next()) else {
            continue;
        };
        items.push(RunningItem {
            campaign_id: c.id,
            title: c.title,
            roi,
            gmv,
        });
    }
    Ok(items)
}

/// How many order lines nobody is credited with, counted up to a cap.
pub struct Unattributed {
    pub count: i64,
    pub more: bool,
}

/// Everything the home page lists for one person.
pub struct Needs {
    pub shortlists: Vec<WaitingShortlist>,
    pub overdue: Vec<OverduePost>,
    pub imports: Vec<ImportRow>,
    pub unattributed: Unattributed,
    pub due: Vec<DueItem>,
    /// None when the person does not rate (a viewer).
    pub mine: Option<Vec<OpenRating>>,
    /// None unless the person assigns raters (owner, operator).
    pub lacking: Option<Vec<OpenRating>>,
    pub proposals: Vec<CreatorNeed>,
    pub warnings: Vec<CreatorNeed>,
    /// Then: running campaigns with their ROI against target.
    pub running: Vec<RunningItem>,
}

/// Whose home it is: the tenant (its zone and settlement currency), the person and their
/// access, the page's language.
pub struct HomeOf<'a> {
    pub tenant: uuid::Uuid,
    pub zone: &'a str,
    pub settlement_currency: &'a str,
    pub user: uuid::Uuid,
    pub access: Access,
    pub lang: Lang,
}

impl Needs {
    pub async fn load(
        conn: &mut PgConnection,
        of: HomeOf<'_>,
        now: OffsetDateTime,
    ) -> Result<Needs, sqlx::Error> {
        let HomeOf {
            tenant,
            user,
            access,
            ..
        } = of;
        let shortlists = repo::shortlists_waiting(conn, tenant, LIMIT).await?;
        // Every zone's deadline day has ended by UTC's next day: the rule picks among these.
        let overdue = overdue_at(
            repo::deadlines_passing(conn, tenant, now.date(), 10 * LIMIT).await?,
            now,
        );
        let imports = imports_repo::needing_attention(
            conn,
            now - time::Duration::days(FAILED_IMPORT_DAYS),
            LIMIT,
        )
        .await?;
        let n = imports_repo::unattributed_count(conn, tenant, UNATTRIBUTED_CAP).await?;
        let unattributed = Unattributed {
            count: n.min(UNATTRIBUTED_CAP),
            more: n > UNATTRIBUTED_CAP,
        };
        let due = repo::ratings_due(conn, tenant, LIMIT)
            .await?
            .into_iter()
            .map(|row| DueItem {
                when: due_when(&row, now),
                row,
            })
            .collect();
        let mine = match access {
            Access::Viewer => None,
            _ => Some(repo::waiting_for_rater(conn, tenant, user, LIMIT).await?),
        };
        let lacking = match access {
            Access::Owner | Access::Operator => {
                Some(repo::lacking_raters(conn, tenant, RATERS_WANTED, LIMIT).await?)
            }
            _ => None,
        };
        let proposals = with_badges(repo::blacklist_proposals(conn, tenant, LIMIT).await?);
        let warnings = with_badges(repo::low_score_warnings(conn, tenant, LIMIT).await?);
        let running = running(conn, tenant, of.zone, of.settlement_currency, of.lang).await?;
        Ok(Needs {
            running,
            shortlists,
            overdue,
            imports,
            unattributed,
            due,
            mine,
            lacking,
            proposals,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn row(state: &str, published: Option<OffsetDateTime>, window: &str) -> DueRating {
        DueRating {
            collaboration_id: Uuid::nil(),
            creator_id: Uuid::nil(),
            creator_handle: "x".into(),
            campaign_title: "c".into(),
            state: state.into(),
            last_published_at: published,
            evaluation_window: window.into(),
        }
    }

    fn pending(deadline: time::Date, zone: &str) -> DeadlinePending {
        DeadlinePending {
            collaboration_id: Uuid::nil(),
            creator_handle: "x".into(),
            campaign_title: "c".into(),
            deadline,
            zone: zone.into(),
        }
    }

    #[test]
    fn a_post_is_overdue_once_its_deadline_day_ends_in_the_shops_zone() {
        use time::macros::date;
        let rows = || vec![pending(date!(2026 - 11 - 10), "Asia/Shanghai")];
        // 23:59:59 on the deadline day in Shanghai (UTC+8): not overdue yet.
        assert!(overdue_at(rows(), datetime!(2026-11-10 15:59:59 UTC)).is_empty());
        let at_midnight = overdue_at(rows(), datetime!(2026-11-10 16:00 UTC));
        assert_eq!(at_midnight[0].days_overdue, 1);
        // 23:00 on the 13th in Shanghai: three days.
        let later = overdue_at(rows(), datetime!(2026-11-13 15:00 UTC));
        assert_eq!(later[0].days_overdue, 3);
        // An unknown zone counts as UTC.
        let utc = || vec![pending(date!(2026 - 11 - 10), "Not/AZone")];
        assert!(overdue_at(utc(), datetime!(2026-11-10 23:59 UTC)).is_empty());
        assert_eq!(overdue_at(utc(), datetime!(2026-11-11 00:00 UTC)).len(), 1);
    }

    #[test]
    fn days_until_the_window_is_final_round_up() {
        let published = datetime!(2026-11-01 10:00 UTC);
        // D14 boundary: 11-15 10:00. From 11-10 12:00: 4 days 22 hours → 5 days.
        let r = row("tracking", Some(published), "d14");
        assert_eq!(
            due_when(&r, datetime!(2026-11-10 12:00 UTC)),
            DueWhen::InDays(5)
        );
        // At the boundary itself the window is not final yet (a snapshot may still come).
        assert_eq!(
            due_when(&r, datetime!(2026-11-15 10:00 UTC)),
            DueWhen::InDays(1)
        );
        assert_eq!(
            due_when(&r, datetime!(2026-11-15 10:00:01 UTC)),
            DueWhen::Final
        );
        // D1 setting.
        let r = row("tracking", Some(published), "d1");
        assert_eq!(
            due_when(&r, datetime!(2026-11-01 11:00 UTC)),
            DueWhen::InDays(1)
        );
        assert_eq!(
            due_when(&row("tracking", None, "d14"), published),
            DueWhen::NoPosts
        );
        assert_eq!(
            due_when(&row("evaluating", Some(published), "d30"), published),
            DueWhen::Final
        );
    }
}
