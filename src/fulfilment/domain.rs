//! The rules of fulfilment records (SPEC §6): the nine kinds and three severities, the default
//! deduction policy and what a record is worth under a policy, which kinds a person records by
//! hand, what a correction may do, and when the background job records a late or missing post.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    LatePublish,
    NoPublish,
    ScriptDeviation,
    CoreFeatureMissing,
    CartLinkMissing,
    RevisionLimitExceeded,
    PostRemovedEarly,
    ComplianceIssue,
    SlowResponse,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::LatePublish,
        Kind::NoPublish,
        Kind::ScriptDeviation,
        Kind::CoreFeatureMissing,
        Kind::CartLinkMissing,
        Kind::RevisionLimitExceeded,
        Kind::PostRemovedEarly,
        Kind::ComplianceIssue,
        Kind::SlowResponse,
    ];

    /// The stored code (the column's CHECK list).
    pub fn code(self) -> &'static str {
        match self {
            Kind::LatePublish => "late_publish",
            Kind::NoPublish => "no_publish",
            Kind::ScriptDeviation => "script_deviation",
            Kind::CoreFeatureMissing => "core_feature_missing",
            Kind::CartLinkMissing => "cart_link_missing",
            Kind::RevisionLimitExceeded => "revision_limit_exceeded",
            Kind::PostRemovedEarly => "post_removed_early",
            Kind::ComplianceIssue => "compliance_issue",
            Kind::SlowResponse => "slow_response",
        }
    }

    pub fn parse(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The message key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            Kind::LatePublish => "fulfilment.kind.late_publish",
            Kind::NoPublish => "fulfilment.kind.no_publish",
            Kind::ScriptDeviation => "fulfilment.kind.script_deviation",
            Kind::CoreFeatureMissing => "fulfilment.kind.core_feature_missing",
            Kind::CartLinkMissing => "fulfilment.kind.cart_link_missing",
            Kind::RevisionLimitExceeded => "fulfilment.kind.revision_limit_exceeded",
            Kind::PostRemovedEarly => "fulfilment.kind.post_removed_early",
            Kind::ComplianceIssue => "fulfilment.kind.compliance_issue",
            Kind::SlowResponse => "fulfilment.kind.slow_response",
        }
    }

    /// Late and missing posts are the job's to record (a person may correct them); every other
    /// kind a person records by hand.
    pub fn by_hand(self) -> bool {
        !matches!(self, Kind::LatePublish | Kind::NoPublish)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Major,
    Severe,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Minor, Severity::Major, Severity::Severe];

    pub fn code(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Severe => "severe",
        }
    }

    pub fn parse(code: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Severity::Minor => "fulfilment.severity.minor",
            Severity::Major => "fulfilment.severity.major",
            Severity::Severe => "fulfilment.severity.severe",
        }
    }
}

/// A money deduction a rule adds: a fixed amount, or a share of the collaboration's fixed fee
/// (worked out by settlement from the frozen percent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MoneyRule {
    Amount { amount: Decimal, currency: String },
    PercentOfFixedFee { percent_of_fixed_fee: Decimal },
}

/// One line of a policy: what a record of this kind and severity is worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub kind: Kind,
    pub severity: Severity,
    pub points: Decimal,
    pub money: Option<MoneyRule>,
}

/// A version of the tenant's deduction policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub version: i32,
    pub rules: Vec<Rule>,
}

/// SPEC §6's points for a severity under the default policy.
pub fn default_points(severity: Severity) -> Decimal {
    match severity {
        Severity::Minor => Decimal::new(5, 1),
        Severity::Major => Decimal::ONE,
        Severity::Severe => Decimal::TWO,
    }
}

/// The default policy's rules: every kind × severity, SPEC's points, no money.
pub fn default_rules() -> Vec<Rule> {
    Kind::ALL
        .into_iter()
        .flat_map(|kind| {
            Severity::ALL.into_iter().map(move |severity| Rule {
                kind,
                severity,
                points: default_points(severity),
                money: None,
            })
        })
        .collect()
}

/// What a record is worth, frozen when it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worth {
    pub policy_version: i32,
    pub points: Decimal,
    pub money: Option<MoneyRule>,
}

impl Policy {
    /// The worth of a record of `kind` and `severity`; a pair the policy leaves out is worth the
    /// default points and no money.
    pub fn worth(&self, kind: Kind, severity: Severity) -> Worth {
        let rule = self
            .rules
            .iter()
            .find(|r| r.kind == kind && r.severity == severity);
        Worth {
            policy_version: self.version,
            points: rule.map_or_else(|| default_points(severity), |r| r.points),
            money: rule.and_then(|r| r.money.clone()),
        }
    }
}

/// The message keys of the rules below.
pub const E_KIND: &str = "fulfilment.error.kind";
pub const E_KIND_AUTOMATIC: &str = "fulfilment.error.kind_automatic";
pub const E_SEVERITY: &str = "fulfilment.error.severity";
pub const E_OCCURRED_AT: &str = "fulfilment.error.occurred_at";
pub const E_OCCURRED_FUTURE: &str = "fulfilment.error.occurred_future";
pub const E_REASON_REQUIRED: &str = "fulfilment.error.reason_required";
pub const E_ALREADY_CORRECTED: &str = "fulfilment.error.already_corrected";
pub const E_NOT_COUNTING: &str = "fulfilment.error.not_counting";
pub const E_ACTION: &str = "fulfilment.error.correction_action";

/// The kind a person may record by hand, or the message key.
pub fn kind_by_hand(raw: &str) -> Result<Kind, &'static str> {
    let kind = Kind::parse(raw.trim()).ok_or(E_KIND)?;
    if kind.by_hand() {
        Ok(kind)
    } else {
        Err(E_KIND_AUTOMATIC)
    }
}

pub fn severity(raw: &str) -> Result<Severity, &'static str> {
    Severity::parse(raw.trim()).ok_or(E_SEVERITY)
}

/// What a correction does to the record it supersedes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionAction {
    /// Takes the record back: it counts no more, nothing replaces it.
    Withdraw,
    /// Replaces it with the same kind at this severity (and the new note).
    Replace(Severity),
}

/// The state of the record a correction targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// A later record already supersedes it.
    pub superseded: bool,
    /// It is itself a withdrawal (it counts for nothing; nothing is left to correct).
    pub withdrawn: bool,
}

/// Whether a record may be corrected: only one that counts (neither superseded nor a
/// withdrawal), and only with a reason.
pub fn may_correct(target: Target, reason: &str) -> Result<(), (&'static str, &'static str)> {
    if target.superseded {
        return Err(("reason", E_ALREADY_CORRECTED));
    }
    if target.withdrawn {
        return Err(("reason", E_NOT_COUNTING));
    }
    if reason.trim().is_empty() {
        return Err(("reason", E_REASON_REQUIRED));
    }
    Ok(())
}

/// The correction form's choice: `withdraw`, or a severity code (replace at that severity).
pub fn correction_action(raw: &str) -> Result<CorrectionAction, &'static str> {
    match raw.trim() {
        "withdraw" => Ok(CorrectionAction::Withdraw),
        other => Severity::parse(other)
            .map(CorrectionAction::Replace)
            .ok_or(E_ACTION),
    }
}

/// What the background job records for a collaboration with a publish deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutomaticEvent {
    /// Nothing was posted by the deadline + grace days: severe, dated the deadline.
    NoPublish { deadline: Date },
    /// The first post came `days_late` days after the deadline (dated the post's day).
    LatePublish {
        days_late: u32,
        severity: Severity,
        posted: Date,
    },
}

impl AutomaticEvent {
    pub fn kind(self) -> Kind {
        match self {
            AutomaticEvent::NoPublish { .. } => Kind::NoPublish,
            AutomaticEvent::LatePublish { .. } => Kind::LatePublish,
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            AutomaticEvent::NoPublish { .. } => Severity::Severe,
            AutomaticEvent::LatePublish { severity, .. } => severity,
        }
    }
}

/// The job's rule, over calendar days in the tenant's time zone. The deadline day itself is in
/// time. With no post: `no_publish` once `today` is past deadline + grace days. With a first post
/// after the deadline day: `late_publish`, minor when at most `grace_days` late, major after —
/// unless a `no_publish` was already recorded (it stands; a person may correct it), so the same
/// lateness is not counted twice.
pub fn automatic_event(
    deadline: Date,
    grace_days: u32,
    first_post: Option<Date>,
    today: Date,
    no_publish_recorded: bool,
) -> Option<AutomaticEvent> {
    match first_post {
        None => {
            let days_past = (today - deadline).whole_days();
            (days_past > i64::from(grace_days)).then_some(AutomaticEvent::NoPublish { deadline })
        }
        Some(posted) => {
            let days_late = (posted - deadline).whole_days();
            if days_late <= 0 || no_publish_recorded {
                return None;
            }
            let days_late = u32::try_from(days_late).unwrap_or(u32::MAX);
            let severity = if days_late <= grace_days {
                Severity::Minor
            } else {
                Severity::Major
            };
            Some(AutomaticEvent::LatePublish {
                days_late,
                severity,
                posted,
            })
        }
    }
}

/// The day an event happened, as the form gives it (`YYYY-MM-DD`; empty: today), not after
/// `today`.
pub fn occurred_on(raw: &str, today: Date) -> Result<Date, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(today);
    }
    let day = Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| E_OCCURRED_AT)?;
    if day > today {
        return Err(E_OCCURRED_FUTURE);
    }
    Ok(day)
}

// --- The deduction-policy editor (issue 15) ---------------------------------------------------

/// The most points a record can take from the fulfilment level (5 down to its floor of 1).
pub const MAX_POINTS: Decimal = Decimal::from_parts(4, 0, 0, false, 0);

/// One kind × severity cell of the editor's form, as typed (`{kind}.{severity}.{part}` fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellDraft {
    pub points: String,
    /// "" (no money), "amount" or "percent".
    pub money: String,
    pub amount: String,
    pub currency: String,
    pub percent: String,
}

impl CellDraft {
    /// A stored rule as the form shows it.
    pub fn of(rule: &Rule) -> CellDraft {
        let mut cell = CellDraft {
            points: rule.points.normalize().to_string(),
            ..CellDraft::default()
        };
        match &rule.money {
            None => {}
            Some(MoneyRule::Amount { amount, currency }) => {
                cell.money = "amount".into();
                cell.amount = amount.normalize().to_string();
                cell.currency = currency.clone();
            }
            Some(MoneyRule::PercentOfFixedFee {
                percent_of_fixed_fee,
            }) => {
                cell.money = "percent".into();
                cell.percent = percent_of_fixed_fee.normalize().to_string();
            }
        }
        cell
    }
}

/// The form field of a cell's part: `late_publish.major.points`.
pub fn cell_field(kind: Kind, severity: Severity, part: &str) -> String {
    format!("{}.{}.{part}", kind.code(), severity.code())
}

/// The form fields of `rules` (what `parse_policy` reads back).
pub fn policy_fields(rules: &[Rule]) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for r in rules {
        let c = CellDraft::of(r);
        for (part, v) in [
            ("points", c.points),
            ("money", c.money),
            ("amount", c.amount),
            ("currency", c.currency),
            ("percent", c.percent),
        ] {
            out.insert(cell_field(r.kind, r.severity, part), v);
        }
    }
    out
}

/// The editor's cells from the posted fields, every kind × severity in order (a cell not
/// posted is empty, which the check refuses).
pub fn parse_policy(
    fields: &std::collections::BTreeMap<String, String>,
) -> Vec<(Kind, Severity, CellDraft)> {
    let get = |k: Kind, s: Severity, part: &str| {
        fields
            .get(&cell_field(k, s, part))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    Kind::ALL
        .into_iter()
        .flat_map(|k| Severity::ALL.into_iter().map(move |s| (k, s)))
        .map(|(k, s)| {
            (
                k,
                s,
                CellDraft {
                    points: get(k, s, "points"),
                    money: get(k, s, "money"),
                    amount: get(k, s, "amount"),
                    currency: get(k, s, "currency"),
                    percent: get(k, s, "percent"),
                },
            )
        })
        .collect()
}

pub const E_POLICY_POINTS: &str = "deductions.error.points";
pub const E_POLICY_MONEY: &str = "deductions.error.money";
pub const E_POLICY_AMOUNT: &str = "deductions.error.amount";
pub const E_POLICY_CURRENCY: &str = "deductions.error.currency";
pub const E_POLICY_PERCENT: &str = "deductions.error.percent";
pub const E_POLICY_UNCHANGED: &str = "deductions.error.unchanged";

fn decimal(raw: &str) -> Option<Decimal> {
    let d: Decimal = raw.replace([',', '，'], "").parse().ok()?;
    Some(d.normalize())
}

/// Checks the editor's cells into a policy's rules: points 0–4 in steps of 0.01; a money
/// deduction is an amount (more than 0, in the currency's minor units) in a known currency, or a
/// percent of the fixed fee (more than 0, at most 100, two decimals). Each problem is its cell
/// part's error.
pub fn check_policy(
    cells: &[(Kind, Severity, CellDraft)],
) -> Result<Vec<Rule>, crate::kernel::FieldErrors> {
    let mut errors = crate::kernel::FieldErrors::new();
    let mut rules = Vec::new();
    for (kind, severity, cell) in cells {
        let f = |part: &str| cell_field(*kind, *severity, part);
        let points = match decimal(&cell.points) {
            Some(p) if p >= Decimal::ZERO && p <= MAX_POINTS && p.scale() <= 2 => Some(p),
            _ => {
                errors.insert(f("points"), E_POLICY_POINTS);
                None
            }
        };
        let money = match cell.money.as_str() {
            "" => Some(None),
            "amount" => {
                let currency = crate::kernel::money::Currency::parse(&cell.currency).ok();
                if currency.is_none() {
                    errors.insert(f("currency"), E_POLICY_CURRENCY);
                }
                let amount = decimal(&cell.amount).filter(|a| {
                    *a > Decimal::ZERO
                        && *a < Decimal::from(10_000_000)
                        && a.scale() <= 2
                        && currency.is_none_or(|c| c.fits(*a))
                });
                if amount.is_none() {
                    errors.insert(f("amount"), E_POLICY_AMOUNT);
                }
                match (amount, currency) {
                    (Some(amount), Some(c)) => Some(Some(MoneyRule::Amount {
                        amount,
                        currency: c.code().to_string(),
                    })),
                    _ => None,
                }
            }
            "percent" => match decimal(&cell.percent) {
                Some(p) if p > Decimal::ZERO && p <= Decimal::ONE_HUNDRED && p.scale() <= 2 => {
                    Some(Some(MoneyRule::PercentOfFixedFee {
                        percent_of_fixed_fee: p,
                    }))
                }
                _ => {
                    errors.insert(f("percent"), E_POLICY_PERCENT);
                    None
                }
            },
            _ => {
                errors.insert(f("money"), E_POLICY_MONEY);
                None
            }
        };
        if let (Some(points), Some(money)) = (points, money) {
            rules.push(Rule {
                kind: *kind,
                severity: *severity,
                points,
                money,
            });
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// The rules of `policy` for every kind × severity (a pair it leaves out at the defaults), in
/// the editor's order.
pub fn full_rules(policy: &Policy) -> Vec<Rule> {
    Kind::ALL
        .into_iter()
        .flat_map(|k| Severity::ALL.into_iter().map(move |s| (k, s)))
        .map(|(kind, severity)| {
            let worth = policy.worth(kind, severity);
            Rule {
                kind,
                severity,
                points: worth.points,
                money: worth.money,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn every_kind_and_severity_reads_back_from_its_code() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.code()), Some(k));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.code()), Some(s));
        }
        assert_eq!(Kind::parse("bogus"), None);
    }

    #[test]
    fn the_default_policy_is_spec_points_for_every_kind_and_no_money() {
        let policy = Policy {
            version: 1,
            rules: default_rules(),
        };
        assert_eq!(policy.rules.len(), 27);
        for kind in Kind::ALL {
            assert_eq!(
                policy.worth(kind, Severity::Minor).points,
                Decimal::new(5, 1)
            );
            assert_eq!(policy.worth(kind, Severity::Major).points, Decimal::ONE);
            assert_eq!(policy.worth(kind, Severity::Severe).points, Decimal::TWO);
            assert_eq!(policy.worth(kind, Severity::Severe).money, None);
        }
    }

    #[test]
    fn a_rule_with_money_reads_as_stored() {
        let rules: Vec<Rule> = serde_json::from_value(serde_json::json!([
            {"kind": "cart_link_missing", "severity": "major", "points": "1.5",
             "money": {"amount": "50.00", "currency": "USD"}},
            {"kind": "no_publish", "severity": "severe", "points": "2",
             "money": {"percent_of_fixed_fee": "10"}}
        ]))
        .unwrap();
        let policy = Policy { version: 3, rules };
        let w = policy.worth(Kind::CartLinkMissing, Severity::Major);
        assert_eq!(w.points, Decimal::new(15, 1));
        assert_eq!(
            w.money,
            Some(MoneyRule::Amount {
                amount: Decimal::new(5000, 2),
                currency: "USD".into()
            })
        );
        assert_eq!(
            policy.worth(Kind::NoPublish, Severity::Severe).money,
            Some(MoneyRule::PercentOfFixedFee {
                percent_of_fixed_fee: Decimal::TEN
            })
        );
        // Left out of the policy: the default points.
        assert_eq!(
            policy.worth(Kind::SlowResponse, Severity::Minor).points,
            Decimal::new(5, 1)
        );
    }

    #[test]
    fn a_person_records_every_kind_but_the_jobs_two() {
        assert_eq!(kind_by_hand("script_deviation"), Ok(Kind::ScriptDeviation));
        assert_eq!(kind_by_hand("late_publish"), Err(E_KIND_AUTOMATIC));
        assert_eq!(kind_by_hand("no_publish"), Err(E_KIND_AUTOMATIC));
        assert_eq!(kind_by_hand("late"), Err(E_KIND));
        assert_eq!(severity("huge"), Err(E_SEVERITY));
    }

    #[test]
    fn a_correction_needs_a_counting_record_and_a_reason() {
        let counting = Target {
            superseded: false,
            withdrawn: false,
        };
        assert_eq!(may_correct(counting, "typo"), Ok(()));
        assert_eq!(
            may_correct(counting, "  "),
            Err(("reason", E_REASON_REQUIRED))
        );
        assert_eq!(
            may_correct(
                Target {
                    superseded: true,
                    withdrawn: false
                },
                "again"
            ),
            Err(("reason", E_ALREADY_CORRECTED))
        );
        assert_eq!(
            may_correct(
                Target {
                    superseded: false,
                    withdrawn: true
                },
                "again"
            ),
            Err(("reason", E_NOT_COUNTING))
        );
        assert_eq!(
            correction_action("withdraw"),
            Ok(CorrectionAction::Withdraw)
        );
        assert_eq!(
            correction_action("major"),
            Ok(CorrectionAction::Replace(Severity::Major))
        );
        assert_eq!(correction_action("delete"), Err(E_ACTION));
    }

    #[test]
    fn nothing_posted_is_no_publish_only_after_the_grace_days() {
        let deadline = date!(2026 - 03 - 10);
        for today in [date!(2026 - 03 - 09), deadline, date!(2026 - 03 - 13)] {
            assert_eq!(
                automatic_event(deadline, 3, None, today, false),
                None,
                "{today}"
            );
        }
        assert_eq!(
            automatic_event(deadline, 3, None, date!(2026 - 03 - 14), false),
            Some(AutomaticEvent::NoPublish { deadline })
        );
    }

    #[test]
    fn a_late_first_post_is_minor_within_the_grace_days_and_major_after() {
        let deadline = date!(2026 - 03 - 10);
        let today = date!(2026 - 04 - 01);
        assert_eq!(
            automatic_event(deadline, 3, Some(deadline), today, false),
            None
        );
        assert_eq!(
            automatic_event(deadline, 3, Some(date!(2026 - 03 - 13)), today, false),
            Some(AutomaticEvent::LatePublish {
                days_late: 3,
                severity: Severity::Minor,
                posted: date!(2026 - 03 - 13)
            })
        );
        assert_eq!(
            automatic_event(deadline, 3, Some(date!(2026 - 03 - 14)), today, false)
                .map(AutomaticEvent::severity),
            Some(Severity::Major)
        );
        // After a no_publish, a post that finally came adds nothing.
        assert_eq!(
            automatic_event(deadline, 3, Some(date!(2026 - 03 - 20)), today, true),
            None
        );
    }

    fn day() -> impl Strategy<Value = Date> {
        (0i64..2000).prop_map(|d| date!(2025 - 01 - 01) + time::Duration::days(d))
    }

    proptest! {
        #[test]
        fn the_job_rule_agrees_with_its_definition(
            deadline in day(),
            grace in 0u32..60,
            post in proptest::option::of(day()),
            today in day(),
            recorded in any::<bool>(),
        ) {
            let event = automatic_event(deadline, grace, post, today, recorded);
            match (post, event) {
                (None, Some(AutomaticEvent::NoPublish { .. })) => {
                    prop_assert!(today > deadline + time::Duration::days(grace.into()));
                }
                (None, None) => {
                    prop_assert!(today <= deadline + time::Duration::days(grace.into()));
                }
                (Some(p), Some(AutomaticEvent::LatePublish { days_late, severity, posted })) => {
                    prop_assert!(!recorded);
                    prop_assert_eq!(posted, p);
                    prop_assert_eq!(i64::from(days_late), (p - deadline).whole_days());
                    prop_assert!(days_late >= 1);
                    prop_assert_eq!(severity == Severity::Minor, days_late <= grace);
                }
                (Some(p), None) => prop_assert!(p <= deadline || recorded),
                (post, event) => prop_assert!(false, "{post:?} gave {event:?}"),
            }
        }

        #[test]
        fn points_grow_with_severity_for_every_kind(k in 0usize..9) {
            let policy = Policy { version: 1, rules: default_rules() };
            let kind = Kind::ALL[k];
            let w: Vec<Decimal> = Severity::ALL.iter().map(|s| policy.worth(kind, *s).points).collect();
            prop_assert!(w[0] < w[1] && w[1] < w[2]);
        }
    }
}

#[cfg(test)]
mod policy_editor_tests {
    use super::*;

    #[test]
    fn the_default_policy_goes_through_the_form_unchanged() {
        let rules = check_policy(&parse_policy(&policy_fields(&default_rules()))).unwrap();
        assert_eq!(rules, default_rules());
        let policy = Policy {
            version: 1,
            rules: Vec::new(),
        };
        assert_eq!(full_rules(&policy), default_rules());
    }

    #[test]
    fn money_is_an_amount_in_a_currency_or_a_percent_of_the_fixed_fee() {
        let mut f = policy_fields(&default_rules());
        let cell = |part: &str| cell_field(Kind::NoPublish, Severity::Severe, part);
        f.insert(cell("money"), "amount".into());
        f.insert(cell("amount"), "1,500".into());
        f.insert(cell("currency"), "JPY".into());
        let late = |part: &str| cell_field(Kind::LatePublish, Severity::Major, part);
        f.insert(late("money"), "percent".into());
        f.insert(late("percent"), "12.5".into());
        f.insert(late("points"), "1.5".into());
        let rules = check_policy(&parse_policy(&f)).unwrap();
        let worth = Policy { version: 2, rules }.worth(Kind::NoPublish, Severity::Severe);
        assert_eq!(
            worth.money,
            Some(MoneyRule::Amount {
                amount: Decimal::from(1500),
                currency: "JPY".into()
            })
        );
    }

    #[test]
    fn each_bad_cell_is_its_fields_error() {
        let base = policy_fields(&default_rules());
        let cell = |part: &str| cell_field(Kind::CartLinkMissing, Severity::Minor, part);
        for (changes, field, key) in [
            (vec![("points", "5")], "points", E_POLICY_POINTS),
            (vec![("points", "-1")], "points", E_POLICY_POINTS),
            (vec![("points", "0.125")], "points", E_POLICY_POINTS),
            (vec![("points", "")], "points", E_POLICY_POINTS),
            (vec![("money", "fine")], "money", E_POLICY_MONEY),
            (
                vec![("money", "percent"), ("percent", "0")],
                "percent",
                E_POLICY_PERCENT,
            ),
            (
                vec![("money", "percent"), ("percent", "100.5")],
                "percent",
                E_POLICY_PERCENT,
            ),
            (
                vec![("money", "amount"), ("amount", "10"), ("currency", "XYZ")],
                "currency",
                E_POLICY_CURRENCY,
            ),
            (
                vec![("money", "amount"), ("amount", "1.5"), ("currency", "JPY")],
                "amount",
                E_POLICY_AMOUNT,
            ),
            (
                vec![("money", "amount"), ("amount", "-3"), ("currency", "USD")],
                "amount",
                E_POLICY_AMOUNT,
            ),
            (
                vec![("money", "amount"), ("amount", "1e12"), ("currency", "USD")],
                "amount",
                E_POLICY_AMOUNT,
            ),
        ] {
            let mut f = base.clone();
            for (part, v) in &changes {
                f.insert(cell(part), v.to_string());
            }
            let errors = check_policy(&parse_policy(&f)).unwrap_err();
            assert_eq!(errors.get(&cell(field)), Some(&key), "{changes:?}");
            assert_eq!(errors.len(), 1, "{changes:?}: {errors:?}");
        }
    }
}
