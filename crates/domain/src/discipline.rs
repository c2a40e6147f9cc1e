//! Exam discipline: offences, sanctions and bans (DSC-1 to DSC-5), and the
//! public misconduct register (不良行为专栏, DSC-3; later also CRT-7).
//!
//! [`decide`] is the whole rule book of seed 000 §6(3)4(2): from the offence
//! and the earlier sanctions of the same registration in the same sitting it
//! answers the outcome, the rule applied, whether the score becomes zero, the
//! ban to impose, whether the employer is notified and whether the case is
//! listed publicly.

use chrono::{Datelike, NaiveDate};

use crate::ban::BanScope;
use crate::error::{InvalidTransition, Refusal};
use crate::wire::{StateMachine, wire_enum};

wire_enum! {
    /// What an examinee did (DSC-1 to DSC-3).
    pub enum Offence("offence") {
        /// Copying, looking at another's paper, letting others copy, using a
        /// phone or a recording device (DSC-1, 抄袭、偷看、提供他人抄袭、使用通讯工具或录音设备).
        Cheating => "cheating",
        /// Sitting the exam for someone else or having someone sit it (DSC-2, 替考、代考).
        Impersonation => "impersonation",
        /// Violating the exam rules with a bad attitude, threatening
        /// invigilators (DSC-3, 态度恶劣、威胁监考人员).
        SeriousMisconduct => "serious_misconduct",
    }
}

wire_enum! {
    /// The sanction decided for an offence.
    pub enum Outcome("sanction_outcome") {
        /// A first cheating offence in the sitting (DSC-1).
        Warning => "warning",
        /// A second cheating offence in the sitting: disqualified, score zero (DSC-1).
        Disqualification => "disqualification",
        /// Impersonation: disqualified, score zero, one-year program ban (DSC-2).
        DisqualificationWithBan => "disqualification_with_ban",
        /// Serious misconduct: disqualified, score zero, employer notified,
        /// listed publicly, three-year ban from everything (DSC-3).
        SeriousMisconductBan => "serious_misconduct_ban",
    }
}

impl Outcome {
    /// Whether this outcome disqualifies the examinee from the sitting with score zero.
    pub const fn disqualifies(self) -> bool {
        !matches!(self, Self::Warning)
    }
}

wire_enum! {
    /// Where a sanction stands (DSC-5).
    pub enum SanctionStatus("sanction_status") {
        /// In force.
        Active => "active",
        /// Withdrawn by a training head with a reason (DSC-5).
        Withdrawn => "withdrawn",
    }
}

wire_enum! {
    /// Action on a sanction.
    pub enum SanctionAction("sanction_action") {
        /// Withdraw the sanction with a reason (DSC-5: training head only).
        Withdraw => "withdraw",
    }
}

const SANCTION_MACHINE: StateMachine<SanctionStatus, SanctionAction> = StateMachine {
    entity: "sanction",
    rule: Some("DSC-5"),
    edges: &[(
        SanctionStatus::Active,
        SanctionAction::Withdraw,
        SanctionStatus::Withdrawn,
    )],
};

/// Applies `action` to a sanction in `from` (DSC-5): only an active sanction
/// can be withdrawn, once.
pub fn sanction_transition(
    from: SanctionStatus,
    action: SanctionAction,
) -> Result<SanctionStatus, InvalidTransition> {
    SANCTION_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on a sanction in `status`.
pub fn sanction_allowed_actions(status: SanctionStatus) -> Vec<&'static str> {
    SANCTION_MACHINE.allowed(status)
}

wire_enum! {
    /// What an entry of the public misconduct register is about. Exam
    /// discipline lists serious misconduct (DSC-3); forgery reports list
    /// forged or fake certificates (CRT-7).
    pub enum RegisterOffence("register_offence") {
        /// Serious misconduct in an exam (DSC-3).
        SeriousMisconduct => "serious_misconduct",
        /// A forged certificate was made or a fake one used (伪造或使用假证, CRT-7).
        CertificateForgery => "certificate_forgery",
    }
}

wire_enum! {
    /// Where an entry of the public misconduct register stands (DSC-5).
    pub enum RegisterEntryStatus("register_entry_status") {
        /// Listed.
        Listed => "listed",
        /// The sanction behind it was withdrawn; the entry stays on the
        /// register marked withdrawn, with the reason (DSC-5).
        Withdrawn => "withdrawn",
    }
}

/// An earlier sanction of the same registration in the same sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorSanction {
    /// What it was for.
    pub offence: Offence,
    /// What was decided.
    pub outcome: Outcome,
    /// Whether a training head withdrew it (a withdrawn sanction counts for nothing).
    pub withdrawn: bool,
}

/// A ban to impose with a sanction (DSC-2, DSC-3, DSC-4). The program of a
/// `program` ban is the sitting's program, filled in by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BanTerms {
    /// `program` (DSC-2) or `all` (DSC-3).
    pub scope: BanScope,
    /// First day, inclusive: the day the sanction is decided.
    pub starts_on: NaiveDate,
    /// Last day, inclusive: the day before the anniversary.
    pub ends_on: NaiveDate,
}

/// What the rules decide for an offence (DSC-1 to DSC-3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The outcome.
    pub outcome: Outcome,
    /// The rule applied (DSC-5 records it on the sanction).
    pub rule: &'static str,
    /// Whether the examinee is disqualified from the sitting with score zero.
    pub score_zero: bool,
    /// The ban to impose, if any.
    pub ban: Option<BanTerms>,
    /// Whether the employer organisation is notified (DSC-3).
    pub notify_employer: bool,
    /// Whether the case is listed in the public misconduct register (DSC-3).
    pub list_publicly: bool,
}

/// The last day of a period of `years` years starting on `start`: the day
/// before the same date `years` later. The anniversary of 29 February in a
/// common year is 1 March, so the period always covers whole years (365 or
/// 366 days each).
pub fn last_day_of_years(start: NaiveDate, years: u32) -> NaiveDate {
    let year = start.year() + i32::try_from(years).unwrap_or(i32::MAX - start.year());
    let anniversary = NaiveDate::from_ymd_opt(year, start.month(), start.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .unwrap_or(NaiveDate::MAX);
    anniversary.pred_opt().unwrap_or(anniversary)
}

/// How long an impersonator is banned from the program (DSC-2).
pub const IMPERSONATION_BAN_YEARS: u32 = 1;
/// How long serious misconduct bans from everything (DSC-3).
pub const SERIOUS_MISCONDUCT_BAN_YEARS: u32 = 3;

/// Decides the sanction for `offence` (DSC-1 to DSC-3) recorded on `today`
/// (the association's local date), given the earlier sanctions of the same
/// registration in the same sitting.
///
/// - DSC-1: the first cheating offence in a sitting is a warning; the second
///   (counting only cheating sanctions that were not withdrawn) disqualifies
///   with score zero. A later one disqualifies again.
/// - DSC-2: impersonation disqualifies at once with score zero and bans the
///   offender from this program for one year: from `today` to the day before
///   the same date next year.
/// - DSC-3: serious misconduct notifies the employer, lists the case publicly
///   and bans the offender from all association training and exams for three
///   years from `today`. The ban covers the sitting in progress, so the
///   examinee is disqualified from it with score zero too.
pub fn decide(
    offence: Offence,
    prior_in_same_sitting: &[PriorSanction],
    today: NaiveDate,
) -> Decision {
    match offence {
        Offence::Cheating => {
            let earlier = prior_in_same_sitting
                .iter()
                .filter(|p| !p.withdrawn && p.offence == Offence::Cheating)
                .count();
            let outcome = if earlier == 0 {
                Outcome::Warning
            } else {
                Outcome::Disqualification
            };
            Decision {
                outcome,
                rule: "DSC-1",
                score_zero: outcome.disqualifies(),
                ban: None,
                notify_employer: false,
                list_publicly: false,
            }
        }
        Offence::Impersonation => Decision {
            outcome: Outcome::DisqualificationWithBan,
            rule: "DSC-2",
            score_zero: true,
            ban: Some(BanTerms {
                scope: BanScope::Program,
                starts_on: today,
                ends_on: last_day_of_years(today, IMPERSONATION_BAN_YEARS),
            }),
            notify_employer: false,
            list_publicly: false,
        },
        Offence::SeriousMisconduct => Decision {
            outcome: Outcome::SeriousMisconductBan,
            rule: "DSC-3",
            score_zero: true,
            ban: Some(BanTerms {
                scope: BanScope::All,
                starts_on: today,
                ends_on: last_day_of_years(today, SERIOUS_MISCONDUCT_BAN_YEARS),
            }),
            notify_employer: true,
            list_publicly: true,
        },
    }
}

/// The one-line summary of a decision, as the register and notifications show it.
pub fn summary(decision: &Decision) -> String {
    let mut text = match decision.outcome {
        Outcome::Warning => "Warning".to_owned(),
        _ => "Disqualified from the exam sitting, score recorded as zero".to_owned(),
    };
    if let Some(ban) = decision.ban {
        let scope = match ban.scope {
            BanScope::Program => "this program's training and exams",
            BanScope::All => "all association training and exams",
        };
        text.push_str(&format!(
            "; banned from {scope} from {} to {}",
            ban.starts_on.format("%Y-%m-%d"),
            ban.ends_on.format("%Y-%m-%d")
        ));
    }
    text.push_str(&format!(" ({})", decision.rule));
    text
}

/// A sanction of the same registration, as the withdrawal check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaterSanction {
    /// Its outcome.
    pub outcome: Outcome,
    /// What it was for.
    pub offence: Offence,
    /// Whether it is withdrawn already.
    pub withdrawn: bool,
}

/// DSC-1, DSC-5: a cheating warning cannot be withdrawn while a later active
/// cheating disqualification of the same registration counted it; withdraw
/// the disqualification first (409). Any other sanction can be withdrawn.
pub fn check_withdrawable(
    offence: Offence,
    outcome: Outcome,
    later_in_same_sitting: &[LaterSanction],
) -> Result<(), Refusal> {
    let relied_on = offence == Offence::Cheating
        && outcome == Outcome::Warning
        && later_in_same_sitting.iter().any(|l| {
            !l.withdrawn && l.offence == Offence::Cheating && l.outcome == Outcome::Disqualification
        });
    if relied_on {
        Err(Refusal::rule(
            "DSC-1",
            "warning_relied_on",
            "a later cheating disqualification in the same sitting counted this warning; withdraw that disqualification first",
        ))
    } else {
        Ok(())
    }
}

/// DSC-5: after a disqualifying sanction is withdrawn, the registration goes
/// back to `registered` only when no other active sanction of it disqualifies.
/// Its scores are cleared and must be entered again.
pub fn lifts_disqualification(withdrawn: Outcome, others_still_active: &[Outcome]) -> bool {
    withdrawn.disqualifies() && !others_still_active.iter().any(|o| o.disqualifies())
}

/// The scores recorded for a disqualified examinee (DSC-1 to DSC-3): zero for
/// each part the program's exam has, nothing for a part it does not have.
pub fn zero_scores(has_theory: bool, has_practical: bool) -> (Option<u8>, Option<u8>) {
    (has_theory.then_some(0), has_practical.then_some(0))
}

/// What the employer organisation is told of an employee's serious misconduct
/// (DSC-3, 通报送培单位): title and body of the `misconduct_notice` notification.
pub fn employer_notice(
    person_name: &str,
    sitting: &str,
    held_on: NaiveDate,
    summary: &str,
) -> (String, String) {
    (
        format!("Exam misconduct: {person_name}"),
        format!(
            "{person_name}, sent by your organisation, was sanctioned for serious misconduct at the exam sitting of {sitting} on {}: {summary}. The case is listed in the association's public misconduct register.",
            held_on.format("%Y-%m-%d")
        ),
    )
}

/// What the employer organisation is told when that sanction is withdrawn (DSC-5).
pub fn employer_withdrawal_notice(person_name: &str, reason: &str) -> (String, String) {
    (
        format!("Exam misconduct sanction withdrawn: {person_name}"),
        format!(
            "The association withdrew the misconduct sanction of {person_name}; the public register shows it as withdrawn. Reason: {reason}"
        ),
    )
}

/// The public notice of a withdrawn listed sanction (DSC-5: the withdrawal is
/// public where the listing was). Names the person only partly masked, as the
/// register does; never an ID number.
pub fn withdrawal_notice(
    masked_name: &str,
    organisation: Option<&str>,
    summary: &str,
    reason: &str,
) -> crate::notice::NoticeText {
    let who = match organisation {
        Some(org) => format!("{masked_name} ({org})"),
        None => masked_name.to_owned(),
    };
    crate::notice::NoticeText {
        title: format!("Misconduct listing withdrawn: {who}"),
        body: format!(
            "The association withdrew the sanction listed in its misconduct register against {who} ({summary}). Reason: {reason}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn prior(offence: Offence, outcome: Outcome, withdrawn: bool) -> PriorSanction {
        PriorSanction {
            offence,
            outcome,
            withdrawn,
        }
    }

    #[test]
    fn wire_names() {
        assert_wire_enums!(
            Offence,
            Outcome,
            SanctionStatus,
            SanctionAction,
            RegisterOffence,
            RegisterEntryStatus
        );
    }

    #[test]
    fn first_cheating_is_a_warning_the_second_disqualifies_dsc_1() {
        // rule DSC-1
        let today = d(2026, 4, 8);
        let first = decide(Offence::Cheating, &[], today);
        assert_eq!(first.outcome, Outcome::Warning);
        assert_eq!(first.rule, "DSC-1");
        assert!(!first.score_zero);
        assert_eq!(first.ban, None);
        assert!(!first.notify_employer && !first.list_publicly);
        let second = decide(
            Offence::Cheating,
            &[prior(Offence::Cheating, Outcome::Warning, false)],
            today,
        );
        assert_eq!(second.outcome, Outcome::Disqualification);
        assert_eq!(second.rule, "DSC-1");
        assert!(second.score_zero);
        assert_eq!(second.ban, None);
        assert!(!second.notify_employer && !second.list_publicly);
        let third = decide(
            Offence::Cheating,
            &[
                prior(Offence::Cheating, Outcome::Warning, false),
                prior(Offence::Cheating, Outcome::Disqualification, false),
            ],
            today,
        );
        assert_eq!(third.outcome, Outcome::Disqualification);
    }

    #[test]
    fn a_withdrawn_warning_does_not_count_dsc_1_dsc_5() {
        // rule DSC-1, DSC-5
        let again = decide(
            Offence::Cheating,
            &[prior(Offence::Cheating, Outcome::Warning, true)],
            d(2026, 4, 8),
        );
        assert_eq!(again.outcome, Outcome::Warning);
    }

    #[test]
    fn other_offences_do_not_count_as_a_cheating_warning_dsc_1() {
        // rule DSC-1: only cheating counts towards the second cheating offence
        let after = decide(
            Offence::Cheating,
            &[prior(
                Offence::SeriousMisconduct,
                Outcome::SeriousMisconductBan,
                false,
            )],
            d(2026, 4, 8),
        );
        assert_eq!(after.outcome, Outcome::Warning);
    }

    #[test]
    fn impersonation_disqualifies_and_bans_from_the_program_for_a_year_dsc_2() {
        // rule DSC-2
        let dec = decide(Offence::Impersonation, &[], d(2026, 4, 8));
        assert_eq!(dec.outcome, Outcome::DisqualificationWithBan);
        assert_eq!(dec.rule, "DSC-2");
        assert!(dec.score_zero);
        assert_eq!(
            dec.ban,
            Some(BanTerms {
                scope: BanScope::Program,
                starts_on: d(2026, 4, 8),
                ends_on: d(2027, 4, 7),
            })
        );
        assert!(!dec.notify_employer && !dec.list_publicly);
        // history does not soften it
        let again = decide(
            Offence::Impersonation,
            &[prior(Offence::Cheating, Outcome::Warning, false)],
            d(2026, 4, 8),
        );
        assert_eq!(again.outcome, Outcome::DisqualificationWithBan);
    }

    #[test]
    fn serious_misconduct_notifies_lists_and_bans_everything_for_three_years_dsc_3() {
        // rule DSC-3
        let dec = decide(Offence::SeriousMisconduct, &[], d(2026, 4, 8));
        assert_eq!(dec.outcome, Outcome::SeriousMisconductBan);
        assert_eq!(dec.rule, "DSC-3");
        assert!(dec.score_zero);
        assert!(dec.notify_employer);
        assert!(dec.list_publicly);
        assert_eq!(
            dec.ban,
            Some(BanTerms {
                scope: BanScope::All,
                starts_on: d(2026, 4, 8),
                ends_on: d(2029, 4, 7),
            })
        );
    }

    #[test]
    fn ban_periods_cover_whole_years_dsc_4() {
        // rule DSC-4: start and end, inclusive
        assert_eq!(last_day_of_years(d(2026, 1, 1), 1), d(2026, 12, 31));
        assert_eq!(last_day_of_years(d(2026, 3, 1), 1), d(2027, 2, 28));
        assert_eq!(last_day_of_years(d(2027, 3, 1), 1), d(2028, 2, 29));
        // 29 February: the anniversary in a common year is 1 March
        assert_eq!(last_day_of_years(d(2028, 2, 29), 1), d(2029, 2, 28));
        assert_eq!(last_day_of_years(d(2028, 2, 29), 4), d(2032, 2, 28));
        assert_eq!(last_day_of_years(d(2026, 4, 8), 3), d(2029, 4, 7));
    }

    #[test]
    fn summaries_name_the_outcome_the_ban_and_the_rule() {
        let today = d(2026, 4, 8);
        assert_eq!(
            summary(&decide(Offence::Cheating, &[], today)),
            "Warning (DSC-1)"
        );
        assert_eq!(
            summary(&decide(Offence::SeriousMisconduct, &[], today)),
            "Disqualified from the exam sitting, score recorded as zero; banned from all association training and exams from 2026-04-08 to 2029-04-07 (DSC-3)"
        );
        assert!(summary(&decide(Offence::Impersonation, &[], today)).contains("this program's"));
    }

    #[test]
    fn disqualified_parts_score_zero_dsc_1() {
        // rule DSC-1: score recorded as zero for each part the exam has
        assert_eq!(zero_scores(true, true), (Some(0), Some(0)));
        assert_eq!(zero_scores(true, false), (Some(0), None));
        assert_eq!(zero_scores(false, true), (None, Some(0)));
    }

    #[test]
    fn notices_name_the_person_and_never_more_dsc_3_dsc_5() {
        // rule DSC-3, DSC-5
        let (title, body) = employer_notice("张小三", "GAS-1", d(2026, 4, 8), "Warning (DSC-1)");
        assert!(title.contains("张小三"));
        assert!(body.contains("2026-04-08") && body.contains("public misconduct register"));
        let n = withdrawal_notice("张*三", Some("Acme Gas"), "S", "wrong person");
        assert!(n.title.contains("张*三 (Acme Gas)"));
        assert!(n.body.ends_with("Reason: wrong person"));
        let (_, body) = employer_withdrawal_notice("张小三", "video review");
        assert!(body.contains("video review"));
    }

    #[test]
    fn withdrawal_machine_dsc_5() {
        // rule DSC-5
        assert_machine(
            SanctionStatus::ALL,
            SanctionAction::ALL,
            SANCTION_MACHINE.edges,
            sanction_transition,
            sanction_allowed_actions,
            "sanction",
            Some("DSC-5"),
        );
    }

    #[test]
    fn a_warning_counted_by_a_later_disqualification_stays_dsc_1_dsc_5() {
        // rule DSC-1, DSC-5
        let later = |withdrawn| LaterSanction {
            offence: Offence::Cheating,
            outcome: Outcome::Disqualification,
            withdrawn,
        };
        let r =
            check_withdrawable(Offence::Cheating, Outcome::Warning, &[later(false)]).unwrap_err();
        assert_eq!((r.code, r.rule), ("warning_relied_on", Some("DSC-1")));
        assert!(check_withdrawable(Offence::Cheating, Outcome::Warning, &[later(true)]).is_ok());
        assert!(check_withdrawable(Offence::Cheating, Outcome::Warning, &[]).is_ok());
        assert!(
            check_withdrawable(
                Offence::Cheating,
                Outcome::Disqualification,
                &[later(false)]
            )
            .is_ok()
        );
    }

    #[test]
    fn disqualification_is_lifted_only_without_another_dsc_5() {
        // rule DSC-5
        assert!(lifts_disqualification(Outcome::Disqualification, &[]));
        assert!(lifts_disqualification(
            Outcome::DisqualificationWithBan,
            &[Outcome::Warning]
        ));
        assert!(!lifts_disqualification(
            Outcome::Disqualification,
            &[Outcome::SeriousMisconductBan]
        ));
        assert!(!lifts_disqualification(Outcome::Warning, &[]));
    }
}
