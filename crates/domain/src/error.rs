//! Error values produced by the business rules (mapped to RFC 9457 problems by
//! the API layer, API-2).

use std::fmt;

/// A business rule refused a request (API-2: stable `code` plus the rule ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Stable machine-readable code, e.g. `organisation_not_approved`.
    pub code: &'static str,
    /// ID of the SPEC rule that refused the request, e.g. `PPL-4`.
    pub rule: Option<&'static str>,
    /// Human-readable explanation.
    pub detail: String,
}

impl Refusal {
    /// Creates a refusal, optionally tied to a SPEC rule.
    pub fn new(code: &'static str, rule: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            code,
            rule,
            detail: detail.into(),
        }
    }

    /// Creates a refusal by the SPEC rule `rule_id`.
    pub fn rule(rule_id: &'static str, code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(code, Some(rule_id), detail)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rule {
            Some(rule) => write!(f, "{} [{rule}]: {}", self.code, self.detail),
            None => write!(f, "{}: {}", self.code, self.detail),
        }
    }
}

impl std::error::Error for Refusal {}

/// An action is not allowed in the entity's current state (API-4: 409 with the
/// allowed actions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTransition {
    /// Entity kind, e.g. `organisation`.
    pub entity: &'static str,
    /// Wire name of the current state.
    pub from: &'static str,
    /// Wire name of the refused action.
    pub action: &'static str,
    /// Wire names of the actions allowed from `from` (may be empty).
    pub allowed: Vec<&'static str>,
    /// ID of the SPEC rule defining the state machine, if any.
    pub rule: Option<&'static str>,
}

impl fmt::Display for InvalidTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {} in state {}",
            self.action, self.entity, self.from
        )?;
        if self.allowed.is_empty() {
            write!(f, "; no actions are allowed in this state")
        } else {
            write!(f, "; allowed actions: {}", self.allowed.join(", "))
        }
    }
}

impl std::error::Error for InvalidTransition {}

/// Validation failure of a single input field (API-2 per-field details).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Name of the offending field, e.g. `id_number`.
    pub field: String,
    /// Stable machine-readable code, e.g. `id_number_check_digit`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// Creates a field error.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// A string is not the wire name of any variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; expected one of: {}", expected.join(", "))]
pub struct UnknownValue {
    /// Name of the enum kind, e.g. `role`.
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
    /// All accepted wire names.
    pub expected: &'static [&'static str],
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_display_names_rule_and_code() {
        // rule API-2: stable code plus rule ID
        let r = Refusal::rule("PPL-4", "organisation_not_approved", "pending");
        assert_eq!(r.rule, Some("PPL-4"));
        assert_eq!(r.to_string(), "organisation_not_approved [PPL-4]: pending");
        let r = Refusal::new("x", None, "y");
        assert_eq!(r.to_string(), "x: y");
    }

    #[test]
    fn invalid_transition_display_lists_allowed_actions() {
        // rule API-4: wrong state answers with the allowed actions
        let mut e = InvalidTransition {
            entity: "organisation",
            from: "approved",
            action: "approve",
            allowed: vec!["suspend"],
            rule: Some("PPL-4"),
        };
        assert_eq!(
            e.to_string(),
            "cannot approve organisation in state approved; allowed actions: suspend"
        );
        e.allowed.clear();
        assert!(
            e.to_string()
                .ends_with("no actions are allowed in this state")
        );
    }

    #[test]
    fn field_and_unknown_value_display() {
        let f = FieldError::new("phone", "phone_format", "bad");
        assert_eq!(f.to_string(), "phone: bad");
        let u = UnknownValue {
            kind: "role",
            value: "root".into(),
            expected: &["admin", "teacher"],
        };
        assert_eq!(
            u.to_string(),
            "unknown role `root`; expected one of: admin, teacher"
        );
    }
}
