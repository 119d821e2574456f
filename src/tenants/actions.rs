//! The tenant's state changes, each one function `(tx, &Actor, input)` that checks who may do it,
//! applies its rule (`domain`), writes through `repo` and records its audit entry in the caller's
//! transaction: members (add, change role, remove, reset link), the company profile with its
//! shops, and sign-up. Pages and the API call these; nothing of a rule lives in a handler.
//!
//! Two actions take one more thing than their input: `sign_up` hashes a password (the app's
//! `PasswordService`) and has no `Actor` yet — the visitor becomes one by signing up — and
//! `issue_member_reset_link` must look across tenants, which only a named system scope may do (the
//! `Db` it opens one from).

use std::net::IpAddr;

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::domain::{self, MemberRole, ProfileInput, TenantStatus};
use super::{Access, repo};
use crate::audit;
use crate::auth::links::{self, IssuedLink, Purpose};
use crate::auth::password::PasswordService;
use crate::auth::{Actor, repo as users};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::kernel::FieldErrors;

/// Members are managed by the tenant's owner, and only once the agency approved the tenant.
fn require_owner_of_active_tenant(actor: &Actor) -> DomainResult<Uuid> {
    actor.require(&[Access::Owner])?;
    actor.require_active()?;
    actor.tenant_id()
}

/// The form field that carries messages about one member's row on the members page.
pub fn member_field(user_id: Uuid) -> String {
    format!("role-{user_id}")
}

/// A person to add to the tenant with a role, as typed on the members page (or sent to the API).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AddMember {
    pub name: String,
    pub email: String,
    /// `owner`, `operator` or `viewer`.
    pub role: String,
}

/// The member just added, with the link to pass on when they have no password yet.
#[derive(Clone, Debug)]
pub struct AddedMember {
    pub user_id: Uuid,
    pub email: String,
    pub link: Option<IssuedLink>,
}

/// Adds a member. Someone new gets an account without a password and an invitation link;
/// someone who already has an account (in another tenant) logs in with their password. Agency
/// staff cannot be members, nor can someone be added twice (`Invalid` on `email`).
pub async fn add_member(
    tx: &mut PgConnection,
    actor: &Actor,
    input: AddMember,
) -> DomainResult<AddedMember> {
    let tenant_id = require_owner_of_active_tenant(actor)?;
    let name = input.name.trim().to_string();
    let email = input.email.trim().to_string();
    let mut errors = domain::validate_new_member(&name, &email, &input.role);
    let existing = if errors.is_empty() {
        users::find_by_email(&mut *tx, &email).await?
    } else {
        None
    };
    if let Some(user) = &existing {
        if user.platform_role.is_some() {
            errors.insert("email".into(), "members.error.staff");
        } else if repo::member(tx, tenant_id, user.id).await?.is_some() {
            errors.insert("email".into(), "members.error.already_member");
        }
    }
    let role = match MemberRole::parse(&input.role) {
        Some(role) if errors.is_empty() => role,
        _ => return Err(DomainError::Invalid(errors)),
    };

    // Two owners adding the same person at once: the second gets the field's message.
    let taken = |e| {
        DomainError::unique_as_field(
            e,
            &[
                ("users_email_key", "email", "members.error.added_meanwhile"),
                ("memberships_pkey", "email", "members.error.already_member"),
            ],
        )
    };
    let (user_id, needs_password) = match &existing {
        Some(user) => (user.id, !user.has_password),
        None => (
            users::create_invited(tx, &email, &name, None)
                .await
                .map_err(taken)?,
            true,
        ),
    };
    repo::add_member(tx, tenant_id, user_id, role)
        .await
        .map_err(taken)?;
    // Someone who already has a password logs in with it; a new person gets a link.
    let link = if needs_password {
        Some(links::issue(tx, user_id, Some(tenant_id), Purpose::Invite, actor.user_id).await?)
    } else {
        None
    };
    audit::record(
        tx,
        actor
            .audit("member.add", "membership", user_id)
            .after(json!({ "email": email, "role": role.as_str() })),
    )
    .await?;
    Ok(AddedMember {
        user_id,
        email,
        link,
    })
}

/// The member behind `user_id` in this tenant, with the number of owners; the owners' rows are
/// locked first so two owners cannot demote each other at once and leave none.
async fn member_for_change(
    tx: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
) -> DomainResult<(repo::Member, i64)> {
    let owners = repo::lock_owners(tx, tenant_id).await?;
    let member = repo::member(tx, tenant_id, user_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok((member, owners))
}

/// A member's new role.
#[derive(Clone, Debug)]
pub struct ChangeMemberRole {
    pub user_id: Uuid,
    pub role: String,
}

/// Changes a member's role (nothing is written when it stays the same). An unknown role is
/// `Invalid` on the member's row field (`role-{id}`); demoting the last owner is `Refused`.
/// Returns whether the role changed.
pub async fn change_member_role(
    tx: &mut PgConnection,
    actor: &Actor,
    input: ChangeMemberRole,
) -> DomainResult<bool> {
    let tenant_id = require_owner_of_active_tenant(actor)?;
    let (member, owners) = member_for_change(tx, tenant_id, input.user_id).await?;
    let Some(new_role) = MemberRole::parse(&input.role) else {
        return Err(DomainError::field(
            &member_field(input.user_id),
            "members.error.role",
        ));
    };
    if domain::leaves_no_owner(member.role, Some(new_role), owners) {
        return Err(DomainError::Refused("members.error.last_owner"));
    }
    if new_role == member.role {
        return Ok(false);
    }
    repo::set_member_role(tx, tenant_id, input.user_id, new_role).await?;
    audit::record(
        tx,
        actor
            .audit("member.role_change", "membership", input.user_id)
            .before(json!({ "role": member.role.as_str() }))
            .after(json!({ "role": new_role.as_str() })),
    )
    .await?;
    Ok(true)
}

/// The member to remove.
#[derive(Clone, Copy, Debug)]
pub struct RemoveMember {
    pub user_id: Uuid,
}

/// Removes a member from the tenant and voids their unused links here (their account stays: they
/// may belong to other tenants). Removing the last owner is `Refused`.
pub async fn remove_member(
    tx: &mut PgConnection,
    actor: &Actor,
    input: RemoveMember,
) -> DomainResult<()> {
    let tenant_id = require_owner_of_active_tenant(actor)?;
    let (member, owners) = member_for_change(tx, tenant_id, input.user_id).await?;
    if domain::leaves_no_owner(member.role, None, owners) {
        return Err(DomainError::Refused("members.error.last_owner"));
    }
    repo::remove_member(tx, tenant_id, input.user_id).await?;
    links::revoke_for(tx, input.user_id, Some(tenant_id)).await?;
    audit::record(
        tx,
        actor
            .audit("member.remove", "membership", input.user_id)
            .before(json!({ "role": member.role.as_str() })),
    )
    .await?;
    Ok(())
}

/// The member who gets a new password link.
#[derive(Clone, Copy, Debug)]
pub struct IssueMemberResetLink {
    pub user_id: Uuid,
}

/// The link issued, and for whom.
#[derive(Clone, Debug)]
pub struct MemberLink {
    pub email: String,
    pub link: IssuedLink,
}

/// Issues a one-time link for a member: a reset link, or a new invitation for someone who never
/// set a password. An owner may reset only people who belong to this seller alone — otherwise a
/// link from one tenant would open the person's other tenants too — so someone who also belongs
/// elsewhere is `Refused` (looked up in a system scope opened from `db`: no tenant sees another's
/// memberships).
pub async fn issue_member_reset_link(
    tx: &mut PgConnection,
    actor: &Actor,
    db: &Db,
    input: IssueMemberResetLink,
) -> DomainResult<MemberLink> {
    let tenant_id = require_owner_of_active_tenant(actor)?;
    let member = repo::member(tx, tenant_id, input.user_id)
        .await?
        .ok_or(DomainError::NotFound)?;
    if repo::other_memberships(db, input.user_id, tenant_id).await? > 0 {
        return Err(DomainError::Refused("members.error.reset_elsewhere"));
    }
    let purpose = Purpose::for_person(member.has_password);
    let link = links::issue(tx, input.user_id, Some(tenant_id), purpose, actor.user_id).await?;
    audit::record(
        tx,
        actor.audit("member.password_link", "membership", input.user_id),
    )
    .await?;
    Ok(MemberLink {
        email: member.email,
        link,
    })
}

/// Saves the company profile and its shops, whole or not at all: every field is checked first
/// (`Invalid` names each wrong one, shop rows as `shop-{row}-{field}`); a shop id that is not this
/// tenant's is `NotFound`; a shop name taken meanwhile by another save is `Invalid` on its row.
/// Only the owner edits the profile, and not while the tenant is suspended (`Forbidden`); a
/// pending tenant may, so it can complete its profile while it waits.
pub async fn save_profile(
    tx: &mut PgConnection,
    actor: &Actor,
    input: ProfileInput,
) -> DomainResult<()> {
    require_profile_editor(actor)?;
    let tenant_id = actor.tenant_id()?;
    let profile = domain::validate_profile(&input).map_err(DomainError::Invalid)?;

    let before = repo::profile(tx, tenant_id).await?;
    let shops_before = repo::shops(tx, tenant_id).await?;
    repo::save_profile(tx, tenant_id, &profile).await?;
    for id in &profile.removed_shops {
        if !repo::remove_shop(tx, tenant_id, *id).await? {
            return Err(DomainError::NotFound);
        }
    }
    for shop in &profile.shops {
        // Another tenant's shop id (or one removed meanwhile) is unknown here, and the caller's
        // transaction is dropped, so nothing of this form is saved.
        let field = format!("shop-{}-name", shop.row);
        let saved = repo::save_shop(tx, tenant_id, shop).await.map_err(|e| {
            DomainError::unique_as_field(
                e,
                &[(
                    "shops_tenant_id_name_key",
                    &field,
                    "profile.error.shop_duplicate",
                )],
            )
        })?;
        if !saved {
            return Err(DomainError::NotFound);
        }
    }
    let shops_after = repo::shops(tx, tenant_id).await?;
    audit::record(
        tx,
        actor
            .audit("tenant.profile_update", "tenant", tenant_id)
            .before(json!({
                "legal_name": before.legal_name,
                "business_licence_no": before.business_licence_no,
                "main_categories": before.main_categories,
                "target_markets": before.target_markets,
                "fee_model": before.fee_model,
                "service_fee_rate": before.service_fee_rate.to_string(),
                "settlement_currency": before.settlement_currency,
                "time_zone": before.time_zone,
                "shops": shops_before.iter().map(shop_json).collect::<Vec<_>>(),
            }))
            .after(json!({
                "legal_name": profile.legal_name,
                "business_licence_no": profile.licence,
                "main_categories": profile.categories,
                "target_markets": profile.markets,
                "fee_model": profile.fee_model,
                "service_fee_rate": profile.service_fee_rate.to_string(),
                "settlement_currency": profile.settlement_currency,
                "time_zone": profile.time_zone,
                "shops": shops_after.iter().map(shop_json).collect::<Vec<_>>(),
            })),
    )
    .await?;
    Ok(())
}

/// Forbidden unless the actor may change the tenant's profile (`domain::may_edit_profile`); the
/// profile page also asks this before it shows an extra shop row.
pub fn require_profile_editor(actor: &Actor) -> DomainResult<()> {
    let tenant = actor.tenant()?;
    actor.require(&[Access::Owner])?;
    let access = actor.access().ok_or(DomainError::NotFound)?;
    if domain::may_edit_profile(access, tenant.status) {
        Ok(())
    } else {
        Err(DomainError::Forbidden)
    }
}

fn shop_json(s: &repo::Shop) -> serde_json::Value {
    json!({
        "id": s.id, "name": s.name, "platform": s.platform, "url": s.url,
        "time_zone": s.time_zone, "date_order": s.date_order, "currency": s.currency.code(),
    })
}

/// A new seller company and its owner, as typed on the sign-up form.
#[derive(Clone, Debug)]
pub struct SignUp {
    /// The new tenant's id: the caller opens the tenant-scoped transaction for it.
    pub tenant_id: Uuid,
    pub company: String,
    pub slug: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
    pub ip: Option<IpAddr>,
}

/// The tenant and owner just created.
#[derive(Clone, Debug)]
pub struct SignedUp {
    pub tenant_id: Uuid,
    pub slug: String,
    pub user_id: Uuid,
}

/// Creates a pending tenant (it awaits the agency's approval) with its owner, who has the password
/// they chose. Runs in the new tenant's own scope: `tx` is a tenant-scoped transaction for
/// `input.tenant_id`. A taken slug or email is `Invalid` on that field, also when another sign-up
/// takes it a moment before this one commits.
pub async fn sign_up(
    tx: &mut PgConnection,
    passwords: &PasswordService,
    input: SignUp,
) -> DomainResult<SignedUp> {
    let form = domain::SignupInput {
        company: input.company.trim().to_string(),
        slug: input.slug.trim().to_lowercase(),
        name: input.name.trim().to_string(),
        email: input.email.trim().to_string(),
        password: input.password,
        password_confirm: input.password_confirm,
    };
    let mut errors: FieldErrors = domain::validate_signup(&form);
    if !errors.contains_key("slug") && repo::tenant_by_slug(&mut *tx, &form.slug).await?.is_some() {
        errors.insert("slug".into(), "signup.error.slug_taken");
    }
    if !errors.contains_key("email") && users::find_by_email(&mut *tx, &form.email).await?.is_some()
    {
        errors.insert("email".into(), "signup.error.email_taken");
    }
    if !errors.is_empty() {
        return Err(DomainError::Invalid(errors));
    }

    let hash = passwords.hash(&form.password).await?;
    let tenant_id = input.tenant_id;
    let created = async {
        repo::insert_pending_tenant(tx, tenant_id, &form.slug, &form.company).await?;
        let user_id = users::create_invited(tx, &form.email, &form.name, None).await?;
        users::set_password(tx, user_id, &hash).await?;
        repo::add_member(tx, tenant_id, user_id, MemberRole::Owner).await?;
        Ok::<_, sqlx::Error>(user_id)
    }
    .await;
    // Someone took the slug or the email a moment ago: say so next to the field.
    let user_id = created.map_err(|e| {
        DomainError::unique_as_field(
            e,
            &[
                ("tenants_slug_key", "slug", "signup.error.slug_taken"),
                ("users_email_key", "email", "signup.error.email_taken"),
            ],
        )
    })?;
    audit::record(
        tx,
        audit::Entry::new("tenant.signup", "tenant", Some(tenant_id.to_string()))
            .actor(Some(user_id), form.email.clone())
            .tenant(Some(tenant_id))
            .after(json!({
                "slug": form.slug, "display_name": form.company,
                "owner": form.email, "status": TenantStatus::Pending.as_str(),
            }))
            .ip(input.ip.map(|i| i.to_string())),
    )
    .await?;
    Ok(SignedUp {
        tenant_id,
        slug: form.slug,
        user_id,
    })
}
