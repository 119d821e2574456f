//! The in-memory projection of the creator pool that the matching page ranks from: one compact
//! row per creator who can ever be a candidate (active, not on the platform blocklist), reloaded
//! when the `creator_pool` cache version moves (the platform tier is part of each row: the
//! `platform_tiers` trigger moves that version too). A tenant's own standing with creators (its
//! tiers and confirmed blacklist entries) is an overlay per tenant on the projection, cached by
//! tenant and reloaded when the `tenant_overlay` cache version moves; the approximate pass reads
//! it beside each row, so it drops the tenant's blacklisted creators and carries the exact
//! track-record term (both tiers, through `domain::track_record_of`).
//!
//! Ranking is two-phase: every row gets an approximate score (f32 audience shares, f64 money)
//! whose error is far below [`EPSILON`] points, then every creator who could still be in the top
//! `limit` is scored exactly by `domain::score` on the facts read from Postgres (with the
//! tenant's standing) — so the result is the reference ranking, not an approximation of it.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::domain::{
    self, AgeBucket, CampaignAsk, CreatorFacts, Format, Gender, MatchScore, Tier, Weights,
};
use super::repo::{self, OverlayRow};
use crate::db::Db;
use crate::kernel::rates::Rates;

/// A bound on |approximate total − exact total| in points, with a wide margin: audience shares
/// kept as f32 are off by ~1e-7 relative, money as f64 by ~1e-16, and weights sum to 100.
const EPSILON: f64 = 0.01;

/// Relative margin under which a converted quote is too close to 1.5 × cap to decide in floats.
const PRICE_MARGIN: f64 = 1e-9;

/// Above this a converted quote might overflow Decimal in the exact path; such creators are
/// always scored exactly.
const DECIMAL_SAFE: f64 = 1e27;

/// Interned strings (market and country codes, language subtags, tags, currencies).
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u16>,
}

impl Interner {
    /// None once 65,535 distinct strings exist (the creator then always goes to the exact path).
    fn id(&mut self, s: String) -> Option<u16> {
        if let Some(id) = self.ids.get(&s) {
            return Some(*id);
        }
        let id = u16::try_from(self.ids.len())
            .ok()
            .filter(|id| *id < u16::MAX)?;
        self.ids.insert(s, id);
        Some(id)
    }

    fn get(&self, s: &str) -> Option<u16> {
        self.ids.get(s).copied()
    }

    /// A lookup table over every id: true where the string is in `wanted`.
    fn table(&self, wanted: impl IntoIterator<Item = String>) -> Vec<bool> {
        let mut t = vec![false; self.ids.len()];
        for w in wanted {
            if let Some(id) = self.get(&w) {
                t[id as usize] = true;
            }
        }
        t
    }
}

/// One creator, compactly. Tag lists live in `Projection::tags` from `tags_at`: markets, then
/// languages, categories and styles, each deduplicated; audience countries in `countries`.
struct Row {
    id: Uuid,
    followers: i64,
    /// NaN when missing.
    quote_video: f64,
    quote_live: f64,
    engagement_rate: f32,
    age: [f32; 6],
    gender: [f32; 2],
    tags_at: u32,
    countries_at: u32,
    n_markets: u8,
    n_languages: u8,
    n_categories: u8,
    n_styles: u8,
    n_countries: u8,
    /// Interned quote currency; `u16::MAX` when missing.
    currency: u16,
    /// Something did not fit the compact form: always scored exactly.
    exact_only: bool,
    /// The platform tier as [`tier_index`].
    platform_tier: u8,
}

/// A tier as a small index: 0 not tiered, then S, A, B, C.
fn tier_index(t: Option<Tier>) -> u8 {
    match t {
        None => 0,
        Some(Tier::S) => 1,
        Some(Tier::A) => 2,
        Some(Tier::B) => 3,
        Some(Tier::C) => 4,
    }
}

fn tier_of_index(i: u8) -> Option<Tier> {
    match i {
        1 => Some(Tier::S),
        2 => Some(Tier::A),
        3 => Some(Tier::B),
        4 => Some(Tier::C),
        _ => None,
    }
}

/// A creator's standing with one tenant as the overlay keeps it: the tenant tier's
/// [`tier_index`] in the low bits, [`BLACKLISTED`] set when the tenant confirmed a blacklist entry.
type Mark = u8;
const TIER_BITS: Mark = 0b0111;
const BLACKLISTED: Mark = 0b1000;

fn mark_of(tier: Option<Tier>, blacklisted: bool) -> Mark {
    tier_index(tier) | if blacklisted { BLACKLISTED } else { 0 }
}

/// The pool as of one the `creator_pool` cache version.
pub struct Projection {
    version: i64,
    rows: Vec<Row>,
    tags: Vec<u16>,
    country_ids: Vec<u16>,
    country_shares: Vec<f32>,
    strings: Interner,
}

impl Projection {
    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Bytes held on the heap (the interned strings counted by their length).
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Row>()
            + self.tags.capacity() * 2
            + self.country_ids.capacity() * 2
            + self.country_shares.capacity() * 4
            + self.strings.ids.keys().map(|k| k.len() + 32).sum::<usize>()
    }

    fn empty(version: i64, capacity: usize) -> Projection {
        Projection {
            version,
            rows: Vec::with_capacity(capacity),
            tags: Vec::with_capacity(capacity * 10),
            country_ids: Vec::with_capacity(capacity * 4),
            country_shares: Vec::with_capacity(capacity * 4),
            strings: Interner::default(),
        }
    }

    fn push(&mut self, f: &CreatorFacts) {
        let mut exact_only = false;
        let tags_at = self.tags.len() as u32;
        let mut list = |keys: Vec<String>, p: &mut Projection| -> u8 {
            let mut ids: Vec<u16> = Vec::with_capacity(keys.len());
            for k in keys {
                match p.strings.id(k) {
                    Some(id) if !ids.contains(&id) => ids.push(id),
                    Some(_) => {}
                    None => exact_only = true,
                }
            }
            if ids.len() > u8::MAX as usize {
                exact_only = true;
                ids.truncate(u8::MAX as usize);
            }
            p.tags.extend_from_slice(&ids);
            ids.len() as u8
        };
        let markets: Vec<String> = f
            .markets
            .iter()
            .map(|m| domain::normalize_code(m))
            .filter(|m| !m.is_empty())
            .collect();
        let n_markets = list(markets, self);
        let languages = f
            .languages
            .iter()
            .filter_map(|l| domain::language_key(l))
            .collect();
        let n_languages = list(languages, self);
        let categories = f
            .categories
            .iter()
            .filter_map(|t| domain::tag_key(t))
            .collect();
        let n_categories = list(categories, self);
        let styles = f.styles.iter().filter_map(|t| domain::tag_key(t)).collect();
        let n_styles = list(styles, self);

        let countries_at = self.country_ids.len() as u32;
        let mut n_countries = 0u8;
        for (code, share) in &f.audience_countries {
            let share = domain::unit(*share);
            if share == 0.0 {
                continue;
            }
            match self.strings.id(domain::normalize_code(code)) {
                Some(id) if n_countries < u8::MAX => {
                    self.country_ids.push(id);
                    self.country_shares.push(share as f32);
                    n_countries += 1;
                }
                _ => exact_only = true,
            }
        }
        let mut age = [0f32; 6];
        for (bucket, share) in &f.audience_age {
            let i = AgeBucket::ALL.iter().position(|b| b == bucket).unwrap_or(0);
            age[i] += domain::unit(*share) as f32;
        }
        let mut gender = [0f32; 2];
        for (g, share) in &f.audience_gender {
            let i = usize::from(*g == Gender::Male);
            gender[i] += domain::unit(*share) as f32;
        }
        let currency = match f.quote_currency.as_deref().map(domain::normalize_code) {
            Some(c) if !c.is_empty() => self.strings.id(c).unwrap_or_else(|| {
                exact_only = true;
                u16::MAX
            }),
            _ => u16::MAX,
        };
        let money = |d: Option<Decimal>| d.and_then(|d| d.to_f64()).unwrap_or(f64::NAN);
        self.rows.push(Row {
            id: f.id,
            followers: f.followers,
            quote_video: money(f.quote_video),
            quote_live: money(f.quote_live),
            engagement_rate: domain::engagement_rate(f) as f32,
            age,
            gender,
            tags_at,
            countries_at,
            n_markets,
            n_languages,
            n_categories,
            n_styles,
            n_countries,
            currency,
            exact_only,
            platform_tier: tier_index(f.platform_tier),
        });
    }

    /// Orders the rows by id (so a tenant's overlay finds its creators by binary search) and
    /// gives back spare capacity.
    fn finish(&mut self) {
        self.rows.sort_unstable_by_key(|r| r.id);
        self.rows.shrink_to_fit();
        self.tags.shrink_to_fit();
        self.country_ids.shrink_to_fit();
        self.country_shares.shrink_to_fit();
    }

    /// The overlay's rows as marks on this projection's rows, by row index (creators the
    /// projection does not hold are left out: they are never candidates).
    fn marks(&self, rows: &[OverlayRow]) -> Vec<(u32, Mark)> {
        let mut marks: Vec<(u32, Mark)> = rows
            .iter()
            .filter_map(|o| {
                let i = self
                    .rows
                    .binary_search_by_key(&o.creator_id, |r| r.id)
                    .ok()?;
                Some((i as u32, mark_of(o.tier, o.blacklisted)))
            })
            .collect();
        marks.sort_unstable_by_key(|m| m.0);
        marks.dedup_by_key(|m| m.0);
        marks
    }

    fn tag_lists(&self, r: &Row) -> [&[u16]; 4] {
        let mut at = r.tags_at as usize;
        let mut next = |n: u8| {
            let s = &self.tags[at..at + n as usize];
            at += n as usize;
            s
        };
        [
            next(r.n_markets),
            next(r.n_languages),
            next(r.n_categories),
            next(r.n_styles),
        ]
    }

    /// Loads every creator who can be a candidate, with the version in the same snapshot.
    pub async fn load(conn: &mut PgConnection) -> Result<Projection, sqlx::Error> {
        let mut tx = conn.begin().await?;
        repo::snapshot_read_only(&mut tx).await?;
        let version = repo::pool_version(&mut tx).await?;
        let count = repo::pool_size(&mut tx).await?;
        let mut projection = Projection::empty(version, usize::try_from(count).unwrap_or(0));
        repo::each_pool_creator(&mut tx, |facts| projection.push(facts)).await?;
        tx.commit().await?;
        projection.finish();
        Ok(projection)
    }

    /// Phase one: the creators who might be in the top `limit` for this ask, by approximate
    /// score. Never misses one: see [`EPSILON`].
    /// How many ranges a scan of this projection runs in side by side: one per core for large
    /// pools (the scan reads every row, so it is the ranking's cost: about 40 ms for 1,000,000
    /// creators on one core), one below [`PARALLEL_FROM`].
    fn scan_threads(&self) -> usize {
        if self.rows.len() >= PARALLEL_FROM {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_CHUNKS))
        } else {
            1
        }
    }

    /// The creators the exact pass must see for the top `limit`, from `chunks` ranges of rows
    /// scanned side by side, then merged: each range keeps every creator at or above its own floor (its `limit`-th best
    /// certain total less twice EPSILON), which is never above the floor over all rows, so
    /// the merge loses no one the exact pass needs.
    #[allow(clippy::too_many_arguments)]
    fn shortlist_ids(
        &self,
        ask: &CampaignAsk,
        weights: &Weights,
        rates: &dyn Rates,
        overlay: &[(u32, Mark)],
        offered: &HashSet<Uuid>,
        limit: usize,
        chunks: usize,
    ) -> Vec<Uuid> {
        let q = Query::new(self, ask, weights, rates);
        let n = self.rows.len();
        let chunks = chunks.clamp(1, n.max(1));
        let size = n.div_ceil(chunks).max(1);
        let ranges: Vec<std::ops::Range<usize>> = (0..n)
            .step_by(size)
            .map(|from| from..(from + size).min(n))
            .collect();
        let parts: Vec<Scan> = if ranges.len() <= 1 {
            vec![self.scan(&q, 0..n, overlay, offered, limit)]
        } else {
            std::thread::scope(|scope| {
                let q = &q;
                let handles: Vec<_> = ranges
                    .into_iter()
                    .map(|range| scope.spawn(move || self.scan(q, range, overlay, offered, limit)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            })
        };
        // The `limit` best certain totals over all rows.
        let mut best: Vec<f64> = parts.iter().flat_map(|p| p.best.iter().copied()).collect();
        best.sort_unstable_by(|a, b| b.total_cmp(a));
        let floor = if limit == 0 || best.len() < limit {
            f64::NEG_INFINITY
        } else {
            best[limit - 1] - 2.0 * EPSILON
        };
        let mut ids = Vec::new();
        for p in &parts {
            ids.extend(
                p.maybe
                    .iter()
                    .filter(|(t, _)| *t >= floor)
                    .map(|(_, i)| self.rows[*i].id),
            );
        }
        for p in &parts {
            ids.extend(p.forced.iter().map(|i| self.rows[*i].id));
        }
        ids
    }

    /// One range of rows: the `limit` best certain approximate totals, the creators at or above
    /// the range's floor, and those only the exact pass can judge.
    fn scan(
        &self,
        q: &Query,
        range: std::ops::Range<usize>,
        overlay: &[(u32, Mark)],
        offered: &HashSet<Uuid>,
        limit: usize,
    ) -> Scan {
        // The overlay is sorted by row index: start at this range and walk it alongside.
        let from = overlay.partition_point(|(at, _)| (*at as usize) < range.start);
        let mut marks = overlay[from..].iter().peekable();
        let mut best: BinaryHeap<std::cmp::Reverse<OrdF64>> = BinaryHeap::with_capacity(limit + 1);
        let floor = |best: &BinaryHeap<std::cmp::Reverse<OrdF64>>| {
            if best.len() < limit {
                f64::NEG_INFINITY
            } else {
                best.peek().map_or(f64::NEG_INFINITY, |r| r.0.0) - 2.0 * EPSILON
            }
        };
        let mut maybe: Vec<(f64, usize)> = Vec::new();
        let mut forced: Vec<usize> = Vec::new();
        for i in range {
            let r = &self.rows[i];
            let mut mark: Mark = 0;
            while let Some((at, m)) = marks.peek() {
                match (*at as usize).cmp(&i) {
                    std::cmp::Ordering::Less => {
                        marks.next();
                    }
                    std::cmp::Ordering::Equal => {
                        mark = *m;
                        break;
                    }
                    std::cmp::Ordering::Greater => break,
                }
            }
            let verdict = q.judge(self, r, mark);
            let (total, certain) = match verdict {
                Verdict::Out => continue,
                Verdict::Exact => {
                    if !offered.contains(&r.id) {
                        forced.push(i);
                    }
                    continue;
                }
                Verdict::In { total, certain } => (total, certain),
            };
            if !offered.is_empty() && offered.contains(&r.id) {
                continue;
            }
            if total < floor(&best) {
                continue;
            }
            if certain && limit > 0 {
                best.push(std::cmp::Reverse(OrdF64(total)));
                if best.len() > limit {
                    best.pop();
                }
            }
            maybe.push((total, i));
            if maybe.len() > 4 * limit + 4096 {
                let f = floor(&best);
                maybe.retain(|(t, _)| *t >= f);
            }
        }
        let f = floor(&best);
        maybe.retain(|(t, _)| *t >= f);
        Scan {
            best: best.into_iter().map(|r| r.0.0).collect(),
            maybe,
            forced,
        }
    }
}

/// What one range of rows gives the merge in [`Projection::shortlist_ids`].
struct Scan {
    best: Vec<f64>,
    maybe: Vec<(f64, usize)>,
    forced: Vec<usize>,
}

/// Pools at least this large are scanned on several threads (below it, a thread costs more than
/// it saves).
const PARALLEL_FROM: usize = 65_536;
const MAX_CHUNKS: usize = 8;

/// f64 with a total order, for the heap.
#[derive(Clone, Copy)]
struct OrdF64(f64);
impl PartialEq for OrdF64 {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

enum Verdict {
    /// Fails a hard filter.
    Out,
    /// Passes as far as floats can tell; `certain` when no filter was a close call.
    In { total: f64, certain: bool },
    /// The compact form cannot judge this creator.
    Exact,
}

/// An ask compiled against one projection's interned strings.
struct Query {
    markets: Vec<bool>,
    languages: Vec<bool>,
    any_language: bool,
    categories: Vec<bool>,
    n_categories: usize,
    styles: Vec<bool>,
    n_styles: usize,
    followers: (i64, i64),
    format: Format,
    /// Cap, 1.5 × cap, and the factor from each interned currency to the cap's (None: unknown).
    cap: Option<(f64, f64, Vec<Option<f64>>)>,
    age: [bool; 6],
    gender: Option<usize>,
    weights: [f64; 6],
    /// The track-record component by tenant tier index, then platform tier index: exactly
    /// `domain::track_record_of`.
    track_record: [[f64; 5]; 5],
}

impl Query {
    fn new(p: &Projection, ask: &CampaignAsk, weights: &Weights, rates: &dyn Rates) -> Query {
        let tags = |list: &[String]| -> (Vec<bool>, usize) {
            let wanted: HashSet<String> = list.iter().filter_map(|t| domain::tag_key(t)).collect();
            let n = wanted.len();
            (p.strings.table(wanted), n)
        };
        let (categories, n_categories) = tags(&ask.categories);
        let (styles, n_styles) = tags(&ask.styles);
        let languages: HashSet<String> = ask
            .languages
            .iter()
            .filter_map(|l| domain::language_key(l))
            .collect();
        let cap = ask.fee_cap.as_ref().map(|(cap, currency)| {
            let to = domain::normalize_code(currency);
            let mut factors = vec![None; p.strings.ids.len()];
            if !to.is_empty() {
                for (code, id) in &p.strings.ids {
                    factors[*id as usize] = if *code == to {
                        Some(1.0)
                    } else {
                        rates
                            .convert(Decimal::ONE, code, &to)
                            .and_then(|d| d.to_f64())
                    };
                }
            }
            (
                cap.to_f64().unwrap_or(f64::NAN),
                domain::fee_cap_limit(*cap).to_f64().unwrap_or(f64::NAN),
                factors,
            )
        });
        let w = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        Query {
            markets: p.strings.table(
                ask.markets
                    .iter()
                    .map(|m| domain::normalize_code(m))
                    .filter(|m| !m.is_empty()),
            ),
            any_language: languages.is_empty(),
            languages: p.strings.table(languages),
            categories,
            n_categories,
            styles,
            n_styles,
            followers: (ask.followers_min, ask.followers_max),
            format: ask.format,
            cap,
            age: std::array::from_fn(|i| ask.age_buckets.contains(&AgeBucket::ALL[i])),
            gender: ask.gender.map(|g| usize::from(g == Gender::Male)),
            weights: [
                w(weights.audience),
                w(weights.engagement),
                w(weights.category),
                w(weights.style),
                w(weights.price),
                w(weights.track_record),
            ],
            track_record: std::array::from_fn(|t| {
                std::array::from_fn(|p| {
                    domain::track_record_of(tier_of_index(t as u8), tier_of_index(p as u8))
                })
            }),
        }
    }

    fn judge(&self, p: &Projection, r: &Row, mark: Mark) -> Verdict {
        if r.followers < self.followers.0 || r.followers > self.followers.1 {
            return Verdict::Out;
        }
        if mark & BLACKLISTED != 0 {
            return Verdict::Out;
        }
        if r.exact_only {
            return Verdict::Exact;
        }
        let [markets, languages, categories, styles] = p.tag_lists(r);
        if !markets.iter().any(|m| self.markets[*m as usize]) {
            return Verdict::Out;
        }
        if !self.any_language && !languages.iter().any(|l| self.languages[*l as usize]) {
            return Verdict::Out;
        }
        let mut certain = true;
        let price = match &self.cap {
            None => 1.0,
            Some((cap, limit, factors)) => {
                let quote = match self.format {
                    Format::ShortVideo => r.quote_video,
                    Format::Live => r.quote_live,
                    Format::Both => {
                        if r.quote_video.is_nan() || r.quote_live.is_nan() {
                            f64::NAN
                        } else {
                            r.quote_video.max(r.quote_live)
                        }
                    }
                };
                let factor = factors.get(r.currency as usize).copied().flatten();
                match factor {
                    Some(factor) if !quote.is_nan() => {
                        let q = quote * factor;
                        if !q.is_finite() || q.abs() > DECIMAL_SAFE || !limit.is_finite() {
                            return Verdict::Exact;
                        }
                        let margin = limit.abs() * PRICE_MARGIN + f64::MIN_POSITIVE;
                        if q > limit + margin {
                            return Verdict::Out;
                        }
                        if q > limit - margin {
                            certain = false;
                        }
                        if q <= *cap {
                            1.0
                        } else if *cap <= 0.0 {
                            0.0
                        } else {
                            domain::unit(1.0 - (q - cap) / (cap * 0.5))
                        }
                    }
                    _ => domain::UNKNOWN_PRICE_FIT,
                }
            }
        };
        let age = if self.age.iter().any(|a| *a) {
            let mut s = 0f64;
            for (i, share) in r.age.iter().enumerate() {
                if self.age[i] {
                    s += f64::from(*share);
                }
            }
            domain::unit(s)
        } else {
            1.0
        };
        let gender = self
            .gender
            .map_or(1.0, |g| domain::unit(f64::from(r.gender[g])));
        let at = r.countries_at as usize;
        let mut countries = 0f64;
        for k in at..at + r.n_countries as usize {
            if self.markets[p.country_ids[k] as usize] {
                countries += f64::from(p.country_shares[k]);
            }
        }
        let audience = domain::unit(age * gender * domain::unit(countries));
        let engagement =
            domain::unit(f64::from(r.engagement_rate) / domain::engagement_benchmark(r.followers));
        let overlap = |have: &[u16], wanted: &[bool], n: usize| {
            if n == 0 {
                1.0
            } else {
                have.iter().filter(|t| wanted[**t as usize]).count() as f64 / n as f64
            }
        };
        let components = [
            audience,
            engagement,
            overlap(categories, &self.categories, self.n_categories),
            overlap(styles, &self.styles, self.n_styles),
            price,
            self.track_record[usize::from(mark & TIER_BITS).min(4)][usize::from(r.platform_tier)],
        ];
        let total = components
            .iter()
            .zip(self.weights)
            .map(|(c, w)| c * w)
            .sum();
        Verdict::In { total, certain }
    }
}

/// The projection shared by every request, reloaded when the pool's version moves, and each
/// tenant's overlay on it.
#[derive(Default)]
pub struct PoolCache {
    current: RwLock<Option<Arc<Projection>>>,
    loading: tokio::sync::Mutex<()>,
    overlays: OverlayCache,
}

/// One tenant's tiers and confirmed blacklist entries as marks on one projection's rows (by row
/// index, sorted), as of one `tenant_overlay` version.
struct Overlay {
    pool_version: i64,
    version: i64,
    marks: Vec<(u32, Mark)>,
}

/// The overlays by tenant. An overlay is good while both versions it was made at are current;
/// when either moves, the tenant's next ranking reloads its own (and overlays made at older
/// versions are let go).
#[derive(Default)]
struct OverlayCache {
    by_tenant: std::sync::Mutex<HashMap<Uuid, Arc<Overlay>>>,
}

impl OverlayCache {
    /// The tenant's overlay on `projection` at overlay version `version` or newer, read through
    /// the caller's (tenant) transaction if it is not cached.
    async fn get(
        &self,
        conn: &mut PgConnection,
        tenant_id: Uuid,
        projection: &Projection,
        version: i64,
    ) -> Result<Arc<Overlay>, sqlx::Error> {
        let fresh = |o: &Arc<Overlay>| o.pool_version == projection.version && o.version >= version;
        if let Some(o) = self.lock().get(&tenant_id).filter(|o| fresh(o)) {
            return Ok(o.clone());
        }
        // Rows read after the version: at least as new as it.
        let rows = repo::tenant_overlay(conn, tenant_id).await?;
        let overlay = Arc::new(Overlay {
            pool_version: projection.version,
            version,
            marks: projection.marks(&rows),
        });
        let mut map = self.lock();
        map.retain(|_, o| o.pool_version == projection.version && o.version >= version);
        map.insert(tenant_id, overlay.clone());
        Ok(overlay)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Overlay>>> {
        self.by_tenant.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PoolCache {
    fn cached(&self, version: i64) -> Option<Arc<Projection>> {
        let guard = self.current.read().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|p| p.version >= version).cloned()
    }

    /// The projection at `version` or newer, loading it on a connection of its own if needed.
    pub async fn at_least(&self, db: &Db, version: i64) -> Result<Arc<Projection>, sqlx::Error> {
        if let Some(p) = self.cached(version) {
            return Ok(p);
        }
        let _loading = self.loading.lock().await;
        if let Some(p) = self.cached(version) {
            return Ok(p);
        }
        // Let the old one go first, so a reload never holds two pools in memory.
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
        // A connection of its own, outside the pool: the caller holds one of the pool's, and
        // requests queued behind this load may hold the rest.
        let mut conn = PgConnection::connect_with(&db.pool().connect_options()).await?;
        repo::act_as_app(&mut conn).await?;
        let fresh = Projection::load(&mut conn).await;
        conn.close().await.ok();
        let fresh = Arc::new(fresh?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }
}

/// Keeps the projection warm: loads it at startup and again soon after every change of the
/// pool, so a matching page rarely waits for a load (it still loads itself if it must).
pub fn spawn_refresher(cache: Arc<PoolCache>, db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if db.pool().is_closed() {
                break;
            }
            let current = async {
                let mut conn = db.pool().acquire().await?;
                let v = version(&mut conn).await?;
                drop(conn);
                cache.at_least(&db, v).await
            };
            if let Err(e) = current.await {
                tracing::warn!(error = %e, "creator pool: refresh failed");
            }
        }
    });
}

/// The current version of the pool, as this transaction sees it.
pub async fn version(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
    repo::pool_version(conn).await
}

/// Where a ranking's time went (the matching benchmark prints it).
#[derive(Debug, Clone, Copy, Default)]
pub struct RankTrace {
    /// How many creators the in-memory pass handed to the exact pass.
    pub shortlisted: usize,
    /// The two version reads, the projection and the tenant's overlay (loads included).
    pub cache: std::time::Duration,
    pub offered: std::time::Duration,
    /// The in-memory pass over the projection.
    pub in_memory: std::time::Duration,
    /// Reading the shortlisted creators' facts as the tenant sees them.
    pub facts: std::time::Duration,
    /// The exact scoring and ordering.
    pub exact: std::time::Duration,
}

/// Ranks the pool for a campaign: exactly `domain::rank` over every creator not yet offered for
/// it, as the tenant sees them (its tiers and blacklist), computed from the in-memory projection
/// with the tenant's overlay plus an exact pass over the few who could be in the top `limit`;
/// with where the time went.
#[allow(clippy::too_many_arguments)]
pub async fn rank(
    cache: &PoolCache,
    db: &Db,
    conn: &mut PgConnection,
    tenant_id: Uuid,
    campaign_id: Uuid,
    ask: &CampaignAsk,
    weights: &Weights,
    rates: &(dyn Rates + Sync),
    limit: usize,
) -> Result<(Vec<(Uuid, MatchScore)>, RankTrace), sqlx::Error> {
    let mut trace = RankTrace::default();
    let mut clock = std::time::Instant::now();
    let mut lap = move || {
        let now = std::time::Instant::now();
        let d = now - clock;
        clock = now;
        d
    };
    let v = version(&mut *conn).await?;
    let ov = repo::overlay_version(&mut *conn).await?;
    let projection = cache.at_least(db, v).await?;
    let overlay = cache
        .overlays
        .get(&mut *conn, tenant_id, &projection, ov)
        .await?;
    trace.cache = lap();
    let offered: HashSet<Uuid> = repo::offered(&mut *conn, tenant_id, campaign_id)
        .await?
        .into_iter()
        .collect();
    trace.offered = lap();
    let ids = projection.shortlist_ids(
        ask,
        weights,
        rates,
        &overlay.marks,
        &offered,
        limit,
        projection.scan_threads(),
    );
    trace.shortlisted = ids.len();
    trace.in_memory = lap();
    let facts = repo::facts_of(&mut *conn, tenant_id, &ids).await?;
    trace.facts = lap();
    let ranked = domain::rank(&facts, ask, weights, rates, limit);
    trace.exact = lap();
    Ok((ranked, trace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::domain::tests::{
        campaign_ask, friendly, integer_weights, pool, test_rates,
    };
    use proptest::prelude::*;

    /// What the database gives the projection: only creators who can be candidates, each with
    /// its platform tier (a tenant's standing is not the projection's).
    fn projected(all: &[CreatorFacts]) -> Projection {
        let mut p = Projection::empty(1, all.len());
        for f in all
            .iter()
            .filter(|f| f.active && !f.blacklisted_by_platform)
        {
            p.push(&CreatorFacts {
                tenant_tier: None,
                blacklisted_by_tenant: false,
                open_low_score_warning: false,
                ..f.clone()
            });
        }
        p.finish();
        p
    }

    /// What `repo::tenant_overlay` gives for the tenant the facts were read for: every creator
    /// with a tier or a confirmed blacklist entry, candidates or not.
    fn overlay_rows(all: &[CreatorFacts]) -> Vec<OverlayRow> {
        all.iter()
            .filter(|f| f.tenant_tier.is_some() || f.blacklisted_by_tenant)
            .map(|f| OverlayRow {
                creator_id: f.id,
                tier: f.tenant_tier,
                blacklisted: f.blacklisted_by_tenant,
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The in-memory ranking with a tenant's overlay is exactly the reference ranking,
        /// scanned in one range or several side by side, whatever the pool (random tenant and
        /// platform tiers, tenant and platform blacklists, ids in any order), the ask, the
        /// weights and the limit.
        #[test]
        fn ranking_through_the_projection_agrees_with_the_reference(
            raw in pool(),
            ids in prop::collection::hash_set(any::<u128>(), 25),
            ask in campaign_ask(),
            weights in integer_weights(),
            limit in 0usize..12,
            offered_every in 0usize..5,
            chunks in 1usize..5,
        ) {
            // Three creators in four made to pass the filters random data mostly fails; of
            // those, one in three keeps its random tenant and platform blacklisting.
            let n = raw.len();
            let ids: Vec<u128> = ids.into_iter().collect();
            let all: Vec<CreatorFacts> = raw
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut c = if i % 4 != 3 {
                        let (bl_t, bl_p) = (c.blacklisted_by_tenant, c.blacklisted_by_platform);
                        let mut f = friendly(c, &ask);
                        if i % 3 == 0 {
                            f.blacklisted_by_tenant = bl_t;
                            f.blacklisted_by_platform = bl_p;
                        }
                        f
                    } else {
                        c
                    };
                    c.id = Uuid::from_u128(ids[i]);
                    c
                })
                .collect();
            let offered: HashSet<Uuid> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| offered_every > 0 && i % (offered_every + 1) == 0)
                .map(|(_, c)| c.id)
                .collect();
            let rates = test_rates();
            let projection = projected(&all);
            let marks = projection.marks(&overlay_rows(&all));
            let chosen_ids: HashSet<Uuid> = projection
                .shortlist_ids(&ask, &weights, &rates, &marks, &offered, limit, chunks)
                .into_iter()
                .collect();
            let chosen: Vec<CreatorFacts> =
                all.iter().filter(|c| chosen_ids.contains(&c.id)).cloned().collect();
            let open: Vec<CreatorFacts> =
                all.iter().filter(|c| !offered.contains(&c.id)).cloned().collect();
            prop_assert_eq!(
                domain::rank(&chosen, &ask, &weights, &rates, limit),
                domain::rank(&open, &ask, &weights, &rates, limit),
                "pool of {}", n
            );
        }

        /// The approximate pass carries the exact track-record term: for a creator who passes
        /// every filter and fits the compact form, its approximate total is within EPSILON of
        /// the reference total, whatever the two tiers; a tenant-blacklisted one is out.
        #[test]
        fn the_approximate_total_has_the_exact_track_record_term(
            c in pool().prop_filter("one creator", |p| !p.is_empty()),
            ask in campaign_ask(),
            weights in integer_weights(),
        ) {
            let rates = test_rates();
            let mut f = friendly(c[0].clone(), &ask);
            f.languages = ask.languages.clone();
            let projection = projected(std::slice::from_ref(&f));
            let marks = projection.marks(&overlay_rows(std::slice::from_ref(&f)));
            let q = Query::new(&projection, &ask, &weights, &rates);
            let mark = marks.first().map_or(0, |m| m.1);
            match (q.judge(&projection, &projection.rows[0], mark), domain::score(&f, &ask, &weights, &rates)) {
                (Verdict::In { total, certain: true }, Ok(s)) => {
                    prop_assert!((total - s.total).abs() < EPSILON, "{} vs {}", total, s.total);
                }
                (Verdict::Out, Err(_)) | (Verdict::Exact, _) | (Verdict::In { certain: false, .. }, _) => {}
                (v, s) => prop_assert!(false, "approximate {:?} vs reference {:?}", matches!(v, Verdict::Out), s.is_ok()),
            }
        }
    }

    #[test]
    fn tier_indexes_round_trip() {
        for t in [
            None,
            Some(Tier::S),
            Some(Tier::A),
            Some(Tier::B),
            Some(Tier::C),
        ] {
            assert_eq!(tier_of_index(tier_index(t)), t);
            assert_eq!(mark_of(t, true) & TIER_BITS, tier_index(t));
            assert_ne!(mark_of(t, true) & BLACKLISTED, 0);
        }
    }
}
