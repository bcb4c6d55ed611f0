//! The typed domain: statuses, decision kinds and roles as enums.
//!
//! Each is stored as its stable English code in a text column on both
//! backends (`ToSql`/`FromSql` for `Text`), serialised to JSON as that code,
//! and shown to people by its Chinese `label()`. A code the enum does not
//! know is a deserialisation error, never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Declares a text-coded enum with `as_str`, `parse`, `label`, `ALL`,
/// serde as the code, and diesel `Text` conversions for every backend.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal) ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            /// The stable code stored in the database and sent to programs.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $code ),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s.trim() { $( $code => Some($name::$variant), )+ _ => None }
            }

            /// What a person reads (Simplified Chinese).
            pub fn label(self) -> &'static str {
                match self { $( $name::$variant => $label ),+ }
            }

            /// `(code, label)` pairs in declaration order, for filters and forms.
            pub fn choices() -> Vec<(&'static str, &'static str)> {
                Self::ALL.iter().map(|v| (v.as_str(), v.label())).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown {} {s:?}", stringify!($name))))
            }
        }

        /// In the API contract: a string, one of the codes.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .description(Some(concat!($($code, "：", $label, "；"),+)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl<DB> ToSql<Text, DB> for $name
        where
            DB: Backend,
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB> FromSql<Text, DB> for $name
        where
            DB: Backend,
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let s = String::from_sql(bytes)?;
                $name::parse(&s).ok_or_else(|| format!("unknown {} {s:?} in the database", stringify!($name)).into())
            }
        }
    };
}

text_enum! {
    /// Where an application stands; the guardian's timeline shows the label.
    pub enum ApplicationStatus {
        Submitted = ("submitted", "已提交"),
        UnderReview = ("under_review", "审核中"),
        Supplement = ("supplement", "需补充材料"),
        Approved = ("approved", "审核通过"),
        Rejected = ("rejected", "审核未通过"),
        InDraw = ("in_draw", "参加电脑派位"),
        Offered = ("offered", "已录取待确认"),
        Accepted = ("accepted", "已确认入学"),
        Declined = ("declined", "已放弃"),
        Waitlisted = ("waitlisted", "候补"),
        /// The family asked for a review of a rejection (复核申请).
        Appealed = ("appealed", "复核中"),
        /// The family withdrew the registration before review; the child
        /// may be registered again.
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

impl ApplicationStatus {
    /// Statuses a reviewer may still decide on.
    pub const REVIEWABLE: [ApplicationStatus; 4] =
        [ApplicationStatus::Submitted, ApplicationStatus::UnderReview, ApplicationStatus::Supplement, ApplicationStatus::Appealed];

    /// Statuses whose facts the policy dry run counts.
    pub const IN_DRY_RUN: [ApplicationStatus; 3] =
        [ApplicationStatus::Approved, ApplicationStatus::UnderReview, ApplicationStatus::Submitted];

    pub fn is_reviewable(self) -> bool {
        Self::REVIEWABLE.contains(&self)
    }

    /// Approved, or any status that only an approved application reaches.
    pub fn is_past_review(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Approved
                | ApplicationStatus::InDraw
                | ApplicationStatus::Offered
                | ApplicationStatus::Accepted
                | ApplicationStatus::Declined
                | ApplicationStatus::Waitlisted
        )
    }
}

text_enum! {
    /// What a reviewer decided.
    pub enum DecisionKind {
        Approve = ("approve", "审核通过"),
        Reject = ("reject", "驳回"),
        Supplement = ("supplement", "要求补充材料"),
        Note = ("note", "备注"),
    }
}

text_enum! {
    /// A campaign's phase, in order.
    pub enum CampaignStatus {
        Draft = ("draft", "筹备中"),
        Registration = ("registration", "报名中"),
        Review = ("review", "审核中"),
        Draw = ("draw", "派位"),
        Offers = ("offers", "录取确认"),
        Closed = ("closed", "已结束"),
    }
}

text_enum! {
    /// What becomes of a supplement request nobody answered by its deadline
    /// (a campaign setting).
    pub enum SupplementExpiry {
        Reject = ("reject", "逾期未补充视为材料不全，予以驳回"),
        Review = ("review", "逾期未补充按已有材料审核"),
    }
}

text_enum! {
    /// A staff member's role; each sees only what it needs.
    pub enum Role {
        Admin = ("admin", "教育局管理员"),
        Reviewer = ("reviewer", "乡镇审核员"),
        Operator = ("operator", "派位操作员"),
        Auditor = ("auditor", "督导审计"),
    }
}

text_enum! {
    /// Where a public draw stands (draw-v1 §10): frozen (roster and seats
    /// fixed), announced (witnesses committed, announcement signed and
    /// published), drawn (the record computed and stored, once).
    pub enum DrawStatus {
        Frozen = ("frozen", "名单已锁定"),
        Announced = ("announced", "已公告"),
        Drawn = ("drawn", "已派位"),
    }
}

text_enum! {
    /// What a draw places children in.
    pub enum DrawKind {
        School = ("school", "单校派位"),
        Zone = ("zone", "片区派位"),
    }
}

text_enum! {
    /// Who a draw's witness is (a human randomness source).
    pub enum WitnessRole {
        Notary = ("notary", "公证员"),
        ParentRep = ("parent_rep", "家长代表"),
        Other = ("other", "见证人"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(DecisionKind::parse("approve"), Some(DecisionKind::Approve));
        assert_eq!(CampaignStatus::parse("nope"), None);
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }
}

text_enum! {
    /// What a notification to a guardian announces (`notifications.event`).
    pub enum NotifyEvent {
        Received = ("received", "报名已受理"),
        Supplement = ("supplement", "需补充材料"),
        Approved = ("approved", "审核通过"),
        Rejected = ("rejected", "审核未通过"),
        DrawScheduled = ("draw_scheduled", "派位时间"),
        DrawResult = ("draw_result", "派位结果"),
        Admitted = ("admitted", "录取结果"),
        OfferReminder = ("offer_reminder", "确认入学提醒"),
        WaitlistOffer = ("waitlist_offer", "候补录取"),
        Placement = ("placement", "统筹安排"),
        Legacy = ("legacy", "旧通知"),
    }
}

text_enum! {
    /// Where an outbox message stands.
    pub enum NotifyStatus {
        Pending = ("pending", "待发送"),
        Sending = ("sending", "发送中"),
        Sent = ("sent", "已发送"),
        Failed = ("failed", "发送失败（不再重试）"),
        Dead = ("dead", "多次失败已停止"),
    }
}

text_enum! {
    /// How a guardian wants to be told (the guardian page).
    pub enum NotifyChannels {
        Wechat = ("wechat", "微信消息"),
        Email = ("email", "电子邮件"),
        Both = ("both", "微信消息和电子邮件"),
    }
}
