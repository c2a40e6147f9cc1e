//! The public view of the annual training plans (PLN-1): the latest published
//! version of each year's plan, with that year's classes. Drafts never appear.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use guild_domain::plan::{PlanItem, PlanStatus};
use guild_store::DbConn;
use guild_store::plans::{PlanRow, PlanVersionRow, PublicClassRow};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{AppError, AppResult, stored};
use crate::ids::stored_id;
use crate::{Page, PageRequest};

use super::records::stored_items;

/// A published plan in the public list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicPlanSummary {
    /// The year.
    pub year: i32,
    /// Title of the latest version.
    pub title: String,
    /// Number of the latest published version.
    pub version: i32,
    /// When the plan was first published.
    pub published_at: DateTime<Utc>,
    /// When the latest amendment was published; `null` while version 1 is current.
    pub amended_at: Option<DateTime<Utc>>,
}

/// One line of a published plan, with its program's code and name.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicPlanItem {
    /// The program.
    pub program_id: Uuid,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// Classes planned for the year.
    pub planned_classes: u8,
    /// Months the classes are planned in (empty when not yet scheduled).
    pub months: Vec<u8>,
    /// A note.
    pub note: Option<String>,
}

/// A class of the plan's year as the public sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicClass {
    /// The class id.
    pub id: Uuid,
    /// The class code.
    pub code: String,
    /// The class title.
    pub title: String,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Where the class is held.
    pub place: String,
    /// Seats.
    pub capacity: i32,
    /// The class status (CLS-1), e.g. `planned`, `open`, `cancelled`.
    #[cfg_attr(feature = "openapi", schema(example = "open"))]
    pub status: String,
}

impl TryFrom<PublicClassRow> for PublicClass {
    type Error = AppError;
    fn try_from(r: PublicClassRow) -> AppResult<Self> {
        Ok(PublicClass {
            id: stored_id("classes", &r.id)?,
            code: r.code,
            title: r.title,
            program_code: r.program_code,
            program_name: r.program_name,
            start_date: r.start_date,
            end_date: r.end_date,
            place: r.place,
            capacity: r.capacity,
            status: r.status,
        })
    }
}

/// The latest published version of a year's plan with that year's classes.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicPlan {
    /// The year.
    pub year: i32,
    /// Title.
    pub title: String,
    /// Notes.
    pub notes: Option<String>,
    /// Number of this (the latest) version.
    pub version: i32,
    /// What the latest amendment changed; `null` for version 1.
    pub change_note: Option<String>,
    /// When the plan was first published.
    pub published_at: DateTime<Utc>,
    /// When this version was published by an amendment; `null` for version 1.
    pub amended_at: Option<DateTime<Utc>>,
    /// The planned programs.
    pub items: Vec<PublicPlanItem>,
    /// Every class of the year, by start date, in all statuses: cancelled classes
    /// stay listed with status `cancelled` so the public sees the change.
    pub classes: Vec<PublicClass>,
}

fn amended_at(version: &PlanVersionRow) -> Option<DateTime<Utc>> {
    (version.number > 1).then(|| version.published_at.and_utc())
}

fn first_published(plan: &PlanRow, version: &PlanVersionRow) -> DateTime<Utc> {
    plan.published_at.unwrap_or(version.published_at).and_utc()
}

/// Published plans with their latest version, newest year first (public).
pub fn list(conn: &mut DbConn, page: PageRequest) -> AppResult<Page<PublicPlanSummary>> {
    let rows = guild_store::plans::list_published(
        conn,
        PlanStatus::Published.as_str(),
        page.after.as_deref(),
        page.limit,
    )?;
    rows.try_map(|(plan, version)| {
        Ok(PublicPlanSummary {
            year: plan.year,
            published_at: first_published(&plan, &version),
            amended_at: amended_at(&version),
            title: version.title,
            version: version.number,
        })
    })
}

/// The items of a published version with their programs' code and name; a
/// program the plan names that is missing is corrupt data.
fn public_items(
    conn: &mut DbConn,
    plan: &PlanRow,
    items: Vec<PlanItem>,
) -> AppResult<Vec<PublicPlanItem>> {
    let ids: Vec<String> = items.iter().map(|i| i.program_id.to_string()).collect();
    let programs: HashMap<String, (String, String)> = guild_store::programs::find_many(conn, &ids)?
        .into_iter()
        .map(|p| (p.id, (p.code, p.name)))
        .collect();
    items
        .into_iter()
        .map(|i| {
            let (code, name) = programs
                .get(&i.program_id.to_string())
                .cloned()
                .ok_or_else(|| {
                    AppError::Internal(format!(
                        "plan {} names a missing program {}",
                        plan.id, i.program_id
                    ))
                })?;
            Ok(PublicPlanItem {
                program_id: i.program_id,
                program_code: code,
                program_name: name,
                planned_classes: i.planned_classes,
                months: i.months,
                note: i.note,
            })
        })
        .collect()
}

/// The latest published version of a year's plan with every class of the
/// year by start date, cancelled ones included (PLN-1). An unknown year or
/// a plan that is still a draft is 404.
pub fn get(conn: &mut DbConn, year: i32) -> AppResult<PublicPlan> {
    let not_found = || AppError::NotFound("published plan");
    let plan = guild_store::plans::find_by_year(conn, year)?.ok_or_else(not_found)?;
    if stored::<PlanStatus>("plans", &plan.status)? != PlanStatus::Published {
        return Err(not_found());
    }
    let version = guild_store::plans::find_version(conn, &plan.id, plan.latest_version)?
        .ok_or_else(not_found)?;
    let items = stored_items("plan_versions", &version.items_json)?;
    let items = public_items(conn, &plan, items)?;
    let classes = guild_store::plans::classes_of_year(conn, year)?
        .into_iter()
        .map(PublicClass::try_from)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(PublicPlan {
        year: plan.year,
        published_at: first_published(&plan, &version),
        amended_at: amended_at(&version),
        title: version.title,
        notes: version.notes,
        version: version.number,
        change_note: version.change_note,
        items,
        classes,
    })
}
