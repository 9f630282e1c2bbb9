//! Finding the client of an OAuth request: a stored one (registered or created by an
//! administrator), or, for a `client_id` that is an https URL, the client its metadata document
//! describes (`crate::oauth::cimd`: fetched through the edge, cached per isolate).

use super::login;
use super::oauth::{load_client, OAuthEnv};
use super::{Env, HttpResponse};
use crate::oauth::cimd::{self, CimdError};
use crate::oauth::client::ClientRecord;
use crate::oauth::record_viewer;
use crate::oauth::OAuthError;

/// Why no client could be found (an unknown stored client is `Ok(None)`, not an error).
#[derive(Debug)]
pub enum LookupError {
    /// Storage (or OAuth itself) is unavailable.
    Unavailable(String),
    /// The client's metadata document is unusable.
    Document(CimdError),
}

impl LookupError {
    /// The page `/authorize` shows (nothing goes to a redirect URI that was not verified).
    pub fn page(&self) -> HttpResponse {
        match self {
            LookupError::Unavailable(why) => login::error_page(503, &format!("Sign-in is unavailable: {why}")),
            LookupError::Document(CimdError::Refused(why)) => {
                login::error_page(400, &format!("{why} The application must fix its metadata document."))
            }
            LookupError::Document(CimdError::Unreachable(why)) => {
                login::error_page(502, &format!("{why} Try again in a moment."))
            }
        }
    }

    /// The error the token and revocation endpoints answer.
    pub fn oauth(&self) -> OAuthError {
        match self {
            LookupError::Unavailable(why) => OAuthError::new(503, "temporarily_unavailable", why.clone()),
            LookupError::Document(CimdError::Refused(why)) => OAuthError::invalid_client(why.clone()),
            LookupError::Document(CimdError::Unreachable(why)) => {
                OAuthError::new(503, "temporarily_unavailable", why.clone())
            }
        }
    }
}

/// The client named `client_id` for the server at `issuer`.
pub async fn find_client(env: &Env<'_>, issuer: &str, client_id: &str) -> Result<Option<ClientRecord>, LookupError> {
    if record_viewer::is_record_viewer(client_id) {
        let service_exists = |name: &str| env.config.as_ref().is_ok_and(|config| config.service(name).is_some());
        return Ok(record_viewer::client_record(issuer, client_id, service_exists));
    }
    if !cimd::is_document_client_id(client_id) {
        return load_client(env, client_id).await.map_err(LookupError::Unavailable);
    }
    let oauth: &OAuthEnv = env.oauth.ok_or_else(|| LookupError::Unavailable("OAuth is not wired".into()))?;
    cimd::resolve(oauth.client_documents, oauth.document_cache, client_id, issuer, env.now_ms)
        .await
        .map(Some)
        .map_err(LookupError::Document)
}
