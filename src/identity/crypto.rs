//! Field encryption of ID numbers, lookup hashes, and display masks.
//!
//! * [`IdCipher`] holds two subkeys derived from one 32-byte master key with
//!   HMAC-SHA256 and fixed domain-separation labels:
//!   `enc = HMAC(master, "ruxue/v1/id-encryption")`,
//!   `mac = HMAC(master, "ruxue/v1/id-lookup")`.
//! * Ciphertext format: `v1:` + standard Base64 (with padding) of
//!   `nonce (12 bytes) || AES-256-GCM ciphertext+tag`. The ASCII prefix
//!   `v1` is bound as associated data, so a ciphertext cannot be re-labelled
//!   as a future version.
//! * [`IdCipher::lookup_hash`] is a keyed hash (hex HMAC-SHA256 with the mac
//!   subkey) of the *normalised* ID number, for uniqueness checks without
//!   decrypting. It is deterministic by design; it must never be shown.
//!
//! Neither the keys nor plaintexts are ever printed: `IdCipher`'s `Debug`
//! is redacted and there is no `Display`.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::zeroize::Zeroize;
use secrecy::{CloneableSecret, ExposeSecret, SecretBox};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION_PREFIX: &str = "v1:";
const AAD_V1: &[u8] = b"v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const LABEL_ENC: &[u8] = b"ruxue/v1/id-encryption";
const LABEL_MAC: &[u8] = b"ruxue/v1/id-lookup";

/// Problems with the configured master key. Messages are for operators
/// reading the start-up log, in Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("身份证加密密钥格式错误：应为32字节密钥的十六进制（64个字符）或Base64编码")]
    InvalidEncoding,
    #[error("身份证加密密钥长度错误：应为32字节，实际为{0}字节")]
    WrongLength(usize),
}

/// Failures when decrypting a stored value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("密文格式无法识别（缺少版本标记）")]
    UnknownFormat,
    #[error("密文编码已损坏")]
    Malformed,
    #[error("解密失败：密钥不匹配或数据已被篡改")]
    DecryptFailed,
}

/// AES-256-GCM encryption of ID numbers plus keyed lookup hashes.
#[derive(Clone)]
pub struct IdCipher {
    aead: Aes256Gcm,
    mac_key: SecretBox<MacKey>,
}

/// The HMAC key. A local type because secrecy 0.10 only clones secrets that
/// are `CloneableSecret`, which a plain `[u8; 32]` is not.
#[derive(Clone)]
struct MacKey([u8; 32]);

impl Zeroize for MacKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl CloneableSecret for MacKey {}

impl fmt::Debug for IdCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdCipher { keys: [REDACTED] }")
    }
}

fn derive(master: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC accepts any key length");
    m.update(label);
    m.finalize().into_bytes().into()
}

impl IdCipher {
    /// Build from the raw 32-byte master key.
    pub fn new(master: &[u8; 32]) -> Self {
        let mut enc = derive(master, LABEL_ENC);
        let aead = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&enc));
        enc.zeroize();
        IdCipher { aead, mac_key: SecretBox::new(Box::new(MacKey(derive(master, LABEL_MAC)))) }
    }

    /// Build from a configuration string: 64 hex characters, or Base64
    /// (standard or URL-safe alphabet, padding optional) of 32 bytes.
    /// An explicit `hex:` or `base64:` prefix is also accepted.
    /// Surrounding whitespace is ignored.
    pub fn from_config(s: &str) -> Result<Self, KeyError> {
        let mut bytes = decode_key(s.trim())?;
        if bytes.len() != 32 {
            let n = bytes.len();
            bytes.zeroize();
            return Err(KeyError::WrongLength(n));
        }
        let mut master = [0u8; 32];
        master.copy_from_slice(&bytes);
        bytes.zeroize();
        let cipher = IdCipher::new(&master);
        master.zeroize();
        Ok(cipher)
    }

    /// A fresh random master key, hex encoded (for `ruxue` set-up tooling).
    pub fn generate_key_hex() -> String {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        let s = hex::encode(k);
        k.zeroize();
        s
    }

    /// Encrypt with a fresh random 96-bit nonce. Output: `v1:<base64>`.
    pub fn encrypt(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: AAD_V1 })
            .expect("AES-GCM encryption of a short message cannot fail");
        let mut blob = Vec::with_capacity(NONCE_LEN + ct.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ct);
        format!("{VERSION_PREFIX}{}", STANDARD.encode(blob))
    }

    /// Decrypt a value produced by [`IdCipher::encrypt`].
    pub fn decrypt(&self, stored: &str) -> Result<String, CryptoError> {
        let b64 = stored.trim().strip_prefix(VERSION_PREFIX).ok_or(CryptoError::UnknownFormat)?;
        let blob = STANDARD.decode(b64).map_err(|_| CryptoError::Malformed)?;
        if blob.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        let plain =
            self.aead.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: AAD_V1 }).map_err(|_| CryptoError::DecryptFailed)?;
        String::from_utf8(plain).map_err(|_| CryptoError::DecryptFailed)
    }

    /// Hex HMAC-SHA256 of the normalised ID number under the lookup subkey.
    /// Pass the output of `idcard::parse(..).number`, never raw input.
    pub fn lookup_hash(&self, normalised_id: &str) -> String {
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.mac_key.expose_secret().0).expect("HMAC accepts any key length");
        m.update(normalised_id.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }
}

fn decode_key(s: &str) -> Result<Vec<u8>, KeyError> {
    if let Some(h) = s.strip_prefix("hex:") {
        return hex::decode(h.trim()).map_err(|_| KeyError::InvalidEncoding);
    }
    if let Some(b) = s.strip_prefix("base64:") {
        return decode_b64(b.trim());
    }
    // A 32-byte key in Base64 is 43 or 44 characters (odd length or with
    // '='), so an even-length all-hex string is unambiguously hex.
    if !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(s).map_err(|_| KeyError::InvalidEncoding);
    }
    decode_b64(s)
}

fn decode_b64(s: &str) -> Result<Vec<u8>, KeyError> {
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        if let Ok(v) = engine.decode(s) {
            return Ok(v);
        }
    }
    Err(KeyError::InvalidEncoding)
}

// ---------------------------------------------------------------------------
// Display masks
// ---------------------------------------------------------------------------

/// Mask an ID number: first 6 and last 2 characters visible,
/// e.g. `350524**********1X`. Inputs of 8 characters or fewer are fully
/// masked.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(n - 8));
    out.extend(&chars[n - 2..]);
    out
}

/// Mask a personal name: `王小明` → `王*明`, `李四` → `李*`,
/// `欧阳小明` → `欧**明`; a single character becomes `*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// Mask a phone number: `13800001234` → `138****1234`. Shorter numbers
/// keep only their last 2 characters (or nothing if 4 or fewer).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n >= 8 {
        let mut out: String = chars[..3].iter().collect();
        out.push_str(&"*".repeat(n - 7));
        out.extend(&chars[n - 4..]);
        out
    } else if n > 4 {
        let mut out = "*".repeat(n - 2);
        out.extend(&chars[n - 2..]);
        out
    } else {
        "*".repeat(n)
    }
}

/// Place words after which the house-level part of an address starts.
const ADDRESS_MARKERS: [&str; 14] = ["省", "市", "县", "区", "镇", "乡", "街道", "大道", "路", "街", "巷", "弄", "村", "社区"];

/// Digits and Latin letters (ASCII or full-width): masked everywhere.
fn is_digitlike(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('０'..='９').contains(&c) || ('Ａ'..='Ｚ').contains(&c) || ('ａ'..='ｚ').contains(&c)
}

/// In the house-level part, Chinese numerals and separators too.
fn is_house_token(c: char) -> bool {
    is_digitlike(c) || "零〇一二三四五六七八九十百千两-－#＃".contains(c)
}

/// Mask an address for display: the administrative/road prefix (up to and
/// including the last township, road, street, lane or village word) is
/// kept with its digits and Latin letters masked; in the rest, every run of digits, Latin
/// letters or Chinese numerals becomes `**` (hiding its length), while unit
/// words such as 号、栋、单元、室 stay.
///
/// `安溪县凤城镇河滨路123号4栋502室` → `安溪县凤城镇河滨路**号**栋**室`.
pub fn mask_address(address: &str) -> String {
    let address = address.trim();
    let prefix_end = ADDRESS_MARKERS.iter().filter_map(|m| address.rfind(m).map(|i| i + m.len())).max().unwrap_or(0);
    let (prefix, rest) = address.split_at(prefix_end);
    let mut out = String::with_capacity(address.len());
    let mut in_run = false;
    for c in prefix.chars() {
        mask_char(&mut out, &mut in_run, is_digitlike(c), c);
    }
    in_run = false;
    for c in rest.chars() {
        mask_char(&mut out, &mut in_run, is_house_token(c), c);
    }
    out
}

fn mask_char(out: &mut String, in_run: &mut bool, masked: bool, c: char) {
    if masked {
        if !*in_run {
            out.push_str("**");
        }
        *in_run = true;
    } else {
        *in_run = false;
        out.push(c);
    }
}
