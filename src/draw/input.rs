//! Parsing and validation of a draw input or record, spec `draw-v1.md` §2–§4.
//!
//! The roster can hold a million entries, so it is not parsed into a
//! `serde_json::Value`. A hand-written serde visitor streams it into flat,
//! index-based arrays: strings are kept as [`SRef`] offsets into the input
//! text (only strings with escapes are copied), school names are interned to
//! small integers while parsing, and priority lists are interned to
//! "priority classes" (most rosters use a few dozen distinct lists).
//! The small, free-form parts (announcement, sources) are parsed into
//! [`CVal`]. Validation then checks every rule of §2 and refuses the input
//! with a [`DrawError`] that names the entry and the field, before anything
//! is computed. While checking each roster entry it writes the entry's CJSON
//! leaf into one reused buffer and hashes it (§3).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use super::cjson::{self, CVal, CValSeed, Skip};
use super::merkle::{self, Hash};
use super::{beacon, Checks, DrawError};

/// The algorithm name of this spec.
pub const VERSION: &str = "ruxue-draw-v1";

// ---------------------------------------------------------------------------
// Small helpers

/// FxHash (as used inside rustc): much faster than SipHash for the short
/// school ids and priority lists interned while parsing.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            self.add(b as u64);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// True when `s` matches `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$` (spec §1).
pub fn is_valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b[1..].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || c == b'-')
}

/// True when `s` is 64 lower-case hex digits.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// A string of the input: `start..start+len` of the input text, or of the
/// side buffer holding unescaped copies of strings that had escapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SRef {
    start: u32,
    /// Top bit set: the string lives in the side buffer.
    len: u32,
}

const SIDE: u32 = 1 << 31;

impl SRef {
    const NONE: SRef = SRef { start: u32::MAX, len: u32::MAX };
    fn is_none(self) -> bool {
        self == SRef::NONE
    }
}

/// Which part of the input the parser is in, to name it in errors.
#[derive(Clone, Copy)]
enum Loc {
    Top,
    Announcement,
    Sources,
    Roster(usize),
    Result(&'static str),
}

/// Which members a document must have.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// A draw input: exactly `announcement`, `roster`, `sources`.
    Input,
    /// A record: the input plus `result`.
    Record,
    /// For inclusion proofs: `announcement` and `roster` are required,
    /// `sources` and `result` are optional and not checked (a proof can be
    /// issued before the sources are revealed).
    RosterOnly,
}

// ---------------------------------------------------------------------------
// Parsed (not yet validated) document

/// The roster as parsed: flat arrays indexed by entry and by preference slot.
#[derive(Default)]
struct RawRoster {
    ids: Vec<SRef>,
    family: Vec<SRef>,
    /// Entry `i`'s prefs are `prefs[pref_off[i]..pref_off[i+1]]` (name indices).
    pref_off: Vec<u32>,
    prefs: Vec<u32>,
    /// Entry `i`'s priority members, in file order: (name index, class index).
    prio_off: Vec<u32>,
    prio: Vec<(u32, u32)>,
}

/// The published `result` of a record, as parsed (strings as [`SRef`]).
#[derive(Default)]
pub(crate) struct PubResult {
    pub extra: Vec<String>,
    pub duplicate: Option<String>,
    pub version: Option<SRef>,
    pub draw_id: Option<SRef>,
    pub announcement_digest: Option<SRef>,
    pub seed: Option<SRef>,
    pub lottery: Option<Vec<SRef>>,
    pub lottery_numbers: Option<Vec<(SRef, i64)>>,
    pub assignments: Option<Vec<(SRef, Vec<SRef>)>>,
    pub unassigned: Option<Vec<SRef>>,
    pub waitlists: Option<Vec<(SRef, Vec<SRef>)>>,
}

struct Parser<'a> {
    input: &'a str,
    base: usize,
    side: String,
    names: FxMap<String, u32>,
    name_list: Vec<String>,
    classes: FxMap<Vec<i64>, u32>,
    class_list: Vec<Vec<i64>>,
    scratch: Vec<i64>,
    roster: RawRoster,
    roster_seen: bool,
    loc: Loc,
    cur_id: SRef,
}

impl<'a> Parser<'a> {
    fn sref(&mut self, s: Cow<'a, str>) -> Result<SRef, String> {
        if let Cow::Borrowed(b) = &s {
            let p = b.as_ptr() as usize;
            if p >= self.base && p + b.len() <= self.base + self.input.len() {
                return Ok(SRef { start: (p - self.base) as u32, len: b.len() as u32 });
            }
        }
        let start = self.side.len();
        if start + s.len() >= SIDE as usize {
            return Err("too much escaped text (limit 2 GiB)".into());
        }
        self.side.push_str(&s);
        Ok(SRef { start: start as u32, len: s.len() as u32 | SIDE })
    }

    fn get(&self, r: SRef) -> &str {
        if r.is_none() {
            return "";
        }
        let start = r.start as usize;
        if r.len & SIDE != 0 {
            let len = (r.len & !SIDE) as usize;
            self.side.get(start..start + len).unwrap_or("")
        } else {
            self.input.get(start..start + r.len as usize).unwrap_or("")
        }
    }

    fn intern_name(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.names.get(s) {
            return i;
        }
        let i = self.name_list.len() as u32;
        self.names.insert(s.to_owned(), i);
        self.name_list.push(s.to_owned());
        i
    }

    fn intern_class(&mut self) -> u32 {
        if let Some(&i) = self.classes.get(self.scratch.as_slice()) {
            return i;
        }
        let i = self.class_list.len() as u32;
        self.classes.insert(self.scratch.clone(), i);
        self.class_list.push(self.scratch.clone());
        i
    }

    fn loc_text(&self) -> String {
        match self.loc {
            Loc::Top => "input".into(),
            Loc::Announcement => "announcement".into(),
            Loc::Sources => "sources".into(),
            Loc::Roster(i) => {
                if self.cur_id.is_none() {
                    format!("roster[{i}]")
                } else {
                    format!("roster[{i}] (id {})", self.get(self.cur_id))
                }
            }
            Loc::Result(f) => format!("result.{f}"),
        }
    }
}

/// A string, borrowed from the input when it has no escapes.
struct CowStr;

impl<'de> Visitor<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(CowStr)
    }
}

/// A string stored as an [`SRef`].
struct StrSeed<'p, 'a>(&'p mut Parser<'a>, &'static str);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for StrSeed<'p, 'a> {
    type Value = SRef;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SRef, D::Error> {
        let s = d.deserialize_str(Expect(CowStr, self.1))?;
        self.0.sref(s).map_err(de::Error::custom)
    }
}

/// Wraps a visitor to change what it says it expected.
struct Expect<V>(V, &'static str);

impl<'de, V: Visitor<'de>> Visitor<'de> for Expect<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.0.visit_borrowed_str(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.0.visit_string(v)
    }
}

// ---------------------------------------------------------------------------
// Top level

struct TopSeed<'p, 'a> {
    p: &'p mut Parser<'a>,
    mode: Mode,
}

pub(crate) struct Parsed {
    announcement: Option<CVal>,
    sources: Option<CVal>,
    result: Option<PubResult>,
}

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for TopSeed<'p, 'a> {
    type Value = Parsed;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for TopSeed<'p, 'a> {
    type Value = Parsed;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with members announcement, roster, sources")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let p = self.p;
        let mut out = Parsed { announcement: None, sources: None, result: None };
        while let Some(key) = map.next_key_seed(CowStr)? {
            let dup = || de::Error::custom(format_args!("duplicate member {:?}", key.as_ref()));
            match key.as_ref() {
                "announcement" => {
                    if out.announcement.is_some() {
                        return Err(dup());
                    }
                    p.loc = Loc::Announcement;
                    out.announcement = Some(map.next_value_seed(CValSeed { depth: 2 })?);
                }
                "sources" => {
                    if out.sources.is_some() {
                        return Err(dup());
                    }
                    p.loc = Loc::Sources;
                    out.sources = Some(map.next_value_seed(CValSeed { depth: 2 })?);
                }
                "roster" => {
                    if p.roster_seen {
                        return Err(dup());
                    }
                    p.roster_seen = true;
                    map.next_value_seed(RosterSeed(&mut *p))?;
                }
                "result" if self.mode == Mode::Record => {
                    if out.result.is_some() {
                        return Err(dup());
                    }
                    p.loc = Loc::Result("");
                    out.result = Some(map.next_value_seed(ResultSeed(&mut *p))?);
                }
                "result" if self.mode == Mode::RosterOnly => {
                    map.next_value_seed(Skip { depth: 2 })?;
                }
                other => {
                    cjson::check_key(other).map_err(de::Error::custom)?;
                    let hint = if other == "result" { " (this is a record; use verify, or remove the result to compute)" } else { "" };
                    return Err(de::Error::custom(format_args!(
                        "unexpected member {other:?}: a draw input has exactly announcement, roster, sources{hint}"
                    )));
                }
            }
            p.loc = Loc::Top;
        }
        let mut missing = Vec::new();
        if out.announcement.is_none() {
            missing.push("announcement");
        }
        if !p.roster_seen {
            missing.push("roster");
        }
        if out.sources.is_none() && self.mode != Mode::RosterOnly {
            missing.push("sources");
        }
        if out.result.is_none() && self.mode == Mode::Record {
            missing.push("result");
        }
        if !missing.is_empty() {
            return Err(de::Error::custom(format_args!("missing member(s): {}", missing.join(", "))));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Roster

struct RosterSeed<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for RosterSeed<'p, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for RosterSeed<'p, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("roster: a list of entries")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let p = self.0;
        if let Some(n) = seq.size_hint() {
            p.roster.ids.reserve(n);
        }
        p.roster.pref_off.push(0);
        p.roster.prio_off.push(0);
        let mut i = 0usize;
        loop {
            p.loc = Loc::Roster(i);
            p.cur_id = SRef::NONE;
            if seq.next_element_seed(EntrySeed(&mut *p))?.is_none() {
                break;
            }
            i += 1;
        }
        p.cur_id = SRef::NONE;
        p.loc = Loc::Top;
        Ok(())
    }
}

struct EntrySeed<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for EntrySeed<'p, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for EntrySeed<'p, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a roster entry (an object with id, prefs, priority and optionally family)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        let (mut id, mut prefs, mut prio, mut family) = (false, false, false, SRef::NONE);
        let mut has_family = false;
        while let Some(key) = map.next_key_seed(CowStr)? {
            let dup = || de::Error::custom(format_args!("duplicate member {:?}", key.as_ref()));
            match key.as_ref() {
                "id" => {
                    if id {
                        return Err(dup());
                    }
                    id = true;
                    let r = map.next_value_seed(StrSeed(&mut *p, "an applicant id (string)"))?;
                    p.cur_id = r;
                }
                "prefs" => {
                    if prefs {
                        return Err(dup());
                    }
                    prefs = true;
                    map.next_value_seed(PrefsSeed(&mut *p))?;
                }
                "priority" => {
                    if prio {
                        return Err(dup());
                    }
                    prio = true;
                    map.next_value_seed(PrioSeed(&mut *p))?;
                }
                "family" => {
                    if has_family {
                        return Err(dup());
                    }
                    has_family = true;
                    family = map.next_value_seed(StrSeed(&mut *p, "a family id (string)"))?;
                }
                other => {
                    cjson::check_key(other).map_err(de::Error::custom)?;
                    return Err(de::Error::custom(format_args!(
                        "unexpected member {other:?} (an entry has only id, prefs, priority, family)"
                    )));
                }
            }
        }
        let mut missing = Vec::new();
        if !id {
            missing.push("id");
        }
        if !prefs {
            missing.push("prefs");
        }
        if !prio {
            missing.push("priority");
        }
        if !missing.is_empty() {
            return Err(de::Error::custom(format_args!("missing member(s): {}", missing.join(", "))));
        }
        let r = &mut p.roster;
        if r.prefs.len() > u32::MAX as usize - 1 || r.prio.len() > u32::MAX as usize - 1 {
            return Err(de::Error::custom("roster too large"));
        }
        r.ids.push(p.cur_id);
        r.family.push(family);
        r.pref_off.push(r.prefs.len() as u32);
        r.prio_off.push(r.prio.len() as u32);
        Ok(())
    }
}

struct PrefsSeed<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for PrefsSeed<'p, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for PrefsSeed<'p, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("prefs: a list of school ids")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let p = self.0;
        while let Some(s) = seq.next_element_seed(ExpectSeed("a school id (string)"))? {
            let n = p.intern_name(&s);
            p.roster.prefs.push(n);
        }
        Ok(())
    }
}

struct ExpectSeed(&'static str);

impl<'de> DeserializeSeed<'de> for ExpectSeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(Expect(CowStr, self.0))
    }
}

struct PrioSeed<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for PrioSeed<'p, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for PrioSeed<'p, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("priority: an object mapping each school in prefs to a list of integers")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let p = self.0;
        while let Some(k) = map.next_key_seed(CowStr)? {
            cjson::check_key(&k).map_err(de::Error::custom)?;
            let name = p.intern_name(&k);
            p.scratch.clear();
            map.next_value_seed(IntsSeed(&mut p.scratch))?;
            let class = p.intern_class();
            p.roster.prio.push((name, class));
        }
        Ok(())
    }
}

struct IntsSeed<'p>(&'p mut Vec<i64>);

impl<'de, 'p> DeserializeSeed<'de> for IntsSeed<'p> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, 'p> Visitor<'de> for IntsSeed<'p> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a priority: a list of integers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<SafeInt>()? {
            self.0.push(v.0);
        }
        Ok(())
    }
}

/// An integer of magnitude at most 2^53−1 (floats refused).
struct SafeInt(i64);

impl<'de> serde::Deserialize<'de> for SafeInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = i64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
                if cjson::int_in_range(v) {
                    Ok(v)
                } else {
                    Err(E::custom(cjson::out_of_range(v)))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
                if v <= cjson::MAX_SAFE_INT as u64 {
                    Ok(v as i64)
                } else {
                    Err(E::custom(cjson::out_of_range(v)))
                }
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<i64, E> {
                // `1.5`, `1e3`, `-0` or an integer beyond 64 bits: the
                // message is written by `cjson::explain_number`.
                Err(E::custom(cjson::NOT_AN_INTEGER))
            }
        }
        d.deserialize_any(V).map(SafeInt)
    }
}

// ---------------------------------------------------------------------------
// Published result (records only)

struct ResultSeed<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for ResultSeed<'p, 'a> {
    type Value = PubResult;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<PubResult, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for ResultSeed<'p, 'a> {
    type Value = PubResult;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("result: an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PubResult, A::Error> {
        let p = self.0;
        let mut r = PubResult::default();
        while let Some(key) = map.next_key_seed(CowStr)? {
            macro_rules! once {
                ($field:ident, $name:literal, $e:expr) => {{
                    p.loc = Loc::Result($name);
                    let v = $e;
                    if r.$field.is_some() {
                        r.duplicate.get_or_insert_with(|| $name.to_string());
                    }
                    r.$field = Some(v);
                }};
            }
            match key.as_ref() {
                "version" => once!(version, "version", map.next_value_seed(StrSeed(&mut *p, "a string"))?),
                "draw_id" => once!(draw_id, "draw_id", map.next_value_seed(StrSeed(&mut *p, "a string"))?),
                "announcement_digest" => {
                    once!(announcement_digest, "announcement_digest", map.next_value_seed(StrSeed(&mut *p, "a string"))?)
                }
                "seed" => once!(seed, "seed", map.next_value_seed(StrSeed(&mut *p, "a string"))?),
                "lottery" => once!(lottery, "lottery", map.next_value_seed(StrList(&mut *p))?),
                "unassigned" => once!(unassigned, "unassigned", map.next_value_seed(StrList(&mut *p))?),
                "lottery_numbers" => {
                    once!(lottery_numbers, "lottery_numbers", map.next_value_seed(NumMap(&mut *p))?)
                }
                "assignments" => once!(assignments, "assignments", map.next_value_seed(ListMap(&mut *p))?),
                "waitlists" => once!(waitlists, "waitlists", map.next_value_seed(ListMap(&mut *p))?),
                other => {
                    cjson::check_key(other).map_err(de::Error::custom)?;
                    r.extra.push(other.to_string());
                    map.next_value_seed(Skip { depth: 3 })?;
                }
            }
            p.loc = Loc::Result("");
        }
        Ok(r)
    }
}

struct StrList<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for StrList<'p, 'a> {
    type Value = Vec<SRef>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<SRef>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for StrList<'p, 'a> {
    type Value = Vec<SRef>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of ids")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<SRef>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(s) = seq.next_element_seed(ExpectSeed("an id (string)"))? {
            out.push(self.0.sref(s).map_err(de::Error::custom)?);
        }
        Ok(out)
    }
}

struct NumMap<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for NumMap<'p, 'a> {
    type Value = Vec<(SRef, i64)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for NumMap<'p, 'a> {
    type Value = Vec<(SRef, i64)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping ids to integers")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(k) = map.next_key_seed(CowStr)? {
            cjson::check_key(&k).map_err(de::Error::custom)?;
            let v = map.next_value::<SafeInt>()?;
            out.push((self.0.sref(k).map_err(de::Error::custom)?, v.0));
        }
        Ok(out)
    }
}

struct ListMap<'p, 'a>(&'p mut Parser<'a>);

impl<'de: 'a, 'p, 'a> DeserializeSeed<'de> for ListMap<'p, 'a> {
    type Value = Vec<(SRef, Vec<SRef>)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'p, 'a> Visitor<'de> for ListMap<'p, 'a> {
    type Value = Vec<(SRef, Vec<SRef>)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object mapping school ids to lists of ids")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key_seed(CowStr)? {
            cjson::check_key(&k).map_err(de::Error::custom)?;
            let list = map.next_value_seed(StrList(&mut *self.0))?;
            out.push((self.0.sref(k).map_err(de::Error::custom)?, list));
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Validated draw

/// A school of the announcement.
#[derive(Clone, Debug)]
pub struct School {
    pub id: String,
    pub seats: u64,
}

/// A validated draw input, in compact index form. Applicants are numbered
/// by roster position, which is also ascending id order; schools by
/// announcement position.
pub struct Draw<'a> {
    input: &'a str,
    side: String,
    /// The announcement as given (its CJSON is hashed for the seed).
    pub announcement: CVal,
    pub draw_id: String,
    pub schools: Vec<School>,
    /// School indices sorted by id (byte order): the order of the result's
    /// `assignments` and `waitlists` members and of priority keys in leaves.
    pub school_order: Vec<u32>,
    /// Position of each school in `school_order`.
    pub school_rank: Vec<u32>,
    /// Revealed sources (name, value), in order; empty in [`Mode::RosterOnly`].
    pub sources: Vec<(String, String)>,
    /// Commitments and beacon values checked (empty in [`Mode::RosterOnly`]).
    pub checks: Checks,
    ids: Vec<SRef>,
    family: Vec<SRef>,
    /// All applicant ids concatenated (compact copy, cache-friendly when the
    /// result is written); id `i` is `id_text[id_off[i]..id_off[i+1]]`.
    id_text: String,
    id_off: Vec<u32>,
    /// When every id is at most 15 bytes: id `i` is `id_fixed[i][..id_fixed[i][15]]`,
    /// one cache line per random lookup (the result lists ids in lottery and
    /// ranking order, i.e. randomly). Empty otherwise.
    id_fixed: Vec<[u8; 16]>,
    /// Entry `i` lists schools `slot_school[pref_off[i]..pref_off[i+1]]`.
    pub pref_off: Vec<u32>,
    pub slot_school: Vec<u32>,
    /// Priority class of each slot; `class_rank` orders classes (0 = best).
    pub slot_class: Vec<u32>,
    pub class_list: Vec<Vec<i64>>,
    pub class_rank: Vec<u32>,
    /// Unit of each entry: the roster index of the family's named member, or
    /// the entry itself.
    pub unit_rep: Vec<u32>,
    /// RFC 6962 leaf hashes of the roster.
    pub leaf_hashes: Vec<Hash>,
    pub roster_root: Hash,
    leaf_parts: LeafParts,
    pub(crate) published: Option<PubResult>,
}

impl<'a> Draw<'a> {
    /// Number of roster entries.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Applicant id of entry `i`.
    #[inline]
    pub fn id(&self, i: usize) -> &str {
        &self.id_text[self.id_off[i] as usize..self.id_off[i + 1] as usize]
    }

    /// Applicant id of entry `i` as bytes (ids are ASCII; see [`is_valid_id`]).
    #[inline]
    pub fn id_bytes(&self, i: usize) -> &[u8] {
        match self.id_fixed.get(i) {
            Some(f) => &f[..f[15] as usize],
            None => self.id(i).as_bytes(),
        }
    }

    /// Family of entry `i`, if any.
    pub fn family(&self, i: usize) -> Option<&str> {
        let f = self.family[i];
        if f.is_none() {
            None
        } else {
            Some(self.str_of(f))
        }
    }

    pub(crate) fn str_of(&self, r: SRef) -> &str {
        if r.is_none() {
            return "";
        }
        let start = r.start as usize;
        if r.len & SIDE != 0 {
            let len = (r.len & !SIDE) as usize;
            self.side.get(start..start + len).unwrap_or("")
        } else {
            self.input.get(start..start + r.len as usize).unwrap_or("")
        }
    }

    /// Preference slots of entry `i`.
    pub fn slots(&self, i: usize) -> std::ops::Range<usize> {
        self.pref_off[i] as usize..self.pref_off[i + 1] as usize
    }

    /// Roster index of applicant `id` (roster is sorted by id).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let n = self.len();
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.id(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Append the CJSON leaf of entry `i` (spec §3) to `out`.
    /// `order` is scratch space, reused between calls.
    pub fn write_leaf(&self, i: usize, out: &mut Vec<u8>, order: &mut Vec<(u32, u32)>) {
        self.leaf_parts.write(out, order, self.family(i), self.id(i), self.slots(i), &self.slot_school, &self.slot_class);
    }
}

/// Precomputed CJSON fragments for writing roster leaves fast: every
/// school id in quotes, every priority class as its integer list.
pub(crate) struct LeafParts {
    school_json: Vec<Vec<u8>>,
    school_rank: Vec<u32>,
    class_json: Vec<Vec<u8>>,
}

impl LeafParts {
    fn new(schools: &[School], school_rank: &[u32], class_list: &[Vec<i64>]) -> Self {
        let school_json = schools
            .iter()
            .map(|s| {
                let mut b = Vec::new();
                cjson::write_str(&mut b, &s.id);
                b
            })
            .collect();
        let class_json = class_list
            .iter()
            .map(|c| {
                let mut b = vec![b'['];
                for (j, &v) in c.iter().enumerate() {
                    if j > 0 {
                        b.push(b',');
                    }
                    cjson::write_int(&mut b, v);
                }
                b.push(b']');
                b
            })
            .collect();
        LeafParts { school_json, school_rank: school_rank.to_vec(), class_json }
    }

    /// Append `CJSON(entry)`: members family?, id, prefs, priority (keys sorted).
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        out: &mut Vec<u8>,
        order: &mut Vec<(u32, u32)>,
        family: Option<&str>,
        id: &str,
        slots: std::ops::Range<usize>,
        slot_school: &[u32],
        slot_class: &[u32],
    ) {
        out.push(b'{');
        if let Some(f) = family {
            out.extend_from_slice(b"\"family\":");
            cjson::write_str(out, f);
            out.push(b',');
        }
        out.extend_from_slice(b"\"id\":");
        cjson::write_str(out, id);
        out.extend_from_slice(b",\"prefs\":[");
        order.clear();
        for (k, slot) in slots.enumerate() {
            if k > 0 {
                out.push(b',');
            }
            let s = slot_school[slot] as usize;
            out.extend_from_slice(&self.school_json[s]);
            order.push((self.school_rank[s], slot as u32));
        }
        out.extend_from_slice(b"],\"priority\":{");
        order.sort_unstable();
        for (k, &(_, slot)) in order.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&self.school_json[slot_school[slot as usize] as usize]);
            out.push(b':');
            out.extend_from_slice(&self.class_json[slot_class[slot as usize] as usize]);
        }
        out.extend_from_slice(b"}}");
    }
}

fn err(path: impl Into<String>, msg: impl Into<String>) -> DrawError {
    DrawError::invalid(path, msg)
}

/// Parse and validate a document. Nothing is computed when this fails.
pub fn parse(text: &str, mode: Mode) -> Result<Draw<'_>, DrawError> {
    if text.len() >= u32::MAX as usize {
        return Err(err("input", "larger than 4 GiB"));
    }
    if text.starts_with('\u{feff}') {
        return Err(err("input", cjson::BOM));
    }
    let mut p = Parser {
        input: text,
        base: text.as_ptr() as usize,
        side: String::new(),
        names: FxMap::default(),
        name_list: Vec::new(),
        classes: FxMap::default(),
        class_list: Vec::new(),
        scratch: Vec::new(),
        roster: RawRoster::default(),
        roster_seen: false,
        loc: Loc::Top,
        cur_id: SRef::NONE,
    };
    let parsed = {
        let mut de = serde_json::Deserializer::from_str(text);
        let r = TopSeed { p: &mut p, mode }.deserialize(&mut de).and_then(|v| de.end().map(|_| v));
        match r {
            Ok(v) => v,
            Err(e) => {
                let loc = p.loc_text();
                let msg = cjson::explain_number(&e.to_string(), text);
                if msg.starts_with('.') || msg.starts_with('[') {
                    return Err(err(
                        format!("{loc}{}", msg.split(": ").next().unwrap_or("")),
                        msg.split_once(": ").map(|x| x.1).unwrap_or("malformed").to_string(),
                    ));
                }
                return Err(err(loc, format!("malformed: {msg}")));
            }
        }
    };
    validate(p, parsed, mode)
}

#[allow(clippy::needless_range_loop)]
fn validate<'a>(p: Parser<'a>, parsed: Parsed, mode: Mode) -> Result<Draw<'a>, DrawError> {
    // The announcement is always present here (TopSeed checks).
    let ann = parsed.announcement.unwrap_or(CVal::Null);
    let a = ann.as_obj().ok_or_else(|| err("announcement", format!("must be an object, found {}", ann.type_name())))?;
    for req in ["version", "draw_id", "schools", "roster_root", "roster_size", "sources"] {
        if !a.contains_key(req) {
            return Err(err("announcement", format!("missing member {req:?}")));
        }
    }
    let want_str = |k: &str| -> Result<&str, DrawError> {
        let v = &a[k];
        v.as_str().ok_or_else(|| err(format!("announcement.{k}"), format!("must be a string, found {}", v.type_name())))
    };
    let version = want_str("version")?;
    if version != VERSION {
        return Err(err("announcement.version", format!("must be {VERSION:?}, found {version:?}")));
    }
    let draw_id = want_str("draw_id")?.to_string();
    if !is_valid_id(&draw_id) {
        return Err(err("announcement.draw_id", format!("{draw_id:?} is not a valid id (^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$)")));
    }
    let root_hex = want_str("roster_root")?;
    if !is_hex64(root_hex) {
        return Err(err("announcement.roster_root", "must be 64 lower-case hex digits"));
    }
    let roster_size = match &a["roster_size"] {
        CVal::Int(n) if *n >= 0 => *n as u64,
        v => return Err(err("announcement.roster_size", format!("must be an integer >= 0, found {}", show(v)))),
    };

    // Schools.
    let sch =
        a["schools"].as_arr().ok_or_else(|| err("announcement.schools", format!("must be a list, found {}", a["schools"].type_name())))?;
    if sch.is_empty() {
        return Err(err("announcement.schools", "must not be empty"));
    }
    let mut schools = Vec::with_capacity(sch.len());
    let mut school_index: FxMap<&str, u32> = FxMap::default();
    for (k, s) in sch.iter().enumerate() {
        let path = format!("announcement.schools[{k}]");
        let o = s.as_obj().ok_or_else(|| err(&path, format!("must be an object, found {}", s.type_name())))?;
        for key in o.keys() {
            if key != "id" && key != "seats" {
                return Err(err(&path, format!("unexpected member {key:?} (a school has only id and seats)")));
            }
        }
        let id = match o.get("id") {
            Some(CVal::Str(s)) => s,
            Some(v) => return Err(err(format!("{path}.id"), format!("must be a string, found {}", v.type_name()))),
            None => return Err(err(&path, "missing member \"id\"")),
        };
        if !is_valid_id(id) {
            return Err(err(format!("{path}.id"), format!("{id:?} is not a valid id (^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$)")));
        }
        let seats = match o.get("seats") {
            Some(CVal::Int(n)) if *n >= 0 => *n as u64,
            Some(v) => return Err(err(format!("{path} (id {id}).seats"), format!("must be an integer >= 0, found {}", show(v)))),
            None => return Err(err(format!("{path} (id {id})"), "missing member \"seats\"")),
        };
        if school_index.insert(id.as_str(), k as u32).is_some() {
            return Err(err(format!("{path}.id"), format!("duplicate school id {id:?}")));
        }
        schools.push(School { id: id.clone(), seats });
    }
    if schools.len() > u32::MAX as usize / 2 {
        return Err(err("announcement.schools", "too many schools"));
    }
    let mut school_order: Vec<u32> = (0..schools.len() as u32).collect();
    school_order.sort_by(|&x, &y| schools[x as usize].id.cmp(&schools[y as usize].id));
    let mut school_rank = vec![0u32; schools.len()];
    for (pos, &s) in school_order.iter().enumerate() {
        school_rank[s as usize] = pos as u32;
    }

    // Announced sources.
    let asrc =
        a["sources"].as_arr().ok_or_else(|| err("announcement.sources", format!("must be a list, found {}", a["sources"].type_name())))?;
    if asrc.is_empty() {
        return Err(err(
            "announcement.sources",
            "must not be empty (a draw without a randomness source is known in advance to whoever writes the announcement)",
        ));
    }
    let mut announced: Vec<(&str, Option<&str>)> = Vec::with_capacity(asrc.len());
    for (k, s) in asrc.iter().enumerate() {
        let path = format!("announcement.sources[{k}]");
        let o = s.as_obj().ok_or_else(|| err(&path, format!("must be an object, found {}", s.type_name())))?;
        let name = match o.get("name") {
            Some(CVal::Str(s)) => s.as_str(),
            Some(v) => return Err(err(format!("{path}.name"), format!("must be a string, found {}", v.type_name()))),
            None => return Err(err(&path, "missing member \"name\"")),
        };
        if !is_valid_id(name) {
            return Err(err(format!("{path}.name"), format!("{name:?} is not a valid source name (^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$)")));
        }
        if let Some(j) = announced.iter().position(|(n, _)| *n == name) {
            return Err(err(format!("{path}.name"), format!("duplicate source name {name:?} (also announcement.sources[{j}])")));
        }
        let commitment = match o.get("commitment") {
            None => None,
            Some(CVal::Str(c)) if is_hex64(c) => Some(c.as_str()),
            Some(v) => {
                return Err(err(
                    format!("{path} (name {name:?}).commitment"),
                    format!("must be 64 lower-case hex digits, found {}", show(v)),
                ))
            }
        };
        announced.push((name, commitment));
    }

    // Roster entries.
    let Parser { input, side, name_list, class_list, roster: raw, .. } = p;
    let get = |r: SRef| -> &str {
        if r.is_none() {
            return "";
        }
        let start = r.start as usize;
        if r.len & SIDE != 0 {
            let len = (r.len & !SIDE) as usize;
            side.get(start..start + len).unwrap_or("")
        } else {
            input.get(start..start + r.len as usize).unwrap_or("")
        }
    };
    let n = raw.ids.len();
    if n == 0 {
        return Err(err("roster", "must not be empty"));
    }
    let name_school: Vec<u32> = name_list.iter().map(|nm| school_index.get(nm.as_str()).copied().unwrap_or(u32::MAX)).collect();
    let mut slot_school = raw.prefs; // rewritten in place: name index -> school index
    let mut slot_class = vec![0u32; slot_school.len()];
    // Per-school scratch: (stamp of the entry that last listed it, slot).
    let mut stamp = vec![(u32::MAX, 0u32); schools.len()];
    let mut seen_prio = vec![u32::MAX; schools.len()];
    let mut leaf_hashes: Vec<Hash> = Vec::with_capacity(n);
    let leaf_parts = LeafParts::new(&schools, &school_rank, &class_list);
    let mut buf = Vec::with_capacity(256);
    let mut order = Vec::new();
    let mut prev: &str = "";
    let mut id_text = String::with_capacity(n * 10);
    let mut id_off = Vec::with_capacity(n + 1);
    id_off.push(0u32);
    for i in 0..n {
        let id = get(raw.ids[i]);
        id_text.push_str(id);
        if id_text.len() > u32::MAX as usize {
            return Err(err("roster", "too many ids"));
        }
        id_off.push(id_text.len() as u32);
        let here = || format!("roster[{i}] (id {id})");
        if !is_valid_id(id) {
            return Err(err(format!("roster[{i}].id"), format!("{id:?} is not a valid id (^[A-Za-z0-9][A-Za-z0-9._-]{{0,63}}$)")));
        }
        if i > 0 {
            match prev.as_bytes().cmp(id.as_bytes()) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Err(err(here(), format!("duplicate id {id:?} (also roster[{}])", i - 1))),
                std::cmp::Ordering::Greater => {
                    return Err(err(here(), format!("roster is not sorted by id: {id:?} comes after {prev:?} (roster[{}])", i - 1)))
                }
            }
        }
        prev = id;
        let (a0, a1) = (raw.pref_off[i] as usize, raw.pref_off[i + 1] as usize);
        if a0 == a1 {
            return Err(err(format!("{}.prefs", here()), "must not be empty"));
        }
        let stamp_i = i as u32;
        for slot in a0..a1 {
            let name = slot_school[slot];
            let s = name_school[name as usize];
            if s == u32::MAX {
                return Err(err(format!("{}: prefs[{}]", here(), slot - a0), format!("unknown school {:?}", name_list[name as usize])));
            }
            if stamp[s as usize].0 == stamp_i {
                return Err(err(format!("{}: prefs[{}]", here(), slot - a0), format!("school {:?} listed twice", schools[s as usize].id)));
            }
            stamp[s as usize] = (stamp_i, slot as u32);
            slot_school[slot] = s;
        }
        let (b0, b1) = (raw.prio_off[i] as usize, raw.prio_off[i + 1] as usize);
        for &(name, class) in &raw.prio[b0..b1] {
            let nm = &name_list[name as usize];
            let s = name_school[name as usize];
            if s == u32::MAX || stamp[s as usize].0 != stamp_i {
                return Err(err(format!("{}: priority", here()), format!("member {nm:?} is not a school in this entry's prefs")));
            }
            if seen_prio[s as usize] == stamp_i {
                return Err(err(format!("{}: priority", here()), format!("duplicate member {nm:?}")));
            }
            seen_prio[s as usize] = stamp_i;
            slot_class[stamp[s as usize].1 as usize] = class;
        }
        if b1 - b0 != a1 - a0 {
            // Every priority key is a distinct listed school, so some listed school lacks one.
            let missing = (a0..a1)
                .map(|slot| slot_school[slot])
                .find(|&s| seen_prio[s as usize] != stamp_i)
                .map(|s| schools[s as usize].id.clone())
                .unwrap_or_default();
            return Err(err(
                format!("{}: priority", here()),
                format!("missing member {missing:?} (priority needs exactly one member per school in prefs)"),
            ));
        }
        let fam = raw.family[i];
        buf.clear();
        leaf_parts.write(&mut buf, &mut order, if fam.is_none() { None } else { Some(get(fam)) }, id, a0..a1, &slot_school, &slot_class);
        leaf_hashes.push(merkle::leaf_hash(&buf));
    }

    // Families (needs all ids checked and sorted, for the binary search).
    let index_of = |name: &str| raw.ids.binary_search_by(|r| get(*r).cmp(name)).ok();
    let mut unit_rep = Vec::with_capacity(n);
    for i in 0..n {
        let fam = raw.family[i];
        if fam.is_none() {
            unit_rep.push(i as u32);
            continue;
        }
        let f = get(fam);
        let here = || format!("roster[{i}] (id {}).family", get(raw.ids[i]));
        let Some(j) = index_of(f) else {
            return Err(err(here(), format!("{f:?} names no roster entry (a family must name one of its members)")));
        };
        let fj = raw.family[j];
        if fj.is_none() || get(fj) != f {
            let theirs = if fj.is_none() { "no family".to_string() } else { format!("family {:?}", get(fj)) };
            return Err(err(here(), format!("{f:?} names roster[{j}], which has {theirs}; the named member must carry the same family")));
        }
        unit_rep.push(j as u32);
    }

    if roster_size != n as u64 {
        return Err(err("announcement.roster_size", format!("is {roster_size} but the roster has {n} entries")));
    }
    let roster_root = merkle::root_from_leaf_hashes(&leaf_hashes);
    if hex::encode(roster_root) != root_hex {
        return Err(err("announcement.roster_root", format!("is {root_hex} but the roster hashes to {}", hex::encode(roster_root))));
    }

    // Revealed sources.
    let mut sources = Vec::new();
    let mut checks = Checks::default();
    if let Some(src) = parsed.sources.filter(|_| mode != Mode::RosterOnly) {
        let list = src.as_arr().ok_or_else(|| err("sources", format!("must be a list, found {}", src.type_name())))?;
        for (k, s) in list.iter().enumerate() {
            let path = format!("sources[{k}]");
            let o = s.as_obj().ok_or_else(|| err(&path, format!("must be an object, found {}", s.type_name())))?;
            for key in o.keys() {
                if key != "name" && key != "value" {
                    return Err(err(&path, format!("unexpected member {key:?} (a source has only name and value)")));
                }
            }
            let name = match o.get("name") {
                Some(CVal::Str(s)) => s.clone(),
                Some(v) => return Err(err(format!("{path}.name"), format!("must be a string, found {}", v.type_name()))),
                None => return Err(err(&path, "missing member \"name\"")),
            };
            let value = match o.get("value") {
                Some(CVal::Str(s)) => s.clone(),
                Some(v) => return Err(err(format!("{path} (name {name:?}).value"), format!("must be a string, found {}", v.type_name()))),
                None => return Err(err(format!("{path} (name {name:?})"), "missing member \"value\"")),
            };
            sources.push((name, value));
        }
        for k in 0..announced.len().max(sources.len()) {
            match (announced.get(k), sources.get(k)) {
                (Some((an, _)), Some((sn, _))) if an != sn => {
                    return Err(err(
                        format!("sources[{k}].name"),
                        format!("is {sn:?} but announcement.sources[{k}] is {an:?} (same names, same order)"),
                    ))
                }
                (Some((an, _)), None) => return Err(err("sources", format!("missing source {an:?} (announcement.sources[{k}])"))),
                (None, Some((sn, _))) => return Err(err(format!("sources[{k}]"), format!("source {sn:?} was not announced"))),
                _ => {}
            }
        }
        for (k, ((_, commitment), (name, value))) in announced.iter().zip(&sources).enumerate() {
            if let Some(c) = commitment {
                let got = commitment_of(name, value);
                if got != *c {
                    return Err(err(
                        format!("sources[{k}] (name {name:?}).value"),
                        format!("does not match its commitment: hex(SHA-256(CJSON({{name, value}}))) is {got}, announced {c}"),
                    ));
                }
                checks.commitments.push(name.clone());
            }
        }
        // Beacons (beacon-drand.md): a value that is not the named round's
        // signature fails like a failed commitment.
        for (k, (a, (name, value))) in asrc.iter().zip(&sources).enumerate() {
            let drand = beacon::drand_of(a).map_err(|m| err(format!("announcement.sources[{k}] (name {name:?}).drand"), m))?;
            match drand {
                Some(d) => {
                    let mut c = beacon::verify_drand(&d.chain_hash, d.round, value)
                        .map_err(|m| err(format!("sources[{k}] (name {name:?}).value"), format!("beacon check failed: {m}")))?;
                    c.source = name.clone();
                    checks.beacons.push(c);
                }
                None if announced[k].1.is_none() => checks.unchecked_sources.push(name.clone()),
                None => {}
            }
        }
    }

    let mut class_rank = vec![0u32; class_list.len()];
    let mut by_class: Vec<u32> = (0..class_list.len() as u32).collect();
    by_class.sort_by(|&x, &y| class_list[x as usize].cmp(&class_list[y as usize]));
    for (r, &c) in by_class.iter().enumerate() {
        class_rank[c as usize] = r as u32;
    }

    Ok(Draw {
        input,
        side,
        announcement: ann,
        draw_id,
        schools,
        school_order,
        school_rank,
        sources,
        checks,
        ids: raw.ids,
        family: raw.family,
        id_fixed: fixed_ids(&id_text, &id_off),
        id_text,
        id_off,
        pref_off: raw.pref_off,
        slot_school,
        slot_class,
        class_list,
        class_rank,
        unit_rep,
        leaf_hashes,
        roster_root,
        leaf_parts,
        published: parsed.result,
    })
}

fn fixed_ids(text: &str, off: &[u32]) -> Vec<[u8; 16]> {
    if off.windows(2).any(|w| w[1] - w[0] > 15) {
        return Vec::new();
    }
    off.windows(2)
        .map(|w| {
            let b = &text.as_bytes()[w[0] as usize..w[1] as usize];
            let mut f = [0u8; 16];
            f[..b.len()].copy_from_slice(b);
            f[15] = b.len() as u8;
            f
        })
        .collect()
}

/// `hex(SHA-256(CJSON({"name": name, "value": value})))` (spec §2).
pub fn commitment_of(name: &str, value: &str) -> String {
    let mut b = Vec::with_capacity(32 + name.len() + value.len());
    b.extend_from_slice(b"{\"name\":");
    cjson::write_str(&mut b, name);
    b.extend_from_slice(b",\"value\":");
    cjson::write_str(&mut b, value);
    b.push(b'}');
    hex::encode(Sha256::digest(&b))
}

fn show(v: &CVal) -> String {
    match v {
        CVal::Int(n) => n.to_string(),
        CVal::Str(s) => format!("{s:?}"),
        other => other.type_name().to_string(),
    }
}
