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
//! | [`cli`]    | —         | `ruxue draw ...` subcommands (the only module doing IO) |
//!
//! Everything except [`cli`] is pure: no IO, no clock, no database, no floats.

pub mod announce;
pub mod beacon;
pub mod cjson;
pub mod cli;
pub mod engine;
pub mod gen;
pub mod input;
pub mod merkle;
pub mod record;
pub mod rng;

use sha2::{Digest, Sha256};

pub use cli::{run, DrawCommand};
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
        DrawError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// A computed draw.
#[derive(Debug, Clone)]
pub struct Computed {
    /// Canonical JSON bytes of `result`.
    pub result: Vec<u8>,
    /// `hex(SHA-256(CJSON(result)))`.
    pub result_digest: String,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn digest_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Validate a draw input (JSON text) and compute its result.
pub fn compute(input: &str) -> Result<Computed, DrawError> {
    let draw = input::parse(input, input::Mode::Input)?;
    let outcome = engine::compute(&draw);
    let mut result = Vec::new();
    engine::write_result(&draw, &outcome, &mut result);
    let result_digest = digest_hex(&result);
    Ok(Computed {
        result,
        result_digest,
    })
}

/// The record of a computed draw: the input text exactly as given, with
/// `"result": ...` added as its last member (so `input` keeps its own
/// formatting). `input` must be the text [`compute`] accepted.
pub fn record_parts<'t>(input: &'t str, result: &'t [u8]) -> [&'t [u8]; 4] {
    let body = input.trim_end();
    let body = body.strip_suffix('}').unwrap_or(body);
    [body.as_bytes(), b",\"result\":", result, b"}"]
}

/// [`record_parts`] joined into one buffer.
pub fn record_json(input: &str, result: &[u8]) -> Vec<u8> {
    record_parts(input, result).concat()
}
