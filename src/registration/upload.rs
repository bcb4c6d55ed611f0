//! Uploaded supporting documents: content sniffing, metadata stripping,
//! content-addressed storage names, and document kinds.
//!
//! * The type is decided by magic bytes only; the file name and the
//!   browser's declared MIME type are ignored.
//! * JPEG: APP1 (Exif/XMP), APP13 (IPTC/Photoshop) and COM segments are
//!   removed; every other segment and the entropy-coded data are copied
//!   byte-exact. Markers are walked properly (also between progressive
//!   scans); data after EOI (phone "trailers", appended files) is dropped.
//! * PNG: eXIf, tEXt, zTXt, iTXt and tIME chunks are removed; the CRC of
//!   every chunk is verified and kept chunks are copied byte-exact (so
//!   their CRCs stay valid). Data after IEND is dropped.
//! * PDF: stored as uploaded. PDF metadata (Info dictionary, XMP) is NOT
//!   stripped: rewriting PDFs needs a full parser and risks breaking
//!   signed documents. Reviewers should be aware of this.
//!
//! The size limit is enforced by the caller (before reading the whole body
//! where possible) with [`check_size`].
//!
//! What the service stores goes through [`sanitise`], which goes further
//! than [`prepare`]: images are decoded within [`ImageLimits`] (width,
//! height, pixels and memory bounded before any pixel is decoded, so a
//! 30000×30000 "PNG bomb" is refused from its header) and re-encoded from
//! their pixels, so nothing of the uploaded bytes but the picture survives
//! (JPEG/HTML polyglots, appended archives, every metadata segment); a PDF
//! carrying markup (`<html`, `<script`, …: a PDF/HTML polyglot) or active
//! content (`/JavaScript`, `/Launch`, embedded files) is refused, and bytes
//! after its last `%%EOF` are cut off.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Default maximum upload size: 10 MB.
pub const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// Upload refusals. `Display` is the Chinese message for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("仅支持 JPG、PNG 或 PDF 文件")]
    UnsupportedType,
    #[error("文件超过 {} MB", format_mb(*.max_bytes))]
    TooLarge { max_bytes: u64 },
    #[error("文件为空，请重新选择")]
    Empty,
    #[error("文件已损坏或不完整，请重新拍照或扫描后上传")]
    Corrupt,
    #[error("图片尺寸过大（最长边不超过 {max_side} 像素、总像素不超过 {} 万），请缩小后上传", max_pixels / 10_000)]
    ImageTooLarge { max_side: u32, max_pixels: u64 },
    #[error("文件中含有网页或脚本内容，不能作为证明材料；请重新拍照或另存为普通 PDF 后上传")]
    ActiveContent,
}

/// Bounds on an uploaded image, checked from its header before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Longest accepted width or height, in pixels.
    pub max_side: u32,
    /// Most pixels (width × height).
    pub max_pixels: u64,
    /// Most bytes the decoder may allocate.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    /// 8192 px a side, 40 megapixels (a 48 MP phone photo is 8000×6000), 256 MB.
    fn default() -> Self {
        Self { max_side: 8192, max_pixels: 40_000_000, max_alloc: 256 * 1024 * 1024 }
    }
}

fn format_mb(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes % MB == 0 {
        (bytes / MB).to_string()
    } else {
        let s = format!("{:.1}", bytes as f64 / MB as f64);
        s.trim_end_matches(".0").to_owned()
    }
}

/// Check an upload's size against the configured maximum.
pub fn check_size(len: u64, max_bytes: u64) -> Result<(), UploadError> {
    if len == 0 {
        Err(UploadError::Empty)
    } else if len > max_bytes {
        Err(UploadError::TooLarge { max_bytes })
    } else {
        Ok(())
    }
}

/// Accepted file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Jpeg,
    Png,
    Pdf,
}

impl FileKind {
    /// Canonical extension including the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => ".jpg",
            FileKind::Png => ".png",
            FileKind::Pdf => ".pdf",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Pdf => "application/pdf",
        }
    }

    /// Kind from a stored name's extension (for serving stored files).
    pub fn from_extension(ext: &str) -> Option<FileKind> {
        match ext.trim_start_matches('.') {
            "jpg" => Some(FileKind::Jpeg),
            "png" => Some(FileKind::Png),
            "pdf" => Some(FileKind::Pdf),
            _ => None,
        }
    }
}

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
const PDF_MAGIC: &[u8] = b"%PDF-";

/// Decide the format from magic bytes at offset 0.
pub fn sniff(bytes: &[u8]) -> Result<FileKind, UploadError> {
    if bytes.is_empty() {
        Err(UploadError::Empty)
    } else if bytes.starts_with(JPEG_MAGIC) {
        Ok(FileKind::Jpeg)
    } else if bytes.starts_with(PNG_MAGIC) {
        Ok(FileKind::Png)
    } else if bytes.starts_with(PDF_MAGIC) {
        Ok(FileKind::Pdf)
    } else {
        Err(UploadError::UnsupportedType)
    }
}

/// Remove privacy-relevant metadata (see module docs).
pub fn strip_metadata(kind: FileKind, bytes: &[u8]) -> Result<Vec<u8>, UploadError> {
    match kind {
        FileKind::Jpeg => strip_jpeg(bytes),
        FileKind::Png => strip_png(bytes),
        FileKind::Pdf => Ok(bytes.to_vec()),
    }
}

/// Hex SHA-256 of the (stripped) bytes plus the canonical extension.
pub fn storage_name(kind: FileKind, stripped: &[u8]) -> String {
    format!("{}{}", hex::encode(Sha256::digest(stripped)), kind.extension())
}

/// Result of [`prepare`]: what the caller stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedUpload {
    pub kind: FileKind,
    /// Bytes with metadata removed; store these, not the original.
    pub bytes: Vec<u8>,
    /// `<sha256 hex><extension>`.
    pub storage_name: String,
}

/// Size check, sniff, strip and name in one step.
pub fn prepare(bytes: &[u8], max_bytes: u64) -> Result<PreparedUpload, UploadError> {
    check_size(bytes.len() as u64, max_bytes)?;
    let kind = sniff(bytes)?;
    let stripped = strip_metadata(kind, bytes)?;
    let storage_name = storage_name(kind, &stripped);
    Ok(PreparedUpload { kind, bytes: stripped, storage_name })
}

/// Size check, sniff, and then: images decoded within `limits` and
/// re-encoded from their pixels (turned upright by their EXIF orientation
/// first); PDFs refused when they carry markup or active content and cut
/// after their last `%%EOF`. Everything else is refused by [`sniff`]
/// (SVG, HTML, GIF, WebP, executables, …).
pub fn sanitise(bytes: &[u8], max_bytes: u64, limits: ImageLimits) -> Result<PreparedUpload, UploadError> {
    check_size(bytes.len() as u64, max_bytes)?;
    let kind = sniff(bytes)?;
    let clean = match kind {
        FileKind::Jpeg | FileKind::Png => reencode(kind, bytes, limits)?,
        FileKind::Pdf => check_pdf(bytes)?,
    };
    let storage_name = storage_name(kind, &clean);
    Ok(PreparedUpload { kind, bytes: clean, storage_name })
}

fn reencode(kind: FileKind, bytes: &[u8], limits: ImageLimits) -> Result<Vec<u8>, UploadError> {
    use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
    let format = if kind == FileKind::Png { ImageFormat::Png } else { ImageFormat::Jpeg };
    let too_large = UploadError::ImageTooLarge { max_side: limits.max_side, max_pixels: limits.max_pixels };
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_alloc);
    reader.limits(l);
    let mut decoder = reader.into_decoder().map_err(|e| decode_error(e, &too_large))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(UploadError::Corrupt);
    }
    if w > limits.max_side || h > limits.max_side || u64::from(w) * u64::from(h) > limits.max_pixels {
        return Err(too_large);
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, &too_large))?;
    img.apply_orientation(orientation);
    let mut out = std::io::Cursor::new(Vec::new());
    match kind {
        FileKind::Png => img.write_to(&mut out, ImageFormat::Png).map_err(|_| UploadError::Corrupt)?,
        _ => {
            let img = match img {
                DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => img,
                other => DynamicImage::ImageRgb8(other.to_rgb8()),
            };
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            img.write_with_encoder(encoder).map_err(|_| UploadError::Corrupt)?
        }
    }
    Ok(out.into_inner())
}

fn decode_error(e: image::ImageError, too_large: &UploadError) -> UploadError {
    match e {
        image::ImageError::Limits(_) => too_large.clone(),
        _ => UploadError::Corrupt,
    }
}

/// Markup a browser would run or render if it ever took the file for a page,
/// and PDF actions that run code or carry other files.
const PDF_REFUSED: [&[u8]; 12] = [
    b"<html",
    b"<script",
    b"<!doctype",
    b"<body",
    b"<iframe",
    b"<svg",
    b"<object",
    b"<embed",
    b"/javascript",
    b"/launch",
    b"/embeddedfile",
    b"/richmedia",
];

fn check_pdf(bytes: &[u8]) -> Result<Vec<u8>, UploadError> {
    let lower = bytes.to_ascii_lowercase();
    if PDF_REFUSED.iter().any(|needle| memchr::memmem::find(&lower, needle).is_some()) {
        return Err(UploadError::ActiveContent);
    }
    let end = memchr::memmem::rfind(bytes, b"%%EOF").ok_or(UploadError::Corrupt)?;
    let mut cut = end + 5;
    while cut < bytes.len() && matches!(bytes[cut], b'\r' | b'\n') {
        cut += 1;
    }
    Ok(bytes[..cut].to_vec())
}

/// A file name safe for a `Content-Disposition` header and any file system:
/// the last path component only, no control characters, quotes,
/// backslashes or separators, no leading dots, at most 80 characters;
/// `document` when nothing is left.
pub fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/' | ':' | '*' | '?' | '<' | '>' | '|' | ';'))
        .take(80)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "document".to_string()
    } else {
        cleaned
    }
}

// ---------------------------------------------------------------------------
// JPEG
// ---------------------------------------------------------------------------

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const APP1: u8 = 0xE1;
const APP13: u8 = 0xED;
const COM: u8 = 0xFE;

fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, UploadError> {
    if b.len() < 4 || b[0] != 0xFF || b[1] != SOI {
        return Err(UploadError::Corrupt);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..2]);
    let mut i = 2;
    loop {
        // Expect a marker, possibly preceded by 0xFF fill bytes (kept as-is).
        let start = i;
        if i >= b.len() || b[i] != 0xFF {
            return Err(UploadError::Corrupt);
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        if i >= b.len() {
            return Err(UploadError::Corrupt);
        }
        let marker = b[i];
        i += 1;
        match marker {
            0x00 | SOI => return Err(UploadError::Corrupt),
            EOI => {
                out.extend_from_slice(&b[start..i]);
                return Ok(out);
            }
            // Standalone markers without a length field.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[start..i]);
                continue;
            }
            _ => {}
        }
        if i + 2 > b.len() {
            return Err(UploadError::Corrupt);
        }
        let len = usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
        if len < 2 || i + len > b.len() {
            return Err(UploadError::Corrupt);
        }
        let end = i + len;
        let drop = matches!(marker, APP1 | APP13 | COM);
        if !drop {
            out.extend_from_slice(&b[start..end]);
        }
        i = end;
        if marker == SOS {
            // Entropy-coded data: runs until a marker other than a stuffed
            // 0xFF00 or a restart marker RST0..RST7.
            let data_start = i;
            loop {
                if i + 1 >= b.len() {
                    return Err(UploadError::Corrupt);
                }
                if b[i] == 0xFF {
                    let next = b[i + 1];
                    if next == 0x00 || (0xD0..=0xD7).contains(&next) {
                        i += 2;
                        continue;
                    }
                    // A real marker (or 0xFF fill bytes before one): the
                    // marker loop above takes over.
                    break;
                }
                i += 1;
            }
            out.extend_from_slice(&b[data_start..i]);
        }
    }
}

// ---------------------------------------------------------------------------
// PNG
// ---------------------------------------------------------------------------

const PNG_DROP: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for part in parts {
        for &byte in *part {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }
    !crc
}

fn strip_png(b: &[u8]) -> Result<Vec<u8>, UploadError> {
    if !b.starts_with(PNG_MAGIC) {
        return Err(UploadError::Corrupt);
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(PNG_MAGIC);
    let mut i = PNG_MAGIC.len();
    let mut first = true;
    loop {
        if i + 12 > b.len() {
            return Err(UploadError::Corrupt);
        }
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if len > 0x7FFF_FFFF {
            return Err(UploadError::Corrupt);
        }
        let len = len as usize;
        let ty = &b[i + 4..i + 8];
        let end = i.checked_add(12).and_then(|x| x.checked_add(len)).filter(|&e| e <= b.len()).ok_or(UploadError::Corrupt)?;
        let data = &b[i + 8..i + 8 + len];
        let stored_crc = u32::from_be_bytes([b[end - 4], b[end - 3], b[end - 2], b[end - 1]]);
        if crc32(&[ty, data]) != stored_crc {
            return Err(UploadError::Corrupt);
        }
        if first && ty != b"IHDR" {
            return Err(UploadError::Corrupt);
        }
        first = false;
        if !PNG_DROP.iter().any(|d| &d[..] == ty) {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if ty == b"IEND" {
            return Ok(out);
        }
    }
}

// ---------------------------------------------------------------------------
// Document kinds
// ---------------------------------------------------------------------------

/// What an uploaded document is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Hukou,
    PropertyCert,
    PurchaseContract,
    ResidencePermit,
    SocialInsurance,
    BirthCert,
    Disability,
    PolicyCare,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 9] = [
        DocumentKind::Hukou,
        DocumentKind::PropertyCert,
        DocumentKind::PurchaseContract,
        DocumentKind::ResidencePermit,
        DocumentKind::SocialInsurance,
        DocumentKind::BirthCert,
        DocumentKind::Disability,
        DocumentKind::PolicyCare,
        DocumentKind::Other,
    ];

    /// Chinese label shown to families and reviewers.
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Hukou => "户口簿",
            DocumentKind::PropertyCert => "房产证/不动产权证",
            DocumentKind::PurchaseContract => "购房合同",
            DocumentKind::ResidencePermit => "居住证",
            DocumentKind::SocialInsurance => "社保证明",
            DocumentKind::BirthCert => "出生医学证明",
            DocumentKind::Disability => "残疾证/随班就读评估",
            DocumentKind::PolicyCare => "优抚证明",
            DocumentKind::Other => "其他",
        }
    }

    /// Stable snake_case code (same as the serde representation).
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Hukou => "hukou",
            DocumentKind::PropertyCert => "property_cert",
            DocumentKind::PurchaseContract => "purchase_contract",
            DocumentKind::ResidencePermit => "residence_permit",
            DocumentKind::SocialInsurance => "social_insurance",
            DocumentKind::BirthCert => "birth_cert",
            DocumentKind::Disability => "disability",
            DocumentKind::PolicyCare => "policy_care",
            DocumentKind::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl std::fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A file's size as people read it.
pub fn human_size(n: usize) -> String {
    if n >= 1024 * 1024 {
        let mb = n as f64 / (1024.0 * 1024.0);
        format!("{} MB", format!("{mb:.1}").trim_end_matches(".0"))
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocView {
    pub kind: String,
    pub label: String,
    pub mime: String,
    pub size: String,
}

pub fn doc_view(kind: &str, mime: &str, size: i64) -> DocView {
    DocView {
        kind: kind.to_string(),
        label: DocumentKind::from_code(kind).map(|k| k.label().to_string()).unwrap_or_else(|| kind.to_string()),
        mime: mime.to_string(),
        size: human_size(size.max(0) as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// A PNG header claiming `w`×`h` with a valid CRC, and no pixels.
    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        let mut v = PNG_MAGIC.to_vec();
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(&ihdr);
        v.extend_from_slice(&crc32(&[&ihdr]).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
        v
    }

    #[test]
    fn images_are_bounded_and_reencoded() {
        let l = ImageLimits::default();
        let ok = sanitise(&png(3, 2), DEFAULT_MAX_BYTES, l).unwrap();
        assert_eq!(ok.kind, FileKind::Png);
        assert_eq!(image::load_from_memory(&ok.bytes).unwrap().width(), 3);
        let big = UploadError::ImageTooLarge { max_side: l.max_side, max_pixels: l.max_pixels };
        assert_eq!(sanitise(&png_header(30_000, 30_000), DEFAULT_MAX_BYTES, l).unwrap_err(), big);
        let small = ImageLimits { max_side: 100, max_pixels: 50, max_alloc: l.max_alloc };
        assert!(matches!(sanitise(&png(10, 10), DEFAULT_MAX_BYTES, small).unwrap_err(), UploadError::ImageTooLarge { .. }));
        // Not decodable: corrupt, not accepted as is.
        assert_eq!(sanitise(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0], DEFAULT_MAX_BYTES, l).unwrap_err(), UploadError::Corrupt);
    }

    #[test]
    fn pdfs_with_markup_or_actions_are_refused_and_trailers_cut() {
        let l = ImageLimits::default();
        for bad in
            [&b"%PDF-1.7\n<HTML><SCRIPT>x</SCRIPT>\n%%EOF"[..], b"%PDF-1.7\n<< /S /JavaScript >>\n%%EOF", b"%PDF-1.7\n/Launch\n%%EOF"]
        {
            assert_eq!(sanitise(bad, DEFAULT_MAX_BYTES, l).unwrap_err(), UploadError::ActiveContent);
        }
        assert_eq!(sanitise(b"%PDF-1.7\nno end", DEFAULT_MAX_BYTES, l).unwrap_err(), UploadError::Corrupt);
        let ok = sanitise(b"%PDF-1.7\n%%EOF\r\nzip-archive-here", DEFAULT_MAX_BYTES, l).unwrap();
        assert_eq!(ok.bytes, b"%PDF-1.7\n%%EOF\r\n");
        assert_eq!(sanitise(b"<svg/>", DEFAULT_MAX_BYTES, l).unwrap_err(), UploadError::UnsupportedType);
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(safe_filename("a\"b\r\nc;.jpg"), "abc.jpg");
        assert_eq!(safe_filename("..."), "document");
        assert_eq!(safe_filename("户口簿.jpg"), "户口簿.jpg");
        assert!(safe_filename(&"x".repeat(500)).chars().count() <= 80);
    }
}
