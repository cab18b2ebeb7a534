//! Database-backed enums shared by entities and the API. Stored as short snake_case strings.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! label_impl {
    ($t:ty { $($v:ident => $zh:expr),* $(,)? }) => {
        impl $t {
            /// Display label in Simplified Chinese.
            pub fn label_zh(self) -> &'static str {
                match self { $(Self::$v => $zh),* }
            }
            /// Every variant, in declaration order.
            pub fn all() -> &'static [Self] {
                &[$(Self::$v),*]
            }
            /// The code used in the API and the database.
            pub fn code(self) -> String {
                use sea_orm::ActiveEnum;
                self.to_value()
            }
            /// The variant of a code (`None` for an unknown one).
            pub fn from_code(code: &str) -> Option<Self> {
                use sea_orm::ActiveEnum;
                Self::try_from_value(&code.to_string()).ok()
            }
        }
    };
}

/// What an organization is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Enterprise,
    Bank,
    Department,
    ServiceCenter,
    ChainOffice,
    FundOffice,
}
label_impl!(OrgKind {
    Enterprise => "企业",
    Bank => "银行",
    Department => "职能部门",
    ServiceCenter => "服务中心",
    ChainOffice => "产业链办公室",
    FundOffice => "基金办",
});

impl OrgKind {
    /// Enterprises and banks carry a USCC by rule.
    pub fn requires_uscc(self) -> bool {
        matches!(self, Self::Enterprise | Self::Bank)
    }
}

/// A user's role; it must fit the organization's kind.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ServiceCenter,
    Department,
    ChainOffice,
    Bank,
    Enterprise,
    FundOffice,
}
label_impl!(Role {
    Admin => "系统管理员",
    ServiceCenter => "服务中心",
    Department => "职能部门",
    ChainOffice => "产业链办公室",
    Bank => "银行",
    Enterprise => "企业",
    FundOffice => "基金办",
});

impl Role {
    /// The organization kind this role belongs to; `None` for admin (any or none).
    pub fn org_kind(self) -> Option<OrgKind> {
        match self {
            Self::Admin => None,
            Self::ServiceCenter => Some(OrgKind::ServiceCenter),
            Self::Department => Some(OrgKind::Department),
            Self::ChainOffice => Some(OrgKind::ChainOffice),
            Self::Bank => Some(OrgKind::Bank),
            Self::Enterprise => Some(OrgKind::Enterprise),
            Self::FundOffice => Some(OrgKind::FundOffice),
        }
    }

    /// Whether a user of this role may belong to `org` (`None`: no organization).
    pub fn fits(self, org: Option<OrgKind>) -> bool {
        match (self.org_kind(), org) {
            (None, _) => true,
            (Some(want), Some(have)) => want == have,
            (Some(_), None) => false,
        }
    }
}

/// Enterprise qualifications (资质).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum QualificationKind {
    SpecializedSme,
    LittleGiant,
    SingleChampion,
    HighTech,
    AboveScale,
}
label_impl!(QualificationKind {
    SpecializedSme => "专精特新企业",
    LittleGiant => "专精特新“小巨人”企业",
    SingleChampion => "制造业单项冠军企业",
    HighTech => "高新技术企业",
    AboveScale => "规模以上工业企业",
});

/// An enterprise's role in a chain.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    ChainLeaderEnterprise,
    Core,
    Supporting,
}
label_impl!(MemberRole {
    ChainLeaderEnterprise => "链主企业",
    Core => "核心企业",
    Supporting => "配套企业",
});

/// A bank's role in a chain.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum BankRole {
    Lead,
    Partner,
}
label_impl!(BankRole {
    Lead => "主办行",
    Partner => "协办行",
});

/// A calendar exception as stored.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionKind {
    Holiday,
    Workday,
}
label_impl!(ExceptionKind {
    Holiday => "节假日",
    Workday => "调休工作日",
});

impl From<ExceptionKind> for crate::calendar::DayKind {
    fn from(k: ExceptionKind) -> Self {
        match k {
            ExceptionKind::Holiday => Self::Holiday,
            ExceptionKind::Workday => Self::Workday,
        }
    }
}

/// What an appeal (诉求) is about; SLA policies and routing rules are per category.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum AppealCategory {
    Financing,
    Land,
    Energy,
    Permits,
    Logistics,
    Talent,
    Technology,
    Market,
    Policy,
    Other,
}
label_impl!(AppealCategory {
    Financing => "融资",
    Land => "用地",
    Energy => "能源要素",
    Permits => "审批许可",
    Logistics => "物流",
    Talent => "人才",
    Technology => "科技创新",
    Market => "市场拓展",
    Policy => "政策咨询",
    Other => "其他",
});

/// Where an appeal stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    /// Waiting for the service centre to route it.
    Submitted,
    Assigned,
    Replied,
    OpinionGiven,
    Resolved,
    Closed,
    /// Paused: the department asked the enterprise for more information.
    AwaitingEnterprise,
    Withdrawn,
    Reopened,
}
label_impl!(AppealStatus {
    Submitted => "待分派",
    Assigned => "已分派",
    Replied => "已响应",
    OpinionGiven => "已出具意见",
    Resolved => "已办结",
    Closed => "已关闭",
    AwaitingEnterprise => "待企业补充",
    Withdrawn => "已撤回",
    Reopened => "重办中",
});

impl AppealStatus {
    /// Still being worked on: counts as open on dashboards and may be withdrawn.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed | Self::Withdrawn)
    }
}

/// The three service-level clocks of an appeal.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// First answer (1 working day by default).
    Reply,
    /// A clear opinion (3 working days).
    Opinion,
    /// Closed (5 working days).
    Close,
    /// A bank accepts (受理) a financing request (1 working day by default).
    Accept,
    /// A bank decides a financing request (5 working days by default).
    Decide,
    /// A chain office's first review of a fund application.
    InitialReview,
    /// The fund office's final review of a fund application.
    FinalReview,
    /// The fund office's review of a risk-compensation claim.
    ClaimReview,
}
label_impl!(ClockKind {
    Reply => "响应",
    Opinion => "出具意见",
    Close => "办结",
    Accept => "受理",
    Decide => "审批决定",
    InitialReview => "初审",
    FinalReview => "终审",
    ClaimReview => "补偿审核",
});

/// What a clock, a supervision and a timeline line belong to: a subject the city promises to
/// handle in time. Each type has its own nullable key column in `sla_clocks`, `supervisions` and
/// `appeal_events` (today `appeal_id`) and a resolver in `jobs::engine::subjects`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    /// An enterprise's appeal (诉求).
    Appeal,
    /// An enterprise's financing request to a bank (融资需求).
    FinancingRequest,
    /// An enterprise's application for a fund or subsidy (资金申报).
    FundApplication,
    /// A bank's risk-compensation claim on a defaulted credit line (风险补偿).
    RiskClaim,
}
label_impl!(SubjectType {
    Appeal => "诉求",
    FinancingRequest => "融资需求",
    FundApplication => "资金申报",
    RiskClaim => "风险补偿申请",
});

/// Why a supervision (督办) record exists.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionSource {
    /// The service centre supervised by hand.
    Manual,
    /// The monitor found a clock past its due time (level 1).
    Breach,
    /// Still unmet one working day after the breach (level 2).
    Escalation,
}
label_impl!(SupervisionSource {
    Manual => "人工督办",
    Breach => "超时督办",
    Escalation => "升级督办",
});

/// Where an enterprise's membership of a chain stands: a chain office invites, the enterprise
/// accepts (or declines); an admin adds at once. Only `active` memberships count for anything.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Invited by the chain office, waiting for the enterprise.
    Invited,
    /// A member: accepted, or added by an admin.
    Active,
    /// The enterprise declined; the office may invite again.
    Declined,
}
label_impl!(MembershipStatus {
    Invited => "待企业确认",
    Active => "已加入",
    Declined => "企业已谢绝",
});

/// Where a chain office's proposal of a qualification stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for the fund office.
    Pending,
    /// Confirmed: the qualification was recorded.
    Confirmed,
    /// Declined by the fund office.
    Declined,
}
label_impl!(ProposalStatus {
    Pending => "待确认",
    Confirmed => "已确认",
    Declined => "未予确认",
});

/// Who may read a timeline event.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(16))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum EventVisibility {
    /// Everyone who may read the case, the enterprise included, note and all.
    Public,
    /// The enterprise sees that it happened, not its note (a transfer's or return's reason).
    Event,
    /// Officials only (supervision, breaches, escalations, extension requests).
    Internal,
}
label_impl!(EventVisibility {
    Public => "公开",
    Event => "仅显示事件",
    Internal => "内部",
});

/// What a notification (in-app, and mail unless the user turned the kind off) is about: a
/// stable code clients and preferences name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// An appeal was assigned (routed) to the department.
    AppealAssigned,
    /// An appeal was transferred (转办) to the department.
    AppealTransferred,
    /// The department replied to the enterprise's appeal.
    AppealReplied,
    /// The department gave its opinion.
    AppealOpinion,
    /// The department asks the enterprise for more information.
    AppealInfoRequested,
    /// The enterprise supplied the information asked for.
    AppealSupplemented,
    /// The department resolved the appeal.
    AppealResolved,
    /// The enterprise reopened (重办) the appeal.
    AppealReopened,
    /// The service centre supervised (督办) the appeal by hand.
    AppealSupervised,
    /// A clock's due time is near.
    SlaWarning,
    /// A clock passed its due time.
    SlaBreach,
    /// A breached clock is still unmet a working day later.
    SlaEscalation,
    /// The enterprise was verified.
    OrganizationVerified,
    /// A background job run failed (administrators).
    JobFailed,
    /// A financing request came to the bank (submitted, or referred to it).
    FinancingReceived,
    /// The bank accepted (受理) the enterprise's request.
    FinancingAccepted,
    /// The bank asks the enterprise for more information.
    FinancingInfoRequested,
    /// The enterprise supplied the information asked for.
    FinancingSupplemented,
    /// An approval above the four-eyes threshold waits for a second bank user.
    FinancingProposed,
    /// The request was approved: a credit line exists.
    FinancingApproved,
    /// The request was rejected.
    FinancingRejected,
    /// The enterprise withdrew its request.
    FinancingWithdrawn,
    /// The lead bank referred (转介) the request to a partner bank.
    FinancingReferred,
    /// A credit line was frozen, unfrozen, closed or expired.
    CreditLineChanged,
    /// A lead-bank monthly report was generated.
    BankReportReady,
    /// A fund application came to a reviewer (submitted, resubmitted, passed to final review).
    FundApplicationReceived,
    /// A review stage decided the enterprise's application (passed, returned, rejected, in
    /// notice).
    FundReviewResult,
    /// The public notice ended with no upheld objection: the application is approved.
    FundApproved,
    /// Money was paid (or a payment reversed).
    FundDisbursed,
    /// Someone objected to an application in notice (the fund office).
    FundObjection,
    /// The enterprise withdrew its application.
    FundWithdrawn,
    /// A program the enterprise is eligible for opened (政策直达).
    PolicyMatch,
    /// An apply-free award (免申即享) was created for the enterprise.
    FundAwardGranted,
    /// A bank claimed risk compensation (the fund office).
    RiskClaimReceived,
    /// The fund office decided a bank's claim.
    RiskClaimDecided,
    /// The fund office paid a bank's claim.
    RiskClaimPaid,
}
label_impl!(NotificationKind {
    AppealAssigned => "诉求分派",
    AppealTransferred => "诉求转办",
    AppealReplied => "诉求已响应",
    AppealOpinion => "诉求已出具意见",
    AppealInfoRequested => "诉求需补充材料",
    AppealSupplemented => "企业已补充材料",
    AppealResolved => "诉求已办结",
    AppealReopened => "诉求重办",
    AppealSupervised => "诉求督办",
    SlaWarning => "临期提醒",
    SlaBreach => "超时督办",
    SlaEscalation => "升级督办",
    OrganizationVerified => "企业认证通过",
    JobFailed => "后台任务失败",
    FinancingReceived => "收到融资需求",
    FinancingAccepted => "融资需求已受理",
    FinancingInfoRequested => "融资需求需补充材料",
    FinancingSupplemented => "企业已补充融资材料",
    FinancingProposed => "授信待复核",
    FinancingApproved => "融资需求已批准",
    FinancingRejected => "融资需求未获批准",
    FinancingWithdrawn => "企业已撤回融资需求",
    FinancingReferred => "融资需求已转介",
    CreditLineChanged => "授信额度状态变更",
    BankReportReady => "主办行月度报告",
    FundApplicationReceived => "收到资金申报",
    FundReviewResult => "资金申报审核结果",
    FundApproved => "资金申报已批准",
    FundDisbursed => "资金拨付",
    FundObjection => "公示异议",
    FundWithdrawn => "资金申报已撤回",
    PolicyMatch => "政策直达",
    FundAwardGranted => "免申即享",
    RiskClaimReceived => "收到风险补偿申请",
    RiskClaimDecided => "风险补偿审核结果",
    RiskClaimPaid => "风险补偿已拨付",
});

/// Where a financing request stands: `submitted → accepted → approved`, plus
/// `awaiting_enterprise` (clocks paused), `pending_confirmation` (four-eyes), `rejected`,
/// `withdrawn`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum FinancingStatus {
    Submitted,
    Accepted,
    AwaitingEnterprise,
    PendingConfirmation,
    Approved,
    Rejected,
    Withdrawn,
}
label_impl!(FinancingStatus {
    Submitted => "已提交",
    Accepted => "已受理",
    AwaitingEnterprise => "待企业补充",
    PendingConfirmation => "待复核",
    Approved => "已批准",
    Rejected => "未获批准",
    Withdrawn => "已撤回",
});

impl FinancingStatus {
    /// Still open: the bank has not decided and the enterprise has not withdrawn.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Approved | Self::Rejected | Self::Withdrawn)
    }
}

/// The kind of financing an enterprise asks for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum FinancingProduct {
    WorkingCapital,
    Receivable,
    Order,
    Inventory,
    Equipment,
    Other,
}
label_impl!(FinancingProduct {
    WorkingCapital => "流动资金贷款",
    Receivable => "应收账款融资",
    Order => "订单融资",
    Inventory => "存货融资",
    Equipment => "设备融资",
    Other => "其他",
});

/// Where a credit line stands. Only `active` lines may be drawn.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum CreditLineStatus {
    Active,
    Frozen,
    Closed,
    Expired,
    Defaulted,
}
label_impl!(CreditLineStatus {
    Active => "有效",
    Frozen => "已冻结",
    Closed => "已关闭",
    Expired => "已失效",
    Defaulted => "已违约",
});

impl CreditLineStatus {
    /// Whether the line's limit counts against its program's quota (the exposure rule: the
    /// lines that are `active` or `frozen`).
    pub fn holds_exposure(self) -> bool {
        matches!(self, Self::Active | Self::Frozen)
    }
}

/// A row of a credit line's ledger.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Drawdown,
    Repayment,
    Reversal,
}
label_impl!(MovementKind {
    Drawdown => "提款",
    Repayment => "还款",
    Reversal => "冲正",
});

/// What a fund program is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum FundKind {
    Guidance,
    ChainSpecial,
    RiskCompensation,
    Award,
}
label_impl!(FundKind {
    Guidance => "产业发展引导资金",
    ChainSpecial => "产业链专项扶持基金",
    RiskCompensation => "风险补偿基金",
    Award => "奖励",
});

/// Where a fund application stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum FundStatus {
    Submitted,
    InitialPassed,
    InNotice,
    Approved,
    Disbursed,
    Returned,
    Rejected,
    Withdrawn,
}
label_impl!(FundStatus {
    Submitted => "待初审",
    InitialPassed => "初审通过",
    InNotice => "公示中",
    Approved => "已批准",
    Disbursed => "已拨付",
    Returned => "退回修改",
    Rejected => "未获批准",
    Withdrawn => "已撤回",
});

impl FundStatus {
    /// Live: counts for the one-application-per-program rule (not rejected or withdrawn).
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Rejected | Self::Withdrawn)
    }
}

/// A review stage of a fund application.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStage {
    Initial,
    Final,
}
label_impl!(ReviewStage {
    Initial => "初审",
    Final => "终审",
});

/// What a reviewer decided.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Pass,
    Return,
    Reject,
    Approve,
}
label_impl!(ReviewDecision {
    Pass => "通过",
    Return => "退回修改",
    Reject => "不予通过",
    Approve => "批准",
});

/// Where an objection (异议) to an application in notice stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionStatus {
    Pending,
    Upheld,
    Dismissed,
}
label_impl!(ObjectionStatus {
    Pending => "待处理",
    Upheld => "异议成立",
    Dismissed => "异议不成立",
});

/// Where a risk-compensation claim stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    Submitted,
    Approved,
    Paid,
    Rejected,
}
label_impl!(ClaimStatus {
    Submitted => "待审核",
    Approved => "已批准",
    Paid => "已拨付",
    Rejected => "未获批准",
});

/// A row of the disbursement ledger.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(StringLen::N(32))",
    rename_all = "snake_case"
)]
#[serde(rename_all = "snake_case")]
pub enum DisbursementKind {
    Payment,
    Reversal,
}
label_impl!(DisbursementKind {
    Payment => "拨付",
    Reversal => "冲正",
});
