//! `ruxue draw ...`: command-line front end of the draw engine (which is
//! pure: this file does its IO). Mount [`DrawCommand`] as a clap subcommand
//! and pass it to [`run`], which returns the process exit code.
//!
//! Exit codes: 0 success; 1 the input/record/proof was refused or does not
//! verify; 2 an IO error (file not found, output failed).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::draw::gen::{self, GenParams};
use crate::draw::record::{Proof, VerifyError};

/// Subcommands of `ruxue draw`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DrawCommand {
    /// Validate a draw input and print the full record (input + result) as canonical JSON.
    Compute {
        /// Draw input JSON file (`-` for stdin).
        input: PathBuf,
    },
    /// Recompute a record's result; print the result digest if it matches,
    /// else the first discrepancy (exit 1).
    Verify {
        /// Record JSON file (`-` for stdin).
        record: PathBuf,
    },
    /// Print an RFC 6962 inclusion proof that an applicant's entry is in the roster root.
    Proof {
        /// Record or input JSON file (`-` for stdin); sources may be absent.
        record: PathBuf,
        /// Applicant id (registration number).
        applicant_id: String,
    },
    /// Check an inclusion proof printed by `proof`.
    CheckProof {
        /// Proof JSON file (`-` for stdin).
        proof: PathBuf,
        /// Also require this roster root (from the signed announcement).
        #[arg(long)]
        root: Option<String>,
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
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_string(&mut s))
            .map(|_| ())
    };
    r.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(s)
}

fn write_out(bytes: &[u8], path: Option<&Path>) -> Result<(), String> {
    let r = match path {
        Some(p) if p.as_os_str() != "-" => std::fs::write(p, bytes),
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|_| out.write_all(b"\n"))
                .and_then(|_| out.flush())
        }
    };
    r.map_err(|e| format!("cannot write output: {e}"))
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

fn run_inner(cmd: DrawCommand) -> Result<(), (i32, String)> {
    let io = |e: String| (2, e);
    match cmd {
        DrawCommand::Compute { input } => {
            let text = read_text(&input).map_err(io)?;
            let c = crate::draw::compute(&text).map_err(|e| (1, format!("invalid draw input: {e}")))?;
            let mut out = std::io::stdout().lock();
            crate::draw::record_parts(&text, &c.result)
                .iter()
                .try_for_each(|part| out.write_all(part))
                .and_then(|_| out.write_all(b"\n"))
                .and_then(|_| out.flush())
                .map_err(|e| (2, format!("cannot write output: {e}")))?;
            eprintln!("result digest {}", c.result_digest);
        }
        DrawCommand::Verify { record } => {
            let text = read_text(&record).map_err(io)?;
            match crate::draw::verify(&text) {
                Ok(v) => write_out(v.result_digest.as_bytes(), None).map_err(io)?,
                Err(e @ VerifyError::Invalid(_)) => return Err((1, e.to_string())),
                Err(e @ VerifyError::Mismatch(_)) => return Err((1, e.to_string())),
            }
        }
        DrawCommand::Proof {
            record,
            applicant_id,
        } => {
            let text = read_text(&record).map_err(io)?;
            let p = crate::draw::inclusion_proof(&text, &applicant_id).map_err(|e| (1, e.to_string()))?;
            write_out(&p.to_json(), None).map_err(io)?;
        }
        DrawCommand::CheckProof { proof, root } => {
            let text = read_text(&proof).map_err(io)?;
            let p = Proof::from_json(&text).map_err(|e| (1, e.to_string()))?;
            if let Some(r) = root {
                if r.to_ascii_lowercase() != hex::encode(p.root) {
                    return Err((
                        1,
                        format!("proof is for root {}, not {r}", hex::encode(p.root)),
                    ));
                }
            }
            if !p.check() {
                return Err((
                    1,
                    "proof does NOT verify: the entry is not leaf leaf_index of this root".into(),
                ));
            }
            let id = p
                .entry
                .as_obj()
                .and_then(|o| o.get("id"))
                .and_then(|v| v.as_str())
                .unwrap_or("?");
            write_out(
                format!(
                    "ok: entry {id} is leaf {} of {} under root {}",
                    p.leaf_index,
                    p.tree_size,
                    hex::encode(p.root)
                )
                .as_bytes(),
                None,
            )
            .map_err(io)?;
        }
        DrawCommand::Generate {
            applicants,
            schools,
            prefs,
            twins_per_mille,
            tiers,
            seats_percent,
            seed_text,
            output,
        } => {
            if applicants == 0 || schools == 0 || prefs == 0 {
                return Err((
                    1,
                    "--applicants, --schools and --prefs must be at least 1".into(),
                ));
            }
            let draft = gen::generate(&GenParams {
                applicants,
                schools,
                prefs,
                twins_per_mille,
                tiers,
                seats_percent,
                seed_text,
            });
            write_out(&draft.to_input_json(), output.as_deref()).map_err(io)?;
        }
        DrawCommand::ParseOnly { file } => {
            let text = read_text(&file).map_err(io)?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| (1, format!("malformed JSON: {e}")))?;
            drop(text);
            std::hint::black_box(&v);
        }
    }
    Ok(())
}
