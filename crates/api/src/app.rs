//! Building and running the server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{ResourceDef, Server};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use guild_app::Store;
use guild_domain::clock::Clock;
use utoipa::OpenApi;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{hash_password, random_bytes};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{JSON_LIMIT, json_error, path_error, query_error};
use crate::middleware::{idempotency, request_id_and_problems};
use crate::openapi::ApiDoc;
use crate::routes;
use crate::state::{AppState, StorableClock};
use guild_app::users::{any_account, create_first_admin};

/// The OpenAPI document generated from the handlers (API-7).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(routes::health::healthz)
        .service(routes::health::readyz)
        .configure(routes::verification::configure_outside_scope)
        .service(routes::signing::jwks)
        .service(scope("/api/v1").configure(routes::api_v1))
        .split_for_parts();
    crate::openapi::list_problem_codes(&mut doc);
    crate::openapi_webhooks::add_webhooks(&mut doc);
    doc
}

/// The document as the pretty JSON committed at `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let doc = openapi_document();
    let mut text = doc.to_pretty_json().unwrap_or_default();
    text.push('\n');
    text
}

/// A server bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Opens the database (running migrations), creates the first admin on an
    /// empty database, and binds the listener (port 0 picks a free port).
    pub fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Application, String> {
        let store =
            Store::open(&config.database_url, config.pool_size).map_err(|e| e.to_string())?;
        let listener = TcpListener::bind(config.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", config.bind))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let clock: Arc<dyn Clock> = Arc::new(StorableClock(clock));
        let state = AppState {
            store,
            clock,
            jwt: config.jwt_secret.clone(),
            config: Arc::new(config),
            passwords: Arc::new(crate::passwords::Passwords::for_this_machine()),
        };
        bootstrap_admin(&state).map_err(|e| match e {
            ApiError::Internal(msg) => format!("cannot create the first admin: {msg}"),
            other => format!("cannot create the first admin: {other}"),
        })?;
        first_signing_key(&state)?;
        let server = serve(&state, listener)?;
        crate::workers::spawn(&state);
        Ok(Application {
            port,
            server,
            state,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use it to reach the store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Splits into the running server future and a handle that can stop it.
    pub fn into_server(self) -> Server {
        self.server
    }
}

/// CRT-3: the first signing key, so the JWKS is never empty. Instances
/// starting together take turns (the first creates it, the others find it).
fn first_signing_key(state: &AppState) -> Result<(), String> {
    let now = state.clock.now();
    let has_key = state
        .store
        .read(guild_app::signing::has_active_key)
        .map_err(|e| format!("cannot read the signing keys: {e}"))?;
    if !has_key {
        state
            .store
            .write_exclusive(|c| guild_app::signing::ensure_active_key(c, now).map(|_| ()))
            .map_err(|e| format!("cannot create the first signing key: {e}"))?;
    }
    Ok(())
}

/// The HTTP server of `state` on `listener`, started.
fn serve(state: &AppState, listener: TcpListener) -> Result<Server, String> {
    let openapi = openapi_document();
    let routes = web::Data::new(KnownRoutes::from_document(&openapi));
    // The public certificate lookups (CRT-2), batched on their own threads.
    let verification = web::Data::new(
        guild_app::verification::VerificationReader::start(state.store.clone())
            .map_err(|e| e.to_string())?,
    );
    let workers = state.config.workers;
    let request_timeout = state.config.request_timeout;
    let data = web::Data::new(state.clone());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(verification.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(JSON_LIMIT)
                    .error_handler(json_error),
            )
            .app_data(web::PathConfig::default().error_handler(path_error))
            .app_data(web::QueryConfig::default().error_handler(query_error))
            .app_data(web::PayloadConfig::default().limit(JSON_LIMIT))
            // Innermost first: idempotency stores plain bodies, the problem
            // rewriter sees them uncompressed, and compression comes last.
            .wrap(from_fn(idempotency))
            .wrap(from_fn(crate::timeout::body_deadline))
            .wrap(from_fn(request_id_and_problems))
            .wrap(Compress::default())
            .into_utoipa_app()
            .service(routes::health::healthz)
            .service(routes::health::readyz)
            .configure(routes::verification::configure_outside_scope)
            .service(routes::signing::jwks)
            .service(scope("/api/v1").configure(routes::api_v1))
            .split_for_parts()
            .0
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
            .service(web::redirect("/docs", "/docs/"))
            .app_data(routes.clone())
            .default_service(web::to(unmatched))
    })
    // Slow and idle clients: the head must arrive within the request timeout
    // (at most 5 s; the body is bounded by `timeout::body_deadline`), an idle
    // keep-alive connection closes after 5 s, and a client that does not take
    // its last bytes is dropped after 2 s.
    .client_request_timeout(request_timeout.min(Duration::from_secs(5)))
    .keep_alive(Duration::from_secs(5))
    .client_disconnect_timeout(Duration::from_secs(2))
    .listen(listener)
    .map_err(|e| e.to_string())?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

/// The documented paths and their methods, to tell 405 from 404.
struct KnownRoutes(Vec<(ResourceDef, Vec<String>)>);

impl KnownRoutes {
    fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                let ops = [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ];
                for (name, op) in ops {
                    if op.is_some() {
                        methods.push(name.to_owned());
                    }
                }
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        KnownRoutes(routes)
    }
}

/// Requests no route took: 405 with `Allow` when the path exists with other methods, else 404.
async fn unmatched(req: HttpRequest, routes: web::Data<KnownRoutes>) -> HttpResponse {
    let allowed: Vec<&str> = routes
        .0
        .iter()
        .filter(|(def, _)| def.is_match(req.path()))
        .flat_map(|(_, methods)| methods.iter().map(String::as_str))
        .collect();
    if allowed.is_empty() {
        return ApiError::http(
            ErrorCode::RouteNotFound,
            format!("no endpoint at {}", req.path()),
        )
        .error_response();
    }
    let mut response = ApiError::http(
        ErrorCode::MethodNotAllowed,
        format!(
            "{} is not allowed here; allowed: {}",
            req.method(),
            allowed.join(", ")
        ),
    )
    .error_response();
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        response
            .headers_mut()
            .insert(actix_web::http::header::ALLOW, v);
    }
    response
}

/// On an empty database, creates `admin` with `GUILD_ADMIN_PASSWORD`, or with a
/// generated password printed once to standard output.
///
/// Idempotent across instances: several started at once on an empty database
/// take turns (`Store::write_exclusive`), the first creates `admin` and the others
/// find it. Should one still collide, finding `admin` afterwards is success.
fn bootstrap_admin(state: &AppState) -> Result<(), ApiError> {
    // Read first: a database that has accounts needs no write (nor a lock).
    if state.store.read(any_account)? {
        return Ok(());
    }
    let now = state.clock.now();
    let (password, generated) = match &state.config.admin_password {
        Some(p) => (p.0.clone(), false),
        None => {
            use base64::Engine;
            (
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(15)) + "7a",
                true,
            )
        }
    };
    guild_domain::account::validate_password(&password, "admin").map_err(|e| {
        ApiError::Internal(format!(
            "GUILD_ADMIN_PASSWORD is not acceptable: {}",
            e.message
        ))
    })?;
    // Hashed before the transaction: no lock is held while hashing.
    let hash = hash_password(&password)?;
    let created = state
        .store
        .write_exclusive(|c| create_first_admin(c, hash, now));
    match created {
        Ok(true) if generated => println!(
            "Created the first administrator. user: admin  password: {password}  (shown only once)"
        ),
        Ok(true) => println!(
            "Created the first administrator 'admin' with the password from GUILD_ADMIN_PASSWORD."
        ),
        Ok(false) => {}
        // Another instance got there first after all.
        Err(_) if state.store.read(any_account)? => {}
        Err(e) => return Err(e.into()),
    }
    Ok(())
}
