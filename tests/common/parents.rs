//! A parent's registration data for tests: valid ID numbers, PNG uploads
//! (with metadata the server must strip) and the child form's minimum.

use serde_json::{json, Value};

/// A checksum-valid ID number (fictional).
pub fn id_number(region: &str, birth: &str, seq: &str) -> String {
    let first = format!("{region}{birth}{seq}");
    format!("{first}{}", ruxue::identity::idcard::check_digit(&first).unwrap())
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

pub fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(data);
    let mut crc_in = kind.to_vec();
    crc_in.extend_from_slice(data);
    v.extend_from_slice(&crc32(&crc_in).to_be_bytes());
    v
}

/// A PNG with a tEXt chunk (metadata the server must strip) and `pad` filler bytes in IDAT.
/// Its one pixel's colour comes from `pad` too: the server re-encodes images from their
/// pixels, so files that differ only in padding would be stored as one.
pub fn png(pad: usize) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    v.extend(png_chunk(b"tEXt", b"Location\0GPS 25.06N 118.18E"));
    let (r, g, b) = ((pad & 0xFF) as u8, ((pad >> 8) & 0xFF) as u8, ((pad >> 16) & 0xFF) as u8);
    let mut idat = vec![0x78, 0x01, 0x01, 0x04, 0x00, 0xFB, 0xFF, 0x00, r, g, b, 0x03, 0x00, 0x01, 0x00];
    idat.extend(std::iter::repeat(0u8).take(pad));
    v.extend(png_chunk(b"IDAT", &idat));
    v.extend(png_chunk(b"IEND", b""));
    v
}

pub fn child(name: &str, id: &str) -> Value {
    json!({
        "child_name": name,
        "id_number": id,
        "hukou_type": "local",
        "hukou_township": "凤城镇",
        "hukou_community": "东岳社区",
        "hukou_road": "二环路",
        "hukou_number": "123",
    })
}
