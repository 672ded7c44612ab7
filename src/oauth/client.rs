//! [`OAuthClient`]: the `oauth2` crate's client set up from the server metadata, over our
//! [`HttpClient`]. Every answer becomes a [`TokenSet`]; every failure an [`OAuthError`]
//! without the server's raw body (it could hold a token).

use std::borrow::Cow;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl,
    DeviceCodeErrorResponseType, EndpointMaybeSet, EndpointNotSet, EndpointSet, ErrorResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    RevocationUrl, Scope, StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};

use super::OAuthError;
use super::http::{HttpClient, HttpError};
use super::metadata::ServerMetadata;
use super::store::TokenSet;
use lockphone_sip::auth::Secret;

type Inner =
    BasicClient<EndpointMaybeSet, EndpointMaybeSet, EndpointNotSet, EndpointMaybeSet, EndpointSet>;

/// An OAuth 2.0 public client of one authorization server.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    inner: Inner,
    http: HttpClient,
    metadata: ServerMetadata,
    client_id: String,
    scopes: Vec<String>,
}

/// An authorization request for the browser flow.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// The URL to open in a browser.
    pub url: String,
    /// The `state` value the redirect must carry back.
    pub state: CsrfToken,
    /// The PKCE verifier to send with the code.
    pub verifier: PkceCodeVerifier,
}

fn bad_url(url: &str, e: impl std::fmt::Display) -> OAuthError {
    OAuthError::BadUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

impl OAuthClient {
    /// A client for `metadata` with this client ID and scopes.
    pub fn new(
        metadata: ServerMetadata,
        client_id: &str,
        scopes: &[String],
        http: HttpClient,
    ) -> Result<OAuthClient, OAuthError> {
        let token = TokenUrl::new(metadata.token_endpoint.clone())
            .map_err(|e| bad_url(&metadata.token_endpoint, e))?;
        let auth = match &metadata.authorization_endpoint {
            Some(u) => Some(AuthUrl::new(u.clone()).map_err(|e| bad_url(u, e))?),
            None => None,
        };
        let device = match &metadata.device_authorization_endpoint {
            Some(u) => Some(DeviceAuthorizationUrl::new(u.clone()).map_err(|e| bad_url(u, e))?),
            None => None,
        };
        let revocation = match &metadata.revocation_endpoint {
            Some(u) => Some(RevocationUrl::new(u.clone()).map_err(|e| bad_url(u, e))?),
            None => None,
        };
        let inner = BasicClient::new(ClientId::new(client_id.to_owned()))
            .set_auth_type(oauth2::AuthType::RequestBody)
            .set_token_uri(token)
            .set_auth_uri_option(auth)
            .set_device_authorization_url_option(device)
            .set_revocation_url_option(revocation);
        Ok(OAuthClient {
            inner,
            http,
            metadata,
            client_id: client_id.to_owned(),
            scopes: scopes.to_vec(),
        })
    }

    /// The server metadata.
    pub fn metadata(&self) -> &ServerMetadata {
        &self.metadata
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.scopes.iter().map(|s| Scope::new(s.clone()))
    }

    /// Starts a device authorization (RFC 8628 §3.1).
    pub async fn start_device(&self) -> Result<StandardDeviceAuthorizationResponse, OAuthError> {
        let request = self
            .inner
            .exchange_device_code()
            .map_err(|_| OAuthError::Unsupported {
                what: "the device authorization grant (no device_authorization_endpoint)",
            })?
            .add_scopes(self.scopes());
        request
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(e, |e| e.error().to_string()))
    }

    /// Polls the token endpoint at the server's interval until the user approves, denies or
    /// the code expires (RFC 8628 §3.4, §3.5: `authorization_pending`, `slow_down`).
    pub async fn poll_device(
        &self,
        details: &StandardDeviceAuthorizationResponse,
    ) -> Result<TokenSet, OAuthError> {
        let response = self
            .inner
            .exchange_device_access_token(details)
            .set_max_backoff_interval(std::time::Duration::from_secs(30))
            .request_async(&self.http, tokio::time::sleep, None)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r)
                    if *r.error() == DeviceCodeErrorResponseType::AccessDenied =>
                {
                    OAuthError::Denied
                }
                RequestTokenError::ServerResponse(r)
                    if *r.error() == DeviceCodeErrorResponseType::ExpiredToken =>
                {
                    OAuthError::Expired
                }
                other => token_error(other, |e| e.error().to_string()),
            })?;
        Ok(self.token_set(&response, None))
    }

    /// Builds an authorization request with PKCE S256 and a random state (RFC 7636, RFC 8252).
    pub fn authorization_request(
        &self,
        redirect_uri: &str,
    ) -> Result<AuthorizationRequest, OAuthError> {
        let methods = &self.metadata.code_challenge_methods_supported;
        if !methods.is_empty() && !methods.iter().any(|m| m == "S256") {
            return Err(OAuthError::Unsupported {
                what: "PKCE with S256",
            });
        }
        let redirect =
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| bad_url(redirect_uri, e))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .inner
            .authorize_url(CsrfToken::new_random)
            .map_err(|_| OAuthError::Unsupported {
                what: "the authorization code flow (no authorization_endpoint)",
            })?
            .set_redirect_uri(Cow::Owned(redirect))
            .add_scopes(self.scopes())
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url: url.to_string(),
            state,
            verifier,
        })
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    pub async fn exchange_code(
        &self,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
        redirect_uri: &str,
    ) -> Result<TokenSet, OAuthError> {
        let redirect =
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| bad_url(redirect_uri, e))?;
        let response = self
            .inner
            .exchange_code(code)
            .set_redirect_uri(Cow::Owned(redirect))
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| token_error(e, |e| e.error().to_string()))?;
        Ok(self.token_set(&response, None))
    }

    /// Renews the access token with the refresh token; keeps the old refresh token unless the
    /// server rotated it. A refused refresh token is [`OAuthError::RefreshRejected`].
    pub async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, OAuthError> {
        let Some(refresh) = &current.refresh_token else {
            return Err(OAuthError::RefreshRejected(
                "no refresh token was issued".into(),
            ));
        };
        let token = RefreshToken::new(refresh.expose().to_owned());
        let response = self
            .inner
            .exchange_refresh_token(&token)
            .add_scopes(self.scopes())
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r)
                    if matches!(
                        r.error(),
                        BasicErrorResponseType::InvalidGrant
                            | BasicErrorResponseType::UnauthorizedClient
                            | BasicErrorResponseType::InvalidClient
                    ) =>
                {
                    OAuthError::RefreshRejected(describe(r.error().as_ref(), r.error_description()))
                }
                other => token_error(other, |e| e.error().to_string()),
            })?;
        Ok(self.token_set(&response, current.refresh_token.as_ref()))
    }

    /// Revokes the refresh token (RFC 7009 §2.1: a form POST with `token`,
    /// `token_type_hint` and, for a public client, `client_id`); `false` when the server has no
    /// revocation endpoint. Done here rather than by `oauth2`, which refuses a loopback
    /// `http://` endpoint; [`HttpClient`] applies the same loopback-only rule as everywhere.
    pub async fn revoke(&self, refresh_token: &Secret) -> Result<bool, OAuthError> {
        let Some(endpoint) = &self.metadata.revocation_endpoint else {
            return Ok(false);
        };
        let body = zeroize::Zeroizing::new(
            oauth2::url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", refresh_token.expose())
                .append_pair("token_type_hint", "refresh_token")
                .append_pair("client_id", &self.client_id)
                .finish(),
        );
        let request = oauth2::http::Request::builder()
            .method(oauth2::http::Method::POST)
            .uri(endpoint.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.as_bytes().to_vec())
            .map_err(|e| bad_url(endpoint, e))?;
        let response = self.http.execute(request).await?;
        // RFC 7009 §2.2: 200 also for a token that was already invalid.
        if response.status() == oauth2::http::StatusCode::OK {
            return Ok(true);
        }
        let error: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
        Err(OAuthError::Server {
            error: error["error"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {}", response.status().as_u16())),
            description: error["error_description"].as_str().map(str::to_owned),
        })
    }

    fn token_set(&self, response: &BasicTokenResponse, old_refresh: Option<&Secret>) -> TokenSet {
        let now = TokenSet::unix_now();
        let lifetime = response.expires_in().map(|d| d.as_secs());
        TokenSet {
            issuer: self.metadata.issuer.clone(),
            client_id: self.client_id.clone(),
            access_token: Secret::new(response.access_token().secret().clone()),
            refresh_token: response
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone()))
                .or_else(|| old_refresh.cloned()),
            expires_at: lifetime.map(|l| now + l),
            lifetime_secs: lifetime,
            scope: response
                .scopes()
                .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
        }
    }
}

fn describe(error: &str, description: Option<&String>) -> String {
    match description {
        Some(d) => format!("{error}: {d}"),
        None => error.to_owned(),
    }
}

/// Maps an `oauth2` error to ours, dropping any raw response body.
fn token_error<T: ErrorResponse + 'static>(
    error: RequestTokenError<HttpError, T>,
    code: impl Fn(&T) -> String,
) -> OAuthError {
    match error {
        RequestTokenError::ServerResponse(r) => {
            let text = serde_json::to_value(&r).ok();
            let description = text
                .as_ref()
                .and_then(|v| v.get("error_description"))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            OAuthError::Server {
                error: code(&r),
                description,
            }
        }
        RequestTokenError::Request(e) => e.into(),
        RequestTokenError::Parse(e, _body) => OAuthError::Http {
            url: "token endpoint".into(),
            reason: format!("unexpected answer ({})", e.path()),
        },
        RequestTokenError::Other(reason) => OAuthError::Http {
            url: "authorization server".into(),
            reason,
        },
    }
}
