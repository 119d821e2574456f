//! Demo fulfilment records, made through the actions: a missing cart link with a screenshot
//! (a small PNG drawn here), a slow answer later withdrawn, a late post recorded as the job
//! records it, and a severe compliance issue (which proposes a blacklist entry). Idempotent: a
//! tenant that has records is left alone.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{Db, SystemScope};
use crate::evidence::actions::EvidenceUpload;
use crate::fulfilment::actions::{
    CorrectFulfilmentRecord, RecordFulfilmentEvent, correct_fulfilment_record,
    record_automatic_event, record_fulfilment_event,
};
use crate::fulfilment::domain::{AutomaticEvent, Severity};
use crate::storage::Storage;
use crate::tenants::Access;

const WHO: &str = "sextant seed-demo";

pub async fn seed_fulfilment(db: &Db) -> anyhow::Result<()> {
    let storage = Storage::from_env()?;
    let mut tx = db.system_tx(SystemScope::Cli).await?;
    let rows: Vec<(String, Uuid)> = sqlx::query_as(
        "SELECT t.slug, l.id FROM collaborations l JOIN tenants t ON t.id = l.tenant_id \
          WHERE t.status = 'active' AND l.state NOT IN ('proposed', 'accepted', 'cancelled') \
            AND NOT EXISTS (SELECT 1 FROM fulfilment_records r WHERE r.tenant_id = l.tenant_id) \
          ORDER BY t.slug, l.created_at, l.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut slugs: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    slugs.dedup();
    for slug in slugs {
        let collabs: Vec<Uuid> = rows
            .iter()
            .filter(|(s, _)| s == slug)
            .map(|(_, id)| *id)
            .collect();
        let Some(tenant) = crate::tenants::repo::tenant_by_slug(db.pool(), slug).await? else {
            continue;
        };
        let actor = Actor::system(WHO).within(tenant.clone(), Access::Owner);
        let pick = |n: usize| collabs[n % collabs.len()];
        let mut tx = db.tenant_tx(tenant.id, None).await?;
        let today = OffsetDateTime::now_utc().date();
        record_fulfilment_event(
            &mut tx,
            &storage,
            &actor,
            RecordFulfilmentEvent {
                collaboration_id: pick(0),
                kind: "cart_link_missing".into(),
                severity: "major".into(),
                note: "视频发布时没有挂购物车链接，补挂用了一天。/ The cart link was added a day late."
                    .into(),
                occurred_on: String::new(),
                files: vec![EvidenceUpload {
                    filename: "购物车截图 cart-screenshot.png".into(),
                    bytes: demo_png(48, 32).into(),
                }],
            },
        )
        .await?;
        let slow = record_fulfilment_event(
            &mut tx,
            &storage,
            &actor,
            RecordFulfilmentEvent {
                collaboration_id: pick(1),
                kind: "slow_response".into(),
                severity: "minor".into(),
                note: "三天没有回复脚本修改。/ No answer on the script for three days.".into(),
                occurred_on: String::new(),
                files: Vec::new(),
            },
        )
        .await?;
        correct_fulfilment_record(
            &mut tx,
            &actor,
            CorrectFulfilmentRecord {
                record_id: slow,
                action: "withdraw".into(),
                note: String::new(),
                reason:
                    "达人当时在外拍摄，已提前告知。/ The creator had told us they were on a shoot."
                        .into(),
            },
        )
        .await?;
        let job =
            Actor::system(crate::fulfilment::jobs::JOB_NAME).within(tenant.clone(), Access::Owner);
        record_automatic_event(
            &mut tx,
            &job,
            pick(2),
            AutomaticEvent::LatePublish {
                days_late: 2,
                severity: Severity::Minor,
                posted: today,
            },
        )
        .await?;
        record_fulfilment_event(
            &mut tx,
            &storage,
            &actor,
            RecordFulfilmentEvent {
                collaboration_id: pick(3),
                kind: "compliance_issue".into(),
                severity: "severe".into(),
                note:
                    "视频中宣称“100% 杀菌”，平台判定为违规宣传。/ Claimed \"kills 100% of germs\"; \
                       the platform flagged the claim."
                        .into(),
                occurred_on: String::new(),
                files: Vec::new(),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A small PNG (RGB, a diagonal gradient), stored without compression: a real image for the
/// demo's evidence without an image crate.
pub fn demo_png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&[
                (x * 255 / width.max(1)) as u8,
                (y * 255 / height.max(1)) as u8,
                0xC0,
            ]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(&data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_png_is_a_png_with_correct_checksums() {
        // The standard check value of CRC-32 and Adler-32.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let png = demo_png(4, 2);
        assert_eq!(
            crate::evidence::domain::check(&png),
            Ok(crate::evidence::domain::EvidenceType::Png)
        );
    }
}
