//! Identity data: ID number validation (`idcard`), field encryption and
//! display masks (`crypto`), and fictional demo names (`names`).

pub mod crypto;
pub mod idcard;
pub mod names;

pub use crypto::{mask_address, mask_id, mask_name, mask_phone, CryptoError, IdCipher, KeyError};
pub use idcard::{
    age_eligible, age_on, check_digit, convert_15_to_18, fictional_id, is_valid_province, normalise, parse as parse_id, random_sex,
    AgeError, AgeRule, IdCard, IdCardError, Sex, CONVERTED_FROM_15_NOTE,
};
pub use names::{fictional_name, fictional_name_with_surname};
