//! Fund eligibility, explained: a program's rules and an enterprise's facts decide whether it
//! may apply, with every unmet rule as a reason in Simplified Chinese
//! (「非船舶海工产业链成员」, 「专精特新资格已于2026-03-31到期」). The same function decides the
//! eligible list, an application, the final review, each disbursement, the policy push and the
//! apply-free awards; the callers only load the facts.

use crate::enums::{MemberRole, QualificationKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// A program's eligibility rules; an empty list sets no condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rules {
    /// Active membership of one of these chains.
    #[serde(default)]
    pub chain_ids: Vec<Uuid>,
    /// At least one of these qualifications, valid today.
    #[serde(default)]
    pub qualifications_any: Vec<QualificationKind>,
    /// Every one of these qualifications, valid today.
    #[serde(default)]
    pub qualifications_all: Vec<QualificationKind>,
    /// A membership (of the listed chains, if any) in one of these roles.
    #[serde(default)]
    pub member_roles: Vec<MemberRole>,
}

/// An active chain membership of the enterprise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub chain_id: Uuid,
    pub role: MemberRole,
}

/// A qualification the enterprise holds, valid or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub kind: QualificationKind,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

/// What the rules look at.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    pub verified: bool,
    pub memberships: &'a [Membership],
    pub qualifications: &'a [Held],
    /// The local date the qualifications must be valid on.
    pub today: NaiveDate,
    /// Chain names, for the reasons.
    pub chain_names: &'a HashMap<Uuid, String>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub eligible: bool,
    /// Every unmet rule (empty when eligible).
    pub reasons: Vec<String>,
    /// Every met rule, as the enterprise reads it.
    pub basis: Vec<String>,
    /// The chain the enterprise qualifies through (its office reviews first).
    pub chain_id: Option<Uuid>,
}

/// The short name of a qualification in a reason (「专精特新资格」).
pub fn qualification_name(kind: QualificationKind) -> &'static str {
    match kind {
        QualificationKind::SpecializedSme => "专精特新",
        QualificationKind::LittleGiant => "专精特新“小巨人”",
        QualificationKind::SingleChampion => "制造业单项冠军",
        QualificationKind::HighTech => "高新技术企业",
        QualificationKind::AboveScale => "规模以上工业企业",
    }
}

/// A chain as a reason names it: 「船舶海工产业链」 whether or not its name ends so.
fn chain_label(names: &HashMap<Uuid, String>, id: Uuid) -> String {
    let name = names.get(&id).map(String::as_str).unwrap_or("指定");
    let base = name.strip_suffix("产业链").unwrap_or(name);
    format!("{base}产业链")
}

fn roles_text(roles: &[MemberRole]) -> String {
    roles
        .iter()
        .map(|r| r.label_zh())
        .collect::<Vec<_>>()
        .join("或")
}

/// Why `kind` does not count today, or `None` when it is valid.
fn qualification_problem(facts: &Facts<'_>, kind: QualificationKind) -> Option<String> {
    let name = qualification_name(kind);
    let Some(q) = facts.qualifications.iter().find(|q| q.kind == kind) else {
        return Some(format!("无{name}资格"));
    };
    if q.valid_from > facts.today {
        return Some(format!("{name}资格自{}起生效", q.valid_from));
    }
    match q.valid_until {
        Some(until) if until < facts.today => Some(format!("{name}资格已于{until}到期")),
        _ => None,
    }
}

/// Decides `rules` for `facts`.
pub fn decide(rules: &Rules, facts: &Facts<'_>) -> Verdict {
    let mut reasons = Vec::new();
    let mut basis = Vec::new();
    if facts.verified {
        basis.push("企业已完成认证".to_string());
    } else {
        reasons.push("企业尚未完成认证".to_string());
    }

    // Chains and roles: the memberships that count, in the rules' chain order.
    let in_chains: Vec<Membership> = if rules.chain_ids.is_empty() {
        facts.memberships.to_vec()
    } else {
        rules
            .chain_ids
            .iter()
            .filter_map(|c| facts.memberships.iter().find(|m| m.chain_id == *c))
            .copied()
            .collect()
    };
    let with_role: Vec<Membership> = in_chains
        .iter()
        .filter(|m| rules.member_roles.is_empty() || rules.member_roles.contains(&m.role))
        .copied()
        .collect();
    if !rules.chain_ids.is_empty() && in_chains.is_empty() {
        let names: Vec<String> = rules
            .chain_ids
            .iter()
            .map(|c| chain_label(facts.chain_names, *c))
            .collect();
        reasons.push(format!("非{}成员", names.join("、")));
    } else if !rules.member_roles.is_empty() && with_role.is_empty() {
        if in_chains.is_empty() {
            reasons.push(format!(
                "未加入产业链，须为{}",
                roles_text(&rules.member_roles)
            ));
        } else {
            let m = in_chains[0];
            reasons.push(format!(
                "在{}中为{}，须为{}",
                chain_label(facts.chain_names, m.chain_id),
                m.role.label_zh(),
                roles_text(&rules.member_roles)
            ));
        }
    } else if let Some(m) = with_role.first()
        && (!rules.chain_ids.is_empty() || !rules.member_roles.is_empty())
    {
        basis.push(format!(
            "{}{}",
            chain_label(facts.chain_names, m.chain_id),
            m.role.label_zh()
        ));
    }

    for kind in &rules.qualifications_all {
        match qualification_problem(facts, *kind) {
            Some(r) => reasons.push(r),
            None => basis.push(format!("具备{}资格", qualification_name(*kind))),
        }
    }
    if !rules.qualifications_any.is_empty() {
        let problems: Vec<(QualificationKind, Option<String>)> = rules
            .qualifications_any
            .iter()
            .map(|k| (*k, qualification_problem(facts, *k)))
            .collect();
        match problems.iter().find(|(_, p)| p.is_none()) {
            Some((k, _)) => basis.push(format!("具备{}资格", qualification_name(*k))),
            None => {
                let names: Vec<&str> = rules
                    .qualifications_any
                    .iter()
                    .map(|k| qualification_name(*k))
                    .collect();
                reasons.push(format!("须具备以下资格之一：{}", names.join("、")));
                // A lapsed or future qualification says when, which a missing one cannot.
                reasons.extend(
                    problems
                        .into_iter()
                        .filter_map(|(_, p)| p)
                        .filter(|p| !p.starts_with('无')),
                );
            }
        }
    }

    Verdict {
        eligible: reasons.is_empty(),
        reasons,
        basis,
        chain_id: with_role.first().map(|m| m.chain_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn reasons_name_the_chain_and_the_lapsed_qualification() {
        let ship = Uuid::from_u128(1);
        let chip = Uuid::from_u128(2);
        let names = HashMap::from([
            (ship, "船舶海工".to_string()),
            (chip, "集成电路产业链".into()),
        ]);
        let rules = Rules {
            chain_ids: vec![ship],
            qualifications_all: vec![QualificationKind::SpecializedSme],
            ..Rules::default()
        };
        let quals = [Held {
            kind: QualificationKind::SpecializedSme,
            valid_from: d("2023-04-01"),
            valid_until: Some(d("2026-03-31")),
        }];
        let members = [Membership {
            chain_id: chip,
            role: MemberRole::Core,
        }];
        let v = decide(
            &rules,
            &Facts {
                verified: true,
                memberships: &members,
                qualifications: &quals,
                today: d("2026-04-01"),
                chain_names: &names,
            },
        );
        assert!(!v.eligible);
        assert_eq!(
            v.reasons,
            vec!["非船舶海工产业链成员", "专精特新资格已于2026-03-31到期"]
        );
        // On its last day the qualification still counts.
        let v = decide(
            &Rules {
                chain_ids: vec![chip],
                ..rules.clone()
            },
            &Facts {
                verified: true,
                memberships: &members,
                qualifications: &quals,
                today: d("2026-03-31"),
                chain_names: &names,
            },
        );
        assert!(v.eligible, "{:?}", v.reasons);
        assert_eq!(v.chain_id, Some(chip));
        assert!(v.basis.contains(&"集成电路产业链核心企业".to_string()));
    }

    #[test]
    fn roles_any_qualification_and_verification() {
        let chain = Uuid::from_u128(7);
        let names = HashMap::from([(chain, "新能源汽车".to_string())]);
        let rules = Rules {
            member_roles: vec![MemberRole::ChainLeaderEnterprise, MemberRole::Core],
            qualifications_any: vec![QualificationKind::HighTech, QualificationKind::LittleGiant],
            ..Rules::default()
        };
        let members = [Membership {
            chain_id: chain,
            role: MemberRole::Supporting,
        }];
        let v = decide(
            &rules,
            &Facts {
                verified: false,
                memberships: &members,
                qualifications: &[],
                today: d("2026-06-01"),
                chain_names: &names,
            },
        );
        assert_eq!(
            v.reasons,
            vec![
                "企业尚未完成认证",
                "在新能源汽车产业链中为配套企业，须为链主企业或核心企业",
                "须具备以下资格之一：高新技术企业、专精特新“小巨人”",
            ]
        );
        assert_eq!(v.chain_id, None);
        let quals = [Held {
            kind: QualificationKind::LittleGiant,
            valid_from: d("2026-01-01"),
            valid_until: None,
        }];
        let core = [Membership {
            chain_id: chain,
            role: MemberRole::Core,
        }];
        let v = decide(
            &rules,
            &Facts {
                verified: true,
                memberships: &core,
                qualifications: &quals,
                today: d("2026-06-01"),
                chain_names: &names,
            },
        );
        assert!(v.eligible);
        assert!(v.reasons.is_empty());
    }

    #[test]
    fn no_rules_means_every_verified_enterprise() {
        let names = HashMap::new();
        let facts = Facts {
            verified: true,
            memberships: &[],
            qualifications: &[],
            today: d("2026-06-01"),
            chain_names: &names,
        };
        assert!(decide(&Rules::default(), &facts).eligible);
    }
}
