//! Applicant facts: what the registration / verification layer knows about a
//! child, as the policy needs it.

use crate::catchment::Address;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who holds the property title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerRelation {
    Father,
    Mother,
    /// (外)祖父母.
    Grandparent,
    /// The child.
    #[serde(rename = "self")]
    Self_,
    Other,
}

impl OwnerRelation {
    pub fn label(self) -> &'static str {
        match self {
            OwnerRelation::Father => "父亲",
            OwnerRelation::Mother => "母亲",
            OwnerRelation::Grandparent => "（外）祖父母",
            OwnerRelation::Self_ => "儿童本人",
            OwnerRelation::Other => "其他人",
        }
    }
}

/// A property (房产) the family relies on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    pub address: Address,
    pub certificate_no: String,
    pub owner_relation: OwnerRelation,
    #[serde(default)]
    pub acquired_on: Option<NaiveDate>,
}

/// Residence-permit facts of a migrant child (随迁子女).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migrant {
    pub permit_no: String,
    pub residence_start: NaiveDate,
    #[serde(default)]
    pub permit_issued_on: Option<NaiveDate>,
    pub social_insurance_months: u32,
    /// The residence-permit address, which decides the migrant child's
    /// catchment. **Addition to the brief's field list** (without it a migrant
    /// child can only be placed via `hukou`/`property`); `None` when unknown.
    #[serde(default)]
    pub residence_address: Option<Address>,
}

/// Everything the policy needs about one applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantFacts {
    pub application_no: String,
    #[serde(default)]
    pub hukou: Option<Address>,
    #[serde(default)]
    pub property: Option<Property>,
    #[serde(default)]
    pub migrant: Option<Migrant>,
    /// A policy-care kind listed in the policy (`军人`, `烈士`, …).
    #[serde(default)]
    pub care_category: Option<String>,
    /// School id where an elder sibling studies (长幼随学).
    #[serde(default)]
    pub sibling_school_id: Option<String>,
    #[serde(default)]
    pub disability_support: bool,
    #[serde(default)]
    pub left_behind: bool,
    /// Shared by twins / multiple births: the application number of one of them.
    #[serde(default)]
    pub family_id: Option<String>,
}

impl ApplicantFacts {
    /// Facts with only an application number.
    pub fn new(application_no: &str) -> Self {
        ApplicantFacts {
            application_no: application_no.to_string(),
            hukou: None,
            property: None,
            migrant: None,
            care_category: None,
            sibling_school_id: None,
            disability_support: false,
            left_behind: false,
            family_id: None,
        }
    }
}
