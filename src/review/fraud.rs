//! Fraud signals: hints for a person to check, never an automatic rejection.
//! Computed from records the caller loads; pure.

use crate::catchment::Address;
use crate::policy::ApplicantFacts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One application as the signals need it.
#[derive(Debug, Clone)]
pub struct Record {
    pub application_id: String,
    pub registration_no: String,
    pub campaign_id: String,
    pub guardian_id: String,
    /// Twins share this (the application number of one of them).
    pub family_id: Option<String>,
    pub id_number_hash: String,
    pub facts: ApplicantFacts,
}

impl Record {
    fn family(&self) -> &str {
        self.family_id.as_deref().unwrap_or(&self.application_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Signal {
    /// `shared_certificate`, `guardian_many_children`, `non_residential`,
    /// `id_reused`, `residence_before_permit`.
    pub code: &'static str,
    pub label: &'static str,
    /// A Chinese sentence a reviewer reads before deciding.
    pub explanation: String,
}

pub const SIGNAL_KINDS: [(&str, &str); 5] = [
    ("shared_certificate", "房产证多户使用"),
    ("guardian_many_children", "同一监护人多名儿童"),
    ("non_residential", "非住宅房产"),
    ("id_reused", "身份证号在其他招生中使用"),
    ("residence_before_permit", "居住起始晚于居住证签发"),
];

fn label(code: &str) -> &'static str {
    SIGNAL_KINDS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or("")
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Families allowed per property certificate in one campaign.
    pub families_per_certificate: usize,
    pub non_residential_keywords: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            families_per_certificate: 1,
            non_residential_keywords: ["商铺", "写字楼", "厂房", "仓库", "车库", "办公"].iter().map(|s| s.to_string()).collect(),
        }
    }
}

fn normalise_cert(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace('（', "(").replace('）', ")")
}

fn address_text(a: &Address) -> String {
    [&a.township, &a.community, &a.road, &a.compound, &a.building, &a.detail]
        .iter()
        .filter_map(|p| p.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
}

fn list(nos: &[&str]) -> String {
    const SHOW: usize = 5;
    let mut s = nos.iter().take(SHOW).cloned().collect::<Vec<_>>().join("、");
    if nos.len() > SHOW {
        s.push_str(&format!(" 等 {} 份", nos.len()));
    }
    s
}

/// Signals for every record of `records` (all campaigns the caller loaded;
/// certificate and guardian checks compare within a campaign, the ID check
/// across campaigns). Records without a signal are absent from the map.
pub fn signals(records: &[Record], cfg: &Config) -> HashMap<String, Vec<Signal>> {
    let mut out: HashMap<String, Vec<Signal>> = HashMap::new();
    let mut push = |id: &str, code: &'static str, explanation: String| {
        out.entry(id.to_string()).or_default().push(Signal { code, label: label(code), explanation });
    };

    // 1. One property certificate for more families than allowed.
    let mut by_cert: BTreeMap<(String, String), Vec<&Record>> = BTreeMap::new();
    for r in records {
        if let Some(p) = &r.facts.property {
            let c = normalise_cert(&p.certificate_no);
            if !c.is_empty() {
                by_cert.entry((r.campaign_id.clone(), c)).or_default().push(r);
            }
        }
    }
    for ((_, cert), rs) in &by_cert {
        let families: BTreeSet<&str> = rs.iter().map(|r| r.family()).collect();
        if families.len() > cfg.families_per_certificate {
            for r in rs {
                let others: Vec<&str> = rs.iter().filter(|o| o.family() != r.family()).map(|o| o.registration_no.as_str()).collect();
                push(
                    &r.application_id,
                    "shared_certificate",
                    format!(
                        "房产证“{cert}”被 {} 个家庭的申请使用（政策允许每证 {} 户，双胞胎等多胞胎视为一户）；其他申请：{}。请核实实际居住和产权关系。",
                        families.len(),
                        cfg.families_per_certificate,
                        list(&others)
                    ),
                );
            }
        }
    }

    // 2. The same guardian on several unrelated children.
    let mut by_guardian: BTreeMap<(&str, &str), Vec<&Record>> = BTreeMap::new();
    for r in records {
        by_guardian.entry((&r.campaign_id, &r.guardian_id)).or_default().push(r);
    }
    for rs in by_guardian.values() {
        let families: BTreeSet<&str> = rs.iter().map(|r| r.family()).collect();
        if families.len() > 1 {
            for r in rs {
                let others: Vec<&str> = rs.iter().filter(|o| o.family() != r.family()).map(|o| o.registration_no.as_str()).collect();
                push(
                    &r.application_id,
                    "guardian_many_children",
                    format!(
                        "同一监护人在本次招生中为 {} 名非多胞胎儿童报名；其他申请：{}。请核实监护关系。",
                        families.len(),
                        list(&others)
                    ),
                );
            }
        }
    }

    // 3. A property (or residence) address that reads as non-residential.
    for r in records {
        let mut hits: Vec<(&str, &str)> = Vec::new();
        if let Some(p) = &r.facts.property {
            let t = address_text(&p.address);
            for k in &cfg.non_residential_keywords {
                if !k.is_empty() && t.contains(k.as_str()) {
                    hits.push(("房产地址", k));
                }
            }
        }
        if let Some(a) = r.facts.migrant.as_ref().and_then(|m| m.residence_address.as_ref()) {
            let t = address_text(a);
            for k in &cfg.non_residential_keywords {
                if !k.is_empty() && t.contains(k.as_str()) {
                    hits.push(("居住证地址", k));
                }
            }
        }
        if !hits.is_empty() {
            let what: Vec<String> = hits.iter().map(|(w, k)| format!("{w}含“{k}”")).collect();
            push(
                &r.application_id,
                "non_residential",
                format!("{}，可能不是住宅用房。请核实房屋用途（不动产权证书“用途”栏）和实际居住情况。", what.join("；")),
            );
        }
    }

    // 4. The same ID number in another campaign of this database.
    let mut by_id: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in records {
        by_id.entry(&r.id_number_hash).or_default().push(r);
    }
    for rs in by_id.values() {
        for r in rs {
            let others: Vec<String> = rs
                .iter()
                .filter(|o| o.campaign_id != r.campaign_id)
                .map(|o| format!("{}（{}）", o.registration_no, o.campaign_id))
                .collect();
            if !others.is_empty() {
                let refs: Vec<&str> = others.iter().map(String::as_str).collect();
                push(
                    &r.application_id,
                    "id_reused",
                    format!("该儿童身份证号已在其他招生中报名：{}。请核实是否重复报名或曾被录取。", list(&refs)),
                );
            }
        }
    }

    // 5. Residence start after the permit was issued.
    for r in records {
        if let Some(m) = &r.facts.migrant {
            if let Some(issued) = m.permit_issued_on {
                if m.residence_start > issued {
                    push(
                        &r.application_id,
                        "residence_before_permit",
                        format!(
                            "申报的居住起始日期 {} 晚于居住证签发日期 {}；居住证应在开始居住之后签发。请核实居住起始时间。",
                            m.residence_start, issued
                        ),
                    );
                }
            }
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|s| SIGNAL_KINDS.iter().position(|(c, _)| *c == s.code));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Migrant, OwnerRelation, Property};
    use chrono::NaiveDate;

    fn rec(id: &str, campaign: &str, guardian: &str, family: Option<&str>, idh: &str) -> Record {
        Record {
            application_id: id.into(),
            registration_no: format!("NO-{id}"),
            campaign_id: campaign.into(),
            guardian_id: guardian.into(),
            family_id: family.map(Into::into),
            id_number_hash: idh.into(),
            facts: ApplicantFacts::new(&format!("NO-{id}")),
        }
    }

    fn with_cert(mut r: Record, cert: &str, detail: Option<&str>) -> Record {
        r.facts.property = Some(Property {
            address: Address {
                township: Some("凤城镇".into()),
                road: Some("二环路".into()),
                number: Some(1),
                detail: detail.map(Into::into),
                ..Default::default()
            },
            certificate_no: cert.into(),
            owner_relation: OwnerRelation::Father,
            acquired_on: None,
        });
        r
    }

    fn codes(m: &HashMap<String, Vec<Signal>>, id: &str) -> Vec<&'static str> {
        m.get(id).map(|v| v.iter().map(|s| s.code).collect()).unwrap_or_default()
    }

    #[test]
    fn certificates_twins_and_guardians() {
        let rs = vec![
            with_cert(rec("a", "C1", "g1", Some("F1"), "h1"), "闽(2026)第1号", None),
            with_cert(rec("b", "C1", "g1", Some("F1"), "h2"), "闽（2026）第1号", None), // twin, same family
            with_cert(rec("c", "C1", "g2", None, "h3"), "闽(2026)第2号", None),
            with_cert(rec("d", "C1", "g3", None, "h4"), "闽(2026) 第2号", None), // another family, same certificate
            with_cert(rec("e", "C2", "g4", None, "h5"), "闽(2026)第2号", None),  // other campaign: not compared
        ];
        let m = signals(&rs, &Config::default());
        assert!(codes(&m, "a").is_empty() && codes(&m, "b").is_empty(), "twins share a certificate");
        assert_eq!(codes(&m, "c"), vec!["shared_certificate"]);
        assert!(m["c"][0].explanation.contains("NO-d"));
        assert!(codes(&m, "e").is_empty());

        let rs = vec![rec("x", "C1", "g9", None, "h1"), rec("y", "C1", "g9", None, "h2"), rec("z", "C1", "g8", None, "h3")];
        let m = signals(&rs, &Config::default());
        assert_eq!(codes(&m, "x"), vec!["guardian_many_children"]);
        assert!(codes(&m, "z").is_empty());
    }

    #[test]
    fn addresses_ids_and_dates() {
        let mut late = rec("m", "C1", "g1", None, "h1");
        late.facts.migrant = Some(Migrant {
            permit_no: "1".into(),
            residence_start: NaiveDate::from_ymd_opt(2025, 5, 1).unwrap(),
            permit_issued_on: NaiveDate::from_ymd_opt(2025, 3, 1),
            social_insurance_months: 3,
            residence_address: None,
        });
        let shop = with_cert(rec("s", "C1", "g2", None, "h2"), "闽(2026)第7号", Some("1层商铺"));
        let again = rec("r", "C2", "g3", None, "h2");
        let m = signals(&[late, shop, again], &Config::default());
        assert_eq!(codes(&m, "m"), vec!["residence_before_permit"]);
        assert_eq!(codes(&m, "s"), vec!["non_residential", "id_reused"]);
        assert!(m["s"][0].explanation.contains("商铺"));
        assert_eq!(codes(&m, "r"), vec!["id_reused"]);
    }
}
