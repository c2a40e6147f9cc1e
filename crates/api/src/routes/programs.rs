//! Training programs (PRG-1): fees in integer fen, exam components, the
//! certificate they lead to and its validity; `active` ⇄ `retired`.
//!
//! Programs are association data: every authenticated role may read them
//! (organisation users pick programs when they enrol people); training staff
//! define and change them.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use guild_domain::program::{
    ExamComponents, PracticalPart, ProgramAction, ProgramSpec, ProgramStatus, TheoryMode,
    TheoryPart, TheorySpec, program_transition,
};
use guild_domain::{Fen, Role, TraineeCategory};
use guild_store::DbConn;
use guild_store::locks::Locked;
use guild_store::programs::{ProgramFilter, ProgramRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::audit::{self, Actor, Change};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, FieldProblem};
use crate::extract::{IfMatch, PageParams, Paged, RequestContext, etag, parse_stored};
use crate::openapi::{ActionErrors, CreateErrors, ListErrors, ReadErrors, UpdateErrors};
use crate::routes::users::stored_uuid;
use crate::state::AppState;

/// Association roles that define programs and change them (PRG-1).
pub const PROGRAM_MANAGERS: &[Role] = &[Role::Admin, Role::TrainingOfficer, Role::TrainingHead];

/// A training program (培训项目, PRG-1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgramView {
    /// The program id.
    pub id: Uuid,
    /// Unique code: 2 to 32 characters of `A-Z`, `0-9`, `-`.
    #[schema(example = "GAS-SAFETY-MGR")]
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

fn stored_mark(value: Option<i32>) -> ApiResult<Option<u8>> {
    value
        .map(|m| {
            u8::try_from(m)
                .map_err(|_| ApiError::Internal(format!("corrupt row in programs: pass mark {m}")))
        })
        .transpose()
}

impl TryFrom<ProgramRow> for ProgramView {
    type Error = ApiError;
    fn try_from(r: ProgramRow) -> ApiResult<Self> {
        let target_categories: Vec<TraineeCategory> = serde_json::from_str(&r.target_categories)
            .map_err(|e| {
                ApiError::Internal(format!("corrupt target_categories in programs: {e}"))
            })?;
        let theory = match (r.theory_mode.as_deref(), stored_mark(r.theory_pass_mark)?) {
            (Some(mode), Some(pass_mark)) => Some(TheoryPart {
                mode: parse_stored::<TheoryMode>("programs", mode)?,
                pass_mark,
            }),
            _ => None,
        };
        let practical =
            stored_mark(r.practical_pass_mark)?.map(|pass_mark| PracticalPart { pass_mark });
        Ok(ProgramView {
            id: stored_uuid("programs", &r.id)?,
            code: r.code,
            name: r.name,
            description: r.description,
            target_categories,
            training_fee_fen: Fen::from_stored(r.training_fee_fen),
            exam_fee_fen: Fen::from_stored(r.exam_fee_fen),
            exam: ExamComponents { theory, practical },
            skill_level: r.skill_level,
            certificate_name: r.certificate_name,
            validity_years: r.validity_years,
            status: parse_stored("programs", &r.status)?,
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
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TheoryInput {
    /// Open-book or closed-book.
    pub mode: TheoryMode,
    /// The lowest passing mark, 0 to 100.
    #[schema(minimum = 0, maximum = 100, example = 60)]
    pub pass_mark: i64,
}

/// The practical part of an exam.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticalInput {
    /// The lowest passing mark, 0 to 100.
    #[schema(minimum = 0, maximum = 100, example = 60)]
    pub pass_mark: i64,
}

/// The exam's parts: theory, practical or both (at least one).
#[derive(Debug, Clone, Deserialize, ToSchema)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "code": "GAS-SAFETY-MGR",
    "name": "Safety management for gas enterprises",
    "target_categories": ["principal_head", "safety_manager"],
    "training_fee_fen": 120000,
    "exam_fee_fen": 30000,
    "exam": {"theory": {"mode": "closed_book", "pass_mark": 60}, "practical": {"pass_mark": 60}},
    "skill_level": false,
    "certificate_name": "Gas enterprise safety manager certificate",
    "validity_years": 3
}))]
pub struct CreateProgram {
    /// Unique code: 2 to 32 characters of `A-Z`, `0-9`, `-`; lower case is upper-cased.
    #[schema(min_length = 2, max_length = 32, pattern = "^[A-Za-z0-9-]{2,32}$")]
    pub code: String,
    /// Name, 2 to 128 characters.
    #[schema(min_length = 2, max_length = 128)]
    pub name: String,
    /// Description, up to 4000 characters.
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Trainee categories the program is for: at least one, no repeats.
    #[schema(min_items = 1)]
    pub target_categories: Vec<TraineeCategory>,
    /// Training fee in integer fen (1/100 CNY).
    #[schema(minimum = 0, maximum = 10_000_000_000_i64, example = 120000)]
    pub training_fee_fen: i64,
    /// Exam fee in integer fen (1/100 CNY).
    #[schema(minimum = 0, maximum = 10_000_000_000_i64, example = 30000)]
    pub exam_fee_fen: i64,
    /// Exam components: theory and/or practical.
    pub exam: ExamInput,
    /// Skill-level program: no free retake (EXM-4). Default `false`.
    #[serde(default)]
    pub skill_level: bool,
    /// The certificate the program leads to, 1 to 128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub certificate_name: String,
    /// Certificate validity in years, 1 to 10 (default 3).
    #[schema(minimum = 1, maximum = 10, default = 3)]
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProgram {
    /// Unique code.
    #[schema(min_length = 2, max_length = 32, pattern = "^[A-Za-z0-9-]{2,32}$")]
    pub code: Option<String>,
    /// Name.
    #[schema(min_length = 2, max_length = 128)]
    pub name: Option<String>,
    /// Description; `""` clears it.
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Trainee categories.
    #[schema(min_items = 1)]
    pub target_categories: Option<Vec<TraineeCategory>>,
    /// Training fee in integer fen. Applies to enrolments confirmed after the change.
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    pub training_fee_fen: Option<i64>,
    /// Exam fee in integer fen. Applies to enrolments confirmed after the change.
    #[schema(minimum = 0, maximum = 10_000_000_000_i64)]
    pub exam_fee_fen: Option<i64>,
    /// Exam components (replaces both parts).
    pub exam: Option<ExamInput>,
    /// Skill-level program (EXM-4).
    pub skill_level: Option<bool>,
    /// Certificate name.
    #[schema(min_length = 1, max_length = 128)]
    pub certificate_name: Option<String>,
    /// Certificate validity in years, 1 to 10.
    #[schema(minimum = 1, maximum = 10)]
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

/// Filters for the program list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProgramQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this status.
    pub status: Option<ProgramStatus>,
    /// Only skill-level (`true`) or other (`false`) programs.
    pub skill_level: Option<bool>,
    /// Name contains this text (case-insensitive).
    pub name: Option<String>,
}

/// Validates a program submission, reporting every bad field at once (PRG-1),
/// and fills `row` with the result.
fn apply_spec(spec: &ProgramSpec, row: &mut ProgramRow) -> ApiResult<()> {
    let program = spec.validate().map_err(|errors| {
        let mut problems: Vec<FieldProblem> = errors.into_iter().map(Into::into).collect();
        problems.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(problems)
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
        .map_err(|e| ApiError::Internal(format!("cannot encode target categories: {e}")))?;
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

fn code_taken() -> ApiError {
    ApiError::exists("a program with this code already exists")
}

/// Loads a program or 404. Programs are association data every role may read.
pub fn find_program(conn: &mut DbConn, id: &Uuid) -> ApiResult<ProgramRow> {
    guild_store::programs::find(conn, &id.to_string())?
        .ok_or_else(|| ApiError::not_found("program"))
}

/// List programs (every authenticated role), oldest first.
#[utoipa::path(
    operation_id = "list_programs",
    tag = "programs",
    params(ProgramQuery),
    responses((status = 200, description = "OK", body = Paged<ProgramView>), ListErrors)
)]
#[get("/programs")]
pub async fn list(
    state: web::Data<AppState>,
    _user: AuthUser,
    q: web::Query<ProgramQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let page = PageParams::parse(q.limit, q.cursor.as_deref())?;
    let filter = ProgramFilter {
        status: q.status.map(|s| s.as_str().to_owned()),
        skill_level: q.skill_level,
        name_contains: q.name,
    };
    let rows = state
        .run(move |s| {
            s.store.read(|c| {
                Ok(guild_store::programs::list(
                    c,
                    &filter,
                    page.after.as_deref(),
                    page.limit,
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paged::try_from_page(rows, ProgramView::try_from)?))
}

/// Define a program (PRG-1).
///
/// Every invalid field is reported at once; the certificate validity defaults
/// to 3 years.
#[utoipa::path(
    operation_id = "create_program",
    tag = "programs",
    request_body = CreateProgram,
    responses((status = 201, description = "Created", body = ProgramView), CreateErrors)
)]
#[post("/programs")]
pub async fn create(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    body: web::Json<CreateProgram>,
) -> ApiResult<HttpResponse> {
    user.require(PROGRAM_MANAGERS)?;
    let spec = body.into_inner().into_spec();
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
        created_at: DateTime::UNIX_EPOCH.naive_utc(),
        updated_at: DateTime::UNIX_EPOCH.naive_utc(),
    };
    apply_spec(&spec, &mut row)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            row.created_at = now.naive_utc();
            row.updated_at = now.naive_utc();
            s.store.write(|c| {
                if guild_store::programs::find_by_code(c, &row.code)?.is_some() {
                    return Err(code_taken());
                }
                guild_store::programs::insert(c, &row).map_err(|e| {
                    if e.is_unique_violation() {
                        code_taken()
                    } else {
                        e.into()
                    }
                })?;
                let view = ProgramView::try_from(row.clone())?;
                audit::record::<(), _>(
                    c,
                    &Actor::new(&user, &ctx, now),
                    Change {
                        action: "program.create",
                        entity_type: "program",
                        entity_id: &row.id,
                        organisation_id: None,
                        before: None,
                        after: Some(&view),
                    },
                )?;
                Ok(view)
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/programs/{}", view.id)))
        .insert_header(etag(view.version))
        .json(view))
}

/// Read one program (every authenticated role).
#[utoipa::path(
    operation_id = "get_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "OK", body = ProgramView), ReadErrors)
)]
#[get("/programs/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state
        .run(move |s| s.store.read(|c| find_program(c, &id)))
        .await?;
    let view = ProgramView::try_from(row)?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Change a program (training staff).
///
/// Honours `If-Match` (API-5). The whole result is validated again and every invalid field reported at once (PRG-1).
/// Fee changes apply to enrolments confirmed afterwards: an enrolment's charges
/// are taken from the program when it is confirmed and are not recalculated.
#[utoipa::path(
    operation_id = "update_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id"), ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = UpdateProgram,
    responses((status = 200, description = "OK", body = ProgramView), UpdateErrors)
)]
#[patch("/programs/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: web::Json<UpdateProgram>,
) -> ApiResult<HttpResponse> {
    user.require(PROGRAM_MANAGERS)?;
    let id = id.into_inner();
    let body = body.into_inner();
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                guild_store::locks::lock_row(c, Locked::Programs, &id.to_string())?;
                let mut row = find_program(c, &id)?;
                if_match.check(row.version)?;
                let before = ProgramView::try_from(row.clone())?;
                let spec = body.apply_to(before.to_spec());
                apply_spec(&spec, &mut row)?;
                if row.code != before.code
                    && guild_store::programs::find_by_code(c, &row.code)?.is_some()
                {
                    return Err(code_taken());
                }
                save(c, &user, &ctx, now, "program.update", row, before)
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Bumps the version, writes the row and audits the change.
fn save(
    c: &mut DbConn,
    user: &AuthUser,
    ctx: &RequestContext,
    now: DateTime<Utc>,
    action: &str,
    mut row: ProgramRow,
    before: ProgramView,
) -> ApiResult<ProgramView> {
    guild_store::programs::update(c, &mut row, now.naive_utc()).map_err(|e| {
        if e.is_unique_violation() {
            code_taken()
        } else {
            e.into()
        }
    })?;
    let after = ProgramView::try_from(row)?;
    let id = after.id.to_string();
    audit::record(
        c,
        &Actor::new(user, ctx, now),
        Change {
            action,
            entity_type: "program",
            entity_id: &id,
            organisation_id: None,
            before: Some(&before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

async fn transition(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: Uuid,
    action: ProgramAction,
) -> ApiResult<HttpResponse> {
    user.require(PROGRAM_MANAGERS)?;
    let view = state
        .run(move |s| {
            let now = s.clock.now();
            s.store.write(|c| {
                let mut row = find_program(c, &id)?;
                let before = ProgramView::try_from(row.clone())?;
                let next = program_transition(before.status, action)?;
                row.status = next.as_str().to_owned();
                save(
                    c,
                    &user,
                    &ctx,
                    now,
                    &format!("program.{action}"),
                    row,
                    before,
                )
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(view.version))
        .json(view))
}

/// Retire an active program (PRG-1).
///
/// It stays readable, but new classes and plan items cannot use it. Existing classes and certificates are unaffected.
#[utoipa::path(
    operation_id = "retire_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "Retired", body = ProgramView), ActionErrors)
)]
#[post("/programs/{id}/retire")]
pub async fn retire(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ProgramAction::Retire).await
}

/// Offer a retired program again (PRG-1).
#[utoipa::path(
    operation_id = "reinstate_program",
    tag = "programs",
    params(("id" = Uuid, Path, description = "Program id")),
    responses((status = 200, description = "Active again", body = ProgramView), ActionErrors)
)]
#[post("/programs/{id}/reinstate")]
pub async fn reinstate(
    state: web::Data<AppState>,
    ctx: RequestContext,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    transition(state, ctx, user, id.into_inner(), ProgramAction::Reinstate).await
}

/// Registers this module's endpoints under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(retire)
        .service(reinstate);
}
