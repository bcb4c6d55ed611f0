//! A registration in progress (`registration_drafts.data_json`). The child's
//! ID number is never kept in the form here: `id_number_enc` holds it
//! encrypted with the same key as `children.id_number_enc`.

use super::forms::ChildForm;
use serde::{Deserialize, Serialize};

/// An uploaded file waiting for the submit that turns it into a `documents` row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DraftDocument {
    /// `DocumentKind` code.
    pub kind: String,
    /// The stored name: `<sha256 hex><extension>`.
    pub content_hash: String,
    pub mime: String,
    pub size_bytes: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DraftData {
    /// The last child form that passed validation (`id_number` blank).
    #[serde(default)]
    pub child: Option<ChildForm>,
    #[serde(default)]
    pub id_number_enc: Option<String>,
    #[serde(default)]
    pub documents: Vec<DraftDocument>,
}

/// Most files one registration may carry.
pub const MAX_DOCUMENTS: usize = 20;

/// Documents the declarations call for: (kind code, why).
pub fn required_documents(child: &ChildForm) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("hukou", "户口簿（户主页及儿童页）")];
    if child.has_property() {
        out.push(("property_cert", "房产证/不动产权证"));
    }
    if child.is_migrant() {
        out.push(("residence_permit", "居住证"));
    }
    out
}

/// Required kinds not yet uploaded, with their Chinese description.
pub fn missing_documents(data: &DraftData) -> Vec<(&'static str, &'static str)> {
    let Some(child) = &data.child else { return Vec::new() };
    required_documents(child).into_iter().filter(|(kind, _)| !data.documents.iter().any(|d| d.kind == *kind)).collect()
}
