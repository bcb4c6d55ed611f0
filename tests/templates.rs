//! Every page template ships compiled: each file under `templates/` is
//! registered in `ruxue::web::templates::environment()` with the file's
//! text, compiles, and names only registered templates in `extends`,
//! `include`, `import` and `from`. `environment()` logs and skips a template
//! that does not compile, so without this a typo shows only when a page is
//! first requested.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

/// Every file under `templates/`, as (name as registered, path), sorted.
fn template_files() -> Vec<(String, PathBuf)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.push((name, path));
            }
        }
    }
    let root = templates_dir();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    files
}

/// Names in `{% extends "…" %}`, `{% include "…" %}`, `{% import "…" as … %}`
/// and `{% from "…" import … %}` tags.
fn referenced_templates(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in source.split("{%").skip(1) {
        let tag = tag.split("%}").next().unwrap_or("");
        let tag = tag.trim_start_matches(['-', '+']).trim_start();
        let Some((keyword, rest)) = tag.split_once(char::is_whitespace) else {
            continue;
        };
        if !["extends", "include", "import", "from"].contains(&keyword) {
            continue;
        }
        let rest = rest.trim_start();
        let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(name) = rest[1..].split(quote).next() {
            out.push(name.to_string());
        }
    }
    out
}

#[test]
fn every_template_file_is_registered_and_compiles() {
    let env = ruxue::web::templates::environment();
    let files = template_files();
    assert!(files.len() >= 20, "templates/ holds {} files", files.len());
    let mut problems = Vec::new();
    for (name, path) in &files {
        let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Compiled on its own with the service's settings and filters, so the
        // syntax error itself is reported. (The environment borrows for 'static.)
        let (leaked_name, leaked_source): (&'static str, &'static str) =
            (Box::leak(name.clone().into_boxed_str()), Box::leak(source.clone().into_boxed_str()));
        if let Err(e) = env.template_from_named_str(leaked_name, leaked_source) {
            problems.push(format!("{name}: does not compile: {e:#}"));
            continue;
        }
        match env.get_template(name) {
            Ok(t) if t.source() == source => {}
            Ok(_) => problems.push(format!("{name}: registered with another text than templates/{name}")),
            Err(e) => problems.push(format!("{name}: not registered in environment(): {e}")),
        }
    }
    assert!(problems.is_empty(), "{} of {} templates:\n{}", problems.len(), files.len(), problems.join("\n"));
}

#[test]
fn every_registered_template_is_a_file() {
    let env = ruxue::web::templates::environment();
    let files: BTreeSet<String> = template_files().into_iter().map(|(name, _)| name).collect();
    let registered: BTreeSet<String> = env.templates().map(|(name, _)| name.to_string()).collect();
    let extra: Vec<&String> = registered.difference(&files).collect();
    assert!(extra.is_empty(), "registered without a file under templates/: {extra:?}");
}

#[test]
fn referenced_templates_are_registered() {
    let env = ruxue::web::templates::environment();
    let mut problems = Vec::new();
    let mut references = 0;
    for (name, path) in template_files() {
        let source = std::fs::read_to_string(&path).unwrap();
        for target in referenced_templates(&source) {
            references += 1;
            if env.get_template(&target).is_err() {
                problems.push(format!("{name} uses {target:?}, which is not registered"));
            }
        }
    }
    assert!(references > 0, "no extends/include/import found: the scan is broken");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn reference_scan() {
    let src = r#"{% extends "base.html" %}{%- include 'parent/_style.html' -%}
{% from "parent/_macros.html" import text, err %}{% import "m.html" as m %}
{% if x %}{{ "include" }}{% endif %}{% set from = 1 %}"#;
    assert_eq!(referenced_templates(src), ["base.html", "parent/_style.html", "parent/_macros.html", "m.html"]);
}
