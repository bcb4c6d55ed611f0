//! Resident identity card numbers (居民身份证号码) per GB 11643-1999.
//!
//! Layout of an 18-digit number:
//!
//! ```text
//! 350524 20190315 123 4
//! ^^^^^^ ^^^^^^^^ ^^^ ^
//! region birth    seq check digit (ISO 7064 MOD 11-2, `X` = 10)
//! ```
//!
//! The 17th digit (last of the sequence) is odd for men and even for women.
//! Legacy 15-digit numbers (`region yyMMdd seq`) are converted by inserting
//! "19" into the year and appending the check digit.
//!
//! Everything here is pure: no clock is read (the caller passes `today`),
//! no I/O is done. Error messages are Simplified Chinese and do not name the
//! field; the caller attaches the field name (e.g. "学生身份证号：…").

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// ISO 7064 MOD 11-2 weights for the first 17 digits (2^(17-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by (weighted sum mod 11).
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Province-level codes (first two digits) of GB/T 2260, including
/// Taiwan (71), Hong Kong (81) and Macao (82).
const PROVINCE_CODES: [&str; 34] = [
    "11", "12", "13", "14", "15", // 北京 天津 河北 山西 内蒙古
    "21", "22", "23", // 辽宁 吉林 黑龙江
    "31", "32", "33", "34", "35", "36", "37", // 上海 江苏 浙江 安徽 福建 江西 山东
    "41", "42", "43", "44", "45", "46", // 河南 湖北 湖南 广东 广西 海南
    "50", "51", "52", "53", "54", // 重庆 四川 贵州 云南 西藏
    "61", "62", "63", "64", "65", // 陕西 甘肃 青海 宁夏 新疆
    "71", "81", "82", // 台湾 香港 澳门
];

/// Note attached to a parse result when a 15-digit number was upgraded.
pub const CONVERTED_FROM_15_NOTE: &str = "已将15位旧身份证号码自动转换为18位";

/// Why an ID number was refused. `Display` gives the Chinese message shown
/// to the person who typed it; the caller prefixes the field name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    #[error("请填写身份证号码")]
    Empty,
    #[error("身份证号码应为18位")]
    InvalidLength,
    #[error("身份证号码只能包含数字，最后一位可以是X")]
    InvalidCharacter,
    #[error("身份证号码中的地区代码无效")]
    InvalidRegion,
    #[error("身份证号码中的出生日期无效")]
    InvalidBirthDate,
    #[error("身份证号码中的出生日期晚于今天，请核对")]
    BirthDateInFuture,
    #[error("身份证号码中的出生日期早于1900年，请核对")]
    BirthDateTooEarly,
    #[error("身份证号码校验位错误，请核对最后一位")]
    InvalidChecksum,
    #[error("15位旧身份证号码中的出生日期无效，无法转换为18位，请使用新版身份证号码")]
    LegacyInvalidBirthDate,
}

/// Sex as encoded by the 17th digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// Chinese label: 男 / 女.
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }

    /// Sex from a sequence digit (odd = male).
    pub fn from_digit(d: u32) -> Sex {
        if d % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A validated, normalised 18-digit ID number.
///
/// `Debug` is hand-written and masks the number so that the value can
/// appear in logs or panics without leaking it.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCard {
    /// Normalised 18 characters: ASCII digits, final char may be upper-case `X`.
    pub number: String,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    /// Six-digit administrative region code (e.g. "350524").
    pub region_code: String,
    /// Set when the input was a legacy 15-digit number that was converted.
    pub note: Option<&'static str>,
}

impl IdCard {
    /// True when the input was a 15-digit number converted to 18 digits.
    pub fn converted_from_15(&self) -> bool {
        self.note.is_some()
    }

    /// Three-digit sequence code (digits 15–17).
    pub fn sequence(&self) -> &str {
        &self.number[14..17]
    }

    /// Two-digit province code.
    pub fn province_code(&self) -> &str {
        &self.region_code[..2]
    }
}

impl fmt::Debug for IdCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdCard")
            .field("number", &super::crypto::mask_id(&self.number))
            .field("birth_date", &self.birth_date)
            .field("sex", &self.sex)
            .field("region_code", &self.region_code)
            .field("note", &self.note)
            .finish()
    }
}

/// Normalise user input to ASCII: trims surrounding whitespace (including
/// the full-width space U+3000), maps full-width digits `０`–`９` to ASCII,
/// and `x`, `Ｘ`, `ｘ` to `X`. Does not validate the length or the position
/// of `X`; any other character is refused.
pub fn normalise(input: &str) -> Result<String, IdCardError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(IdCardError::Empty);
    }
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        let mapped = match c {
            '0'..='9' => c,
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            'x' | 'X' | 'Ｘ' | 'ｘ' => 'X',
            _ => return Err(IdCardError::InvalidCharacter),
        };
        out.push(mapped);
    }
    Ok(out)
}

/// Check character for the first 17 digits, or `None` if `first17` is not
/// exactly 17 ASCII digits.
pub fn check_digit(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b.iter().zip(WEIGHTS.iter()).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// Whether the first two digits are a valid province-level code.
pub fn is_valid_province(region_code: &str) -> bool {
    region_code.len() >= 2 && PROVINCE_CODES.contains(&&region_code[..2])
}

fn parse_date(yyyymmdd: &str) -> Option<NaiveDate> {
    let y: i32 = yyyymmdd.get(0..4)?.parse().ok()?;
    let m: u32 = yyyymmdd.get(4..6)?.parse().ok()?;
    let d: u32 = yyyymmdd.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Convert a (normalised, all-digit) 15-digit legacy number to 18 digits.
/// Refuses when the embedded date (19yy-MM-dd) is not a calendar date.
pub fn convert_15_to_18(legacy: &str) -> Result<String, IdCardError> {
    let legacy = normalise(legacy)?;
    if legacy.len() != 15 {
        return Err(IdCardError::InvalidLength);
    }
    if !legacy.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdCardError::InvalidCharacter);
    }
    if !is_valid_province(&legacy[..6]) {
        return Err(IdCardError::InvalidRegion);
    }
    let date = format!("19{}", &legacy[6..12]);
    if parse_date(&date).is_none() {
        return Err(IdCardError::LegacyInvalidBirthDate);
    }
    let first17 = format!("{}{}{}", &legacy[..6], date, &legacy[12..15]);
    let check = check_digit(&first17).expect("17 ASCII digits");
    Ok(format!("{first17}{check}"))
}

/// Parse and validate an ID number typed by a person.
///
/// `today` is the reference date for the "not in the future" check.
/// 15-digit numbers are converted (see [`CONVERTED_FROM_15_NOTE`]).
pub fn parse(input: &str, today: NaiveDate) -> Result<IdCard, IdCardError> {
    let norm = normalise(input)?;
    let (number, note) = match norm.len() {
        18 => (norm, None),
        15 => (convert_15_to_18(&norm)?, Some(CONVERTED_FROM_15_NOTE)),
        _ => return Err(IdCardError::InvalidLength),
    };
    let bytes = number.as_bytes();
    if !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
        return Err(IdCardError::InvalidCharacter);
    }
    let region_code = &number[..6];
    if !is_valid_province(region_code) {
        return Err(IdCardError::InvalidRegion);
    }
    let birth_date = parse_date(&number[6..14]).ok_or(IdCardError::InvalidBirthDate)?;
    if birth_date.year() < 1900 {
        return Err(IdCardError::BirthDateTooEarly);
    }
    if birth_date > today {
        return Err(IdCardError::BirthDateInFuture);
    }
    let expected = check_digit(&number[..17]).expect("17 ASCII digits");
    if char::from(bytes[17]) != expected {
        return Err(IdCardError::InvalidChecksum);
    }
    let sex = Sex::from_digit(u32::from(bytes[16] - b'0'));
    Ok(IdCard { region_code: region_code.to_owned(), number, birth_date, sex, note })
}

// ---------------------------------------------------------------------------
// Age eligibility
// ---------------------------------------------------------------------------

/// Age rule of an admissions campaign: a child must have reached `min_age`
/// full years on or before the cutoff date (`cutoff_month`/`cutoff_day` of
/// the campaign year, normally 31 August) and, if `max_age` is set, must not
/// be older than `max_age` full years on that date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeRule {
    pub min_age: u32,
    pub cutoff_month: u32,
    pub cutoff_day: u32,
    pub max_age: Option<u32>,
}

impl Default for AgeRule {
    /// Primary grade one: six full years by 31 August, no upper bound.
    fn default() -> Self {
        AgeRule { min_age: 6, cutoff_month: 8, cutoff_day: 31, max_age: None }
    }
}

impl AgeRule {
    /// The cutoff date in `campaign_year`. A day that does not exist in
    /// that year (e.g. 02-29 in a common year) falls back to the last day
    /// of the month.
    pub fn cutoff_date(&self, campaign_year: i32) -> NaiveDate {
        let month = self.cutoff_month.clamp(1, 12);
        let mut day = self.cutoff_day.clamp(1, 31);
        loop {
            if let Some(d) = NaiveDate::from_ymd_opt(campaign_year, month, day) {
                return d;
            }
            day -= 1;
        }
    }
}

/// Why a child is outside the age range. `Display` is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgeError {
    #[error("未达到入学年龄：须在{}年{}月{}日（含当日）前年满{min_age}周岁", .cutoff.year(), .cutoff.month(), .cutoff.day())]
    TooYoung { cutoff: NaiveDate, min_age: u32 },
    #[error("超过入学年龄：截至{}年{}月{}日已满{age}周岁，超过{max_age}周岁的上限", .cutoff.year(), .cutoff.month(), .cutoff.day())]
    TooOld { cutoff: NaiveDate, age: u32, max_age: u32 },
}

/// Full years of age on `on` (0 if born after `on`). Someone born on
/// 29 February reaches a new year of age on 1 March in common years.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on < birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

/// Check the campaign age rule. `Ok(age)` returns the full years of age on
/// the cutoff date.
pub fn age_eligible(birth: NaiveDate, campaign_year: i32, rule: &AgeRule) -> Result<u32, AgeError> {
    let cutoff = rule.cutoff_date(campaign_year);
    let age = age_on(birth, cutoff);
    if birth > cutoff || age < rule.min_age {
        return Err(AgeError::TooYoung { cutoff, min_age: rule.min_age });
    }
    if let Some(max_age) = rule.max_age {
        if age > max_age {
            return Err(AgeError::TooOld { cutoff, age, max_age });
        }
    }
    Ok(age)
}

// ---------------------------------------------------------------------------
// Fictional numbers for demo data
// ---------------------------------------------------------------------------

/// A FICTIONAL, checksum-valid 18-digit ID number for demo data.
///
/// The sequence code is random in 001–999 with the parity that encodes
/// `sex`. Because every checksum-valid number could in principle belong to a
/// real person, demo databases must never be mixed with real data.
///
/// # Panics
/// If `region` is not six ASCII digits or `birth` is outside 1000–9999.
pub fn fictional_id<R: Rng + ?Sized>(rng: &mut R, region: &str, birth: NaiveDate, sex: Sex) -> String {
    assert!(region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit()), "region code must be six ASCII digits");
    assert!((1000..=9999).contains(&birth.year()), "birth year must have four digits");
    // Sequence 1..=999 with parity of the last digit matching `sex`.
    let seq = loop {
        let s: u32 = rng.gen_range(1..=999);
        if Sex::from_digit(s % 10) == sex {
            break s;
        }
    };
    let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    let check = check_digit(&first17).expect("17 ASCII digits");
    format!("{first17}{check}")
}

/// A random sex, for demo data.
pub fn random_sex<R: Rng + ?Sized>(rng: &mut R) -> Sex {
    if rng.gen_bool(0.5) {
        Sex::Male
    } else {
        Sex::Female
    }
}
