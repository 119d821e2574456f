//! Matching's state changes, each one function `(tx, &Actor, input)` that checks its rule, writes
//! through `repo` and records its audit entry: the account manager sending a shortlist round
//! (scores frozen on each entry) and an admin changing the matching weights.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, Weights, WeightsInput};
use super::pool::{self, PoolCache};
use super::repo::{self, NewEntry, ReferenceRates};
use crate::audit;
use crate::auth::{Actor, PlatformRole};
use crate::campaigns::actions::{MoveCampaign, move_campaign};
use crate::campaigns::domain::{CampaignState, Transition, note_text};
use crate::campaigns::repo as campaigns;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::tenants::Access;
use crate::webhooks::actions as webhooks;

/// One creator the account manager picked, with the note the seller will read.
#[derive(Clone, Debug)]
pub struct Pick {
    pub creator_id: Uuid,
    pub note: String,
}

/// The picked candidates to send as a campaign's next shortlist round.
#[derive(Clone, Debug)]
pub struct SendShortlist {
    pub campaign_id: Uuid,
    /// In the order picked; a creator picked twice is sent once.
    pub picks: Vec<Pick>,
}

/// The matching page's send form (and what the API takes): the picked creators' ids, and each
/// one's note under `note-{creator id}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ShortlistForm {
    #[serde(default, deserialize_with = "crate::web::forms::one_or_many")]
    pub pick: Vec<String>,
    /// Every other field; the notes are read from it.
    #[serde(flatten)]
    pub notes: HashMap<String, String>,
}

impl ShortlistForm {
    /// The round to send: the picks in order (an id that is not one is left out), with their
    /// notes.
    pub fn into_input(self, campaign_id: Uuid) -> SendShortlist {
        let picks = self
            .pick
            .iter()
            .filter_map(|v| v.parse::<Uuid>().ok())
            .map(|creator_id| Pick {
                creator_id,
                note: self
                    .notes
                    .get(&format!("note-{creator_id}"))
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        SendShortlist { campaign_id, picks }
    }
}

/// What was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentShortlist {
    pub round: i32,
    pub creators: Vec<Uuid>,
}

/// Sends the picked creators as the campaign's next shortlist round (the tenant's account
/// manager, while the campaign is in matching, else `Refused`) and moves the campaign on to the
/// seller. Each entry freezes the creator's score, breakdown and the weights as of now, so a later
/// change of weights never rewrites what the seller was shown. Only a current candidate can be
/// sent: nothing picked, or a creator excluded since or offered before, is `Invalid` on the field
/// `pick`, and nothing is written.
pub async fn send_shortlist(
    tx: &mut PgConnection,
    actor: &Actor,
    input: SendShortlist,
) -> DomainResult<SentShortlist> {
    let tenant_id = actor.tenant_id()?;
    let campaign_id = input.campaign_id;
    let row = campaigns::get_for_update(tx, tenant_id, campaign_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::AccountManager])?;
    actor.require_active()?;
    if row.state != CampaignState::Matching {
        return Err(DomainError::Refused(
            "campaign.transition_error.not_allowed_from",
        ));
    }
    let mut picks: Vec<Pick> = Vec::with_capacity(input.picks.len());
    for pick in input.picks {
        if !picks.iter().any(|p| p.creator_id == pick.creator_id) {
            picks.push(pick);
        }
    }
    if picks.is_empty() {
        return Err(DomainError::field("pick", "matching.error.nothing_picked"));
    }
    // Each note as kept, checked before anything is scored or written.
    let notes = picks
        .iter()
        .map(|p| {
            note_text(&p.note)
                .map_err(|key| DomainError::field(&format!("note-{}", p.creator_id), key))
        })
        .collect::<DomainResult<Vec<String>>>()?;
    let not_a_candidate = || DomainError::field("pick", "matching.error.not_a_candidate");
    let ask = repo::ask_of(&row.campaign());
    let weights = repo::current_weights(tx).await?;
    let rates = ReferenceRates::load(tx).await?;
    let offered = repo::offered(tx, tenant_id, campaign_id).await?;
    let ids: Vec<Uuid> = picks.iter().map(|p| p.creator_id).collect();
    let pool = repo::facts_of(tx, tenant_id, &ids).await?;
    // Every pick is scored before anything is written: one that is not a candidate sends none.
    let mut scored = Vec::with_capacity(picks.len());
    for pick in &picks {
        let facts = pool
            .iter()
            .find(|f| f.id == pick.creator_id && !offered.contains(&pick.creator_id))
            .ok_or_else(not_a_candidate)?;
        let score = domain::score(facts, &ask, &weights, &rates).map_err(|_| not_a_candidate())?;
        let seller = domain::seller_view(&score, facts.tenant_tier, &weights);
        scored.push((pick, score, seller));
    }
    let round = repo::next_round(tx, tenant_id, campaign_id).await?;
    for ((pick, score, seller), note) in scored.iter().zip(&notes) {
        let entry = NewEntry {
            campaign_id,
            creator_id: pick.creator_id,
            round,
            note,
            score,
            seller,
            weights: &weights,
            created_by: actor.user_id,
        };
        repo::insert_entry(tx, tenant_id, entry)
            .await
            .map_err(|e| {
                DomainError::unique_as_field(
                    e,
                    &[(
                        repo::ONE_ENTRY_PER_CREATOR,
                        "pick",
                        "matching.error.not_a_candidate",
                    )],
                )
            })?;
    }
    move_campaign(
        tx,
        actor,
        MoveCampaign {
            campaign_id,
            transition: Transition::SendShortlist,
            reason: String::new(),
        },
    )
    .await?;
    let creators: Vec<Uuid> = scored.iter().map(|(p, _, _)| p.creator_id).collect();
    let sent: Vec<String> = creators.iter().map(Uuid::to_string).collect();
    audit::record(
        tx,
        actor
            .audit("shortlist.send", "campaign", campaign_id)
            .after(json!({ "round": round, "creators": sent })),
    )
    .await?;
    webhooks::enqueue(
        tx,
        tenant_id,
        webhooks::Event::ShortlistSent {
            campaign_id,
            round,
            creators: creators.clone(),
        },
    )
    .await?;
    Ok(SentShortlist { round, creators })
}

/// How many candidates the matching page (and the API) ranks at most.
pub const RANKED_MAX: usize = 100;

/// A campaign's candidates as the matching page ranks them: best first, each with its score and
/// breakdown, under the weights they were scored with.
pub struct Ranking {
    pub campaign: campaigns::CampaignRow,
    pub weights: Weights,
    pub ranked: Vec<(Uuid, domain::MatchScore)>,
}

/// Ranks the creator pool for a campaign (the best `limit`, never one offered before), for the
/// tenant's account manager alone — the matching page and the API both ask through here. In the
/// page's order: another tenant's campaign is not found, then the role (a seller is `Forbidden`),
/// then the company is active.
pub async fn ranked_candidates(
    tx: &mut PgConnection,
    actor: &Actor,
    cache: &PoolCache,
    db: &Db,
    campaign_id: Uuid,
    limit: usize,
) -> DomainResult<Ranking> {
    let tenant_id = actor.tenant_id()?;
    let campaign = campaigns::get(tx, tenant_id, campaign_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    actor.require(&[Access::AccountManager])?;
    actor.require_active()?;
    let ask = repo::ask_of(&campaign.campaign());
    let weights = repo::current_weights(tx).await?;
    let rates = ReferenceRates::load(tx).await?;
    let (ranked, _) = pool::rank(
        cache,
        db,
        tx,
        tenant_id,
        campaign_id,
        &ask,
        &weights,
        &rates,
        limit,
    )
    .await?;
    Ok(Ranking {
        campaign,
        weights,
        ranked,
    })
}

/// Replaces the matching weights (a platform setting: an admin, working outside any tenant, in a
/// system-scoped transaction). Each weight a number ≥ 0 and together 100, else `Invalid` with
/// the fields named. Shortlists already sent keep the scores they were sent with.
pub async fn save_matching_weights(
    tx: &mut PgConnection,
    actor: &Actor,
    input: WeightsInput,
) -> DomainResult<Weights> {
    actor.require_platform(PlatformRole::Admin)?;
    let weights = domain::parse_weights(&input).map_err(DomainError::Invalid)?;
    let before = repo::current_weights(tx).await?;
    repo::save_weights(tx, &weights, actor.user_id).await?;
    audit::record(
        tx,
        actor
            .audit(
                "settings.matching_weights",
                "platform_setting",
                repo::WEIGHTS_KEY,
            )
            .before(json!(before))
            .after(json!(weights)),
    )
    .await?;
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::ShortlistForm;

    #[test]
    fn the_send_form_reads_one_pick_or_several_each_with_its_note() {
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let one: ShortlistForm =
            serde_html_form::from_str(&format!("pick={a}&note-{a}=Great+fit&note-{b}=unpicked"))
                .unwrap();
        let sent = one.into_input(a);
        assert_eq!(sent.picks.len(), 1);
        assert_eq!(
            (sent.picks[0].creator_id, sent.picks[0].note.as_str()),
            (a, "Great fit")
        );
        let two: ShortlistForm =
            serde_html_form::from_str(&format!("pick={a}&pick=nonsense&pick={b}&note-{b}=Hi"))
                .unwrap();
        let sent = two.into_input(a);
        let picked: Vec<_> = sent
            .picks
            .iter()
            .map(|p| (p.creator_id, p.note.as_str()))
            .collect();
        assert_eq!(picked, vec![(a, ""), (b, "Hi")]);
        let none: ShortlistForm = serde_html_form::from_bytes(b"").unwrap();
        assert!(none.into_input(a).picks.is_empty());
    }
}
