//! `/authorize` and its pages: the request is checked, the person signs in (our form, or the
//! service's own login page), approves, and the browser goes back to the client with a code.
//!
//! - `GET  /authorize`            check the request; sign-in page (or redirect to the custom login URL)
//! - `POST /authorize/login`      username + password -> consent page
//! - `GET  /authorize/callback`   back from a custom login page with a signed assertion -> consent page
//! - `POST /authorize/consent`    approve -> redirect with `code`, `state`, `iss`; deny -> `access_denied`

use super::login::{self, ConsentView, LoginView};
use super::oauth::{client_ip, ready};
use super::oauth_clients::find_client;
use super::{Env, HttpRequest, HttpResponse};
use crate::auth::{random_token, sha256_hex};
use crate::config::{AuthMode, Config};
use crate::oauth::authorize::{self, AuthorizationRequest, AuthorizeError};
use crate::oauth::custom_login::{self, LoginConfig, LoginRequest};
use crate::oauth::flow::{self, Flow, Stage};
use crate::oauth::form::Params;
use crate::oauth::grants::{Command, Reply};
use crate::oauth::login_limit::{self, LIMITS};
use crate::oauth::password::{self, UserRecord};
use crate::oauth::tokens::SigningKeys;
use crate::oauth::{cimd, metadata, redirect, scope, CODE_PREFIX};

pub async fn handle(request: &HttpRequest, segments: &[&str], config: &Config, env: &Env<'_>) -> HttpResponse {
    let result = match (request.method.as_str(), segments) {
        ("GET", ["authorize"]) => start(request, config, env).await,
        ("POST", ["authorize", "login"]) => sign_in(request, config, env).await,
        ("GET", ["authorize", "callback"]) => custom_login_return(request, config, env).await,
        ("POST", ["authorize", "consent"]) => consent(request, config, env).await,
        (_, ["authorize"] | ["authorize", "login" | "callback" | "consent"]) => {
            Err(login::error_page(405, "This page does not accept that method.").with_header("allow", "GET, POST"))
        }
        _ => Err(HttpResponse::error(404, "not_found", format!("nothing at {}", request.path))),
    };
    result.unwrap_or_else(|response| response)
}

type Page = Result<HttpResponse, HttpResponse>;

fn unavailable(why: impl AsRef<str>) -> HttpResponse {
    login::error_page(503, &format!("Sign-in is unavailable: {}", why.as_ref()))
}

fn redirect_to(location: &str) -> HttpResponse {
    HttpResponse::new(302).with_header("location", location).with_header("cache-control", "no-store")
}

fn label_of<'c>(config: &'c Config, service: &'c str) -> &'c str {
    config.service(service).map(|s| s.label.as_str()).unwrap_or(service)
}

async fn start(request: &HttpRequest, config: &Config, env: &Env<'_>) -> Page {
    let (oauth, keys) = ready(env).map_err(unavailable)?;
    let params = Params::from_text(&request.query);
    let client_id = params.get("client_id").ok().flatten().unwrap_or_default();
    let issuer = metadata::issuer(&request.origin);
    let client = find_client(env, &issuer, client_id).await.map_err(|e| e.page())?;
    let service_ok = |name: &str| match config.service(name) {
        Some(s) if s.auth == AuthMode::Required => Ok(()),
        Some(_) => Err(format!("the service {name:?} is open and needs no authorization")),
        None => Err(format!("there is no service {name:?} on this server")),
    };
    let checked = match authorize::validate(&params, client.as_ref(), &issuer, &service_ok) {
        Ok(checked) => checked,
        Err(AuthorizeError::Page(message)) => return Err(login::error_page(400, &message)),
        Err(AuthorizeError::Redirect { redirect_uri, state, error, description }) => {
            return Ok(redirect_to(&authorize::error_redirect(
                &redirect_uri,
                state.as_deref(),
                error,
                &description,
                &issuer,
            )))
        }
    };
    let client = client.expect("validated");
    // A metadata-document client the operator blocked on this service (its grants were ended).
    if cimd::is_document_client_id(&client.client_id) {
        let check = Command::ClientDeleted { client_id: client.client_id.clone() };
        if let Reply::Revoked { revoked: true } =
            oauth.grants.run(&checked.service, &check).await.map_err(unavailable)?
        {
            return Err(login::error_page(
                403,
                &format!("The application {} is blocked on this service by its administrator.", client.client_id),
            ));
        }
    }
    let nonce = random_token(24).map_err(unavailable)?;
    let now_s = env.now_ms / 1000;
    let flow = Flow {
        request: checked,
        nonce: nonce.clone(),
        stage: Stage::Login,
        sub: None,
        jti: random_token(16).map_err(unavailable)?,
        epoch: 0,
    };
    let sealed = flow::seal(keys, &flow, now_s).map_err(unavailable)?;

    // A service with its own login page gets the person there, with a signed request handle.
    if let Some(login_config) = login_config(env, &flow.request.service).await.map_err(unavailable)? {
        let secret = custom_login::secret(keys, &flow.request.service, &login_config)
            .ok_or_else(|| unavailable("the custom login secret's key is no longer configured"))?;
        let handle = LoginRequest {
            iss: issuer.clone(),
            aud: flow.request.service.clone(),
            jti: flow.jti.clone(),
            typ: custom_login::REQUEST_TYPE.into(),
            client_name: match cimd::identity_host(&client.client_id) {
                Some(host) => format!("{} (from {host})", client.display_name()),
                None => client.display_name().to_string(),
            },
            scope: scope::join(&flow.request.scope),
            return_to: format!("{issuer}/authorize/callback"),
            flow: sealed,
        };
        let handle = custom_login::sign_request(&secret, &handle, now_s).map_err(unavailable)?;
        let separator = if login_config.url.contains('?') { '&' } else { '?' };
        let _ = oauth;
        return Ok(redirect_to(&format!("{}{separator}request={}", login_config.url, handle))
            .with_header("set-cookie", flow::set_cookie(&nonce)));
    }
    let csrf = flow::csrf_token(keys, &nonce).map_err(unavailable)?;
    let host = cimd::identity_host(&client.client_id);
    let view = LoginView {
        client_name: client.display_name(),
        client_host: host.as_deref(),
        service_label: label_of(config, &flow.request.service),
        flow: &sealed,
        csrf: &csrf,
        username: "",
        error: None,
    };
    Ok(login::login_page(200, &view).with_header("set-cookie", flow::set_cookie(&nonce)))
}

async fn login_config(env: &Env<'_>, service: &str) -> Result<Option<LoginConfig>, String> {
    let config: Option<LoginConfig> =
        env.kv.get(&custom_login::config_key(service)).await?.and_then(|t| serde_json::from_str(&t).ok());
    // A URL stored under older, looser rules is not used.
    if let Some(Err(why)) = config.as_ref().map(|c| custom_login::check_url(&c.url)) {
        return Err(format!("this service's custom login URL {why}; its administrator must set it again"));
    }
    Ok(config)
}

/// The posted form, the flow it carries (at `stage`), after the cookie and CSRF checks.
fn posted_flow(
    request: &HttpRequest,
    keys: &SigningKeys,
    stage: Stage,
    now_s: u64,
) -> Result<(Params, Flow), HttpResponse> {
    let text = std::str::from_utf8(&request.body).map_err(|_| login::error_page(400, "The form could not be read."))?;
    let form = Params::from_text(text);
    let handle = form
        .get("flow")
        .ok()
        .flatten()
        .ok_or_else(|| login::error_page(400, "The form is incomplete; start again from the application."))?;
    let (flow, _) = flow::open(keys, handle, now_s).map_err(|e| login::error_page(400, &e))?;
    if flow.stage != stage {
        return Err(login::error_page(400, "This form is out of order; start again from the application."));
    }
    let cookie = flow::cookie(request.header("cookie"), flow::COOKIE);
    flow::check_post(keys, &flow, cookie.as_deref(), form.get("csrf").ok().flatten())
        .map_err(|e| login::error_page(403, &e))?;
    Ok((form, flow))
}

async fn sign_in(request: &HttpRequest, config: &Config, env: &Env<'_>) -> Page {
    let (oauth, keys) = ready(env).map_err(unavailable)?;
    let now_s = env.now_ms / 1000;
    let (form, flow) = posted_flow(request, keys, Stage::Login, now_s)?;
    let service = flow.request.service.clone();
    let issuer = metadata::issuer(&request.origin);
    let client = find_client(env, &issuer, &flow.request.client_id)
        .await
        .map_err(|e| e.page())?
        .ok_or_else(|| login::error_page(400, "The application is no longer registered."))?;
    let typed = form.get("username").ok().flatten().unwrap_or_default().to_string();
    let password = form.get("password").ok().flatten().unwrap_or_default().to_string();
    let handle = form.get("flow").ok().flatten().unwrap_or_default().to_string();
    let csrf = form.get("csrf").ok().flatten().unwrap_or_default().to_string();
    let client_host = cimd::identity_host(&client.client_id);
    let again = |status: u16, error: &str| {
        let view = LoginView {
            client_name: client.display_name(),
            client_host: client_host.as_deref(),
            service_label: label_of(config, &service),
            flow: &handle,
            csrf: &csrf,
            username: &typed,
            error: Some(error),
        };
        login::login_page(status, &view)
    };
    let Ok(username) = password::normalize_username(&typed) else {
        return Err(again(401, "Wrong username or password."));
    };
    // Counted BEFORE the slow hash, atomically in the grant store: parallel guesses cannot
    // outrun the count, and a blocked flood costs no hashing. The reply also carries the
    // user's epoch, read before the password record is.
    let address = login_limit::address_bucket(&client_ip(request));
    let reserve = Command::ReserveLogin { user: username.clone(), address: address.clone(), limits: LIMITS };
    let (epoch, changed_ms) = match oauth.grants.run(&service, &reserve).await.map_err(unavailable)? {
        Reply::LoginReserved { allowed: false, retry_after_s, .. } => {
            return Err(again(429, "Too many sign-in attempts. Wait a few minutes and try again.")
                .with_header("retry-after", retry_after_s.to_string()));
        }
        Reply::LoginReserved { epoch, changed_ms, .. } => (epoch, changed_ms),
        other => return Err(unavailable(format!("unexpected answer {other:?}"))),
    };
    let user: Option<UserRecord> = env
        .kv
        .get(&password::user_key(&service, &username))
        .await
        .map_err(unavailable)?
        .and_then(|t| serde_json::from_str(&t).ok());
    let stored = user.as_ref().filter(|u| !u.disabled).map(|u| u.password.as_str());
    let ok = password::verify(oauth.hasher, stored, &password).await.map_err(unavailable)?;
    if !ok {
        return Err(again(401, "Wrong username or password."));
    }
    if user.as_ref().is_some_and(|u| u.updated_ms < changed_ms) {
        // KV (eventually consistent) still served the record from before a reset or disable.
        return Err(again(503, "This account was changed a moment ago. Wait a minute and try again.")
            .with_header("retry-after", "60"));
    }
    let release = Command::ReleaseLogin { user: username.clone(), address };
    oauth.grants.run(&service, &release).await.map_err(unavailable)?;
    consent_for(keys, config, &client, flow, username, epoch, now_s)
}

fn consent_for(
    keys: &SigningKeys,
    config: &Config,
    client: &crate::oauth::client::ClientRecord,
    flow: Flow,
    user: String,
    epoch: u64,
    now_s: u64,
) -> Page {
    let next = Flow {
        stage: Stage::Consent,
        sub: Some(user.clone()),
        jti: random_token(16).map_err(unavailable)?,
        epoch,
        ..flow
    };
    let sealed = flow::seal(keys, &next, now_s).map_err(unavailable)?;
    let csrf = flow::csrf_token(keys, &next.nonce).map_err(unavailable)?;
    let host = redirect::display_host(&next.request.redirect_uri);
    let client_host = cimd::identity_host(&client.client_id);
    Ok(login::consent_page(&ConsentView {
        client_name: client.display_name(),
        client_host: client_host.as_deref(),
        redirect_host: &host,
        service_label: label_of(config, &next.request.service),
        access: scope::describe(&next.request.scope),
        user: &user,
        flow: &sealed,
        csrf: &csrf,
    }))
}

async fn custom_login_return(request: &HttpRequest, config: &Config, env: &Env<'_>) -> Page {
    let (oauth, keys) = ready(env).map_err(unavailable)?;
    let now_s = env.now_ms / 1000;
    let params = Params::from_text(&request.query);
    let (Some(handle), Some(assertion)) =
        (params.get("request").ok().flatten(), params.get("assertion").ok().flatten())
    else {
        return Err(login::error_page(400, "The login page must send back request and assertion."));
    };
    let service = custom_login::claimed_service(handle)
        .filter(|s| config.service(s).is_some())
        .ok_or_else(|| login::error_page(400, "The login request handle is not valid."))?;
    let login_config = login_config(env, &service)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| login::error_page(400, "This service has no custom login page."))?;
    let secret = custom_login::secret(keys, &service, &login_config)
        .ok_or_else(|| unavailable("the custom login secret's key is no longer configured"))?;
    let issuer = metadata::issuer(&request.origin);
    let (login_request, user, exp) = custom_login::verify_return(&secret, &service, &issuer, handle, assertion, now_s)
        .map_err(|e| login::error_page(400, &e))?;
    let (flow, _) = flow::open(keys, &login_request.flow, now_s).map_err(|e| login::error_page(400, &e))?;
    let cookie = flow::cookie(request.header("cookie"), flow::COOKIE);
    if flow.stage != Stage::Login
        || flow.jti != login_request.jti
        || flow.request.service != service
        || cookie.as_deref() != Some(flow.nonce.as_str())
    {
        return Err(login::error_page(
            403,
            "This sign-in was started in another browser or is out of order; start again from the application.",
        ));
    }
    let once = Command::ConsumeOnce { id: format!("login:{}", login_request.jti), expires_ms: (exp + 60) * 1000 };
    if oauth.grants.run(&service, &once).await.map_err(unavailable)? != (Reply::Consumed { first: true }) {
        return Err(login::error_page(400, "This login was already used; start again from the application."));
    }
    let client = find_client(env, &issuer, &flow.request.client_id)
        .await
        .map_err(|e| e.page())?
        .ok_or_else(|| login::error_page(400, "The application is no longer registered."))?;
    let epoch =
        match oauth.grants.run(&service, &Command::UserEpoch { sub: user.clone() }).await.map_err(unavailable)? {
            Reply::Epoch { epoch, .. } => epoch,
            other => return Err(unavailable(format!("unexpected answer {other:?}"))),
        };
    consent_for(keys, config, &client, flow, user, epoch, now_s)
}

async fn consent(request: &HttpRequest, _config: &Config, env: &Env<'_>) -> Page {
    let (oauth, keys) = ready(env).map_err(unavailable)?;
    let now_s = env.now_ms / 1000;
    let (form, flow) = posted_flow(request, keys, Stage::Consent, now_s)?;
    let issuer = metadata::issuer(&request.origin);
    let req: &AuthorizationRequest = &flow.request;
    let once = Command::ConsumeOnce {
        id: format!("consent:{}", flow.jti),
        expires_ms: env.now_ms + crate::oauth::FLOW_SECONDS * 1000 + 60_000,
    };
    if oauth.grants.run(&req.service, &once).await.map_err(unavailable)? != (Reply::Consumed { first: true }) {
        return Err(login::error_page(400, "This consent was already given; start again from the application."));
    }
    let done = |location: String| redirect_to(&location).with_header("set-cookie", flow::clear_cookie());
    if form.get("decision").ok().flatten() != Some("approve") {
        return Ok(done(authorize::error_redirect(
            &req.redirect_uri,
            req.state.as_deref(),
            "access_denied",
            "the user denied access",
            &issuer,
        )));
    }
    let Some(client) = find_client(env, &issuer, &req.client_id).await.map_err(|e| e.page())? else {
        return Err(login::error_page(400, "The application is no longer registered."));
    };
    // A metadata document can change between the start and the consent.
    if !redirect::matches(&client.redirect_uris, &req.redirect_uri) {
        return Err(login::error_page(
            400,
            "The application no longer lists this redirect URI; start again from the application.",
        ));
    }
    let code = format!("{CODE_PREFIX}.{}.{}", req.service, random_token(32).map_err(unavailable)?);
    let command = Command::IssueCode {
        code_hash: sha256_hex(&code),
        grant_id: random_token(16).map_err(unavailable)?,
        client_id: req.client_id.clone(),
        sub: flow.sub.clone().unwrap_or_default(),
        scope: scope::join(&req.scope),
        resource: req.resource.clone(),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        epoch: flow.epoch,
    };
    match oauth.grants.run(&req.service, &command).await.map_err(unavailable)? {
        Reply::Done => Ok(done(authorize::success_redirect(req, &code, &issuer))),
        Reply::Refused { description, .. } => Ok(done(authorize::error_redirect(
            &req.redirect_uri,
            req.state.as_deref(),
            "access_denied",
            &description,
            &issuer,
        ))),
        other => Err(unavailable(format!("unexpected answer {other:?}"))),
    }
}
