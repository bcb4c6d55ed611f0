// Identity: ID number validation, age rule, encryption, masks, demo data.

use chrono::NaiveDate;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use ruxue::identity::crypto::{CryptoError, IdCipher, KeyError};
use ruxue::identity::idcard::{self, AgeError, AgeRule, IdCardError, Sex};
use ruxue::identity::{mask_address, mask_id, mask_name, mask_phone, names};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn today() -> NaiveDate {
    d(2027, 4, 1)
}

// --- check digit and parsing ------------------------------------------------

#[test]
fn checksum_table() {
    // Values computed independently of the implementation (ISO 7064 MOD 11-2).
    let table = [
        ("11010519491231002", 'X'), // example in GB 11643-1999
        ("44052418800101001", '4'), // example in GB 11643-1999
        ("35052420190315123", 'X'),
        ("35052420210831001", '3'),
        ("35052420210901002", '0'),
        ("35052420200229003", '4'),
        ("35052420150615004", '9'),
        ("35052419900101123", '8'),
        ("35052420180101000", '6'),
        ("35052420190315124", '8'),
        ("35052420190315125", '6'),
        ("35052420190315126", '4'),
        ("35052420190315127", '2'),
    ];
    for (first17, check) in table {
        assert_eq!(idcard::check_digit(first17), Some(check), "{first17}");
    }
    assert_eq!(idcard::check_digit("1234"), None);
    assert_eq!(idcard::check_digit("1101051949123100X"), None);
}

#[test]
fn parses_valid_number() {
    let id = idcard::parse("350524201506150049", today()).unwrap();
    assert_eq!(id.number, "350524201506150049");
    assert_eq!(id.birth_date, d(2015, 6, 15));
    assert_eq!(id.sex, Sex::Female);
    assert_eq!(id.sex.label(), "女");
    assert_eq!(id.region_code, "350524");
    assert_eq!(id.sequence(), "004");
    assert!(!id.converted_from_15());

    let male = idcard::parse("350524199001011238", today()).unwrap();
    assert_eq!(male.sex, Sex::Male);
    assert_eq!(male.sex.to_string(), "男");
}

#[test]
fn x_check_digit_and_lower_case() {
    let upper = idcard::parse("11010519491231002X", today()).unwrap();
    assert_eq!(upper.number, "11010519491231002X");
    assert_eq!(upper.sex, Sex::Female);
    let lower = idcard::parse("11010519491231002x", today()).unwrap();
    assert_eq!(lower.number, "11010519491231002X");
    assert_eq!(lower, upper);
}

#[test]
fn full_width_and_spaces_are_normalised() {
    let id = idcard::parse("  ３５０５２４２０１９０３１５１２３Ｘ\u{3000}", today()).unwrap();
    assert_eq!(id.number, "35052420190315123X");
    let id = idcard::parse("\t35052420190315123ｘ ", today()).unwrap();
    assert_eq!(id.number, "35052420190315123X");
}

#[test]
fn refusals_with_chinese_messages() {
    let e = idcard::parse("350524201903151231", today()).unwrap_err();
    assert_eq!(e, IdCardError::InvalidChecksum);
    assert_eq!(e.to_string(), "身份证号码校验位错误，请核对最后一位");

    assert_eq!(idcard::parse("3505242019031512", today()).unwrap_err(), IdCardError::InvalidLength);
    assert_eq!(IdCardError::InvalidLength.to_string(), "身份证号码应为18位");
    assert_eq!(idcard::parse("   ", today()).unwrap_err(), IdCardError::Empty);
    assert_eq!(idcard::parse("3505242019X315123X", today()).unwrap_err(), IdCardError::InvalidCharacter);
    assert_eq!(idcard::parse("35052420190315-23X", today()).unwrap_err(), IdCardError::InvalidCharacter);
    // Province 99 does not exist (checksum made valid on purpose).
    let first17 = "99052420190315123";
    let n = format!("{first17}{}", idcard::check_digit(first17).unwrap());
    assert_eq!(idcard::parse(&n, today()).unwrap_err(), IdCardError::InvalidRegion);
}

fn with_check(first17: &str) -> String {
    format!("{first17}{}", idcard::check_digit(first17).unwrap())
}

#[test]
fn invalid_dates() {
    // 30 February, with a correct check digit.
    let feb30 = with_check("35052420190230123");
    let e = idcard::parse(&feb30, today()).unwrap_err();
    assert_eq!(e, IdCardError::InvalidBirthDate);
    assert_eq!(e.to_string(), "身份证号码中的出生日期无效");
    // 29 February in a common year.
    assert_eq!(idcard::parse(&with_check("35052420190229123"), today()).unwrap_err(), IdCardError::InvalidBirthDate);
    // Month 13.
    assert_eq!(idcard::parse(&with_check("35052420191301123"), today()).unwrap_err(), IdCardError::InvalidBirthDate);
    // Future relative to `today`, but fine the day it is reached.
    let future = with_check("35052420270402123");
    assert_eq!(idcard::parse(&future, today()).unwrap_err(), IdCardError::BirthDateInFuture);
    assert!(idcard::parse(&future, d(2027, 4, 2)).is_ok());
    // Before 1900.
    assert_eq!(idcard::parse("440524188001010014", today()).unwrap_err(), IdCardError::BirthDateTooEarly);
    // Leap day is a valid birth date.
    let leap = idcard::parse("350524202002290034", today()).unwrap();
    assert_eq!(leap.birth_date, d(2020, 2, 29));
}

#[test]
fn fifteen_digit_conversion() {
    let id = idcard::parse("350524800101123", today()).unwrap();
    assert_eq!(id.number, "350524198001011233");
    assert_eq!(id.birth_date, d(1980, 1, 1));
    assert_eq!(id.sex, Sex::Male);
    assert!(id.converted_from_15());
    assert_eq!(id.note, Some(idcard::CONVERTED_FROM_15_NOTE));
    assert_eq!(idcard::convert_15_to_18("350524800101123").unwrap(), "350524198001011233");
    // Full-width legacy input.
    assert_eq!(idcard::parse("３５０５２４８００１０１１２３", today()).unwrap().number, "350524198001011233");
    // 1900 is not a leap year: 000229 cannot be converted.
    let e = idcard::parse("350524000229123", today()).unwrap_err();
    assert_eq!(e, IdCardError::LegacyInvalidBirthDate);
    assert!(e.to_string().contains("无法转换"));
    // 15 digits may not contain X.
    assert_eq!(idcard::parse("35052480010112X", today()).unwrap_err(), IdCardError::InvalidCharacter);
}

// --- age rule ------------------------------------------------------------

#[test]
fn age_cutoff_edges() {
    let rule = AgeRule::default();
    assert_eq!(idcard::age_eligible(d(2021, 8, 31), 2027, &rule), Ok(6));
    let e = idcard::age_eligible(d(2021, 9, 1), 2027, &rule).unwrap_err();
    assert!(matches!(e, AgeError::TooYoung { min_age: 6, .. }));
    assert_eq!(e.to_string(), "未达到入学年龄：须在2027年8月31日（含当日）前年满6周岁");
    assert_eq!(idcard::age_eligible(d(2021, 1, 1), 2027, &rule), Ok(6));
    // Born after the cutoff itself.
    assert!(idcard::age_eligible(d(2028, 1, 1), 2027, &rule).is_err());
    // Not yet born in the campaign year at all is still "too young".
    assert!(idcard::age_eligible(d(2027, 9, 1), 2027, &rule).is_err());
}

#[test]
fn age_too_old() {
    let rule = AgeRule { max_age: Some(7), ..AgeRule::default() };
    assert_eq!(idcard::age_eligible(d(2019, 9, 1), 2027, &rule), Ok(7));
    let e = idcard::age_eligible(d(2019, 8, 31), 2027, &rule).unwrap_err();
    assert_eq!(e, AgeError::TooOld { cutoff: d(2027, 8, 31), age: 8, max_age: 7 });
    assert!(e.to_string().contains("超过7周岁的上限"));
}

#[test]
fn leap_day_births() {
    let rule = AgeRule::default();
    let born = d(2020, 2, 29);
    assert_eq!(idcard::age_eligible(born, 2026, &rule), Ok(6));
    assert!(idcard::age_eligible(born, 2025, &rule).is_err());
    // Birthday counts from 1 March in common years.
    assert_eq!(idcard::age_on(born, d(2026, 2, 28)), 5);
    assert_eq!(idcard::age_on(born, d(2026, 3, 1)), 6);
    assert_eq!(idcard::age_on(born, d(2024, 2, 29)), 4);
    // A 02-29 cutoff in a common year falls back to 02-28.
    let feb_rule = AgeRule { cutoff_month: 2, cutoff_day: 29, ..AgeRule::default() };
    assert_eq!(feb_rule.cutoff_date(2027), d(2027, 2, 28));
    assert_eq!(feb_rule.cutoff_date(2028), d(2028, 2, 29));
}

// --- encryption --------------------------------------------------------------

const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn cipher() -> IdCipher {
    IdCipher::from_config(KEY_HEX).unwrap()
}

#[test]
fn encryption_round_trip() {
    let c = cipher();
    let ct = c.encrypt("35052420190315123X");
    assert!(ct.starts_with("v1:"));
    assert!(!ct.contains("35052420190315123X"));
    assert_eq!(c.decrypt(&ct).unwrap(), "35052420190315123X");
    assert_eq!(c.decrypt(&c.encrypt("")).unwrap(), "");
    assert_eq!(c.decrypt(&c.encrypt("王小明")).unwrap(), "王小明");
}

#[test]
fn nonce_randomness() {
    let c = cipher();
    let a = c.encrypt("35052420190315123X");
    let b = c.encrypt("35052420190315123X");
    assert_ne!(a, b);
}

#[test]
fn tamper_detection() {
    use base64::Engine;
    let c = cipher();
    let ct = c.encrypt("35052420190315123X");
    let mut blob = base64::engine::general_purpose::STANDARD.decode(&ct[3..]).unwrap();
    for pos in [0, 12, blob.len() - 1] {
        blob[pos] ^= 0x01;
        let t = format!("v1:{}", base64::engine::general_purpose::STANDARD.encode(&blob));
        assert_eq!(c.decrypt(&t).unwrap_err(), CryptoError::DecryptFailed);
        blob[pos] ^= 0x01;
    }
    assert_eq!(c.decrypt(&ct[3..]).unwrap_err(), CryptoError::UnknownFormat);
    assert_eq!(c.decrypt("v2:AAAA").unwrap_err(), CryptoError::UnknownFormat);
    assert_eq!(c.decrypt("v1:!!!").unwrap_err(), CryptoError::Malformed);
    assert_eq!(c.decrypt("v1:AAAA").unwrap_err(), CryptoError::Malformed);
}

#[test]
fn wrong_key_fails() {
    let other = IdCipher::from_config(&"11".repeat(32)).unwrap();
    let ct = cipher().encrypt("35052420190315123X");
    assert_eq!(other.decrypt(&ct).unwrap_err(), CryptoError::DecryptFailed);
}

#[test]
fn key_config_formats() {
    use base64::Engine;
    let raw: Vec<u8> = (0u8..32).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
    let from_b64 = IdCipher::from_config(&b64).unwrap();
    let from_prefixed = IdCipher::from_config(&format!("hex:{KEY_HEX}")).unwrap();
    let ct = cipher().encrypt("x");
    assert_eq!(from_b64.decrypt(&ct).unwrap(), "x");
    assert_eq!(from_prefixed.decrypt(&ct).unwrap(), "x");
    assert_eq!(IdCipher::from_config(&format!("base64:{b64}")).unwrap().lookup_hash("1"), cipher().lookup_hash("1"));
    let short = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
    assert_eq!(IdCipher::from_config(&short).unwrap_err(), KeyError::WrongLength(16));
    assert_eq!(IdCipher::from_config(&"ab".repeat(31)).unwrap_err(), KeyError::WrongLength(31));
    assert_eq!(IdCipher::from_config("not a key!").unwrap_err(), KeyError::InvalidEncoding);
    assert!(KeyError::WrongLength(16).to_string().contains("32字节"));
    let generated = IdCipher::generate_key_hex();
    assert_eq!(generated.len(), 64);
    assert!(IdCipher::from_config(&generated).is_ok());
}

#[test]
fn debug_reveals_nothing() {
    let c = cipher();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("0001020304"));
    assert!(dbg.contains("REDACTED"));
    let id = idcard::parse("35052420190315123X", today()).unwrap();
    let dbg = format!("{id:?}");
    assert!(!dbg.contains("35052420190315123X"));
    assert!(dbg.contains("350524**********3X"));
}

#[test]
fn lookup_hash_stable_and_key_dependent() {
    let c = cipher();
    let h1 = c.lookup_hash("35052420190315123X");
    assert_eq!(h1.len(), 64);
    assert!(h1.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(h1, cipher().lookup_hash("35052420190315123X"));
    assert_ne!(h1, c.lookup_hash("350524201903151248"));
    let other = IdCipher::from_config(&"11".repeat(32)).unwrap();
    assert_ne!(h1, other.lookup_hash("35052420190315123X"));
    // Not a plain SHA-256 of the number.
    use sha2::Digest;
    assert_ne!(h1, hex::encode(sha2::Sha256::digest(b"35052420190315123X")));
}

// --- masks -----------------------------------------------------------------

#[test]
fn masks() {
    assert_eq!(mask_id("35052420190315123X"), "350524**********3X");
    assert_eq!(mask_id("350524201903151248"), "350524**********48");
    assert_eq!(mask_id("1234"), "****");
    assert_eq!(mask_name("王小明"), "王*明");
    assert_eq!(mask_name("李四"), "李*");
    assert_eq!(mask_name("欧阳小明"), "欧**明");
    assert_eq!(mask_name("王"), "*");
    assert_eq!(mask_phone("13800001234"), "138****1234");
    assert_eq!(mask_phone("12345"), "***45");
    assert_eq!(mask_address("安溪县凤城镇河滨路123号4栋502室"), "安溪县凤城镇河滨路**号**栋**室");
    assert_eq!(mask_address("安溪县城厢镇五里村3组12号"), "安溪县城厢镇五里村**组**号");
    assert_eq!(mask_address("安溪县凤城镇二环路A区B栋１０１室"), "安溪县凤城镇二环路**区**栋**室");
    let masked = mask_address("安溪县龙门镇榜寨村二十三号");
    assert!(!masked.contains("二十三"), "{masked}");
}

// --- demo data -------------------------------------------------------------

#[test]
fn fictional_names_are_deterministic() {
    let a: Vec<String> = {
        let mut rng = StdRng::seed_from_u64(7);
        (0..20).map(|_| names::fictional_name(&mut rng)).collect()
    };
    let b: Vec<String> = {
        let mut rng = StdRng::seed_from_u64(7);
        (0..20).map(|_| names::fictional_name(&mut rng)).collect()
    };
    assert_eq!(a, b);
    for n in &a {
        let len = n.chars().count();
        assert!((2..=4).contains(&len), "{n}");
        assert!(names::SURNAMES.iter().any(|(s, _)| n.starts_with(s)), "{n}");
    }
    let mut rng = StdRng::seed_from_u64(8);
    assert!(names::fictional_name_with_surname(&mut rng, "陈").starts_with('陈'));
}

proptest! {
    #[test]
    fn fictional_id_validates_and_round_trips(
        seed in any::<u64>(),
        days in 0i64..(365 * 120),
        male in any::<bool>(),
        region in prop::sample::select(vec!["350524", "350500", "110105", "440305", "820000"]),
    ) {
        let mut rng = StdRng::seed_from_u64(seed);
        let birth = d(1905, 1, 1) + chrono::Duration::days(days);
        let sex = if male { Sex::Male } else { Sex::Female };
        let n = idcard::fictional_id(&mut rng, region, birth, sex);
        prop_assert_eq!(n.len(), 18);
        let parsed = idcard::parse(&n, d(2030, 1, 1)).unwrap();
        prop_assert_eq!(&parsed.number, &n);
        prop_assert_eq!(parsed.birth_date, birth);
        prop_assert_eq!(parsed.sex, sex);
        prop_assert_eq!(parsed.region_code.as_str(), region);
        prop_assert_ne!(parsed.sequence(), "000");
        // Lower-case x and full-width input normalise to the same number.
        let lower = n.to_lowercase();
        prop_assert_eq!(idcard::parse(&lower, d(2030, 1, 1)).unwrap().number, n.clone());
    }

    #[test]
    fn single_digit_change_is_detected(seed in any::<u64>(), pos in 0usize..18, delta in 1u8..10) {
        let mut rng = StdRng::seed_from_u64(seed);
        let sex = idcard::random_sex(&mut rng);
        let n = idcard::fictional_id(&mut rng, "350524", d(2019, 3, 15), sex);
        let mut b = n.clone().into_bytes();
        if b[pos] == b'X' { b[pos] = b'0' + delta; } else { b[pos] = b'0' + (b[pos] - b'0' + delta) % 10; }
        let changed = String::from_utf8(b).unwrap();
        prop_assert!(idcard::parse(&changed, d(2030, 1, 1)).is_err());
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,24}") {
        let _ = idcard::parse(&s, d(2030, 1, 1));
    }
}
