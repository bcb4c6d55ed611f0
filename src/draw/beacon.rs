//! The public beacon of a draw, `beacon-drand.md`: drand's quicknet chain.
//!
//! An announced source may carry a `drand` member
//! `{"chain_hash": "<64 hex>", "round": R}` naming a round that does not
//! exist yet when the announcement is signed. Its revealed value is that
//! round's BLS signature in lower-case hex (48 bytes, a point on G1); it is
//! checked offline against the chain's public key (G2, RFC 9380
//! hash-to-curve, `drand_verify::G2PubkeyRfc`). A chain hash other than
//! quicknet's is a failure, never a pass: this module knows no other key.
//!
//! Pure: no network. Fetching a round from a relay is not needed, since the
//! signature is checked against the network's public key whoever served it.

use drand_verify::{G2PubkeyRfc, Pubkey};
use sha2::{Digest, Sha256};

use super::cjson::CVal;

/// Chain hash of drand quicknet.
pub const QUICKNET_CHAIN_HASH: &str = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971";

/// Public key of drand quicknet (G2, compressed, 96 bytes).
pub const QUICKNET_PUBLIC_KEY: &str = "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a";

/// Unix time of quicknet's round 1.
pub const QUICKNET_GENESIS_TIME: u64 = 1_692_803_367;

/// Seconds between quicknet rounds.
pub const QUICKNET_PERIOD: u64 = 3;

/// The `drand` member of an announced source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrandRound {
    pub chain_hash: String,
    pub round: u64,
}

/// A beacon value that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeaconCheck {
    /// Source name.
    pub source: String,
    /// Network name ("quicknet").
    pub network: &'static str,
    pub round: u64,
    /// `hex(SHA-256(signature))`, the round's published randomness.
    pub randomness: String,
    /// Unix time at which the round was published.
    pub published_at: u64,
}

impl BeaconCheck {
    /// One line for a verifier's list of checks, e.g.
    /// `beacon drand quicknet round 657413 (source "beacon")`.
    pub fn describe(&self) -> String {
        format!("beacon drand {} round {} (source {:?})", self.network, self.round, self.source)
    }
}

/// A beacon value that did not verify, or a `drand` member that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source {name:?}: {message}")]
pub struct BeaconError {
    /// Source name.
    pub name: String,
    pub message: String,
}

/// Unix time at which quicknet publishes `round` (round 1 at genesis).
pub fn quicknet_round_time(round: u64) -> u64 {
    QUICKNET_GENESIS_TIME + round.saturating_sub(1) * QUICKNET_PERIOD
}

/// The `drand` member of an announced source (`None` when it has none).
pub fn drand_of(source: &CVal) -> Result<Option<DrandRound>, String> {
    let Some(d) = source.as_obj().and_then(|o| o.get("drand")) else {
        return Ok(None);
    };
    let o = d.as_obj().ok_or_else(|| format!("drand must be an object {{\"chain_hash\", \"round\"}}, found {}", d.type_name()))?;
    if let Some(k) = o.keys().find(|k| *k != "chain_hash" && *k != "round") {
        return Err(format!("drand has an unexpected member {k:?} (only chain_hash and round)"));
    }
    let chain_hash = match o.get("chain_hash") {
        Some(CVal::Str(s)) => s.clone(),
        Some(v) => return Err(format!("drand.chain_hash must be a string, found {}", v.type_name())),
        None => return Err("drand: missing member \"chain_hash\"".into()),
    };
    let round = match o.get("round") {
        Some(CVal::Int(n)) if *n >= 1 => *n as u64,
        Some(CVal::Int(n)) => return Err(format!("drand.round must be >= 1, found {n}")),
        Some(v) => return Err(format!("drand.round must be an integer, found {}", v.type_name())),
        None => return Err("drand: missing member \"round\"".into()),
    };
    Ok(Some(DrandRound { chain_hash, round }))
}

/// Check that `value` (lower-case hex) is the signature of `round` on the
/// drand chain `chain_hash`. Only quicknet is known; any other chain fails.
pub fn verify_drand(chain_hash: &str, round: u64, value: &str) -> Result<BeaconCheck, String> {
    if chain_hash != QUICKNET_CHAIN_HASH {
        return Err(format!(
            "unknown drand chain hash {chain_hash:?}: only quicknet ({QUICKNET_CHAIN_HASH}) is known, so the value cannot be checked"
        ));
    }
    if round == 0 {
        return Err("drand round 0 does not exist (rounds start at 1)".into());
    }
    if value.len() != 96 || !value.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        let shown: String = value.chars().take(24).collect();
        let more = if value.chars().count() > 24 { "…" } else { "" };
        return Err(format!(
            "the value must be the round's signature as 96 lower-case hex digits (48 bytes), found {} characters {shown:?}{more}",
            value.chars().count()
        ));
    }
    let mut sig = [0u8; 48];
    hex::decode_to_slice(value, &mut sig).map_err(|e| format!("the value is not hex: {e}"))?;
    let mut pk = [0u8; 96];
    hex::decode_to_slice(QUICKNET_PUBLIC_KEY, &mut pk).expect("constant public key is hex");
    let key = G2PubkeyRfc::from_fixed(pk).expect("quicknet public key is a point on G2");
    match key.verify(round, b"", &sig) {
        Ok(true) => Ok(BeaconCheck {
            source: String::new(),
            network: "quicknet",
            round,
            randomness: hex::encode(Sha256::digest(sig)),
            published_at: quicknet_round_time(round),
        }),
        Ok(false) => Err(format!("the value is not quicknet's signature of round {round} (BLS verification failed)")),
        Err(e) => Err(format!("the value is not a BLS signature (not a point on G1: {e})")),
    }
}

/// Check every announced source that carries a `drand` member against its
/// revealed value (`sources`: (name, value), in announcement order). Sources
/// without `drand` are not beacon-checked. The first failure is returned.
pub fn check_sources(announced: &[CVal], sources: &[(String, String)]) -> Result<Vec<BeaconCheck>, BeaconError> {
    let mut out = Vec::new();
    for (a, (name, value)) in announced.iter().zip(sources) {
        let fail = |message: String| BeaconError { name: name.clone(), message };
        let Some(d) = drand_of(a).map_err(fail)? else {
            continue;
        };
        let mut c = verify_drand(&d.chain_hash, d.round, value).map_err(fail)?;
        c.source = name.clone();
        out.push(c);
    }
    Ok(out)
}

/// Check the beacons of an announcement (a [`CVal`] object with `sources`).
pub fn check_announcement(announcement: &CVal, sources: &[(String, String)]) -> Result<Vec<BeaconCheck>, BeaconError> {
    let announced = announcement.as_obj().and_then(|o| o.get("sources")).and_then(CVal::as_arr).unwrap_or(&[]);
    check_sources(announced, sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Round 657413 of quicknet (beacon-drand.md).
    const SIG: &str = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";
    const RANDOMNESS: &str = "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587";

    #[test]
    fn real_round_verifies() {
        let c = verify_drand(QUICKNET_CHAIN_HASH, 657413, SIG).unwrap();
        assert_eq!(c.randomness, RANDOMNESS);
        assert_eq!(c.published_at, 1_694_775_603);
        assert_eq!(c.network, "quicknet");
    }

    #[test]
    fn same_signature_as_next_round_fails() {
        let e = verify_drand(QUICKNET_CHAIN_HASH, 657414, SIG).unwrap_err();
        assert!(e.contains("not quicknet's signature of round 657414"), "{e}");
    }

    #[test]
    fn flipped_byte_fails() {
        for pos in [0usize, 20, 47] {
            let mut b = hex::decode(SIG).unwrap();
            b[pos] ^= 0x01;
            let e = verify_drand(QUICKNET_CHAIN_HASH, 657413, &hex::encode(&b)).unwrap_err();
            assert!(e.contains("not quicknet's signature") || e.contains("not a BLS signature"), "{pos}: {e}");
        }
    }

    #[test]
    fn garbage_fails_with_a_clear_message() {
        for bad in ["", "zz", "9f1c0d2e", &SIG.to_uppercase(), &format!("{SIG}00"), &"g".repeat(96), "北京时间北京时间"] {
            let e = verify_drand(QUICKNET_CHAIN_HASH, 657413, bad).unwrap_err();
            assert!(e.contains("96 lower-case hex digits"), "{bad:?}: {e}");
        }
        // 96 hex digits that are not a point on the curve.
        let e = verify_drand(QUICKNET_CHAIN_HASH, 657413, &"ff".repeat(48)).unwrap_err();
        assert!(e.contains("not a BLS signature"), "{e}");
    }

    #[test]
    fn unknown_chain_is_a_failure() {
        let other = "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce";
        let e = verify_drand(other, 657413, SIG).unwrap_err();
        assert!(e.contains("unknown drand chain"), "{e}");
        let e = verify_drand(&QUICKNET_CHAIN_HASH.to_uppercase(), 657413, SIG).unwrap_err();
        assert!(e.contains("unknown drand chain"), "{e}");
    }

    #[test]
    fn sources_of_an_announcement() {
        let ann = crate::draw::cjson::parse(&format!(
            r#"{{"sources":[{{"name":"witness-1"}},{{"name":"beacon","drand":{{"chain_hash":"{QUICKNET_CHAIN_HASH}","round":657413}}}}]}}"#
        ))
        .unwrap();
        let good = vec![("witness-1".to_string(), "1".to_string()), ("beacon".to_string(), SIG.to_string())];
        let checks = check_announcement(&ann, &good).unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].source, "beacon");
        assert_eq!(checks[0].describe(), "beacon drand quicknet round 657413 (source \"beacon\")");
        let mut bad = good.clone();
        bad[1].1 = "9f1c0d2e".into();
        let e = check_announcement(&ann, &bad).unwrap_err();
        assert_eq!(e.name, "beacon");
        // A malformed drand member is a failure too.
        for d in [
            r#""x""#,
            r#"{"chain_hash":"x"}"#,
            r#"{"round":1}"#,
            r#"{"chain_hash":"x","round":"1"}"#,
            r#"{"chain_hash":"x","round":0}"#,
            r#"{"chain_hash":"x","round":1,"rnd":2}"#,
        ] {
            let a = crate::draw::cjson::parse(&format!(r#"{{"sources":[{{"name":"b","drand":{d}}}]}}"#)).unwrap();
            assert!(check_announcement(&a, &[("b".into(), SIG.into())]).is_err(), "{d}");
        }
    }
}
