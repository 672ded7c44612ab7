//! Authorization server metadata: RFC 8414 (`/.well-known/oauth-authorization-server`), with
//! OpenID Connect discovery (`/.well-known/openid-configuration`) as the fallback.

use oauth2::url::Url;
use serde::Deserialize;

use super::OAuthError;
use super::http::{HttpClient, check_url};

/// What Lockphone uses of the server's metadata.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ServerMetadata {
    /// The issuer identifier (must equal the one asked about).
    pub issuer: String,
    /// The authorization endpoint (browser flow).
    pub authorization_endpoint: Option<String>,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The device authorization endpoint (RFC 8628).
    pub device_authorization_endpoint: Option<String>,
    /// The revocation endpoint (RFC 7009).
    pub revocation_endpoint: Option<String>,
    /// PKCE methods supported (`S256`, …); empty when the server does not say.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
}

/// The well-known URLs to try for `issuer`, in order.
pub(crate) fn well_known_urls(issuer: &str) -> Result<Vec<String>, OAuthError> {
    let url = Url::parse(issuer).map_err(|e| OAuthError::BadUrl {
        url: issuer.to_owned(),
        reason: e.to_string(),
    })?;
    check_url(&url)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(OAuthError::BadUrl {
            url: issuer.to_owned(),
            reason: "an issuer has no query or fragment".into(),
        });
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    Ok(vec![
        // RFC 8414 §3.1: inserted between the host and the path.
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        // OpenID Connect Discovery 1.0 §4: appended to the issuer.
        format!("{origin}{path}/.well-known/openid-configuration"),
    ])
}

/// Fetches and checks the metadata of `issuer`.
pub async fn discover(http: &HttpClient, issuer: &str) -> Result<ServerMetadata, OAuthError> {
    let fail = |reason: String| OAuthError::Discovery {
        issuer: issuer.to_owned(),
        reason,
    };
    let mut reasons = Vec::new();
    for url in well_known_urls(issuer)? {
        let response = match http.get_json(&url).await {
            Ok(r) => r,
            Err(e) => {
                reasons.push(e.to_string());
                continue;
            }
        };
        if response.status() != oauth2::http::StatusCode::OK {
            reasons.push(format!("{url}: HTTP {}", response.status().as_u16()));
            continue;
        }
        let metadata: ServerMetadata = serde_json::from_slice(response.body())
            .map_err(|e| fail(format!("{url}: not valid metadata: {e}")))?;
        return check(issuer, metadata).map_err(fail);
    }
    Err(fail(reasons.join("; ")))
}

/// RFC 8414 §3.3: the issuer must be the one asked about; every endpoint must be usable.
pub(crate) fn check(issuer: &str, metadata: ServerMetadata) -> Result<ServerMetadata, String> {
    if metadata.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "the metadata names issuer {} instead of {issuer} (refused, RFC 8414 §3.3)",
            metadata.issuer
        ));
    }
    let endpoints = [
        Some(&metadata.token_endpoint),
        metadata.authorization_endpoint.as_ref(),
        metadata.device_authorization_endpoint.as_ref(),
        metadata.revocation_endpoint.as_ref(),
    ];
    for endpoint in endpoints.into_iter().flatten() {
        let url = Url::parse(endpoint).map_err(|e| format!("endpoint {endpoint}: {e}"))?;
        check_url(&url).map_err(|e| e.to_string())?;
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_locations() {
        assert_eq!(
            well_known_urls("https://as.test").unwrap(),
            [
                "https://as.test/.well-known/oauth-authorization-server",
                "https://as.test/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            well_known_urls("https://as.test:8443/tenant/1/").unwrap(),
            [
                "https://as.test:8443/.well-known/oauth-authorization-server/tenant/1",
                "https://as.test:8443/tenant/1/.well-known/openid-configuration"
            ]
        );
        assert!(matches!(
            well_known_urls("http://as.example.test"),
            Err(OAuthError::InsecureUrl { .. })
        ));
        assert!(well_known_urls("https://as.test/?x=1").is_err());
    }

    fn metadata(issuer: &str, token: &str) -> ServerMetadata {
        ServerMetadata {
            issuer: issuer.into(),
            authorization_endpoint: Some(format!("{issuer}/auth")),
            token_endpoint: token.into(),
            device_authorization_endpoint: None,
            revocation_endpoint: None,
            code_challenge_methods_supported: vec!["S256".into()],
        }
    }

    #[test]
    fn issuer_must_match_and_endpoints_be_safe() {
        let ok = metadata("https://as.test", "https://as.test/token");
        assert_eq!(check("https://as.test/", ok.clone()).unwrap(), ok);
        let other = metadata("https://evil.test", "https://evil.test/token");
        assert!(
            check("https://as.test", other)
                .unwrap_err()
                .contains("RFC 8414")
        );
        let plain = metadata("https://as.test", "http://as.test/token");
        assert!(
            check("https://as.test", plain)
                .unwrap_err()
                .contains("http://")
        );
    }
}
