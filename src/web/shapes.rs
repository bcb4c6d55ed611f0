//! Schema-only types for the API contract: the shapes of documents the
//! server sends as stored bytes or builds by hand (the draw record, the
//! signed announcement, inclusion proofs, the JWK set), so that
//! `/api/openapi.json` describes them instead of a bare object. Nothing
//! constructs these; the tests in `tests/openapi.rs` check real answers
//! against them.
#![allow(dead_code)]

use utoipa::ToSchema;

/// A school and its seats in a draw (draw-v1 §3).
#[derive(ToSchema)]
pub struct DocSchool {
    pub id: String,
    pub seats: i64,
}

/// The drand round a beacon source names.
#[derive(ToSchema)]
pub struct DocDrandRound {
    /// The network's chain hash (quicknet).
    pub chain_hash: String,
    pub round: i64,
}

/// A randomness source in the announcement: a witness's commitment, or the
/// beacon's future round.
#[derive(ToSchema)]
pub struct DocCommitment {
    pub name: String,
    /// Who or what the source is, in words.
    pub description: Option<String>,
    /// `hex(SHA-256(value))` of a witness's value.
    pub commitment: Option<String>,
    /// The beacon's round, fixed before it is published.
    pub drand: Option<DocDrandRound>,
    /// What replaces the beacon if it never comes, in words.
    pub fallback: Option<String>,
}

/// A randomness source's revealed value, in the record.
#[derive(ToSchema)]
pub struct DocSourceValue {
    pub name: String,
    pub value: String,
}

/// The announcement signed before the draw (draw-v1 §3), CJSON.
#[derive(ToSchema)]
pub struct DrawAnnouncement {
    /// `ruxue-draw-v1`.
    pub version: String,
    pub draw_id: String,
    /// The campaign, the policy's name and the draw's title (informative).
    pub campaign: Option<String>,
    pub policy: Option<String>,
    pub title: Option<String>,
    /// When the draw takes place (RFC 3339, Beijing time).
    pub scheduled_at: Option<String>,
    pub schools: Vec<DocSchool>,
    pub sources: Vec<DocCommitment>,
    /// Hex RFC 6962 Merkle root of the roster.
    pub roster_root: String,
    pub roster_size: i64,
}

/// `GET /api/v1/draws/{id}/announcement`.
#[derive(ToSchema)]
pub struct SignedAnnouncement {
    pub announcement: DrawAnnouncement,
    /// Compact JWS (EdDSA) over the announcement's CJSON bytes; key at `/api/v1/keys`.
    pub jws: String,
}

/// One pseudonymised roster entry (draw-v1 §3): the registration number,
/// the schools in preference order, and the priority key per school.
#[derive(ToSchema)]
pub struct DocRosterEntry {
    pub id: String,
    /// Siblings drawn together share one family id (one lottery number).
    pub family: Option<String>,
    pub prefs: Vec<String>,
    /// School id → the entry's priority key at that school.
    #[schema(value_type = std::collections::BTreeMap<String, Vec<i64>>)]
    pub priority: (),
}

/// The computed result (draw-v1 §8).
#[derive(ToSchema)]
pub struct DocResult {
    pub version: String,
    pub draw_id: String,
    pub announcement_digest: String,
    /// Hex seed derived from the sources.
    pub seed: String,
    /// Registration numbers in lottery order.
    pub lottery: Vec<String>,
    /// Registration number → lottery number.
    #[schema(value_type = std::collections::BTreeMap<String, i64>)]
    pub lottery_numbers: (),
    /// School id → registration numbers admitted, in order.
    #[schema(value_type = std::collections::BTreeMap<String, Vec<String>>)]
    pub assignments: (),
    pub unassigned: Vec<String>,
    /// School id → its waitlist, in order.
    #[schema(value_type = std::collections::BTreeMap<String, Vec<String>>)]
    pub waitlists: (),
}

/// `GET /api/v1/draws/{id}/record`: the draw's record (draw-v1 §8),
/// byte for byte as stored; `ruxue draw verify` recomputes `result` from the rest.
#[derive(ToSchema)]
pub struct DrawRecord {
    pub announcement: DrawAnnouncement,
    pub roster: Vec<DocRosterEntry>,
    pub sources: Vec<DocSourceValue>,
    pub result: DocResult,
}

/// `GET /api/v1/draws/{id}/proof/{registration_no}`: an RFC 6962 inclusion
/// proof of one roster entry (draw-v1 §9).
#[derive(ToSchema)]
pub struct InclusionProof {
    pub leaf_index: i64,
    pub tree_size: i64,
    pub entry: DocRosterEntry,
    /// Hex sibling hashes, leaf to root.
    pub audit_path: Vec<String>,
    /// Hex root: compare it with the announcement's `roster_root`.
    pub root: String,
}

/// An Ed25519 public key (RFC 8037).
#[derive(ToSchema)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id named in the JWS header.
    pub kid: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `EdDSA`.
    pub alg: String,
}

/// `GET /api/v1/keys` (RFC 7517).
#[derive(ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// A file download (PDF, CSV, XLSX, an uploaded image): bytes, not JSON.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("文件内容（二进制，不是 JSON）"))
            .into()
    }
}

impl ToSchema for Binary {}
