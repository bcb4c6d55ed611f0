//! Issue 10, item 3: one table of addresses, one per first-grade rule of the
//! demo map plus the road names that once split into a community, each
//! given both as the free text the public lookup reads and as the parts the
//! structured registration form asks for. `tests/lookup.rs` runs it through
//! the lookup; `tests/parents.rs` through the lookup, the parent form (draft
//! review) and the staff view of the submitted application. Every path must
//! answer `school` (and the lookup the `rule`).
//!
//! The form needs a road and house number or a compound, so a whole-community
//! rule is reached with a lane (`幸福巷3号`) no rule names.

pub struct AddressRow {
    pub text: &'static str,
    pub township: &'static str,
    pub community: Option<&'static str>,
    pub road: Option<&'static str>,
    pub number: Option<u32>,
    pub compound: Option<&'static str>,
    pub building: Option<&'static str>,
    pub rule: &'static str,
    pub school: &'static str,
}

const fn street(
    text: &'static str,
    township: &'static str,
    community: Option<&'static str>,
    road: &'static str,
    number: u32,
    rule: &'static str,
    school: &'static str,
) -> AddressRow {
    AddressRow { text, township, community, road: Some(road), number: Some(number), compound: None, building: None, rule, school }
}

const fn compound(
    text: &'static str,
    township: &'static str,
    name: &'static str,
    building: &'static str,
    rule: &'static str,
    school: &'static str,
) -> AddressRow {
    AddressRow { text, township, community: None, road: None, number: None, compound: Some(name), building: Some(building), rule, school }
}

const FC: &str = "凤城镇";
const CX: &str = "城厢镇";

pub const ADDRESS_TABLE: &[AddressRow] = &[
    street("凤城镇东岳社区二环路123号", FC, Some("东岳社区"), "二环路", 123, "P-FC-001", "P01"),
    street("凤城镇二环路51号", FC, None, "二环路", 51, "P-FC-002", "P05"),
    street("凤城镇二环路52号", FC, None, "二环路", 52, "P-FC-003", "P05"),
    street("凤城镇二环路230号", FC, None, "二环路", 230, "P-FC-004", "P02"),
    street("凤城镇二环路105号", FC, None, "二环路", 105, "P-FC-005", "P02"),
    street("凤城镇大同路130号", FC, None, "大同路", 130, "P-FC-007", "P02"),
    street("凤城镇大同社区大同路130号", FC, Some("大同社区"), "大同路", 130, "P-FC-007", "P02"),
    street("凤城镇大同路5号", FC, None, "大同路", 5, "P-FC-006", "P01"),
    street("凤城镇河滨路7号", FC, None, "河滨路", 7, "P-FC-008", "P02"),
    street("凤城镇河滨路8号", FC, None, "河滨路", 8, "P-FC-009", "P06"),
    street("凤城镇祥云路3号", FC, None, "祥云路", 3, "P-FC-010", "P05"),
    street("凤城镇凤冠路20号", FC, None, "凤冠路", 20, "P-FC-011", "P02"),
    street("凤城镇凤冠路160号", FC, None, "凤冠路", 160, "P-FC-012", "P06"),
    street("凤城镇城东社区城东路9号", FC, Some("城东社区"), "城东路", 9, "P-FC-013", "P05"),
    compound("凤城镇中骏四季阳光3栋", FC, "中骏四季阳光", "3栋", "P-FC-020", "P01"),
    street("凤城镇东岳社区幸福巷3号", FC, Some("东岳社区"), "幸福巷", 3, "P-FC-030", "P05"),
    street("凤城镇东岳社区里仁巷5号", FC, Some("东岳社区"), "里仁巷", 5, "P-FC-030", "P05"),
    street("凤城镇大同社区幸福巷3号", FC, Some("大同社区"), "幸福巷", 3, "P-FC-031", "P01"),
    street("凤城镇河滨社区幸福巷3号", FC, Some("河滨社区"), "幸福巷", 3, "P-FC-032", "P02"),
    street("凤城镇龙湖社区幸福巷3号", FC, Some("龙湖社区"), "幸福巷", 3, "P-FC-033", "P06"),
    street("凤城镇城东社区幸福巷3号", FC, Some("城东社区"), "幸福巷", 3, "P-FC-034", "P05"),
    street("凤城镇某某巷1号", FC, None, "某某巷", 1, "P-FC-090", "P02"),
    // 新村路 is a road, not the village 新村 and a road 路 (issue 10, item 3).
    street("凤城镇新村路12号", FC, None, "新村路", 12, "P-FC-090", "P02"),
    compound("城厢镇世茂云城5号楼", CX, "世茂云城", "5号楼", "P-CX-001", "P03"),
    compound("城厢镇世茂云城15号楼", CX, "世茂云城", "15号楼", "P-CX-002", "P06"),
    street("城厢镇某某路1号", CX, None, "某某路", 1, "P-CX-090", "P03"),
    street("参内镇某某路1号", "参内镇", None, "某某路", 1, "P-CN-090", "P04"),
];

impl AddressRow {
    /// The parsed address the lookup should read from `text`, as the parts
    /// (township, community, road, number, compound, building).
    pub fn parts(&self) -> [Option<String>; 6] {
        [
            Some(self.township.to_string()),
            self.community.map(str::to_string),
            self.road.map(str::to_string),
            self.number.map(|n| n.to_string()),
            self.compound.map(str::to_string),
            self.building.map(str::to_string),
        ]
    }

    /// The form fields for this address with the prefix `hukou`, `prop` or `res`.
    pub fn form_fields(&self, prefix: &str) -> Vec<(String, String)> {
        let mut v = vec![(format!("{prefix}_township"), self.township.to_string())];
        let mut add = |k: &str, val: Option<String>| {
            if let Some(val) = val {
                v.push((format!("{prefix}_{k}"), val));
            }
        };
        add("community", self.community.map(str::to_string));
        add("road", self.road.map(str::to_string));
        add("number", self.number.map(|n| n.to_string()));
        add("compound", self.compound.map(str::to_string));
        add("building", self.building.map(str::to_string));
        v
    }
}

/// The parts of a lookup answer's `parsed` address, comparable with [`AddressRow::parts`].
pub fn parsed_parts(parsed: &serde_json::Value) -> [Option<String>; 6] {
    let s = |k: &str| parsed[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    [s("township"), s("community"), s("road"), parsed["number"].as_u64().map(|n| n.to_string()), s("compound"), s("building")]
}
