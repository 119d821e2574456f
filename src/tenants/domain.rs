//! Pure rules for a seller's company profile, shops, members and sign-up: validated input or a
//! message key per field, who may edit the profile, and "a tenant keeps an owner". Nothing here
//! touches the database.

use rust_decimal::Decimal;

use super::Access;
use crate::kernel::markets::{CATEGORIES, MARKETS, SETTLEMENT_CURRENCIES, shop_currency};
use crate::kernel::text::{self, TextRule};
use crate::kernel::{Currency, FieldErrors};

/// Where a seller stands with the agency: signed up and waiting, approved, or suspended (column
/// `tenants.status`, text with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Deserialize)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    Pending,
    Active,
    Suspended,
}

impl TenantStatus {
    /// In the order the admin console lists them.
    pub const ALL: [TenantStatus; 3] = [
        TenantStatus::Pending,
        TenantStatus::Active,
        TenantStatus::Suspended,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Pending => "pending",
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<TenantStatus> {
        TenantStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            TenantStatus::Pending => "tenant.status.pending",
            TenantStatus::Active => "tenant.status.active",
            TenantStatus::Suspended => "tenant.status.suspended",
        }
    }

    pub fn is_pending(self) -> bool {
        self == TenantStatus::Pending
    }

    pub fn is_active(self) -> bool {
        self == TenantStatus::Active
    }

    pub fn is_suspended(self) -> bool {
        self == TenantStatus::Suspended
    }
}

/// A status reads as its stored text (`status == "active"` in a test's assertion).
impl PartialEq<&str> for TenantStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for TenantStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person's role in a seller (column `memberships.role`, text with a CHECK).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Deserialize)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Owner,
    Operator,
    Viewer,
}

impl MemberRole {
    /// In the order the members page lists them.
    pub const ALL: [MemberRole; 3] = [MemberRole::Owner, MemberRole::Operator, MemberRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Operator => "operator",
            MemberRole::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<MemberRole> {
        MemberRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn access(self) -> Access {
        match self {
            MemberRole::Owner => Access::Owner,
            MemberRole::Operator => Access::Operator,
            MemberRole::Viewer => Access::Viewer,
        }
    }

    pub fn label_key(self) -> &'static str {
        self.access().label_key()
    }
}

impl std::fmt::Display for MemberRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const PLATFORMS: &[&str] = &[
    "tiktok_shop",
    "shopify",
    "amazon",
    "shopee",
    "lazada",
    "independent",
];

pub const DATE_ORDERS: &[&str] = &["DMY", "MDY", "YMD"];

pub const FEE_MODELS: &[&str] = &["fixed_plus_commission", "commission_only"];

/// Slugs that would shadow a page or confuse people.
const RESERVED_SLUGS: &[&str] = &[
    "admin",
    "am",
    "api",
    "finance",
    "login",
    "logout",
    "signup",
    "static",
    "healthz",
    "account",
    "set-password",
    "new",
    "settings",
    "sextant",
    "www",
];

/// One shop row as typed (or sent to the API).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ShopInput {
    pub id: String,
    pub name: String,
    pub platform: String,
    pub url: String,
    pub time_zone: String,
    pub date_order: String,
    pub currency: String,
    pub remove: bool,
}

impl ShopInput {
    fn is_blank(&self) -> bool {
        self.id.is_empty()
            && self.name.trim().is_empty()
            && self.url.trim().is_empty()
            && self.platform.is_empty()
    }
}

/// The company profile as typed (or sent to the API); the page's form posts its shop rows as
/// `shop-{row}-{field}` (`profile::ProfileForm`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProfileInput {
    pub legal_name: String,
    pub licence: String,
    pub categories: Vec<String>,
    pub markets: Vec<String>,
    pub fee_model: String,
    /// Percent as typed, e.g. `12` or `12.5`.
    pub service_fee_percent: String,
    pub settlement_currency: String,
    pub time_zone: String,
    pub shops: Vec<ShopInput>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ShopProfile {
    /// The form row it came from (where a message about it is shown).
    pub row: usize,
    /// The existing shop this row edits (None: a new shop).
    pub id: Option<uuid::Uuid>,
    pub name: String,
    pub platform: String,
    pub url: String,
    pub time_zone: String,
    pub date_order: String,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub legal_name: String,
    pub licence: String,
    pub categories: Vec<String>,
    pub markets: Vec<String>,
    pub fee_model: String,
    /// A fraction: 12% is 0.12.
    pub service_fee_rate: Decimal,
    pub settlement_currency: String,
    pub time_zone: String,
    /// The shops to keep or create, in form order.
    pub shops: Vec<ShopProfile>,
    /// Existing shops the form removes.
    pub removed_shops: Vec<uuid::Uuid>,
}

/// Validates every field at once, so the form can show every message together.
pub fn validate_profile(input: &ProfileInput) -> Result<Profile, FieldErrors> {
    let mut errors = FieldErrors::new();
    let legal_name = input.legal_name.trim().to_string();
    if let Err(key) = text::check(&legal_name, TextRule::LINE) {
        errors.insert("legal_name".into(), key);
    } else if legal_name.chars().count() < 2 {
        errors.insert("legal_name".into(), "profile.error.legal_name");
    }
    let licence = input.licence.trim().to_ascii_uppercase();
    if licence.is_empty() {
        errors.insert("licence".into(), "profile.error.licence_required");
    } else if !is_licence_number(&licence) {
        errors.insert("licence".into(), "profile.error.licence_format");
    }
    let categories = known_values(&input.categories, CATEGORIES);
    if categories.is_none() {
        errors.insert("categories".into(), "profile.error.categories");
    }
    let markets = known_values(&input.markets, MARKETS);
    if markets.is_none() {
        errors.insert("markets".into(), "profile.error.markets");
    }
    if !FEE_MODELS.contains(&input.fee_model.as_str()) {
        errors.insert("fee_model".into(), "profile.error.fee_model");
    }
    let service_fee_rate = match parse_percent(&input.service_fee_percent) {
        Some(p) if p >= Decimal::new(5, 0) && p <= Decimal::new(20, 0) => {
            Some(p / Decimal::new(100, 0))
        }
        Some(_) => {
            errors.insert("service_fee".into(), "profile.error.service_fee_range");
            None
        }
        None => {
            errors.insert("service_fee".into(), "profile.error.service_fee_number");
            None
        }
    };
    if !SETTLEMENT_CURRENCIES.contains(&input.settlement_currency.as_str()) {
        errors.insert(
            "settlement_currency".into(),
            "profile.error.settlement_currency",
        );
    }
    let time_zone = input.time_zone.trim().to_string();
    if !crate::web::fmt::is_time_zone(&time_zone) {
        errors.insert("time_zone".into(), "profile.error.time_zone");
    }

    let mut shops = Vec::new();
    let mut removed_shops = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, row) in input.shops.iter().enumerate() {
        if row.is_blank() {
            continue;
        }
        let id = if row.id.is_empty() {
            None
        } else {
            match row.id.parse::<uuid::Uuid>() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.insert(format!("shop-{i}-name"), "profile.error.shop_unknown");
                    continue;
                }
            }
        };
        if row.remove {
            if let Some(id) = id {
                removed_shops.push(id);
            }
            continue;
        }
        match validate_shop(row) {
            Ok(mut shop) => {
                shop.id = id;
                shop.row = i;
                if !names.insert(shop.name.to_lowercase()) {
                    errors.insert(format!("shop-{i}-name"), "profile.error.shop_duplicate");
                }
                shops.push(shop);
            }
            Err(shop_errors) => {
                for (field, key) in shop_errors {
                    errors.insert(format!("shop-{i}-{field}"), key);
                }
            }
        }
    }
    if shops.is_empty() && !errors.keys().any(|k| k.starts_with("shop-")) {
        errors.insert("shops".into(), "profile.error.shops_required");
    }

    match (errors.is_empty(), categories, markets, service_fee_rate) {
        (true, Some(categories), Some(markets), Some(service_fee_rate)) => Ok(Profile {
            legal_name,
            licence,
            categories,
            markets,
            fee_model: input.fee_model.clone(),
            service_fee_rate,
            settlement_currency: input.settlement_currency.clone(),
            time_zone,
            shops,
            removed_shops,
        }),
        _ => Err(errors),
    }
}

/// One shop row: field (without the row prefix) → message key.
pub fn validate_shop(row: &ShopInput) -> Result<ShopProfile, Vec<(&'static str, &'static str)>> {
    let mut errors = Vec::new();
    let name = row.name.trim().to_string();
    if let Err(key) = text::required(&name, TextRule::LINE, "profile.error.shop_name") {
        errors.push(("name", key));
    }
    if !PLATFORMS.contains(&row.platform.as_str()) {
        errors.push(("platform", "profile.error.shop_platform"));
    }
    let url = row.url.trim().to_string();
    if let Err(key) = text::check(&url, TextRule::URL) {
        errors.push(("url", key));
    } else if !is_shop_url(&url) {
        errors.push(("url", "profile.error.shop_url"));
    }
    if !crate::web::fmt::is_time_zone(row.time_zone.trim()) {
        errors.push(("time_zone", "profile.error.time_zone"));
    }
    if !DATE_ORDERS.contains(&row.date_order.as_str()) {
        errors.push(("date_order", "profile.error.shop_date_order"));
    }
    let currency = shop_currency(&row.currency);
    if currency.is_none() {
        errors.push(("currency", "profile.error.shop_currency"));
    }
    let (true, Some(currency)) = (errors.is_empty(), currency) else {
        return Err(errors);
    };
    Ok(ShopProfile {
        row: 0,
        id: None,
        name,
        platform: row.platform.clone(),
        url,
        time_zone: row.time_zone.trim().to_string(),
        date_order: row.date_order.clone(),
        currency,
    })
}

/// An http(s) URL with a real-looking host (`shop.example.com`, not `shop` or `http://`).
pub fn is_shop_url(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && u.host_str()
                    .is_some_and(|h| h.contains('.') && !h.starts_with('.') && !h.ends_with('.'))
                && !s.contains(char::is_whitespace)
                && text::check(s, TextRule::URL).is_ok()
        }
        Err(_) => false,
    }
}

/// The 18-character unified social credit code (统一社会信用代码), or a Hong Kong business
/// registration number (8 digits).
pub fn is_licence_number(s: &str) -> bool {
    const USCC: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    if s.len() == 8 && s.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    s.len() == 18 && s.chars().all(|c| USCC.contains(c))
}

/// `12`, `12.5`, `12%` → 12 / 12.5; anything else → None.
pub fn parse_percent(s: &str) -> Option<Decimal> {
    let s = s.trim().trim_end_matches('%').trim();
    if s.is_empty() {
        return None;
    }
    s.parse::<Decimal>().ok()
}

fn known_values(values: &[String], allowed: &[&str]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !allowed.contains(&v.as_str()) {
            return None;
        }
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether someone with `access` may change the company profile of a tenant in `status`: its owner,
/// unless the agency suspended it (a pending tenant completes its profile while it waits).
pub fn may_edit_profile(access: Access, status: TenantStatus) -> bool {
    access == Access::Owner && status != TenantStatus::Suspended
}

/// A person's display name as typed: not empty, a [`TextRule::SHORT`].
pub fn is_display_name(name: &str) -> bool {
    display_name(name, "").is_ok()
}

/// A person's display name trimmed, or the message key: `empty_key` when blank, else the text
/// rule's (a control character, more than 80 characters).
pub fn display_name<'a>(name: &'a str, empty_key: &'static str) -> Result<&'a str, &'static str> {
    text::required(name, TextRule::SHORT, empty_key)
}

/// An e-mail address trimmed, or the message key: the text rule's (a control character, too
/// long), else `bad_key` when it is not an address.
pub fn email_address<'a>(email: &'a str, bad_key: &'static str) -> Result<&'a str, &'static str> {
    let email = text::check(email, TextRule::EMAIL)?;
    if is_email(email) {
        Ok(email)
    } else {
        Err(bad_key)
    }
}

/// A new member's fields (uniqueness is checked against the database after).
pub fn validate_new_member(name: &str, email: &str, role: &str) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Err(key) = display_name(name, "members.error.name") {
        errors.insert("name".into(), key);
    }
    if let Err(key) = email_address(email, "members.error.email") {
        errors.insert("email".into(), key);
    }
    if MemberRole::parse(role).is_none() {
        errors.insert("role".into(), "members.error.role");
    }
    errors
}

/// A tenant always keeps an owner: changing a member from `old_role` to `new_role` (None: removing
/// them) is refused when they are an owner, stop being one, and `owners` (counted under lock) is
/// all there are.
pub fn leaves_no_owner(old_role: MemberRole, new_role: Option<MemberRole>, owners: i64) -> bool {
    old_role == MemberRole::Owner && new_role != Some(MemberRole::Owner) && owners <= 1
}

/// The sign-up form as typed (or sent to the API).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SignupInput {
    pub company: String,
    pub slug: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
}

/// Sign-up fields; uniqueness of the slug and email is checked against the database after.
pub fn validate_signup(input: &SignupInput) -> FieldErrors {
    let mut errors = FieldErrors::new();
    match text::check(&input.company, TextRule::SHORT) {
        Err(key) => {
            errors.insert("company".into(), key);
        }
        Ok(company) if company.chars().count() < 2 => {
            errors.insert("company".into(), "signup.error.company");
        }
        Ok(_) => {}
    }
    if !is_slug(input.slug.trim()) {
        errors.insert("slug".into(), "signup.error.slug");
    } else if RESERVED_SLUGS.contains(&input.slug.trim()) {
        errors.insert("slug".into(), "signup.error.slug_taken");
    }
    if let Err(key) = display_name(&input.name, "signup.error.name") {
        errors.insert("name".into(), key);
    }
    if let Err(key) = email_address(&input.email, "signup.error.email") {
        errors.insert("email".into(), key);
    }
    validate_new_password(&input.password, &input.password_confirm, &mut errors);
    errors
}

/// At least 10 characters, typed the same twice.
pub fn validate_new_password(password: &str, confirm: &str, errors: &mut FieldErrors) {
    if let Err(key) = text::check_password(password) {
        errors.insert("password".into(), key);
    } else if password.chars().count() < 10 {
        errors.insert("password".into(), "password.error.too_short");
    } else if password != confirm {
        errors.insert("password_confirm".into(), "password.error.mismatch");
    }
}

/// 3–40 characters: lowercase letters, digits and inner hyphens.
pub fn is_slug(s: &str) -> bool {
    let len = s.len();
    (3..=40).contains(&len)
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

pub fn is_email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.contains(char::is_whitespace)
        && !s.contains(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ProfileInput {
        ProfileInput {
            legal_name: "深圳市露米家居科技有限公司".into(),
            licence: "91440300MA5G8K2X7Q".into(),
            categories: vec!["home_kitchen".into()],
            markets: vec!["US".into(), "GB".into()],
            fee_model: "fixed_plus_commission".into(),
            service_fee_percent: "12".into(),
            settlement_currency: "CNY".into(),
            time_zone: "Asia/Shanghai".into(),
            shops: vec![ShopInput {
                name: "Lumi US".into(),
                platform: "tiktok_shop".into(),
                url: "https://shop.lumi.invalid/us".into(),
                time_zone: "America/Los_Angeles".into(),
                date_order: "MDY".into(),
                currency: "USD".into(),
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_complete_profile_is_accepted_with_the_fee_as_a_fraction() {
        let profile = validate_profile(&good()).unwrap();
        assert_eq!(profile.service_fee_rate, Decimal::new(12, 2));
        assert_eq!(profile.shops.len(), 1);
    }

    #[test]
    fn each_bad_field_gets_its_own_message() {
        let mut input = good();
        input.legal_name = " ".into();
        input.licence = "12345".into();
        input.categories = vec![];
        input.markets = vec!["XX".into()];
        input.service_fee_percent = "35".into();
        input.settlement_currency = "EUR".into();
        input.time_zone = "Mars/Base".into();
        input.shops[0].url = "htp:/broken".into();
        input.shops[0].time_zone = "Nowhere/Else".into();
        let errors = validate_profile(&input).unwrap_err();
        assert_eq!(errors["legal_name"], "profile.error.legal_name");
        assert_eq!(errors["licence"], "profile.error.licence_format");
        assert_eq!(errors["categories"], "profile.error.categories");
        assert_eq!(errors["markets"], "profile.error.markets");
        assert_eq!(errors["service_fee"], "profile.error.service_fee_range");
        assert_eq!(
            errors["settlement_currency"],
            "profile.error.settlement_currency"
        );
        assert_eq!(errors["time_zone"], "profile.error.time_zone");
        assert_eq!(errors["shop-0-url"], "profile.error.shop_url");
        assert_eq!(errors["shop-0-time_zone"], "profile.error.time_zone");
    }

    #[test]
    fn the_service_fee_must_be_a_number_from_5_to_20_percent() {
        for (typed, ok) in [
            ("5", true),
            ("20", true),
            ("12.5%", true),
            ("4.99", false),
            ("20.01", false),
            ("35", false),
            ("abc", false),
            ("", false),
        ] {
            let mut input = good();
            input.service_fee_percent = typed.into();
            assert_eq!(validate_profile(&input).is_ok(), ok, "{typed}");
        }
    }

    #[test]
    fn at_least_one_shop_and_no_duplicate_names() {
        let mut input = good();
        input.shops.clear();
        assert_eq!(
            validate_profile(&input).unwrap_err()["shops"],
            "profile.error.shops_required"
        );
        let mut input = good();
        let mut twin = input.shops[0].clone();
        twin.name = "lumi us".into();
        input.shops.push(twin);
        assert_eq!(
            validate_profile(&input).unwrap_err()["shop-1-name"],
            "profile.error.shop_duplicate"
        );
        // Blank rows (the empty "add a shop" row) are ignored.
        let mut input = good();
        input.shops.push(ShopInput::default());
        assert!(validate_profile(&input).is_ok());
    }

    #[test]
    fn shop_urls_need_a_scheme_and_a_real_host() {
        assert!(is_shop_url("https://shop.example.com/store"));
        assert!(is_shop_url("http://lumihome.invalid"));
        assert!(!is_shop_url("shop.example.com"));
        assert!(!is_shop_url("https://localhost"));
        assert!(!is_shop_url("ftp://shop.example.com"));
        assert!(!is_shop_url("https://exa mple.com"));
        assert!(!is_shop_url("javascript:alert(1)"));
    }

    #[test]
    fn licence_numbers_follow_the_uscc_or_hong_kong_format() {
        assert!(is_licence_number("91440300MA5G8K2X7Q"));
        assert!(is_licence_number("12345678"));
        assert!(!is_licence_number("91440300MA5G8K2X7"));
        assert!(!is_licence_number("91440300MA5G8K2XIO"));
    }

    #[test]
    fn the_last_owner_can_neither_leave_nor_be_demoted() {
        assert!(leaves_no_owner(MemberRole::Owner, None, 1));
        assert!(leaves_no_owner(
            MemberRole::Owner,
            Some(MemberRole::Operator),
            1
        ));
        assert!(!leaves_no_owner(
            MemberRole::Owner,
            Some(MemberRole::Owner),
            1
        ));
        assert!(!leaves_no_owner(
            MemberRole::Owner,
            Some(MemberRole::Viewer),
            2
        ));
        assert!(!leaves_no_owner(MemberRole::Owner, None, 2));
        assert!(!leaves_no_owner(MemberRole::Operator, None, 1));
        assert!(!leaves_no_owner(
            MemberRole::Viewer,
            Some(MemberRole::Operator),
            0
        ));
    }

    #[test]
    fn only_the_owner_edits_the_profile_and_not_while_suspended() {
        assert!(may_edit_profile(Access::Owner, TenantStatus::Pending));
        assert!(may_edit_profile(Access::Owner, TenantStatus::Active));
        assert!(!may_edit_profile(Access::Owner, TenantStatus::Suspended));
        for access in [Access::Operator, Access::Viewer, Access::AccountManager] {
            assert!(!may_edit_profile(access, TenantStatus::Active));
        }
    }

    #[test]
    fn a_new_member_needs_a_name_an_email_and_a_known_role() {
        assert!(validate_new_member("Ma Ke", "ma.ke@lumi.example", "operator").is_empty());
        let errors = validate_new_member(" ", "nope", "admin");
        assert_eq!(errors["name"], "members.error.name");
        assert_eq!(errors["email"], "members.error.email");
        assert_eq!(errors["role"], "members.error.role");
        assert!(validate_new_member(&"x".repeat(81), "a@b.example", "viewer").contains_key("name"));
    }

    #[test]
    fn signup_checks_every_field() {
        let errors = validate_signup(&SignupInput {
            company: "".into(),
            slug: "Bad Slug".into(),
            name: "".into(),
            email: "not-an-email".into(),
            password: "short".into(),
            password_confirm: "short".into(),
        });
        assert_eq!(errors.len(), 5);
        let errors = validate_signup(&SignupInput {
            company: "Acme".into(),
            slug: "admin".into(),
            name: "Amy".into(),
            email: "amy@acme.example".into(),
            password: "long-enough-1".into(),
            password_confirm: "long-enough-2".into(),
        });
        assert_eq!(errors["slug"], "signup.error.slug_taken");
        assert_eq!(errors["password_confirm"], "password.error.mismatch");
        assert!(is_slug("acme-home") && !is_slug("-acme") && !is_slug("ac") && !is_slug("a--b"));
    }
}
