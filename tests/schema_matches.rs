//! `src/db/schema.rs` matches what the migrations create, on both backends.
//!
//! The declared side is read from `src/db/schema.rs` itself: its
//! `diesel::table!` blocks are parsed as text (table, column, coarse type,
//! nullability), and the parse is checked against the column list diesel
//! compiled from the same file, so a parser slip cannot hide a difference.
//! The actual side is a freshly migrated database: `pragma_table_info` on
//! SQLite, `information_schema.columns` on PostgreSQL.

mod common;

use common::{backends, Backend, TestDb};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use ruxue::db::{Db, DbConn};
use std::collections::BTreeMap;

/// Coarse column type, enough to tell a diesel declaration from a SQL type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Coarse {
    Integer,
    BigInt,
    Double,
    Text,
    Bool,
    Timestamp,
    Date,
    Binary,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    ty: Coarse,
    nullable: bool,
    /// The type as written (schema.rs or the database), for messages.
    raw: String,
}

/// Table name → its columns, in declaration order.
type Schema = BTreeMap<String, Vec<Column>>;

// ---------------------------------------------------------------- schema.rs

fn diesel_coarse(ty: &str) -> Coarse {
    // `diesel::sql_types::Text` and `Text` alike.
    match ty.rsplit("::").next().unwrap_or(ty) {
        "Integer" | "Int4" => Coarse::Integer,
        "BigInt" | "Int8" => Coarse::BigInt,
        "Double" | "Float8" => Coarse::Double,
        "Text" | "VarChar" => Coarse::Text,
        "Bool" => Coarse::Bool,
        "Timestamp" => Coarse::Timestamp,
        "Date" => Coarse::Date,
        "Binary" | "Bytea" | "Blob" => Coarse::Binary,
        other => Coarse::Other(other.to_string()),
    }
}

/// Reads every `diesel::table!` block of a schema.rs text. Strict: a line it
/// does not understand inside a block is an error, not something to skip.
fn parse_schema_rs(src: &str) -> Result<Schema, String> {
    let mut out = Schema::new();
    let mut rest = src;
    let mut offset = 0usize;
    while let Some(at) = rest.find("table!") {
        let start = offset + at;
        // Only the macro itself, not e.g. a mention in a comment.
        let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
        let prefix = src[line_start..start].trim();
        let body_open = src[start..].find('{').map(|i| start + i);
        if !(prefix.is_empty() || prefix == "diesel::") || body_open.is_none() {
            offset = start + "table!".len();
            rest = &src[offset..];
            continue;
        }
        let open = body_open.unwrap();
        let close = matching_brace(src, open).ok_or_else(|| format!("unclosed table! block at byte {start}"))?;
        let (name, columns) = parse_table_block(&src[open + 1..close], line_of(src, open))?;
        if out.insert(name.clone(), columns).is_some() {
            return Err(format!("table `{name}` is declared twice in schema.rs"));
        }
        offset = close + 1;
        rest = &src[offset..];
    }
    if out.is_empty() {
        return Err("no diesel::table! blocks found".into());
    }
    Ok(out)
}

fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn line_of(s: &str, byte: usize) -> usize {
    s[..byte].matches('\n').count() + 1
}

/// `name (pk, …) { col -> Type, … }`, with optional `#[sql_name = "…"]`
/// attributes on the table or a column.
fn parse_table_block(block: &str, first_line: usize) -> Result<(String, Vec<Column>), String> {
    let mut table: Option<String> = None;
    let mut sql_name: Option<String> = None;
    let mut columns = Vec::new();
    let mut inside = false;
    for (i, raw) in block.lines().enumerate() {
        let line_no = first_line + i;
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(attr) = line.strip_prefix("#[") {
            if let Some(v) = attr.strip_prefix("sql_name").map(str::trim).and_then(|a| a.strip_prefix('=')) {
                sql_name = Some(v.trim().trim_end_matches(']').trim().trim_matches('"').to_string());
            } else if !attr.starts_with("diesel(") && !attr.starts_with("doc") {
                return Err(format!("schema.rs:{line_no}: unexpected attribute `{line}`"));
            }
            continue;
        }
        if !inside {
            // `townships (id) {`
            let (head, tail) =
                line.split_once('(').ok_or_else(|| format!("schema.rs:{line_no}: expected `table (primary key) {{`, got `{line}`"))?;
            if !tail.trim_end().ends_with('{') {
                return Err(format!("schema.rs:{line_no}: expected `{{` after the primary key in `{line}`"));
            }
            let name = head.trim().rsplit('.').next().unwrap_or("").to_string();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("schema.rs:{line_no}: bad table name in `{line}`"));
            }
            table = Some(sql_name.take().unwrap_or(name));
            inside = true;
            continue;
        }
        if line == "}" {
            inside = false;
            continue;
        }
        // `name -> Nullable<Text>,`
        let (name, ty) = line
            .trim_end_matches(',')
            .split_once("->")
            .ok_or_else(|| format!("schema.rs:{line_no}: expected `column -> Type,`, got `{line}`"))?;
        let name = name.trim().trim_start_matches("r#").to_string();
        let ty = ty.trim();
        let (nullable, inner) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
            Some(inner) => (true, inner.trim()),
            None => (false, ty),
        };
        columns.push(Column { name: sql_name.take().unwrap_or(name), ty: diesel_coarse(inner), nullable, raw: ty.to_string() });
    }
    let table = table.ok_or_else(|| format!("schema.rs:{first_line}: table! block without a table"))?;
    if columns.is_empty() {
        return Err(format!("schema.rs: table `{table}` has no columns"));
    }
    Ok((table, columns))
}

fn declared_schema() -> Schema {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db/schema.rs");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    parse_schema_rs(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// Column names diesel compiled for each table: the SELECT of
/// `table.select(all_columns)`, rendered for SQLite.
macro_rules! compiled_columns {
    ($($t:ident),* $(,)?) => {{
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        $(
            let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(
                &ruxue::db::schema::$t::table.select(ruxue::db::schema::$t::all_columns),
            )
            .to_string();
            m.insert(stringify!($t).to_string(), select_list_names(&sql));
        )*
        m
    }};
}

/// `SELECT `t`.`a`, `t`.`b` FROM `t` -- binds: []` → `["a", "b"]`.
fn select_list_names(sql: &str) -> Vec<String> {
    let list = sql.strip_prefix("SELECT ").and_then(|s| s.split(" FROM ").next()).unwrap_or("");
    list.split(", ").map(|item| item.rsplit('.').next().unwrap_or(item).trim_matches(|c| c == '`' || c == '"').to_string()).collect()
}

// ---------------------------------------------------------------- database

fn sqlite_coarse(decl: &str) -> Coarse {
    match decl.trim().to_ascii_uppercase().as_str() {
        "INTEGER" | "INT" => Coarse::Integer,
        "BIGINT" => Coarse::BigInt,
        "DOUBLE PRECISION" | "DOUBLE" | "REAL" => Coarse::Double,
        "TEXT" => Coarse::Text,
        "BOOLEAN" | "BOOL" => Coarse::Bool,
        "TIMESTAMP" | "DATETIME" => Coarse::Timestamp,
        "DATE" => Coarse::Date,
        "BLOB" | "BINARY" => Coarse::Binary,
        other => Coarse::Other(other.to_string()),
    }
}

fn pg_coarse(data_type: &str) -> Coarse {
    match data_type {
        "integer" => Coarse::Integer,
        "bigint" => Coarse::BigInt,
        "double precision" => Coarse::Double,
        "text" | "character varying" => Coarse::Text,
        "boolean" => Coarse::Bool,
        "timestamp without time zone" => Coarse::Timestamp,
        "date" => Coarse::Date,
        "bytea" => Coarse::Binary,
        other => Coarse::Other(other.to_string()),
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    decl: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

/// The tables and columns of the database, without diesel's own bookkeeping table.
fn actual_schema(conn: &mut DbConn) -> Schema {
    let mut out = Schema::new();
    match conn {
        DbConn::Sqlite(c) => {
            let tables: Vec<Name> = diesel::sql_query(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
            )
            .load(c)
            .expect("list SQLite tables");
            for t in tables {
                let cols: Vec<SqliteColumn> =
                    diesel::sql_query("SELECT name, type AS decl, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid")
                        .bind::<Text, _>(&t.name)
                        .load(c)
                        .expect("pragma_table_info");
                let cols = cols
                    .into_iter()
                    .map(|col| Column {
                        ty: sqlite_coarse(&col.decl),
                        // SQLite lets a non-INTEGER PRIMARY KEY column hold NULL
                        // (a legacy quirk: `notnull` is 0 for `id TEXT PRIMARY KEY`).
                        // diesel, like PostgreSQL, treats key columns as NOT NULL,
                        // and no code path writes a NULL key, so count them as such.
                        nullable: col.notnull == 0 && col.pk == 0,
                        raw: col.decl,
                        name: col.name,
                    })
                    .collect();
                out.insert(t.name, cols);
            }
        }
        DbConn::Postgres(c) => {
            let cols: Vec<PgColumn> = diesel::sql_query(
                "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                        c.data_type::text AS data_type, c.is_nullable::text AS is_nullable \
                 FROM information_schema.columns c \
                 JOIN information_schema.tables t \
                   ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                   AND c.table_name <> '__diesel_schema_migrations' \
                 ORDER BY c.table_name, c.ordinal_position",
            )
            .load(c)
            .expect("information_schema.columns");
            for col in cols {
                out.entry(col.table_name).or_default().push(Column {
                    ty: pg_coarse(&col.data_type),
                    nullable: col.is_nullable == "YES",
                    raw: col.data_type,
                    name: col.column_name,
                });
            }
        }
    }
    out
}

// ---------------------------------------------------------------- comparison

fn null_word(nullable: bool) -> &'static str {
    if nullable {
        "NULL"
    } else {
        "NOT NULL"
    }
}

/// Every difference, one line each, naming the backend, table and column.
fn compare(backend: &str, declared: &Schema, actual: &Schema) -> Vec<String> {
    let mut diffs = Vec::new();
    for (table, dcols) in declared {
        let Some(acols) = actual.get(table) else {
            diffs.push(format!("{backend}: table `{table}` is declared in src/db/schema.rs but the migrated database has no such table"));
            continue;
        };
        for d in dcols {
            match acols.iter().find(|a| a.name == d.name) {
                None => diffs.push(format!(
                    "{backend}: column `{table}.{}` is declared in src/db/schema.rs ({}) but missing in the database",
                    d.name, d.raw
                )),
                Some(a) => {
                    if a.ty != d.ty {
                        diffs.push(format!(
                            "{backend}: column `{table}.{}`: type differs: schema.rs has {} ({:?}), the database has {} ({:?})",
                            d.name, d.raw, d.ty, a.raw, a.ty
                        ));
                    }
                    if a.nullable != d.nullable {
                        diffs.push(format!(
                            "{backend}: column `{table}.{}`: nullability differs: schema.rs says {}, the database says {}",
                            d.name,
                            null_word(d.nullable),
                            null_word(a.nullable)
                        ));
                    }
                }
            }
        }
        for a in acols {
            if !dcols.iter().any(|d| d.name == a.name) {
                diffs.push(format!(
                    "{backend}: column `{table}.{}` ({} {}) exists in the database but src/db/schema.rs does not declare it",
                    a.name,
                    a.raw,
                    null_word(a.nullable)
                ));
            }
        }
    }
    for table in actual.keys() {
        if !declared.contains_key(table) {
            diffs.push(format!("{backend}: table `{table}` exists in the migrated database but src/db/schema.rs does not declare it"));
        }
    }
    diffs
}

// ---------------------------------------------------------------- tests

#[test]
fn schema_rs_matches_the_migrated_database_on_both_backends() {
    let declared = declared_schema();
    let mut diffs = Vec::new();
    for backend in backends() {
        let name = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let tdb = TestDb::new(backend);
        let db = Db::connect(&tdb.url, 1, 5000).expect("connect");
        db.migrate().expect("migrate");
        let mut conn = db.get().expect("connection");
        let actual = actual_schema(&mut conn);
        diffs.extend(compare(name, &declared, &actual));
    }
    assert!(diffs.is_empty(), "src/db/schema.rs and the migrations disagree ({} difference(s)):\n  {}", diffs.len(), diffs.join("\n  "));
}

/// The text parse above sees exactly the tables and columns diesel compiled.
#[test]
fn schema_rs_parse_agrees_with_diesel() {
    let compiled = ruxue::for_each_table!(compiled_columns);
    let parsed: BTreeMap<String, Vec<String>> =
        declared_schema().into_iter().map(|(t, cols)| (t, cols.into_iter().map(|c| c.name).collect())).collect();
    for t in parsed.keys() {
        assert!(compiled.contains_key(t), "table `{t}` is in src/db/schema.rs but not in this test's compiled_columns! list; add it there");
    }
    assert_eq!(parsed, compiled, "the text parse of src/db/schema.rs differs from what diesel compiled");
}

/// The comparison reports each kind of difference, precisely.
#[test]
fn comparison_names_every_difference() {
    let declared = parse_schema_rs(
        "diesel::table! {\n    t (id) {\n        id -> Text,\n        n -> Nullable<BigInt>,\n        \
         gone -> Bool,\n    }\n}\n\ndiesel::table! {\n    only_declared (k) {\n        k -> Text,\n    }\n}\n",
    )
    .unwrap();
    let col = |name: &str, ty: Coarse, nullable: bool| Column { name: name.into(), raw: format!("{ty:?}"), ty, nullable };
    let mut actual = Schema::new();
    actual
        .insert("t".into(), vec![col("id", Coarse::Text, false), col("n", Coarse::Integer, false), col("extra", Coarse::Timestamp, true)]);
    actual.insert("only_actual".into(), vec![col("x", Coarse::Text, false)]);
    let diffs = compare("sqlite", &declared, &actual);
    let expect = [
        "sqlite: column `t.n`: type differs: schema.rs has Nullable<BigInt> (BigInt), the database has Integer (Integer)",
        "sqlite: column `t.n`: nullability differs: schema.rs says NULL, the database says NOT NULL",
        "sqlite: column `t.gone` is declared in src/db/schema.rs (Bool) but missing in the database",
        "sqlite: column `t.extra` (Timestamp NULL) exists in the database but src/db/schema.rs does not declare it",
        "sqlite: table `only_declared` is declared in src/db/schema.rs but the migrated database has no such table",
        "sqlite: table `only_actual` exists in the migrated database but src/db/schema.rs does not declare it",
    ];
    for e in expect {
        assert!(diffs.iter().any(|d| d == e), "missing {e:?} in {diffs:#?}");
    }
    assert_eq!(diffs.len(), expect.len(), "{diffs:#?}");
    // A line the parser does not understand is an error, not skipped.
    let err = parse_schema_rs("diesel::table! {\n    t (id) {\n        id Text,\n    }\n}\n").unwrap_err();
    assert!(err.contains("expected `column -> Type,`"), "{err}");
}
