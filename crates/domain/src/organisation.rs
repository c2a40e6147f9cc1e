//! Organisations, their registration and their account changes
//! (PPL-4, ACC-3, ACC-4).

use serde::{Deserialize, Serialize};

use crate::error::{FieldError, InvalidTransition, Refusal};
use crate::person::validate_name;
use crate::role::Role;
use crate::wire::{StateMachine, wire_enum};

wire_enum! {
    /// Kind of organisation (PPL-4).
    pub enum OrgKind("org_kind") {
        /// Member company of the association (会员单位).
        MemberCompany => "member_company",
        /// Gas user organisation (e.g. a restaurant or factory).
        GasUser => "gas_user",
        /// Continuing-education provider (继续教育基地).
        Provider => "provider",
        /// Any other organisation.
        Other => "other",
    }
}

wire_enum! {
    /// Registration status of an organisation (PPL-4).
    pub enum OrgStatus("org_status") {
        /// Registered, awaiting approval by an association officer.
        Pending => "pending",
        /// Approved; its accounts may act.
        Approved => "approved",
        /// Registration refused.
        Rejected => "rejected",
        /// Temporarily suspended.
        Suspended => "suspended",
    }
}

wire_enum! {
    /// Action on an organisation's registration (PPL-4).
    pub enum OrgAction("org_action") {
        /// Approve a pending registration.
        Approve => "approve",
        /// Reject a pending registration.
        Reject => "reject",
        /// Suspend an approved organisation.
        Suspend => "suspend",
        /// Reinstate a suspended organisation.
        Reinstate => "reinstate",
    }
}

const ORG_MACHINE: StateMachine<OrgStatus, OrgAction> = StateMachine {
    entity: "organisation",
    rule: Some("PPL-4"),
    edges: &[
        (OrgStatus::Pending, OrgAction::Approve, OrgStatus::Approved),
        (OrgStatus::Pending, OrgAction::Reject, OrgStatus::Rejected),
        (
            OrgStatus::Approved,
            OrgAction::Suspend,
            OrgStatus::Suspended,
        ),
        (
            OrgStatus::Suspended,
            OrgAction::Reinstate,
            OrgStatus::Approved,
        ),
    ],
};

/// Applies `action` to an organisation in status `from` (PPL-4): pending →
/// approved/rejected, approved ⇄ suspended.
pub fn org_transition(from: OrgStatus, action: OrgAction) -> Result<OrgStatus, InvalidTransition> {
    ORG_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on an organisation in status `from` (PPL-4).
pub fn org_allowed_actions(from: OrgStatus) -> Vec<&'static str> {
    ORG_MACHINE.allowed(from)
}

/// Users can only be attached to, or act for, an approved organisation (PPL-4).
pub fn org_accepts_accounts(status: OrgStatus) -> Result<(), Refusal> {
    if status == OrgStatus::Approved {
        Ok(())
    } else {
        Err(Refusal::rule(
            "PPL-4",
            "organisation_not_approved",
            format!(
                "the organisation is {status}; only an approved organisation can have active accounts"
            ),
        ))
    }
}

/// Characters of the unified social credit code, in value order (GB 32100-2015;
/// no I, O, S, V, Z).
const CREDIT_CODE_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// GB 32100-2015 weights of the first 17 characters.
const CREDIT_CODE_WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A validated unified social credit code (统一社会信用代码, GB 32100-2015).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parses a credit code: trimmed, upper-cased, 18 characters of the
    /// GB 32100 charset with a valid MOD 31 check character (PPL-4).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        let values: Option<Vec<usize>> = code.bytes().map(credit_code_value).collect();
        let values = match values {
            Some(v) if v.len() == 18 => v,
            _ => {
                return Err(FieldError::new(
                    "credit_code",
                    "credit_code_format",
                    "a unified social credit code has 18 digits or capital letters (no I, O, S, V, Z)",
                ));
            }
        };
        let sum: usize = values
            .iter()
            .zip(CREDIT_CODE_WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        if values[17] != (31 - sum % 31) % 31 {
            return Err(FieldError::new(
                "credit_code",
                "credit_code_check_digit",
                "the check character of the credit code does not match; please re-check the code",
            ));
        }
        Ok(Self(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the value, returning the code.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Value of a credit code character (its index in the charset).
fn credit_code_value(b: u8) -> Option<usize> {
    CREDIT_CODE_CHARSET.iter().position(|&c| c == b)
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = FieldError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CreditCode> for String {
    fn from(code: CreditCode) -> Self {
        code.0
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Validates an organisation name (PPL-4): trimmed, 2–128 characters, no
/// control characters (field `name`, code `name_format`).
pub fn validate_org_name(raw: &str) -> Result<String, FieldError> {
    validate_name(
        raw,
        2,
        128,
        "the organisation name must have 2 to 128 characters",
    )
}

wire_enum! {
    /// Status of an organisation's account change request (ACC-4, 变更函).
    pub enum AccountChangeStatus("account_change_status") {
        /// Filed by the organisation, awaiting an association officer.
        Submitted => "submitted",
        /// Approved; the new account is active.
        Approved => "approved",
        /// Rejected.
        Rejected => "rejected",
    }
}

wire_enum! {
    /// Action on an account change request (ACC-4).
    pub enum AccountChangeAction("account_change_action") {
        /// Approve the change and activate the new account.
        Approve => "approve",
        /// Reject the change.
        Reject => "reject",
    }
}

const ACCOUNT_CHANGE_MACHINE: StateMachine<AccountChangeStatus, AccountChangeAction> =
    StateMachine {
        entity: "account_change",
        rule: Some("ACC-4"),
        edges: &[
            (
                AccountChangeStatus::Submitted,
                AccountChangeAction::Approve,
                AccountChangeStatus::Approved,
            ),
            (
                AccountChangeStatus::Submitted,
                AccountChangeAction::Reject,
                AccountChangeStatus::Rejected,
            ),
        ],
    };

/// Applies `action` to an account change request (ACC-4): only a submitted
/// request can be approved or rejected.
pub fn account_change_transition(
    from: AccountChangeStatus,
    action: AccountChangeAction,
) -> Result<AccountChangeStatus, InvalidTransition> {
    ACCOUNT_CHANGE_MACHINE.apply(from, action)
}

/// Wire names of the actions allowed on an account change request in status
/// `from` (ACC-4).
pub fn account_change_allowed_actions(from: AccountChangeStatus) -> Vec<&'static str> {
    ACCOUNT_CHANGE_MACHINE.allowed(from)
}

/// Only filler and reviewer accounts can be requested through an account
/// change (ACC-3, ACC-4).
pub fn check_org_account_role(role: Role) -> Result<(), Refusal> {
    if role.is_org_account() {
        Ok(())
    } else {
        Err(Refusal::rule(
            "ACC-3",
            "account_change_role",
            format!(
                "an account change can only request an org_filler or org_reviewer account, not {role}"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testing::{assert_machine, assert_wire_enums};

    #[test]
    fn organisation_enums_wire_names() {
        assert_wire_enums!(
            OrgKind,
            OrgStatus,
            OrgAction,
            AccountChangeStatus,
            AccountChangeAction
        );
        // rule PPL-4: the four organisation kinds
        assert_eq!(
            OrgKind::WIRE_NAMES,
            ["member_company", "gas_user", "provider", "other"]
        );
    }

    #[test]
    fn org_state_machine_ppl_4() {
        // rule PPL-4: every (status, action) pair
        use OrgAction::*;
        use OrgStatus::*;
        assert_machine(
            OrgStatus::ALL,
            OrgAction::ALL,
            &[
                (Pending, Approve, Approved),
                (Pending, Reject, Rejected),
                (Approved, Suspend, Suspended),
                (Suspended, Reinstate, Approved),
            ],
            org_transition,
            org_allowed_actions,
            "organisation",
            Some("PPL-4"),
        );
        assert_eq!(org_allowed_actions(Pending), ["approve", "reject"]);
        assert!(org_allowed_actions(Rejected).is_empty());
        let err = org_transition(Approved, Approve).unwrap_err();
        assert_eq!((err.from, err.action), ("approved", "approve"));
        assert_eq!(err.allowed, ["suspend"]);
    }

    #[test]
    fn org_accepts_accounts_only_when_approved_ppl_4() {
        // rule PPL-4
        assert!(org_accepts_accounts(OrgStatus::Approved).is_ok());
        for s in [
            OrgStatus::Pending,
            OrgStatus::Rejected,
            OrgStatus::Suspended,
        ] {
            let r = org_accepts_accounts(s).unwrap_err();
            assert_eq!(
                (r.code, r.rule),
                ("organisation_not_approved", Some("PPL-4"))
            );
            assert!(r.detail.contains(s.as_str()));
        }
    }

    #[test]
    fn credit_code_valid_ppl_4() {
        // rule PPL-4 (check characters verified independently)
        let c = CreditCode::parse(" 91350100m000100y43 ").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y43");
        assert_eq!(c.to_string(), "91350100M000100Y43");
        // a code whose weighted sum is a multiple of 31 has check character 0
        assert!(CreditCode::parse("000000000000000000").is_ok());
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"91350100M000100Y43\"");
        assert_eq!(serde_json::from_str::<CreditCode>(&json).unwrap(), c);
        assert_eq!(String::from(c), "91350100M000100Y43");
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn credit_code_schema_is_a_string() {
        let schema = serde_json::to_value(<CreditCode as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string", "{schema}");
    }

    #[test]
    fn credit_code_invalid_ppl_4() {
        // rule PPL-4
        for bad in [
            "",
            "91350100M000100Y4",
            "91350100M000100Y433",
            "91350100M000100I43", // I is not in the charset
            "91350100M000100Y4O",
            "91350100M000100Y4-",
            "91350100M000100Ｙ43",
        ] {
            let e = CreditCode::parse(bad).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.code),
                ("credit_code", "credit_code_format"),
                "{bad}"
            );
        }
        for bad in [
            "91350100M000100Y44",
            "91350100M000100Y40",
            "91350100M000101Y43",
        ] {
            let e = CreditCode::parse(bad).unwrap_err();
            assert_eq!(e.code, "credit_code_check_digit", "{bad}");
        }
        assert!(serde_json::from_str::<CreditCode>("\"91350100M000100Y44\"").is_err());
    }

    #[test]
    fn org_names_ppl_4() {
        // rule PPL-4
        assert_eq!(
            validate_org_name(" 深圳市燃气集团 ").unwrap(),
            "深圳市燃气集团"
        );
        assert_eq!(validate_org_name("燃气").unwrap(), "燃气");
        assert!(validate_org_name(&"企".repeat(128)).is_ok());
        for bad in ["", " 燃 ", "燃\t气公司"] {
            assert_eq!(
                validate_org_name(bad).unwrap_err().code,
                "name_format",
                "{bad:?}"
            );
        }
        assert!(validate_org_name(&"企".repeat(129)).is_err());
    }

    #[test]
    fn account_change_state_machine_acc_4() {
        // rule ACC-4: only a submitted request can be decided
        use AccountChangeAction::*;
        use AccountChangeStatus::*;
        assert_machine(
            AccountChangeStatus::ALL,
            AccountChangeAction::ALL,
            &[
                (Submitted, Approve, Approved),
                (Submitted, Reject, Rejected),
            ],
            account_change_transition,
            account_change_allowed_actions,
            "account_change",
            Some("ACC-4"),
        );
        assert_eq!(
            account_change_allowed_actions(Submitted),
            ["approve", "reject"]
        );
        assert!(
            account_change_transition(Approved, Reject)
                .unwrap_err()
                .allowed
                .is_empty()
        );
    }

    #[test]
    fn account_change_role_acc_3() {
        // rule ACC-3: only filler and reviewer accounts
        for &role in Role::ALL {
            let result = check_org_account_role(role);
            if matches!(role, Role::OrgFiller | Role::OrgReviewer) {
                assert!(result.is_ok(), "{role}");
            } else {
                let r = result.unwrap_err();
                assert_eq!(
                    (r.code, r.rule),
                    ("account_change_role", Some("ACC-3")),
                    "{role}"
                );
            }
        }
    }
}
