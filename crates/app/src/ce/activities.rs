//! Continuing-education activities (CED-3, seed 004 art. 15, 16 and 19).

use guild_domain::ce::{EVIDENCE_REF_MAX, EVIDENCE_REFS_MAX};
use guild_domain::error::FieldError;
use guild_store::DbConn;
use guild_store::ce_activities::CeActivityRow;

use crate::ctx::Caller;
use crate::error::{AppError, AppResult};

/// Reads a stored JSON list of evidence references.
pub fn evidence_of(table: &'static str, json: &str) -> AppResult<Vec<String>> {
    serde_json::from_str(json)
        .map_err(|e| AppError::Internal(format!("corrupt evidence in {table}: {e}")))
}

/// Checks a list of evidence references (CED-3): at most
/// [`EVIDENCE_REFS_MAX`], each 1 to [`EVIDENCE_REF_MAX`] characters; returns
/// them trimmed. Problems name `field[i]`.
pub fn check_evidence(field: &str, refs: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut problems = Vec::new();
    if refs.len() > EVIDENCE_REFS_MAX {
        problems.push(FieldError::new(
            field,
            "too_many_evidence_refs",
            format!("at most {EVIDENCE_REFS_MAX} evidence references"),
        ));
    }
    let mut out = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let r = r.trim();
        if r.is_empty() || r.chars().count() > EVIDENCE_REF_MAX || r.chars().any(char::is_control) {
            problems.push(FieldError::new(
                format!("{field}[{i}]"),
                "evidence_ref_format",
                format!(
                    "an evidence reference has 1 to {EVIDENCE_REF_MAX} characters, no control characters"
                ),
            ));
        }
        out.push(r.to_owned());
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Loads an activity the caller may see, or 404 exactly like an unknown id
/// (ACC-2): its recording organisation, association staff and the authority.
pub fn visible(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<CeActivityRow> {
    guild_store::ce_activities::find(conn, id)?
        .filter(|a| caller.can_see_organisation(Some(&a.organisation_id)))
        .ok_or(AppError::NotFound("activity"))
}
