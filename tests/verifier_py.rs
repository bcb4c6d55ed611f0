//! The auditors' independent verifier (`verifier/verify_draw.py`) is part of
//! the product: its own test suite runs with `cargo test`, and fails (not
//! skips) when python3 is missing.

use std::process::Command;

#[test]
fn python_verifier_suite_passes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "verifier", "-p", "test_*.py"])
        .env("RUXUE_VECTORS", format!("{root}/tests/vectors"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(root)
        .output()
        .expect("python3 is required to run the auditors' verifier");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verifier suite failed:\n{stderr}");
    assert!(stderr.contains("OK"), "{stderr}");
    let ran: usize = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Ran ").and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    assert!(ran >= 20, "expected the full verifier suite, ran {ran}");
}

#[test]
fn python_verifier_self_test() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("python3")
        .args(["verifier/verify_draw.py", "--self-test", "--vectors", "tests/vectors"])
        .current_dir(root)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
