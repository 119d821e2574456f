//! Demo content review, made through the actions: on each published or tracking collaboration,
//! the final video (a link to the team's drive) self-checked by the account manager, changes
//! requested by the owner, then v2 self-checked and approved. Idempotent: a collaboration with
//! deliverables is left alone.

use sqlx::PgConnection;
use uuid::Uuid;

use super::campaigns::{Cast, step};
use crate::review::actions::{
    AddDeliverable, CrossReview, SelfCheck, add_deliverable, cross_review, self_check,
};
use crate::storage::Storage;

pub async fn seed_review(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    cast: &Cast,
) -> anyhow::Result<()> {
    let collabs: Vec<Uuid> = sqlx::query_scalar(
        "SELECT l.id FROM collaborations l WHERE l.tenant_id = $1 \
            AND l.state IN ('published', 'tracking') \
            AND NOT EXISTS (SELECT 1 FROM deliverables d WHERE d.tenant_id = l.tenant_id \
                            AND d.collaboration_id = l.id) \
          ORDER BY l.created_at, l.id",
    )
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    // The cross-review needs a second person (a demo without its account manager has none).
    if collabs.is_empty() || cast.am.user_id == cast.owner.user_id {
        return Ok(());
    }
    let storage = Storage::from_env()?;
    let every_item: Vec<String> = crate::review::repo::checklist(conn, false)
        .await?
        .into_iter()
        .map(|i| i.id.to_string())
        .collect();
    for (n, collab) in collabs.into_iter().enumerate() {
        for version in 1..=2 {
            let id = step(
                "demo review: adding a version",
                add_deliverable(
                    conn,
                    &storage,
                    &cast.am,
                    AddDeliverable {
                        collaboration_id: collab,
                        kind: "final_video".into(),
                        lang: "en".into(),
                        link: format!(
                            "https://drive.example.invalid/demo/{n}/final-v{version}.mp4"
                        ),
                        note: "成片 / Final cut".into(),
                        file: None,
                    },
                )
                .await,
            )?;
            step(
                "demo review: self-check",
                self_check(
                    conn,
                    &cast.am,
                    SelfCheck {
                        deliverable_id: id,
                        ticked: every_item.clone(),
                        comment: String::new(),
                    },
                )
                .await,
            )?;
            let (outcome, comment) = if version == 1 {
                (
                    "request_changes",
                    "前 3 秒先展示产品效果，字幕再大一点。/ Show the product in the first 3 seconds; larger captions.",
                )
            } else {
                ("approve", "")
            };
            step(
                "demo review: cross-review",
                cross_review(
                    conn,
                    &cast.owner,
                    CrossReview {
                        deliverable_id: id,
                        outcome: outcome.into(),
                        comment: comment.into(),
                    },
                )
                .await,
            )?;
        }
    }
    Ok(())
}
