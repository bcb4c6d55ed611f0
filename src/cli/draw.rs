//! `ruxue draw ...`: command-line front end of the draw engine (which is
//! pure: this file does its IO). [`run`] returns the process exit code.
//!
//! Exit codes: 0 success; 1 the input/record/proof was refused or does not
//! verify; 2 an IO error (file not found, output failed).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::draw::announce;
use crate::draw::cjson::CVal;
use crate::draw::gen::{self, GenParams};
use crate::draw::record::{Proof, VerifyError};

/// Subcommands of `ruxue draw`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DrawCommand {
    /// Draw day's steps (database): freeze, witness, commit, announce,
    /// reveal, beacon, run, publish, status.
    #[command(flatten)]
    Day(super::draw_day::DayCommand),
    /// The campaign's draw plan from its approved applications and seats:
    /// which schools admit everyone, which over-subscribed schools and which
    /// zones need a public draw (reads the database; changes nothing).
    Plan {
        /// Campaign id, e.g. 2027-G1.
        campaign: String,
        /// Print the plan as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Validate a draw input and print its record (input + result) as
    /// canonical JSON: exactly CJSON(record), with no final newline, so the
    /// SHA-256 of the output is its record_digest. The result, announcement
    /// and record digests and the checks made go to stderr.
    Compute {
        /// Draw input JSON file (`-` for stdin).
        input: PathBuf,
    },
    /// Recompute a record's result, check its commitments and drand beacon
    /// values (and, with --announcement and --key, the signed
    /// announcement); print the result digest if all hold, else the first
    /// fault (exit 1). The digests and the list of checks made and not made
    /// go to stderr.
    Verify {
        /// Record JSON file (`-` for stdin).
        record: PathBuf,
        /// The signed announcement: a compact JWS (EdDSA, Ed25519) whose
        /// payload is the CJSON announcement; it must equal the record's.
        #[arg(long, value_name = "FILE")]
        announcement: Option<PathBuf>,
        /// Public key of the announcement's signer: a JWK (or a JWK set).
        #[arg(long, value_name = "JWK_FILE", requires = "announcement")]
        key: Option<PathBuf>,
    },
    /// Print an RFC 6962 inclusion proof that an applicant's entry is in the roster root.
    Proof {
        /// Record or input JSON file (`-` for stdin); sources may be absent.
        record: PathBuf,
        /// Applicant id (registration number).
        applicant_id: String,
    },
    /// Check an inclusion proof printed by `proof` against the roster root
    /// AND size of the announcement (never the ones the proof carries):
    /// give --root and --size, or --announcement.
    CheckProof {
        /// Proof JSON file (`-` for stdin).
        proof: PathBuf,
        /// The announced roster_root (64 hex digits).
        #[arg(long, requires = "size", conflicts_with = "announcement")]
        root: Option<String>,
        /// The announced roster_size.
        #[arg(long, requires = "root", conflicts_with = "announcement")]
        size: Option<u64>,
        /// Read roster_root and roster_size from this file: the signed
        /// announcement (compact JWS), or a JSON announcement, record or input.
        #[arg(long, value_name = "FILE")]
        announcement: Option<PathBuf>,
        /// Public key (JWK) to check the signature of a JWS --announcement.
        #[arg(long, value_name = "JWK_FILE", requires = "announcement")]
        key: Option<PathBuf>,
    },
    /// Write a valid, deterministic draw input (for benchmarks and tests).
    Generate {
        #[arg(long, default_value_t = 1000)]
        applicants: usize,
        #[arg(long, default_value_t = 10)]
        schools: usize,
        /// Preferences per applicant (capped at --schools).
        #[arg(long, default_value_t = 3)]
        prefs: usize,
        /// Per-mille chance that an applicant has a twin.
        #[arg(long, default_value_t = 20)]
        twins_per_mille: u32,
        /// Priority tiers (the last one carries months of residence).
        #[arg(long, default_value_t = 4)]
        tiers: u32,
        /// Total seats as a percentage of applicants.
        #[arg(long, default_value_t = 90)]
        seats_percent: u32,
        #[arg(long, default_value = "ruxue-gen")]
        seed_text: String,
        /// Output file (default stdout).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Make a new Ed25519 key for signing draw announcements: prints the
    /// private key (64 hex digits, for `security.draw_signing_key` or its
    /// `_file`) on stdout and its public JWK on stderr. Keep the first secret.
    Keygen,
    /// Parse a JSON file into a `serde_json::Value` and do nothing else
    /// (baseline for the verify benchmark).
    #[command(hide = true)]
    ParseOnly { file: PathBuf },
}

fn read_text(path: &Path) -> Result<String, String> {
    let mut s = String::new();
    let r = if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut s).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut s)).map(|_| ())
    };
    r.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(s)
}

fn write_out(bytes: &[u8], path: Option<&Path>) -> Result<(), String> {
    let r = match path {
        Some(p) if p.as_os_str() != "-" => std::fs::write(p, bytes),
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|_| out.write_all(b"\n")).and_then(|_| out.flush())
        }
    };
    r.map_err(|e| format!("cannot write output: {e}"))
}

/// The checks of source values made while validating, for the `checked:` line.
fn source_checks(c: &crate::draw::Checks) -> Vec<String> {
    let mut out = vec!["input rules and roster root and size".to_string()];
    if !c.commitments.is_empty() {
        out.push(format!("commitments ({}: {})", c.commitments.len(), c.commitments.join(", ")));
    }
    out.extend(c.beacons.iter().map(|b| b.describe()));
    out
}

/// Sources whose values nothing checks, for the `not checked:` line.
fn unchecked_sources(c: &crate::draw::Checks) -> Vec<String> {
    c.unchecked_sources.iter().map(|n| format!("source {n:?} (no commitment and no drand round: check its value by hand)")).collect()
}

/// The announcement in `text`: a compact JWS (its signature checked when
/// `key` is given) or a JSON announcement, record or input.
fn announcement_file(text: &str, key: Option<&Path>) -> Result<CVal, String> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        if key.is_some() {
            return Err("--key checks a signed announcement (a JWS), but this is a JSON file".into());
        }
        eprintln!("not checked: announcement signature (a JSON announcement carries none)");
        return announce::announcement_of(text).map_err(|e| e.to_string());
    }
    let unverified = announce::decode_unverified(text).map_err(|e| e.to_string())?;
    let Some(k) = key else {
        return Ok(unverified.announcement);
    };
    let jwk = read_text(k)?;
    let vk = announce::verifying_key(&jwk, unverified.kid.as_deref()).map_err(|e| format!("key {}: {e}", k.display()))?;
    let signed = announce::verify(text, &vk).map_err(|e| e.to_string())?;
    eprintln!("checked: announcement signature (key id {})", vk.kid);
    Ok(signed.announcement)
}

/// Run one `draw` subcommand; returns the process exit code.
pub fn run(cmd: DrawCommand) -> i32 {
    match run_inner(cmd) {
        Ok(()) => 0,
        Err((code, msg)) => {
            eprintln!("error: {}", msg.replace('\n', " "));
            code
        }
    }
}

/// `ruxue draw plan CAMPAIGN [--json]`.
pub fn plan(settings: crate::config::Settings, campaign: &str, json: bool) -> super::CliResult {
    let db = super::util::open(&settings)?;
    let mut conn = super::util::conn(&db)?;
    let p = match crate::service::draw::plan_in(&mut conn, campaign) {
        Ok(p) => p,
        Err(e) => return super::util::refuse(e.public_message()),
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
        return Ok(0);
    }
    outln!(
        "{}（{}）：{} 项派位{}",
        p.campaign_name,
        p.phase.label(),
        p.draws_needed,
        if p.final_ { "" } else { "；审核尚未结束，计划仍可能变化" }
    );
    for x in &p.proposals {
        outln!("{} {}", if x.needs_draw() { "派位" } else { "    " }, x.summary);
    }
    if p.without_school > 0 {
        outln!("另有 {} 名已通过审核的学生没有对口学校，由教育局统筹安排", p.without_school);
    }
    Ok(0)
}

fn run_inner(cmd: DrawCommand) -> Result<(), (i32, String)> {
    let io = |e: String| (2, e);
    match cmd {
        DrawCommand::Day(_) => {
            return Err((2, "draw day's steps read the database: run them through `ruxue draw …`".into()));
        }
        DrawCommand::Plan { .. } => {
            return Err((2, "draw plan reads the database: run it through `ruxue draw plan`".into()));
        }
        DrawCommand::Compute { input } => {
            let text = read_text(&input).map_err(io)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            let mut failed: Option<std::io::Error> = None;
            let c = crate::draw::compute_streaming(&text, &mut |b: &[u8]| {
                if failed.is_none() {
                    if let Err(e) = out.write_all(b) {
                        failed = Some(e);
                    }
                }
            })
            .map_err(|e| (1, format!("invalid draw input: {e}")))?;
            if let Some(e) = failed.or_else(|| out.flush().err()) {
                return Err((2, format!("cannot write output: {e}")));
            }
            drop(out);
            eprintln!("result_digest: {}", c.result_digest);
            eprintln!("announcement_digest: {}", c.announcement_digest);
            eprintln!("record_digest: {}", c.record_digest);
            eprintln!("checked: {}", source_checks(&c.checks).join("; "));
            if !c.checks.unchecked_sources.is_empty() {
                eprintln!("not checked: {}", unchecked_sources(&c.checks).join("; "));
            }
        }
        DrawCommand::Verify { record, announcement, key } => {
            let text = read_text(&record).map_err(io)?;
            let v = match crate::draw::verify(&text) {
                Ok(v) => v,
                Err(e @ VerifyError::Invalid(_)) => return Err((1, e.to_string())),
                Err(e @ VerifyError::Mismatch(_)) => return Err((1, e.to_string())),
            };
            drop(text);
            let mut checked = source_checks(&v.checks);
            checked.insert(1, "result recomputed".to_string());
            let mut not_checked = Vec::new();
            match announcement {
                None => not_checked.push(
                    "announcement signature (no --announcement given; compare announcement_digest with the signed announcement)".into(),
                ),
                Some(path) => {
                    let jws = read_text(&path).map_err(io)?;
                    let signed = match &key {
                        Some(k) => {
                            let jwk = read_text(k).map_err(io)?;
                            let unverified = announce::decode_unverified(&jws)
                                .map_err(|e| (1, format!("signed announcement {}: {e}", path.display())))?;
                            let vk = announce::verifying_key(&jwk, unverified.kid.as_deref())
                                .map_err(|e| (1, format!("key {}: {e}", k.display())))?;
                            let s = announce::verify(&jws, &vk).map_err(|e| (1, format!("signed announcement {}: {e}", path.display())))?;
                            checked.push(format!("announcement signature (key id {})", vk.kid));
                            s
                        }
                        None => {
                            let s = announce::decode_unverified(&jws)
                                .map_err(|e| (1, format!("signed announcement {}: {e}", path.display())))?;
                            not_checked.push("announcement signature (no --key given)".into());
                            s
                        }
                    };
                    if signed.digest != v.announcement_digest {
                        return Err((
                            1,
                            format!(
                                "the record's announcement (digest {}) is not the signed announcement (digest {})",
                                v.announcement_digest, signed.digest
                            ),
                        ));
                    }
                    checked.push(format!("record's announcement is the signed one (digest {})", signed.digest));
                }
            }
            not_checked.extend(unchecked_sources(&v.checks));
            write_out(v.result_digest.as_bytes(), None).map_err(io)?;
            eprintln!("draw_id: {}", v.draw_id);
            eprintln!("result_digest: {}", v.result_digest);
            eprintln!("announcement_digest: {}", v.announcement_digest);
            eprintln!(
                "record_digest: {}{}",
                v.record_digest,
                if v.canonical {
                    " (the file is exactly CJSON(record))"
                } else {
                    " (of the record's canonical form; the file itself is not canonical JSON)"
                }
            );
            eprintln!("checked: {}", checked.join("; "));
            if !not_checked.is_empty() {
                eprintln!("not checked: {}", not_checked.join("; "));
            }
        }
        DrawCommand::Proof { record, applicant_id } => {
            let text = read_text(&record).map_err(io)?;
            let p = crate::draw::inclusion_proof(&text, &applicant_id).map_err(|e| (1, e.to_string()))?;
            write_out(&p.to_json(), None).map_err(io)?;
        }
        DrawCommand::CheckProof { proof, root, size, announcement, key } => {
            let (root, size, from) = match (root, size, announcement) {
                (Some(r), Some(n), None) => {
                    let mut h = [0u8; 32];
                    if !crate::draw::input::is_hex64(&r) || hex::decode_to_slice(&r, &mut h).is_err() {
                        return Err((1, format!("--root must be 64 lower-case hex digits, not {r:?}")));
                    }
                    (h, n, "--root and --size".to_string())
                }
                (None, None, Some(path)) => {
                    let text = read_text(&path).map_err(io)?;
                    let ann = announcement_file(&text, key.as_deref())
                        .map_err(|e| (1, format!("announcement {}: {e}", path.display())))?;
                    let (h, n) = announce::roster_root_and_size(&ann)
                        .map_err(|e| (1, format!("announcement {}: {e}", path.display())))?;
                    (h, n, format!("the announcement {}", path.display()))
                }
                _ => {
                    return Err((
                        1,
                        "proof NOT checked: a proof is checked against the roster_root AND roster_size of the signed announcement, never the ones it carries; give --root HEX and --size N, or --announcement FILE".into(),
                    ))
                }
            };
            let text = read_text(&proof).map_err(io)?;
            let p = Proof::from_json(&text).map_err(|e| (1, e.to_string()))?;
            p.check_against(&root, size).map_err(|e| (1, format!("proof does NOT verify: {e}")))?;
            let id = p.entry.as_obj().and_then(|o| o.get("id")).and_then(|v| v.as_str()).unwrap_or("?");
            write_out(
                format!(
                    "ok: entry {id} is leaf {} of {size} under root {} (roster_root and roster_size from {from})",
                    p.leaf_index,
                    hex::encode(root)
                )
                .as_bytes(),
                None,
            )
            .map_err(io)?;
            if key.is_none() && from.starts_with("the announcement") {
                eprintln!("not checked: announcement signature (no --key given)");
            }
        }
        DrawCommand::Generate { applicants, schools, prefs, twins_per_mille, tiers, seats_percent, seed_text, output } => {
            if applicants == 0 || schools == 0 || prefs == 0 {
                return Err((1, "--applicants, --schools and --prefs must be at least 1".into()));
            }
            let draft = gen::generate(&GenParams { applicants, schools, prefs, twins_per_mille, tiers, seats_percent, seed_text });
            write_out(&draft.to_input_json(), output.as_deref()).map_err(io)?;
        }
        DrawCommand::Keygen => {
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
            let key = crate::draw::announce::SigningKey::from_seed(seed).map_err(|e| (2, e.0))?;
            eprintln!("public key (JWK): {}", key.public_jwk());
            write_out(format!("{}\n", hex::encode(seed)).as_bytes(), None).map_err(io)?;
        }
        DrawCommand::ParseOnly { file } => {
            let text = read_text(&file).map_err(io)?;
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| (1, format!("malformed JSON: {e}")))?;
            drop(text);
            std::hint::black_box(&v);
        }
    }
    Ok(())
}
