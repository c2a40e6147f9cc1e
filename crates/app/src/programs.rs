//! Training programs (PRG-1): fees in integer fen, exam components, the
//! certificate they lead to and its validity; `active` ⇄ `retired`.
//!
//! Programs are association data: every authenticated role may read them
//! (organisation users pick programs when they enrol people); training staff
//! define and change them.

use chrono::{DateTime, Utc};
use guild_domain::program::{
    ExamComponents, PracticalPart, ProgramAction, ProgramSpec, ProgramStatus, TheoryMode,
    TheoryPart, TheorySpec, program_transition,
};
pub use guild_domain::roles::PROGRAM_MANAGERS;
use guild_domain::{Fen, TraineeCategory};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::programs::{ProgramFilter, ProgramRow};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ctx::Ctx;
use crate::error::{AppError, AppResult, Taken, stored};
use crate::events::{Event, EventKind, kinds as ev};
use crate::ids::stored_id;
use crate::inputs::check_version;
use crate::{Page, PageRequest};

/// A training program (培训项目, PRG-1).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgramView {
    /// The program id.
    pub id: Uuid,
    /// Unique code: 2 to 32 characters of `A-Z`, `0-9`, `-`.
    #[cfg_attr(feature = "openapi", schema(example = "GAS-SAFETY-MGR"))]
    pub code: String,
    /// Name of the program.
    pub name: String,
    /// What the program covers.
    pub description: Option<String>,
    /// The trainee categories the program is for (PPL-2); never empty.
    pub target_categories: Vec<TraineeCategory>,
    /// Training fee in fen (integer, 1/100 CNY).
    pub training_fee_fen: Fen,
    /// Exam fee in fen (integer, 1/100 CNY); also the fee of a retake of a
    /// `skill_level` program (EXM-4).
    pub exam_fee_fen: Fen,
    /// The exam's parts with their pass marks (EXM-1).
    pub exam: ExamComponents,
    /// A skill-level program has no free retake: a retake carries the exam fee
    /// (EXM-4). Stored here; applied when exams are built.
    pub skill_level: bool,
    /// The certificate the program leads to.
    pub certificate_name: String,
    /// How many years the certificate is valid (CRT-1); 3 unless set.
    pub validity_years: i32,
    /// `active`, or `retired` when no longer offered.
    pub status: ProgramStatus,
    /// Optimistic-concurrency version (send as `If-Match`).
    pub version: i32,
    /// When the program was defined.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn stored_mark(value: Option<i32>) -> AppResult<Option<u8>> {
    value
        .map(|m| {
            u8::try_from(m)
                .map_err(|_| AppError::Internal(format!("corrupt row in programs: pass mark {m}")))
        })
        .transpose()
}

/// The exam parts of a stored program with their pass marks (EXM-1).
pub fn exam_of(r: &ProgramRow) -> AppResult<ExamComponents> {
    let theory = match (r.theory_mode.as_deref(), stored_mark(r.theory_pass_mark)?) {
        (Some(mode), Some(pass_mark)) => Some(TheoryPart {
            mode: stored::<TheoryMode>("programs", mode)?,
            pass_mark,
        }),
        _ => None,
    };
    let practical =
        stored_mark(r.practical_pass_mark)?.map(|pass_mark| PracticalPart { pass_mark });
    Ok(ExamComponents { theory, practical })
}

impl TryFrom<ProgramRow> for ProgramView {
    type Error = AppError;
    fn try_from(r: ProgramRow) -> AppResult<Self> {
        let target_categories: Vec<TraineeCategory> = serde_json::from_str(&r.target_categories)
            .map_err(|e| {
                AppError::Internal(format!("corrupt target_categories in programs: {e}"))
            })?;
        let exam = exam_of(&r)?;
        Ok(ProgramView {
            id: stored_id("programs", &r.id)?,
            code: r.code,
            name: r.name,
            description: r.description,
            target_categories,
            training_fee_fen: Fen::from_stored(r.training_fee_fen),
            exam_fee_fen: Fen::from_stored(r.exam_fee_fen),
            exam,
            skill_level: r.skill_level,
            certificate_name: r.certificate_name,
            validity_years: r.validity_years,
            status: stored("programs", &r.status)?,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

impl ProgramView {
    /// The program as a submission, to apply a partial update and validate the result.
    fn to_spec(&self) -> ProgramSpec {
        ProgramSpec {
            code: self.code.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            target_categories: self.target_categories.clone(),
            training_fee_fen: self.training_fee_fen.get(),
            exam_fee_fen: self.exam_fee_fen.get(),
            theory: self.exam.theory.map(|t| TheorySpec {
                mode: t.mode,
                pass_mark: i64::from(t.pass_mark),
            }),
            practical_pass_mark: self.exam.practical.map(|p| i64::from(p.pass_mark)),
            skill_level: self.skill_level,
            certificate_name: self.certificate_name.clone(),
            validity_years: Some(i64::from(self.validity_years)),
        }
    }
}

/// The theory part of an exam.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TheoryInput {
    /// Open-book or closed-book.
    pub mode: TheoryMode,
    /// The lowest passing mark, 0 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 60))]
    pub pass_mark: i64,
}

/// The practical part of an exam.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PracticalInput {
    /// The lowest passing mark, 0 to 100.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100, example = 60))]
    pub pass_mark: i64,
}

/// The exam's parts: theory, practical or both (at least one).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExamInput {
    /// The theory part, if the exam has one.
    pub theory: Option<TheoryInput>,
    /// The practical part, if the exam has one.
    pub practical: Option<PracticalInput>,
}

impl ExamInput {
    fn theory_spec(&self) -> Option<TheorySpec> {
        self.theory.as_ref().map(|t| TheorySpec {
            mode: t.mode,
            pass_mark: t.pass_mark,
        })
    }
    fn practical_mark(&self) -> Option<i64> {
        self.practical.as_ref().map(|p| p.pass_mark)
    }
}

/// A new program (created `active`).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "code": "GAS-SAFETY-MGR",
    "name": "Safety management for gas enterprises",
    "target_categories": ["principal_head", "safety_manager"],
    "training_fee_fen": 120000,
    "exam_fee_fen": 30000,
    "exam": {"theory": {"mode": "closed_book", "pass_mark": 60}, "practical": {"pass_mark": 60}},
    "skill_level": false,
    "certificate_name": "Gas enterprise safety manager certificate",
    "validity_years": 3
})))]
pub struct CreateProgram {
    /// Unique code: 2 to 32 characters of `A-Z`, `0-9`, `-`; lower case is upper-cased.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 2, max_length = 32, pattern = "^[A-Za-z0-9-]{2,32}$")
    )]
    pub code: String,
    /// Name, 2 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 128))]
    pub name: String,
    /// Description, up to 4000 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub description: Option<String>,
    /// Trainee categories the program is for: at least one, no repeats.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub target_categories: Vec<TraineeCategory>,
    /// Training fee in integer fen (1/100 CNY).
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 10_000_000_000_i64, example = 120000)
    )]
    pub training_fee_fen: i64,
    /// Exam fee in integer fen (1/100 CNY).
    #[cfg_attr(
        feature = "openapi",
        schema(minimum = 0, maximum = 10_000_000_000_i64, example = 30000)
    )]
    pub exam_fee_fen: i64,
    /// Exam components: theory and/or practical.
    pub exam: ExamInput,
    /// Skill-level program: no free retake (EXM-4). Default `false`.
    #[serde(default)]
    pub skill_level: bool,
    /// The certificate the program leads to, 1 to 128 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub certificate_name: String,
    /// Certificate validity in years, 1 to 10 (default 3).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10, default = 3))]
    pub validity_years: Option<i64>,
}

impl CreateProgram {
    fn into_spec(self) -> ProgramSpec {
        ProgramSpec {
            theory: self.exam.theory_spec(),
            practical_pass_mark: self.exam.practical_mark(),
            code: self.code,
            name: self.name,
            description: self.description,
            target_categories: self.target_categories,
            training_fee_fen: self.training_fee_fen,
            exam_fee_fen: self.exam_fee_fen,
            skill_level: self.skill_level,
            certificate_name: self.certificate_name,
            validity_years: self.validity_years,
        }
    }
}

/// Changes to a program; omitted fields stay as they are. `exam`, when given,
/// replaces both parts; an empty `description` clears it.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateProgram {
    /// Unique code.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 2, max_length = 32, pattern = "^[A-Za-z0-9-]{2,32}$")
    )]
    pub code: Option<String>,
    /// Name.
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 128))]
    pub name: Option<String>,
    /// Description; `""` clears it.
    #[cfg_attr(feature = "openapi", schema(max_length = 4000))]
    pub description: Option<String>,
    /// Trainee categories.
    #[cfg_attr(feature = "openapi", schema(min_items = 1))]
    pub target_categories: Option<Vec<TraineeCategory>>,
    /// Training fee in integer fen. Applies to enrolments confirmed after the change.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10_000_000_000_i64))]
    pub training_fee_fen: Option<i64>,
    /// Exam fee in integer fen. Applies to enrolments confirmed after the change.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10_000_000_000_i64))]
    pub exam_fee_fen: Option<i64>,
    /// Exam components (replaces both parts).
    pub exam: Option<ExamInput>,
    /// Skill-level program (EXM-4).
    pub skill_level: Option<bool>,
    /// Certificate name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub certificate_name: Option<String>,
    /// Certificate validity in years, 1 to 10.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub validity_years: Option<i64>,
}

impl UpdateProgram {
    fn apply_to(self, mut spec: ProgramSpec) -> ProgramSpec {
        if let Some(v) = self.code {
            spec.code = v;
        }
        if let Some(v) = self.name {
            spec.name = v;
        }
        if let Some(v) = self.description {
            spec.description = Some(v);
        }
        if let Some(v) = self.target_categories {
            spec.target_categories = v;
        }
        if let Some(v) = self.training_fee_fen {
            spec.training_fee_fen = v;
        }
        if let Some(v) = self.exam_fee_fen {
            spec.exam_fee_fen = v;
        }
        if let Some(exam) = self.exam {
            spec.theory = exam.theory_spec();
            spec.practical_pass_mark = exam.practical_mark();
        }
        if let Some(v) = self.skill_level {
            spec.skill_level = v;
        }
        if let Some(v) = self.certificate_name {
            spec.certificate_name = v;
        }
        if let Some(v) = self.validity_years {
            spec.validity_years = Some(v);
        }
        spec
    }
}

/// The filters of the program list.
#[derive(Debug, Clone, Default)]
pub struct ListPrograms {
    /// Only this status.
    pub status: Option<ProgramStatus>,
    /// Only skill-level (`true`) or other (`false`) programs.
    pub skill_level: Option<bool>,
    /// Name contains this text (case-insensitive).
    pub name: Option<String>,
}

/// Validates a program submission, reporting every bad field at once in field
/// order (PRG-1), and fills `row` with the result.
fn apply_spec(spec: &ProgramSpec, row: &mut ProgramRow) -> AppResult<()> {
    let program = spec.validate().map_err(|mut errors| {
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        AppError::Invalid(errors)
    })?;
    let categories: Vec<&str> = program
        .target_categories
        .iter()
        .map(|c| c.as_str())
        .collect();
    row.code = program.code.into_string();
    row.name = program.name;
    row.description = program.description;
    row.target_categories = serde_json::to_string(&categories)
        .map_err(|e| AppError::Internal(format!("cannot encode target categories: {e}")))?;
    row.training_fee_fen = program.training_fee.get();
    row.exam_fee_fen = program.exam_fee.get();
    row.theory_mode = program.exam.theory.map(|t| t.mode.as_str().to_owned());
    row.theory_pass_mark = program.exam.theory.map(|t| i32::from(t.pass_mark));
    row.practical_pass_mark = program.exam.practical.map(|p| i32::from(p.pass_mark));
    row.skill_level = program.skill_level;
    row.certificate_name = program.certificate_name;
    row.validity_years = i32::from(program.validity_years);
    Ok(())
}

fn code_taken() -> AppError {
    AppError::Exists("a program with this code already exists".to_owned())
}

/// Loads a program or 404. Programs are association data every role may read.
fn find(conn: &mut DbConn, id: Uuid) -> AppResult<ProgramRow> {
    guild_store::programs::find(conn, &id.to_string())?.ok_or(AppError::NotFound("program"))
}

impl crate::events::Record for ProgramView {
    const ENTITY: &'static str = "program";
    fn entity_id(&self) -> Uuid {
        self.id
    }
    fn organisation(&self) -> Option<Uuid> {
        None
    }
}

/// Lists programs, oldest first (every authenticated role).
pub fn list(
    _ctx: &Ctx,
    conn: &mut DbConn,
    q: ListPrograms,
    page: PageRequest,
) -> AppResult<Page<ProgramView>> {
    let filter = ProgramFilter {
        status: q.status.map(|s| s.as_str().to_owned()),
        skill_level: q.skill_level,
        name_contains: q.name,
    };
    guild_store::programs::list(conn, &filter, page.after.as_deref(), page.limit)?
        .try_map(ProgramView::try_from)
}

/// Reads one program (every authenticated role).
pub fn get(_ctx: &Ctx, conn: &mut DbConn, id: Uuid) -> AppResult<ProgramView> {
    ProgramView::try_from(find(conn, id)?)
}

/// Defines a program (PRG-1), `active`. Every invalid field is reported at
/// once; the certificate validity defaults to 3 years; the code is unique
/// (409 `already_exists`).
pub fn create(ctx: &Ctx, conn: &mut DbConn, body: CreateProgram) -> AppResult<ProgramView> {
    let now = ctx.now.naive_utc();
    let mut row = ProgramRow {
        id: Uuid::now_v7().to_string(),
        code: String::new(),
        name: String::new(),
        description: None,
        target_categories: String::new(),
        training_fee_fen: 0,
        exam_fee_fen: 0,
        theory_mode: None,
        theory_pass_mark: None,
        practical_pass_mark: None,
        skill_level: false,
        certificate_name: String::new(),
        validity_years: 0,
        status: ProgramStatus::Active.as_str().to_owned(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    apply_spec(&body.into_spec(), &mut row)?;
    if guild_store::programs::find_by_code(conn, &row.code)?.is_some() {
        return Err(code_taken());
    }
    guild_store::programs::insert(conn, &row).or_taken(code_taken)?;
    let after = ProgramView::try_from(row)?;
    ctx.emit(conn, Event::change(ev::PROGRAM_CREATED, None, &after)?)?;
    Ok(after)
}

/// Changes a program. Honours `If-Match` (API-5). The whole result is
/// validated again and every invalid field reported at once (PRG-1). Fee
/// changes apply to enrolments confirmed afterwards.
pub fn update(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    expected_version: Option<i32>,
    body: UpdateProgram,
) -> AppResult<ProgramView> {
    guild_store::locks::lock_row(conn, Locked::Programs, &id.to_string())?;
    let mut row = find(conn, id)?;
    check_version(expected_version, row.version)?;
    let before = ProgramView::try_from(row.clone())?;
    let spec = body.apply_to(before.to_spec());
    apply_spec(&spec, &mut row)?;
    if row.code != before.code && guild_store::programs::find_by_code(conn, &row.code)?.is_some() {
        return Err(code_taken());
    }
    save(ctx, conn, ev::PROGRAM_UPDATED, row, before)
}

/// Bumps the version, writes the row and emits the change.
fn save(
    ctx: &Ctx,
    conn: &mut DbConn,
    kind: EventKind,
    mut row: ProgramRow,
    before: ProgramView,
) -> AppResult<ProgramView> {
    guild_store::programs::update(conn, &mut row, ctx.now.naive_utc()).or_taken(code_taken)?;
    let after = ProgramView::try_from(row)?;
    ctx.emit(conn, Event::change(kind, Some(&before), &after)?)?;
    Ok(after)
}

/// Retires an active program or offers a retired one again (PRG-1). A
/// retired program stays readable, but new classes and plan items cannot use
/// it; existing classes and certificates are unaffected.
pub fn transition(
    ctx: &Ctx,
    conn: &mut DbConn,
    id: Uuid,
    action: ProgramAction,
) -> AppResult<ProgramView> {
    let mut row = find(conn, id)?;
    let before = ProgramView::try_from(row.clone())?;
    let next = program_transition(before.status, action)?;
    row.status = next.as_str().to_owned();
    let kind = match action {
        ProgramAction::Retire => ev::PROGRAM_RETIRED,
        ProgramAction::Reinstate => ev::PROGRAM_REINSTATED,
    };
    save(ctx, conn, kind, row, before)
}
