// Uploads: sniffing, size limit, metadata stripping, storage names, kinds.

use ruxue::registration::upload::{
    check_size, prepare, sniff, storage_name, strip_metadata, DocumentKind, FileKind, UploadError, DEFAULT_MAX_BYTES,
};
use sha2::Digest;

// --- helpers: hand-built files ------------------------------------------------

fn seg(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, marker];
    v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

const GPS: &[u8] = b"GPSLatitude N 25 03 41.2 GPSLongitude E 118 11 02.7";

struct Jpeg {
    bytes: Vec<u8>,
    expected: Vec<u8>,
}

/// A small baseline-shaped JPEG with metadata segments in between real ones.
fn jpeg_with_exif() -> Jpeg {
    let soi = vec![0xFF, 0xD8];
    let app0 = seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut exif_payload = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    exif_payload.extend_from_slice(GPS);
    let app1 = seg(0xE1, &exif_payload);
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>".to_vec();
    xmp.extend_from_slice(GPS);
    let app1_xmp = seg(0xE1, &xmp);
    let app2_icc = seg(0xE2, b"ICC_PROFILE\0\x01\x01fake-icc");
    let dqt = seg(0xDB, &[0u8; 65]);
    let sof0 = seg(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
    let dht = seg(0xC4, &[0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05]);
    let app13 = seg(0xED, b"Photoshop 3.0\08BIM\x04\x04IPTC city Anxi");
    let com = seg(0xFE, b"shot on phone at home");
    let sos = seg(0xDA, &[1, 1, 0x00, 0, 63, 0]);
    // Entropy data containing a stuffed 0xFF00 and a restart marker.
    let scan = vec![0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD0, 0x78, 0x9A];
    let com2 = seg(0xFE, GPS); // between scans (progressive style)
    let sos2 = seg(0xDA, &[1, 1, 0x00, 1, 63, 0]);
    let scan2 = vec![0xAB, 0xFF, 0x00, 0xCD];
    let eoi = vec![0xFF, 0xD9];
    let trailer = b"SEFT trailer with GPS".to_vec();

    let parts: Vec<&[u8]> =
        vec![&soi, &app0, &app1, &app2_icc, &dqt, &app1_xmp, &sof0, &dht, &app13, &com, &sos, &scan, &com2, &sos2, &scan2, &eoi, &trailer];
    let kept: Vec<&[u8]> = vec![&soi, &app0, &app2_icc, &dqt, &sof0, &dht, &sos, &scan, &sos2, &scan2, &eoi];
    Jpeg { bytes: parts.concat(), expected: kept.concat() }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Independent bitwise CRC-32 (IEEE) for building test PNGs.
fn crc(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, t) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *t = c;
    }
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

fn chunk(ty: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = (data.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(ty);
    v.extend_from_slice(data);
    let mut td = ty.to_vec();
    td.extend_from_slice(data);
    v.extend_from_slice(&crc(&td).to_be_bytes());
    v
}

const PNG_SIG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

struct Png {
    bytes: Vec<u8>,
    expected: Vec<u8>,
}

fn png_with_text() -> Png {
    let sig = PNG_SIG.to_vec();
    let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    let text = chunk(b"tEXt", b"Comment\0GPS 25.06N 118.18E");
    let ztxt = chunk(b"zTXt", b"Author\0\0xx");
    let itxt = chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>");
    let exif = chunk(b"eXIf", b"MM\0*GPS");
    let phys = chunk(b"pHYs", &[0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1]);
    let idat = chunk(b"IDAT", &[0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00]);
    let time = chunk(b"tIME", &[0x07, 0xE3, 3, 15, 10, 20, 30]);
    let iend = chunk(b"IEND", &[]);
    let parts = [&sig, &ihdr, &text, &phys, &ztxt, &idat, &itxt, &exif, &time, &iend];
    let kept = [&sig, &ihdr, &phys, &idat, &iend];
    let mut bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    bytes.extend_from_slice(b"appended junk");
    Png { bytes, expected: kept.iter().flat_map(|p| p.iter().copied()).collect() }
}

// --- sniffing -----------------------------------------------------------------

#[test]
fn sniffs_by_magic_bytes() {
    assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap(), FileKind::Jpeg);
    assert_eq!(sniff(PNG_SIG).unwrap(), FileKind::Png);
    assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap(), FileKind::Pdf);
    assert_eq!(sniff(b"").unwrap_err(), UploadError::Empty);
    assert_eq!(sniff(b"GIF89a....").unwrap_err(), UploadError::UnsupportedType);
    assert_eq!(sniff(&[0xFF, 0xD8]).unwrap_err(), UploadError::UnsupportedType);
    assert_eq!(sniff(b" %PDF-1.4").unwrap_err(), UploadError::UnsupportedType);
    assert_eq!(UploadError::UnsupportedType.to_string(), "仅支持 JPG、PNG 或 PDF 文件");
}

#[test]
fn disguised_files() {
    // A PNG uploaded as "户口簿.pdf": the name is irrelevant, the content decides.
    let (_name, bytes) = ("户口簿.pdf", png_with_text().bytes);
    let p = prepare(&bytes, DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(p.kind, FileKind::Png);
    assert!(p.storage_name.ends_with(".png"));
    // An HTML page uploaded as "photo.jpg" is refused.
    let (_name, html) = ("photo.jpg", b"<!DOCTYPE html><script>alert(1)</script>".to_vec());
    let e = prepare(&html, DEFAULT_MAX_BYTES).unwrap_err();
    assert_eq!(e, UploadError::UnsupportedType);
    assert_eq!(e.to_string(), "仅支持 JPG、PNG 或 PDF 文件");
}

#[test]
fn size_limit() {
    assert!(check_size(10 * 1024 * 1024, DEFAULT_MAX_BYTES).is_ok());
    let e = check_size(10 * 1024 * 1024 + 1, DEFAULT_MAX_BYTES).unwrap_err();
    assert_eq!(e.to_string(), "文件超过 10 MB");
    assert_eq!(check_size(6 * 1024 * 1024, 5 * 1024 * 1024).unwrap_err().to_string(), "文件超过 5 MB");
    assert_eq!(check_size(3 * 1024 * 1024, 2 * 1024 * 1024 + 512 * 1024).unwrap_err().to_string(), "文件超过 2.5 MB");
    assert_eq!(check_size(0, DEFAULT_MAX_BYTES).unwrap_err(), UploadError::Empty);
    let big = vec![0xFFu8; 2048];
    assert_eq!(prepare(&big, 1024).unwrap_err(), UploadError::TooLarge { max_bytes: 1024 });
}

// --- JPEG -----------------------------------------------------------------

#[test]
fn jpeg_exif_is_stripped() {
    let j = jpeg_with_exif();
    assert!(contains(&j.bytes, GPS));
    let out = strip_metadata(FileKind::Jpeg, &j.bytes).unwrap();
    assert_eq!(out, j.expected, "all other segments byte-exact, in order");
    assert!(!contains(&out, GPS));
    assert!(!contains(&out, b"Exif"));
    assert!(!contains(&out, b"xmpmeta"));
    assert!(!contains(&out, b"8BIM"));
    assert!(!contains(&out, b"shot on phone"));
    assert!(!contains(&out, b"SEFT"));
    assert!(out.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert!(out.ends_with(&[0xFF, 0xD9]));
    assert!(contains(&out, b"ICC_PROFILE"));
    assert!(contains(&out, b"JFIF"));
    // Stripping is idempotent.
    assert_eq!(strip_metadata(FileKind::Jpeg, &out).unwrap(), out);
}

#[test]
fn jpeg_fill_bytes_and_clean_files() {
    // 0xFF fill bytes before a marker are allowed and kept.
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xFF];
    b.extend(seg(0xDB, &[0u8; 65]));
    b.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
    b.extend([1, 2, 3, 0xFF, 0xFF, 0xD9]);
    assert_eq!(strip_metadata(FileKind::Jpeg, &b).unwrap(), b);
}

#[test]
fn jpeg_corrupt_is_refused() {
    let j = jpeg_with_exif();
    // Truncated in the middle of the scan: no EOI.
    let cut = &j.bytes[..j.bytes.len() - 40];
    assert_eq!(strip_metadata(FileKind::Jpeg, cut).unwrap_err(), UploadError::Corrupt);
    // Segment length running past the end.
    let bad = [0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, b'E'];
    assert_eq!(strip_metadata(FileKind::Jpeg, &bad).unwrap_err(), UploadError::Corrupt);
    // Garbage instead of a marker.
    let bad = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x12, 0x34];
    assert_eq!(strip_metadata(FileKind::Jpeg, &bad).unwrap_err(), UploadError::Corrupt);
    assert!(UploadError::Corrupt.to_string().contains("损坏"));
}

// --- PNG ------------------------------------------------------------------

#[test]
fn png_text_chunks_are_stripped() {
    let p = png_with_text();
    let out = strip_metadata(FileKind::Png, &p.bytes).unwrap();
    assert_eq!(out, p.expected);
    for ty in [&b"tEXt"[..], b"zTXt", b"iTXt", b"eXIf", b"tIME"] {
        assert!(!contains(&out, ty));
    }
    assert!(!contains(&out, b"GPS"));
    assert!(contains(&out, b"pHYs"));
    assert!(out.ends_with(&chunk(b"IEND", &[])));
    assert_eq!(strip_metadata(FileKind::Png, &out).unwrap(), out);
}

#[test]
fn png_bad_crc_is_refused() {
    let mut p = png_with_text().bytes;
    // Flip a byte in IHDR's data.
    p[8 + 8 + 3] ^= 0x01;
    assert_eq!(strip_metadata(FileKind::Png, &p).unwrap_err(), UploadError::Corrupt);
    // Truncated before IEND.
    let p = png_with_text().bytes;
    assert_eq!(strip_metadata(FileKind::Png, &p[..60]).unwrap_err(), UploadError::Corrupt);
}

// --- PDF and naming -------------------------------------------------------------

#[test]
fn pdf_kept_as_is_and_content_named() {
    let pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let p = prepare(&pdf, DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(p.bytes, pdf);
    assert_eq!(p.kind.mime(), "application/pdf");
    let digest = hex::encode(sha2::Sha256::digest(&pdf));
    assert_eq!(p.storage_name, format!("{digest}.pdf"));
}

#[test]
fn storage_name_hashes_stripped_bytes() {
    let j = jpeg_with_exif();
    let p = prepare(&j.bytes, DEFAULT_MAX_BYTES).unwrap();
    assert_eq!(p.kind, FileKind::Jpeg);
    assert_eq!(p.bytes, j.expected);
    let digest = hex::encode(sha2::Sha256::digest(&j.expected));
    assert_eq!(p.storage_name, format!("{digest}.jpg"));
    assert_eq!(storage_name(FileKind::Jpeg, &j.expected), p.storage_name);
    assert_eq!(p.storage_name.len(), 64 + 4);
    // Same picture with different metadata → same stored file.
    let mut other = j.bytes.clone();
    let pos = other.windows(4).position(|w| w == b"Anxi").unwrap();
    other[pos] = b'a';
    assert_ne!(other, j.bytes);
    assert_eq!(prepare(&other, DEFAULT_MAX_BYTES).unwrap().storage_name, p.storage_name);
    assert_eq!(FileKind::from_extension(".png"), Some(FileKind::Png));
    assert_eq!(FileKind::from_extension("gif"), None);
}

// --- document kinds -----------------------------------------------------------

#[test]
fn document_kinds() {
    let expected = [
        (DocumentKind::Hukou, "hukou", "户口簿"),
        (DocumentKind::PropertyCert, "property_cert", "房产证/不动产权证"),
        (DocumentKind::PurchaseContract, "purchase_contract", "购房合同"),
        (DocumentKind::ResidencePermit, "residence_permit", "居住证"),
        (DocumentKind::SocialInsurance, "social_insurance", "社保证明"),
        (DocumentKind::BirthCert, "birth_cert", "出生医学证明"),
        (DocumentKind::Disability, "disability", "残疾证/随班就读评估"),
        (DocumentKind::PolicyCare, "policy_care", "优抚证明"),
        (DocumentKind::Other, "other", "其他"),
    ];
    assert_eq!(DocumentKind::ALL.len(), expected.len());
    for (kind, code, label) in expected {
        assert_eq!(kind.code(), code);
        assert_eq!(kind.label(), label);
        assert_eq!(kind.to_string(), label);
        assert_eq!(DocumentKind::from_code(code), Some(kind));
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{code}\""));
        let back: DocumentKind = serde_json::from_str(&format!("\"{code}\"")).unwrap();
        assert_eq!(back, kind);
    }
    assert_eq!(DocumentKind::from_code("passport"), None);
}
