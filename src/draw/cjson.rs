//! Canonical JSON (CJSON), spec `draw-v1.md` §1.
//!
//! Every hash of the draw is taken over CJSON bytes: UTF-8, no whitespace,
//! object members sorted by key (byte order), integers only with magnitude at
//! most 2^53−1, strings escaped as RFC 8785 does.
//!
//! The rules every input and record obeys (§1): every object key is printable
//! ASCII (U+0020–U+007E), so byte order, code-point order and UTF-16 order
//! agree; an integer has one plain form (no fraction, exponent, leading zero,
//! `+` or `-0`); arrays and objects nest at most [`MAX_DEPTH`] levels, the top
//! object counting as one; no object repeats a key. The parsers here and in
//! `input` enforce them; [`explain_number`] turns serde_json's view of a bad
//! number (it reads `-0`, `1.0` and `2^64` alike as floats) into a message
//! that names the actual fault.
//!
//! Two halves live here:
//! * low-level writers (`write_str`, `write_int`) used by the hot paths that
//!   emit canonical bytes directly into a reused buffer, and
//! * [`CVal`], a small JSON value type for the parts of a draw that are
//!   small and free-form (the announcement, the sources). Unlike
//!   `serde_json::Value` it refuses floats, out-of-range integers and
//!   duplicate object members while parsing, and keeps objects sorted by key,
//!   so writing it canonically is a plain walk.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Largest integer magnitude CJSON admits (2^53 − 1).
pub const MAX_SAFE_INT: i64 = (1i64 << 53) - 1;

/// Deepest nesting of arrays and objects (spec §1), the top object being level 1.
pub const MAX_DEPTH: usize = 32;

/// True when `n` is an integer CJSON can represent.
pub fn int_in_range(n: i64) -> bool {
    (-MAX_SAFE_INT..=MAX_SAFE_INT).contains(&n)
}

/// True when every byte of `k` is printable ASCII (U+0020–U+007E).
pub fn is_printable_ascii(k: &str) -> bool {
    k.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// `Ok` when `k` may be an object key (spec §1), else the message naming the fault.
pub fn check_key(k: &str) -> Result<(), String> {
    if is_printable_ascii(k) {
        Ok(())
    } else {
        Err(format!("key {k:?} is not printable ASCII (every object key must be U+0020-U+007E)"))
    }
}

/// The message for an array or object nested deeper than [`MAX_DEPTH`].
pub fn too_deep() -> String {
    format!(
        "nested deeper than {MAX_DEPTH} levels (arrays and objects nest at most {MAX_DEPTH} levels deep, the top object counting as one)"
    )
}

/// The message for an integer whose magnitude exceeds 2^53−1 (`n` as written).
pub fn out_of_range(n: impl fmt::Display) -> String {
    format!("integer {n} is out of range (magnitude at most 2^53-1)")
}

/// Placed in an error by a visitor that received a float from serde_json;
/// [`explain_number`] replaces it with what the number in the text really is.
pub(crate) const NOT_AN_INTEGER: &str = "\u{1}number\u{1}";

/// Replace [`NOT_AN_INTEGER`] in `msg` by a description of the first number
/// of `text` that is not a plain, in-range integer: serde_json reports `1.0`,
/// `1e3`, `-0` and `18446744073709551616` all as floats, and the visitor that
/// refuses it cannot see which it was. Numbers are visited in text order and
/// parsing stops at the first refused one, so the first such number in the
/// text is the one refused.
pub fn explain_number(msg: &str, text: &str) -> String {
    if !msg.contains(NOT_AN_INTEGER) {
        return msg.to_string();
    }
    let what = first_bad_number(text).unwrap_or_else(|| "number is not an integer".into());
    msg.replacen(NOT_AN_INTEGER, &what, 1)
}

fn first_bad_number(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let tok = &text[start..i];
                if let Some(m) = describe_number(tok) {
                    return Some(m);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// What is wrong with the number token `tok`, or `None` if it is an integer
/// serde_json reads as one (those are range-checked where they are read).
fn describe_number(tok: &str) -> Option<String> {
    if tok.contains(['.', 'e', 'E']) {
        return Some(format!("number {tok} is not an integer (floats are not allowed: no fraction, no exponent)"));
    }
    if tok == "-0" {
        return Some("-0 is not allowed (an integer has one plain form, and zero is written 0)".into());
    }
    if tok.parse::<i64>().is_ok() || tok.parse::<u64>().is_ok() {
        return None;
    }
    Some(out_of_range(tok))
}

/// Append `s` as an RFC 8785 JSON string (with quotes).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    // Fast path: nothing to escape (ids, hex digests, most values).
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xf) as usize]);
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Append a decimal integer (the caller guarantees it is in range).
pub fn write_int(out: &mut Vec<u8>, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Append an unsigned integer.
pub fn write_uint(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// A JSON value restricted to what CJSON can express.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CVal {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<CVal>),
    /// Members sorted by key in byte order (`String`'s `Ord`).
    Obj(BTreeMap<String, CVal>),
}

impl CVal {
    /// Human name of the JSON type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            CVal::Null => "null",
            CVal::Bool(_) => "a boolean",
            CVal::Int(_) => "an integer",
            CVal::Str(_) => "a string",
            CVal::Arr(_) => "an array",
            CVal::Obj(_) => "an object",
        }
    }

    /// Append the canonical bytes of this value.
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            CVal::Null => out.extend_from_slice(b"null"),
            CVal::Bool(true) => out.extend_from_slice(b"true"),
            CVal::Bool(false) => out.extend_from_slice(b"false"),
            CVal::Int(n) => write_int(out, *n),
            CVal::Str(s) => write_str(out, s),
            CVal::Arr(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.write(out);
                }
                out.push(b']');
            }
            CVal::Obj(map) => {
                out.push(b'{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The canonical bytes of this value.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            CVal::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_obj(&self) -> Option<&BTreeMap<String, CVal>> {
        match self {
            CVal::Obj(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_arr(&self) -> Option<&[CVal]> {
        match self {
            CVal::Arr(a) => Some(a),
            _ => None,
        }
    }
}

/// Why [`parse`] refused a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Parse a JSON text into a [`CVal`], refusing what breaks the rules of §1
/// (floats, `-0`, big integers, non-ASCII keys, repeated keys, nesting
/// deeper than [`MAX_DEPTH`], a byte-order mark).
pub fn parse(text: &str) -> Result<CVal, ParseError> {
    if text.starts_with('\u{feff}') {
        return Err(ParseError(BOM.into()));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    CVal::deserialize(&mut de).and_then(|v| de.end().map(|_| v)).map_err(|e| ParseError(explain_number(&e.to_string(), text)))
}

/// The message for a text that starts with U+FEFF.
pub const BOM: &str = "starts with a byte-order mark (U+FEFF): a draw document is UTF-8 without a byte-order mark";

impl<'de> Deserialize<'de> for CVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CValSeed { depth: 1 }.deserialize(d)
    }
}

/// Parses a [`CVal`] found at nesting level `depth` (the top object of a
/// document is level 1; its members' values are level 2).
#[derive(Clone, Copy)]
pub struct CValSeed {
    pub depth: usize,
}

impl<'de> DeserializeSeed<'de> for CValSeed {
    type Value = CVal;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CVal, D::Error> {
        d.deserialize_any(CValVisitor { depth: self.depth })
    }
}

struct CValVisitor {
    depth: usize,
}

impl<'de> Visitor<'de> for CValVisitor {
    type Value = CVal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value without floating-point numbers")
    }

    fn visit_unit<E: de::Error>(self) -> Result<CVal, E> {
        Ok(CVal::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<CVal, E> {
        Ok(CVal::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<CVal, E> {
        if int_in_range(v) {
            Ok(CVal::Int(v))
        } else {
            Err(E::custom(out_of_range(v)))
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CVal, E> {
        if v <= MAX_SAFE_INT as u64 {
            Ok(CVal::Int(v as i64))
        } else {
            Err(E::custom(out_of_range(v)))
        }
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<CVal, E> {
        Err(E::custom(NOT_AN_INTEGER))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<CVal, E> {
        Ok(CVal::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<CVal, E> {
        Ok(CVal::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CVal, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom(too_deep()));
        }
        let inner = CValSeed { depth: self.depth + 1 };
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner).map_err(|e| nest(format!("[{}]", items.len()), e))? {
            items.push(v);
        }
        Ok(CVal::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CVal, A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom(too_deep()));
        }
        let inner = CValSeed { depth: self.depth + 1 };
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            check_key(&k).map_err(de::Error::custom)?;
            if out.contains_key(&k) {
                return Err(de::Error::custom(format_args!("duplicate member {k:?}")));
            }
            let v = map.next_value_seed(inner).map_err(|e| nest(format!(".{k}"), e))?;
            out.insert(k, v);
        }
        Ok(CVal::Obj(out))
    }
}

/// Reads and discards any value at nesting level `depth`, enforcing the
/// rules of §1 on it (keys, numbers, depth), for parts of a document that
/// are not kept (a record's `result` when only the roster is needed, or an
/// unexpected member reported later).
#[derive(Clone, Copy)]
pub struct Skip {
    pub depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        CValVisitor { depth: self.depth }.visit_i64(v).map(drop)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        CValVisitor { depth: self.depth }.visit_u64(v).map(drop)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(NOT_AN_INTEGER))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom(too_deep()));
        }
        while seq.next_element_seed(Skip { depth: self.depth + 1 })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom(too_deep()));
        }
        let mut seen = std::collections::BTreeSet::new();
        while let Some(k) = map.next_key::<String>()? {
            check_key(&k).map_err(de::Error::custom)?;
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom(format_args!("duplicate member {k:?}")));
            }
            map.next_value_seed(Skip { depth: self.depth + 1 })?;
        }
        Ok(())
    }
}

/// Prefix a nested parse error with the member or index it occurred in, so
/// that `{"schools":[{"seats":1.5}]}` reports `.schools[0].seats: ...`.
/// The position serde_json appends is dropped here; the outermost call
/// appends it once.
fn nest<E: de::Error>(segment: String, e: E) -> E {
    let s = e.to_string();
    let s = match s.rfind(" at line ") {
        Some(p) => &s[..p],
        None => &s,
    };
    let sep = if s.starts_with('.') || s.starts_with('[') { "" } else { ": " };
    E::custom(format_args!("{segment}{sep}{s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_rfc8785() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}/é€😀\u{7f}");
        assert_eq!(String::from_utf8(out).unwrap(), "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f/é€😀\u{7f}\"");
    }

    #[test]
    fn sorts_and_refuses() {
        let v = parse(r#"{"b":[1,-2,{"z":null,"a":true}],"a":"x"}"#).unwrap();
        assert_eq!(v.to_bytes(), br#"{"a":"x","b":[1,-2,{"a":true,"z":null}]}"#.to_vec());
        assert!(parse("1.0").is_err());
        assert!(parse("1e3").is_err());
        assert!(parse("9007199254740992").is_err());
        assert!(parse("-9007199254740992").is_err());
        assert!(parse("9007199254740991").is_ok());
        assert!(parse(r#"{"a":1,"a":2}"#).is_err());
    }

    #[test]
    fn clarified_rules() {
        // Keys: printable ASCII only, anywhere.
        assert!(parse(r#"{"a":{" ~":1}}"#).is_ok());
        for bad in [r#"{"é":1}"#, r#"{"a":[{"\u007f":1}]}"#, r#"{"\n":1}"#] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("not printable ASCII"), "{bad}: {e}");
        }
        // Numbers: the message names the real fault.
        let e = parse("[1,18446744073709551616]").unwrap_err().to_string();
        assert!(e.contains("integer 18446744073709551616 is out of range"), "{e}");
        let e = parse("[\"1.5\",-0]").unwrap_err().to_string();
        assert!(e.contains("-0 is not allowed"), "{e}");
        let e = parse("{\"a\":[2.5]}").unwrap_err().to_string();
        assert!(e.contains("number 2.5 is not an integer"), "{e}");
        assert!(e.starts_with(".a[0]"), "{e}");
        // Depth: 32 levels, the top one included.
        let deep = |k: usize| format!("{}{}", "[".repeat(k), "]".repeat(k));
        assert!(parse(&deep(32)).is_ok());
        let e = parse(&deep(33)).unwrap_err().to_string();
        assert!(e.contains("nested deeper than 32"), "{e}");
        assert!(parse(&deep(5000)).is_err());
        // A byte-order mark is refused by name.
        assert!(parse("\u{feff}{}").unwrap_err().to_string().contains("byte-order mark"));
    }

    #[test]
    fn ints() {
        for n in [0i64, 7, -1, 10, -38, MAX_SAFE_INT, -MAX_SAFE_INT, i64::MIN] {
            let mut out = Vec::new();
            write_int(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }
}
