//! Signed announcements (spec §9, §10 step 4).
//!
//! An announcement is published, before any source value is known, as a
//! JWS in compact serialisation (RFC 7515 §7.1) with `alg` `EdDSA` over
//! Ed25519 (RFC 8037): `base64url(header) "." base64url(payload) "."
//! base64url(signature)`, where the payload is exactly `CJSON(announcement)`,
//! so its SHA-256 is the `announcement_digest` of §4. The public key is
//! published as a JWK `{"crv":"Ed25519","kid":…,"kty":"OKP","x":…}` whose
//! `kid` is its RFC 7638 thumbprint.
//!
//! Signatures are made and checked with `jsonwebtoken::crypto` (which signs
//! any message, not only JWT claims), keys decoded with
//! `DecodingKey::from_jwk`; `ring` (the library under jsonwebtoken) derives
//! the public key of a private one. Pure: no IO.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::signature::KeyPair as _;
use sha2::{Digest, Sha256};

use super::cjson::{self, CVal};

/// Why a signed announcement or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AnnounceError(pub String);

fn fail(msg: impl Into<String>) -> AnnounceError {
    AnnounceError(msg.into())
}

/// An Ed25519 private key (its 32-byte seed, RFC 8032 §5.1.5).
pub struct SigningKey {
    seed: [u8; 32],
    public: [u8; 32],
}

impl SigningKey {
    pub fn from_seed(seed: [u8; 32]) -> Result<SigningKey, AnnounceError> {
        let pair =
            ring::signature::Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|e| fail(format!("not an Ed25519 private key: {e}")))?;
        let mut public = [0u8; 32];
        public.copy_from_slice(pair.public_key().as_ref());
        Ok(SigningKey { seed, public })
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The public key as a JWK (see [`public_jwk`]).
    pub fn public_jwk(&self) -> String {
        public_jwk(&self.public)
    }

    /// PKCS #8 v1 DER of the key (RFC 8410), as `jsonwebtoken` wants it.
    fn pkcs8(&self) -> Vec<u8> {
        const PREFIX: [u8; 16] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
        let mut der = PREFIX.to_vec();
        der.extend_from_slice(&self.seed);
        der
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public {})", hex::encode(self.public))
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: base64url of SHA-256 of
/// `{"crv":"Ed25519","kty":"OKP","x":"<base64url key>"}`.
pub fn key_id(public: &[u8; 32]) -> String {
    let x = URL_SAFE_NO_PAD.encode(public);
    let members = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()))
}

/// The public JWK of `public`, as CJSON:
/// `{"crv":"Ed25519","kid":"<thumbprint>","kty":"OKP","x":"<base64url>"}`.
pub fn public_jwk(public: &[u8; 32]) -> String {
    format!(r#"{{"crv":"Ed25519","kid":"{}","kty":"OKP","x":"{}"}}"#, key_id(public), URL_SAFE_NO_PAD.encode(public))
}

/// The compact JWS of `CJSON(announcement)` signed with `key`; the header
/// is `{"alg":"EdDSA","kid":"<thumbprint>"}`.
pub fn sign(announcement: &CVal, key: &SigningKey) -> Result<String, AnnounceError> {
    if announcement.as_obj().is_none() {
        return Err(fail("the announcement must be an object"));
    }
    let header = format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, key_id(&key.public));
    let mut jws = URL_SAFE_NO_PAD.encode(header.as_bytes());
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(announcement.to_bytes()));
    let sig = jsonwebtoken::crypto::sign(jws.as_bytes(), &EncodingKey::from_ed_der(&key.pkcs8()), Algorithm::EdDSA)
        .map_err(|e| fail(format!("cannot sign: {e}")))?;
    jws.push('.');
    jws.push_str(&sig);
    Ok(jws)
}

/// A signed announcement, decoded.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The announcement (the payload, parsed).
    pub announcement: CVal,
    /// `hex(SHA-256(payload))`: the announcement digest.
    pub digest: String,
    /// `kid` of the JWS header, if it has one.
    pub kid: Option<String>,
}

/// A public key to check signatures with, read from a JWK or a JWK set.
pub struct VerifyingKey {
    key: DecodingKey,
    /// The JWK's `kid`, or its thumbprint when it has none.
    pub kid: String,
    thumbprint: String,
}

/// Read `text`, a public Ed25519 JWK (`kty` OKP, `crv` Ed25519) or a JWK
/// set `{"keys": [...]}`; from a set, the key whose `kid` is `kid` (or the
/// only key).
pub fn verifying_key(text: &str, kid: Option<&str>) -> Result<VerifyingKey, AnnounceError> {
    let text = text.trim_start_matches('\u{feff}');
    let jwk: Jwk = if let Ok(set) = serde_json::from_str::<JwkSet>(text) {
        let found = match kid {
            Some(k) => set.find(k).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        found.ok_or_else(|| match kid {
            Some(k) => fail(format!("the key set has no key with kid {k:?}")),
            None => fail("the key set has several keys and the JWS names none (kid)"),
        })?
    } else {
        serde_json::from_str(text).map_err(|e| fail(format!("not a JWK (public key JSON): {e}")))?
    };
    let AlgorithmParameters::OctetKeyPair(p) = &jwk.algorithm else {
        return Err(fail("the key is not an Ed25519 key (kty must be \"OKP\")"));
    };
    if p.curve != EllipticCurve::Ed25519 {
        return Err(fail("the key is not an Ed25519 key (crv must be \"Ed25519\")"));
    }
    let x = URL_SAFE_NO_PAD.decode(p.x.as_bytes()).map_err(|_| fail("the key's x is not base64url"))?;
    let public: [u8; 32] = x.as_slice().try_into().map_err(|_| fail(format!("the key's x is {} bytes, not 32", x.len())))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| fail(format!("unusable key: {e}")))?;
    let thumbprint = key_id(&public);
    Ok(VerifyingKey { key, kid: jwk.common.key_id.clone().unwrap_or_else(|| thumbprint.clone()), thumbprint })
}

/// The parts of a compact JWS: (header, payload bytes, signing input,
/// signature in base64url). Nothing is verified.
fn split(jws: &str) -> Result<(CVal, Vec<u8>, &str, &str), AnnounceError> {
    let jws = jws.trim();
    let parts: Vec<&str> = jws.split('.').collect();
    if parts.len() != 3 {
        return Err(fail(format!("not a compact JWS: {} parts separated by '.', expected 3 (header.payload.signature)", parts.len())));
    }
    let b64 = |name: &str, s: &str| {
        URL_SAFE_NO_PAD.decode(s.as_bytes()).map_err(|_| fail(format!("the JWS {name} is not base64url without padding")))
    };
    let header = b64("header", parts[0])?;
    let header = std::str::from_utf8(&header)
        .ok()
        .and_then(|h| cjson::parse(h).ok())
        .filter(|h| h.as_obj().is_some())
        .ok_or_else(|| fail("the JWS header is not a JSON object"))?;
    let payload = b64("payload", parts[1])?;
    b64("signature", parts[2])?;
    let signing_input = &jws[..parts[0].len() + 1 + parts[1].len()];
    Ok((header, payload, signing_input, parts[2]))
}

/// Decode a signed announcement without checking its signature (to read a
/// root and size from it when no key is at hand; say so when using it).
pub fn decode_unverified(jws: &str) -> Result<Signed, AnnounceError> {
    let (header, payload, _, _) = split(jws)?;
    let h = header.as_obj().expect("split checks the header is an object");
    if h.get("alg").and_then(CVal::as_str) != Some("EdDSA") {
        return Err(fail(format!(
            "the JWS header's alg is {}, expected \"EdDSA\"",
            h.get("alg").map(cval_text).unwrap_or_else(|| "missing".into())
        )));
    }
    if h.contains_key("crit") || h.get("b64").is_some() {
        return Err(fail("the JWS header has crit or b64, which this verifier does not support"));
    }
    let text = std::str::from_utf8(&payload).map_err(|_| fail("the JWS payload is not UTF-8"))?;
    let announcement = cjson::parse(text).map_err(|e| fail(format!("the JWS payload is not valid: {e}")))?;
    if announcement.as_obj().is_none() {
        return Err(fail("the JWS payload is not a JSON object"));
    }
    if announcement.to_bytes() != payload {
        return Err(fail("the JWS payload is not in canonical form: it must be exactly CJSON(announcement)"));
    }
    Ok(Signed { announcement, digest: hex::encode(Sha256::digest(&payload)), kid: h.get("kid").and_then(CVal::as_str).map(str::to_owned) })
}

/// Verify a signed announcement with `key`: the signature over
/// `header.payload` (Ed25519), the header (`alg` EdDSA; a `kid`, if any,
/// naming this key) and the payload (canonical JSON of an object).
pub fn verify(jws: &str, key: &VerifyingKey) -> Result<Signed, AnnounceError> {
    let signed = decode_unverified(jws)?;
    if let Some(kid) = &signed.kid {
        if kid != &key.kid && kid != &key.thumbprint {
            return Err(fail(format!("the announcement is signed with key id {kid:?}, but the key given is {:?}", key.kid)));
        }
    }
    let (_, _, signing_input, sig) = split(jws)?;
    let ok = jsonwebtoken::crypto::verify(sig, signing_input.as_bytes(), &key.key, Algorithm::EdDSA)
        .map_err(|e| fail(format!("the signature cannot be checked: {e}")))?;
    if !ok {
        return Err(fail(format!("the announcement signature does NOT verify with key {}", key.kid)));
    }
    Ok(signed)
}

/// The announcement of a JSON document: a record or draw input (its
/// `announcement` member) or a bare announcement. The roster and result of
/// a record are read past, not kept, so a large record is cheap.
pub fn announcement_of(text: &str) -> Result<CVal, AnnounceError> {
    use serde::de::{DeserializeSeed, MapAccess, Visitor};
    struct Top;
    impl<'de> Visitor<'de> for Top {
        type Value = std::collections::BTreeMap<String, CVal>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object (a record, a draw input or an announcement)")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = std::collections::BTreeMap::new();
            while let Some(k) = map.next_key::<String>()? {
                cjson::check_key(&k).map_err(serde::de::Error::custom)?;
                if k == "roster" || k == "result" {
                    map.next_value_seed(cjson::Skip { depth: 2 })?;
                    out.insert(k, CVal::Null);
                } else {
                    let v = map.next_value_seed(cjson::CValSeed { depth: 2 })?;
                    if out.insert(k.clone(), v).is_some() {
                        return Err(serde::de::Error::custom(format_args!("duplicate member {k:?}")));
                    }
                }
            }
            Ok(out)
        }
    }
    struct TopSeed;
    impl<'de> DeserializeSeed<'de> for TopSeed {
        type Value = std::collections::BTreeMap<String, CVal>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(Top)
        }
    }
    if text.starts_with('\u{feff}') {
        return Err(fail(cjson::BOM));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut top = TopSeed
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| fail(format!("malformed: {}", cjson::explain_number(&e.to_string(), text))))?;
    let ann = match top.remove("announcement") {
        Some(a) => a,
        None if top.contains_key("roster_root") => CVal::Obj(top),
        None => return Err(fail("no announcement: the file is neither a record, a draw input nor an announcement")),
    };
    if ann.as_obj().is_none() {
        return Err(fail("the announcement is not an object"));
    }
    Ok(ann)
}

/// `roster_root` and `roster_size` of an announcement.
pub fn roster_root_and_size(ann: &CVal) -> Result<([u8; 32], u64), AnnounceError> {
    let o = ann.as_obj().ok_or_else(|| fail("the announcement is not an object"))?;
    let root = o
        .get("roster_root")
        .and_then(CVal::as_str)
        .filter(|r| super::input::is_hex64(r))
        .ok_or_else(|| fail("the announcement has no roster_root of 64 lower-case hex digits"))?;
    let size = match o.get("roster_size") {
        Some(CVal::Int(n)) if *n >= 0 => *n as u64,
        _ => return Err(fail("the announcement has no roster_size (an integer >= 0)")),
    };
    let mut h = [0u8; 32];
    hex::decode_to_slice(root, &mut h).map_err(|_| fail("roster_root is not hex"))?;
    Ok((h, size))
}

fn cval_text(v: &CVal) -> String {
    String::from_utf8_lossy(&v.to_bytes()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announcement() -> CVal {
        cjson::parse(
            r#"{"version":"ruxue-draw-v1","draw_id":"T-1","title":"派位 2027","schools":[{"id":"S01","seats":1}],
               "roster_root":"6d053a4d9ff21ef5d6584c0ad40e69342bcf56b1ef51090e9d52804b7076e20f","roster_size":3,
               "sources":[{"name":"beacon"}]}"#,
        )
        .unwrap()
    }

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_seed([byte; 32]).unwrap()
    }

    #[test]
    fn rfc8032_test_1_public_key_and_thumbprint() {
        // RFC 8032 §7.1, TEST 1, and the RFC 8037 §A.3 thumbprint of that key.
        let seed: [u8; 32] = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap().try_into().unwrap();
        let k = SigningKey::from_seed(seed).unwrap();
        assert_eq!(hex::encode(k.public_key()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        assert_eq!(key_id(&k.public_key()), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        let jwk: serde_json::Value = serde_json::from_str(&k.public_jwk()).unwrap();
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(jwk["kid"], "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn sign_then_verify() {
        let k = key(7);
        let a = announcement();
        let jws = sign(&a, &k).unwrap();
        let vk = verifying_key(&k.public_jwk(), None).unwrap();
        let s = verify(&jws, &vk).unwrap();
        assert_eq!(s.announcement, a);
        assert_eq!(s.digest, hex::encode(Sha256::digest(a.to_bytes())));
        assert_eq!(s.kid.as_deref(), Some(key_id(&k.public_key()).as_str()));
        // A JWK set holding the key works too, by kid.
        let set = format!(r#"{{"keys":[{},{}]}}"#, key(8).public_jwk(), k.public_jwk());
        let vk = verifying_key(&set, s.kid.as_deref()).unwrap();
        assert!(verify(&jws, &vk).is_ok());
    }

    #[test]
    fn tampered_payload_is_refused() {
        let k = key(7);
        let jws = sign(&announcement(), &k).unwrap();
        let vk = verifying_key(&k.public_jwk(), None).unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        let mut other = announcement();
        if let CVal::Obj(m) = &mut other {
            m.insert("roster_size".into(), CVal::Int(4));
        }
        let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(other.to_bytes()), parts[2]);
        let e = verify(&forged, &vk).unwrap_err().to_string();
        assert!(e.contains("does NOT verify"), "{e}");
        // A flipped signature bit, a non-canonical payload, a wrong alg.
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        sig[5] ^= 1;
        let forged = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
        assert!(verify(&forged, &vk).is_err());
        let pretty = URL_SAFE_NO_PAD.encode(b"{\"a\": 1}");
        let e = verify(&format!("{}.{pretty}.{}", parts[0], parts[2]), &vk).unwrap_err().to_string();
        assert!(e.contains("canonical"), "{e}");
        let hs = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256"}"#);
        let e = verify(&format!("{hs}.{}.{}", parts[1], parts[2]), &vk).unwrap_err().to_string();
        assert!(e.contains("alg"), "{e}");
        for junk in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert!(verify(junk, &vk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn wrong_key_is_refused() {
        let jws = sign(&announcement(), &key(7)).unwrap();
        // The other key's kid differs from the header's.
        let vk = verifying_key(&key(9).public_jwk(), None).unwrap();
        let e = verify(&jws, &vk).unwrap_err().to_string();
        assert!(e.contains("signed with key id"), "{e}");
        // Same kid claimed, other key material: the signature fails.
        let other: serde_json::Value = serde_json::from_str(&key(9).public_jwk()).unwrap();
        let lying = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":{},"kid":"{}"}}"#, other["x"], key_id(&key(7).public_key()));
        let vk = verifying_key(&lying, None).unwrap();
        let e = verify(&jws, &vk).unwrap_err().to_string();
        assert!(e.contains("does NOT verify"), "{e}");
        // Not Ed25519 keys.
        assert!(verifying_key(r#"{"kty":"oct","k":"AAAA"}"#, None).is_err());
        assert!(verifying_key(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#, None).is_err());
        assert!(verifying_key("not json", None).is_err());
    }
}
