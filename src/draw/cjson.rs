//! Canonical JSON (CJSON), spec `draw-v1.md` §1.
//!
//! Every hash of the draw is taken over CJSON bytes: UTF-8, no whitespace,
//! object members sorted by key (byte order), integers only with magnitude at
//! most 2^53−1, strings escaped as RFC 8785 does.
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

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Largest integer magnitude CJSON admits (2^53 − 1).
pub const MAX_SAFE_INT: i64 = (1i64 << 53) - 1;

/// True when `n` is an integer CJSON can represent.
pub fn int_in_range(n: i64) -> bool {
    (-MAX_SAFE_INT..=MAX_SAFE_INT).contains(&n)
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

/// Parse a JSON text into a [`CVal`], refusing floats, big integers and
/// duplicate members.
pub fn parse(text: &str) -> Result<CVal, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = CVal::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

impl<'de> Deserialize<'de> for CVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CValVisitor)
    }
}

struct CValVisitor;

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
            Err(E::custom(format_args!(
                "integer {v} exceeds 2^53-1 in magnitude"
            )))
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<CVal, E> {
        if v <= MAX_SAFE_INT as u64 {
            Ok(CVal::Int(v as i64))
        } else {
            Err(E::custom(format_args!(
                "integer {v} exceeds 2^53-1 in magnitude"
            )))
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<CVal, E> {
        Err(E::custom(format_args!(
            "number {v} is not an integer (floats are not allowed in canonical JSON)"
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<CVal, E> {
        Ok(CVal::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<CVal, E> {
        Ok(CVal::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CVal, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq
            .next_element::<CVal>()
            .map_err(|e| nest(format!("[{}]", items.len()), e))?
        {
            items.push(v);
        }
        Ok(CVal::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CVal, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map
                .next_value::<CVal>()
                .map_err(|e| nest(format!(".{k}"), e))?;
            if out.contains_key(&k) {
                return Err(de::Error::custom(format_args!("duplicate member {k:?}")));
            }
            out.insert(k, v);
        }
        Ok(CVal::Obj(out))
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
    let sep = if s.starts_with('.') || s.starts_with('[') {
        ""
    } else {
        ": "
    };
    E::custom(format_args!("{segment}{sep}{s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_rfc8785() {
        let mut out = Vec::new();
        write_str(&mut out, "a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}/é€😀\u{7f}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f/é€😀\u{7f}\""
        );
    }

    #[test]
    fn sorts_and_refuses() {
        let v = parse(r#"{"b":[1,-2,{"z":null,"a":true}],"a":"x"}"#).unwrap();
        assert_eq!(
            v.to_bytes(),
            br#"{"a":"x","b":[1,-2,{"a":true,"z":null}]}"#.to_vec()
        );
        assert!(parse("1.0").is_err());
        assert!(parse("1e3").is_err());
        assert!(parse("9007199254740992").is_err());
        assert!(parse("-9007199254740992").is_err());
        assert!(parse("9007199254740991").is_ok());
        assert!(parse(r#"{"a":1,"a":2}"#).is_err());
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
