//! FICTIONAL Chinese personal names for demo data.
//!
//! Deterministic given the `rand::Rng` passed in (seed a `StdRng` or
//! `ChaCha` generator for reproducible demo databases). Surnames lean
//! towards those common in southern Fujian (闽南); given-name characters
//! are a gender-neutral list, so the names say nothing about sex.

use rand::Rng;

/// Surnames with rough relative weights (common in 安溪/泉州 first).
pub const SURNAMES: [(&str, u32); 30] = [
    ("陈", 14),
    ("林", 12),
    ("王", 8),
    ("李", 7),
    ("黄", 8),
    ("张", 7),
    ("吴", 6),
    ("刘", 5),
    ("苏", 5),
    ("谢", 5),
    ("郑", 4),
    ("许", 4),
    ("杨", 4),
    ("蔡", 4),
    ("洪", 3),
    ("周", 3),
    ("叶", 3),
    ("詹", 3),
    ("廖", 2),
    ("高", 2),
    ("白", 2),
    ("易", 1),
    ("柯", 2),
    ("潘", 2),
    ("魏", 2),
    ("肖", 2),
    ("钟", 1),
    ("庄", 2),
    ("曾", 2),
    ("欧阳", 1),
];

/// Gender-neutral characters for given names.
pub const GIVEN_CHARS: [&str; 48] = [
    "子", "宇", "涵", "梓", "欣", "一", "诺", "嘉", "思", "晨", "雨", "可", "安", "怡", "睿", "辰", "佳", "语", "沐", "言", "宁", "乐",
    "星", "阳", "然", "悦", "晓", "明", "文", "清", "若", "书", "远", "航", "恩", "心", "毅", "澄", "和", "林", "云", "溪", "茗", "泽",
    "彦", "昕", "知", "禾",
];

/// A random surname (weighted).
pub fn fictional_surname<R: Rng + ?Sized>(rng: &mut R) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.gen_range(0..total);
    for (s, w) in SURNAMES {
        if pick < w {
            return s;
        }
        pick -= w;
    }
    SURNAMES[0].0
}

/// A random given name of one (20 %) or two (80 %) characters; the two
/// characters are never identical.
pub fn fictional_given_name<R: Rng + ?Sized>(rng: &mut R) -> String {
    let first = GIVEN_CHARS[rng.gen_range(0..GIVEN_CHARS.len())];
    if rng.gen_range(0..5) == 0 {
        return first.to_owned();
    }
    loop {
        let second = GIVEN_CHARS[rng.gen_range(0..GIVEN_CHARS.len())];
        if second != first {
            return format!("{first}{second}");
        }
    }
}

/// A full fictional name, e.g. `陈思远`.
pub fn fictional_name<R: Rng + ?Sized>(rng: &mut R) -> String {
    let surname = fictional_surname(rng);
    format!("{surname}{}", fictional_given_name(rng))
}

/// A fictional name with a fixed surname (e.g. a child sharing a guardian's).
pub fn fictional_name_with_surname<R: Rng + ?Sized>(rng: &mut R, surname: &str) -> String {
    format!("{surname}{}", fictional_given_name(rng))
}
