//! The verifiable public draw (电脑派位 / 摇号), algorithm `ruxue-draw-v1`.
//!
//! The contract is `draw-v1.md` (kept with the test vectors); every module
//! names the section it implements:
//!
//! | module     | spec      | what                                               |
//! |------------|-----------|----------------------------------------------------|
//! | [`cjson`]  | §1        | canonical JSON writer and a float-free value type  |
//! | [`merkle`] | §3        | RFC 6962 roster root, inclusion proofs             |
//! | [`rng`]    | §5        | ChaCha20 stream and `uniform(m)`                   |
//! | [`input`]  | §2–§3     | streaming parser and validation of inputs/records  |
//! | [`engine`] | §4, §6–§8 | seed, lottery, rankings, deferred acceptance, result |
//! | [`record`] | §8–§9     | verifying records, inclusion proof documents       |
//! | [`beacon`] | beacon-drand.md | drand quicknet beacon values (BLS, offline)  |
//! | [`announce`] | §9, §10 | signed announcements: JWS (EdDSA, Ed25519), JWK  |
//! | [`gen`]    | —         | deterministic generator of valid inputs (benchmarks, tests) |
//!
//! Everything here is pure: no IO, no clock, no database, no floats. The
//! `ruxue draw …` commands are `crate::cli::draw`.

pub mod announce;
pub mod beacon;
pub mod cjson;
pub mod day;
pub mod engine;
pub mod gen;
pub mod input;
pub mod merkle;
pub mod plan;
pub mod record;
pub mod rng;

use sha2::{Digest, Sha256};

pub use input::VERSION;
pub use record::{inclusion_proof, verify, Discrepancy, Proof, Verified, VerifyError};

/// An input refused by validation: `path` names the entry and field
/// (e.g. `roster[17] (id R0018): prefs[2]`), `message` the fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DrawError {
    pub path: String,
    pub message: String,
}

impl DrawError {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        DrawError { path: path.into(), message: message.into() }
    }
}

/// A computed draw.
#[derive(Debug, Clone)]
pub struct Computed {
    /// Canonical JSON bytes of `result`.
    pub result: Vec<u8>,
    /// `hex(SHA-256(CJSON(result)))`.
    pub result_digest: String,
    /// `hex(SHA-256(CJSON(announcement)))`.
    pub announcement_digest: String,
    /// The record, `CJSON(input + result)` (§8); empty when it was passed
    /// to a sink by [`compute_streaming`] instead.
    pub record: Vec<u8>,
    /// `hex(SHA-256(CJSON(record)))`.
    pub record_digest: String,
    /// What validation checked besides the rules: commitments and beacons.
    pub checks: Checks,
}

/// The checks of source values that validation made (the rules of §2 and
/// the roster root are always checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checks {
    /// Names of the sources whose revealed value matched its commitment.
    pub commitments: Vec<String>,
    /// Sources with a `drand` member whose value is the named round's signature.
    pub beacons: Vec<beacon::BeaconCheck>,
    /// Names of the sources with neither a commitment nor a `drand` member
    /// (their values can only be checked by hand).
    pub unchecked_sources: Vec<String>,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn digest_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Validate a draw input (JSON text) and compute its result and record.
pub fn compute(input: &str) -> Result<Computed, DrawError> {
    let mut record = Vec::new();
    let mut c = compute_streaming(input, &mut |b: &[u8]| record.extend_from_slice(b))?;
    c.record = record;
    Ok(c)
}

/// [`compute`], passing the record's bytes to `sink` in order, in pieces,
/// instead of keeping them (a record of a million applicants is ~200 MB).
pub fn compute_streaming(input: &str, sink: &mut dyn FnMut(&[u8])) -> Result<Computed, DrawError> {
    let draw = input::parse(input, input::Mode::Input)?;
    let outcome = engine::compute(&draw);
    let mut result = Vec::new();
    engine::write_result(&draw, &outcome, &mut result);
    let result_digest = digest_hex(&result);
    let mut h = Sha256::new();
    record::write_record(&draw, &result, &mut |b: &[u8]| {
        h.update(b);
        sink(b);
    });
    Ok(Computed {
        result,
        result_digest,
        announcement_digest: hex::encode(outcome.announcement_digest),
        record: Vec::new(),
        record_digest: hex::encode(h.finalize()),
        checks: draw.checks.clone(),
    })
}

/// The record (§8) of the draw input `input` with the result `result`
/// (canonical bytes, as [`compute`] returns them): `CJSON(record)`,
/// written from the parsed input. Panics if `input` is not a valid input.
pub fn record_json(input: &str, result: &[u8]) -> Vec<u8> {
    let draw = input::parse(input, input::Mode::Input).unwrap_or_else(|e| panic!("record_json needs a valid draw input: {e}"));
    let mut out = Vec::with_capacity(input.len() + result.len() + 16);
    record::write_record(&draw, result, &mut |b: &[u8]| out.extend_from_slice(b));
    out
}
