//! S/A/B/C tiers (SPEC §8) as every feature names them, and the badge pages show for a creator
//! (UX.md: letter and label, never colour alone; a blacklisted creator's badge is struck through
//! and says "blocked").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tier {
    S,
    A,
    B,
    C,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::S, Tier::A, Tier::B, Tier::C];

    pub fn code(&self) -> &'static str {
        match self {
            Tier::S => "S",
            Tier::A => "A",
            Tier::B => "B",
            Tier::C => "C",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.code().eq_ignore_ascii_case(s))
    }

    /// The tier's worth in the track-record component.
    pub fn value(&self) -> f64 {
        match self {
            Tier::S => 1.0,
            Tier::A => 0.8,
            Tier::B => 0.5,
            Tier::C => 0.2,
        }
    }
}

impl Tier {
    /// The message catalogue key of the tier's label ("S · 优先复投" …).
    pub fn label_key(&self) -> &'static str {
        match self {
            Tier::S => "tier.label.s",
            Tier::A => "tier.label.a",
            Tier::B => "tier.label.b",
            Tier::C => "tier.label.c",
        }
    }

    /// The stylesheet class of the tier's badge.
    pub fn css_class(&self) -> &'static str {
        match self {
            Tier::S => "tier-s",
            Tier::A => "tier-a",
            Tier::B => "tier-b",
            Tier::C => "tier-c",
        }
    }
}

/// What a page shows for a creator's standing with the viewer: the tier (None: not tiered yet)
/// and whether the creator is blocked (by the tenant or the platform). Rendered by
/// `templates/_tier_badge.html`, which reads a variable named `badge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TierBadge {
    pub tier: Option<Tier>,
    pub blocked: bool,
}

impl TierBadge {
    pub fn new(tier: Option<Tier>, blocked: bool) -> TierBadge {
        TierBadge { tier, blocked }
    }

    /// The letter shown in the badge ("–" when not tiered).
    pub fn letter(&self) -> &'static str {
        self.tier.map_or("–", |t| t.code())
    }

    pub fn css_class(&self) -> &'static str {
        self.tier.map_or("tier-none", |t| t.css_class())
    }

    /// The label's message key: "blocked", the tier's label, or "not tiered yet".
    pub fn label_key(&self) -> &'static str {
        if self.blocked {
            "tier.blocked"
        } else {
            self.tier.map_or("tier.none", |t| t.label_key())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_names_its_tier_or_says_blocked_or_not_tiered() {
        assert_eq!(
            TierBadge::new(Some(Tier::S), false).label_key(),
            "tier.label.s"
        );
        assert_eq!(
            TierBadge::new(Some(Tier::C), true).label_key(),
            "tier.blocked"
        );
        assert_eq!(TierBadge::new(None, false).label_key(), "tier.none");
        assert_eq!(TierBadge::new(None, false).letter(), "–");
        assert_eq!(TierBadge::new(Some(Tier::A), false).css_class(), "tier-a");
    }
}
