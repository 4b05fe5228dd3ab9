//! The three IAM calls that turn one credential into temporary keys:
//! assuming an agency, exchanging an OIDC id token for an IAM token, and
//! exchanging that token for keys. Shapes follow the official SDK's models
//! (`CreateTemporaryAccessKeyByAgency`, `CreateTokenWithIdToken`,
//! `CreateTemporaryAccessKeyByToken`); fixtures generated from them sit in
//! `fixtures/` beside this file.
//!
//! `{iam}` is always the configured `iam` endpoint: never a hard-coded
//! public host, so private clouds and test servers work the same way.

use std::time::SystemTime;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use url::Url;

use super::{Agency, AuthError, Exchange, Issued, Oidc};
use crate::cloud::client::{
    authenticate, authority, put, read_answer, AnswerError, MAX_BODY_BYTES,
};
use crate::cloud::credentials::{Credentials, Secret};
use crate::cloud::{CloudClient, CloudError};
use crate::untrusted::json as untrusted_json;

pub const SECURITY_TOKENS_PATH: [&str; 3] = ["v3.0", "OS-CREDENTIAL", "securitytokens"];
pub const ID_TOKEN_PATH: [&str; 4] = ["v3.0", "OS-AUTH", "id-token", "tokens"];
const CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// `CreateTemporaryAccessKeyByAgencyRequestBody`. Both domain fields are
/// sent when both are configured: IAM needs one, and which one the user
/// meant is theirs to say.
pub fn assume_role_body(agency: &Agency) -> Value {
    let mut assume_role = serde_json::Map::new();
    assume_role.insert("agency_name".into(), json!(agency.name));
    if let Some(id) = &agency.domain_id {
        assume_role.insert("domain_id".into(), json!(id));
    }
    if let Some(name) = &agency.domain_name {
        assume_role.insert("domain_name".into(), json!(name));
    }
    assume_role.insert("duration_seconds".into(), json!(agency.duration));
    json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": assume_role}}})
}

/// `CreateTemporaryAccessKeyByTokenRequestBody`: the token is also sent in
/// `X-Auth-Token`, as IAM documents.
pub fn token_body(token: &str, duration: Option<u32>) -> Value {
    let mut t = serde_json::Map::new();
    t.insert("id".into(), json!(token));
    if let Some(d) = duration {
        t.insert("duration_seconds".into(), json!(d));
    }
    json!({"auth": {"identity": {"methods": ["token"], "token": t}}})
}

/// `GetIdTokenRequestBody` without a scope: the answer is the unscoped
/// token that the key exchange accepts.
pub fn id_token_body(id_token: &str) -> Value {
    json!({"auth": {"id_token": {"id": id_token}}})
}

/// Temporary keys for `agency`, signed with (or authorised by) `base`.
pub async fn assume_role(
    ex: &Exchange,
    base: &Credentials,
    agency: &Agency,
) -> Result<Issued, AuthError> {
    let step = format!("assuming {} with IAM", agency.describe());
    let url = iam_url(ex, &SECURITY_TOKENS_PATH, &step)?;
    let body = assume_role_body(agency).to_string();
    let answer = post(ex, &url, Some(base), &[], body.as_bytes())
        .await
        .map_err(|cause| AuthError::Request {
            step: step.clone(),
            cause: Box::new(cause),
        })?;
    parse_credential(ex, &answer.json, &step, answer.request_id.as_deref())
}

/// Temporary keys for an OIDC identity: the id token becomes an IAM token
/// (`X-Subject-Token`), which becomes keys.
pub async fn oidc(ex: &Exchange, oidc: &Oidc) -> Result<Issued, AuthError> {
    let id_token = oidc.id_token.read()?;
    ex.learn(id_token.expose());
    let step = format!(
        "exchanging the id token with IAM for identity provider `{}`",
        oidc.idp_id
    );
    let url = iam_url(ex, &ID_TOKEN_PATH, &step)?;
    let body = id_token_body(id_token.expose()).to_string();
    let answer = post(
        ex,
        &url,
        None,
        &[("x-idp-id", &oidc.idp_id, false)],
        body.as_bytes(),
    )
    .await
    .map_err(|cause| AuthError::Request {
        step: step.clone(),
        cause: Box::new(cause),
    })?;
    let subject = answer
        .subject_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::Invalid {
            step: step.clone(),
            problem: format!(
                "IAM answered HTTP {} without an X-Subject-Token header{}",
                answer.status,
                request_id_suffix(answer.request_id.as_deref())
            ),
        })?;
    ex.learn(&subject);
    let subject = Secret::new(subject);
    let step = format!(
        "exchanging the IAM token of identity provider `{}` for temporary keys",
        oidc.idp_id
    );
    let url = iam_url(ex, &SECURITY_TOKENS_PATH, &step)?;
    let body = token_body(subject.expose(), oidc.duration).to_string();
    let auth = Credentials::token(subject.expose()).map_err(|e| AuthError::Invalid {
        step: step.clone(),
        problem: e.to_string(),
    })?;
    let answer = post(ex, &url, Some(&auth), &[], body.as_bytes())
        .await
        .map_err(|cause| AuthError::Request {
            step: step.clone(),
            cause: Box::new(cause),
        })?;
    parse_credential(ex, &answer.json, &step, answer.request_id.as_deref())
}

fn iam_url(ex: &Exchange, path: &[&str], step: &str) -> Result<Url, AuthError> {
    let Some(iam) = &ex.iam else {
        return Err(AuthError::Invalid {
            step: step.to_string(),
            problem: "IAM's address depends on the region: set `region` (or HW_REGION_NAME), or `endpoints.iam`".to_string(),
        });
    };
    CloudClient::build_url(iam, path, &[]).map_err(|e| AuthError::Invalid {
        step: step.to_string(),
        problem: e.to_string(),
    })
}

fn request_id_suffix(id: Option<&str>) -> String {
    id.map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

/// A successful IAM answer, read once.
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub subject_token: Option<String>,
    pub request_id: Option<String>,
}

/// One POST of a JSON body to IAM. `auth` signs it (AK/SK) or authorises it
/// (an IAM token); `None` sends it bare, as the id-token exchange is.
pub async fn post(
    ex: &Exchange,
    url: &Url,
    auth: Option<&Credentials>,
    extra: &[(&'static str, &str, bool)],
    body: &[u8],
) -> Result<Answer, CloudError> {
    let host = authority(url)?;
    let signed_at = SystemTime::now();
    let mut headers = HeaderMap::new();
    put(&mut headers, "content-type", CONTENT_TYPE, false)?;
    for (name, value, sensitive) in extra {
        put(&mut headers, name, value, *sensitive)?;
    }
    if let Some(credentials) = auth {
        authenticate(
            &mut headers,
            credentials,
            ex.signing,
            "POST",
            url,
            &host,
            body,
            signed_at,
        )?;
    }
    tracing::debug!(method = "POST", url = %url, "IAM request sent");
    let exchange = async {
        let mut response = ex
            .http
            .post(url.clone())
            .headers(headers)
            .body(body.to_vec())
            .timeout(ex.timeout)
            .send()
            .await
            .map_err(|e| CloudError::from_transport(&host, &e, ex.timeout))?;
        let subject_token = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        // A secret from the moment it arrives, whatever else goes wrong.
        if let Some(t) = &subject_token {
            ex.learn(t);
        }
        let answer = read_answer(
            &mut response,
            &host,
            MAX_BODY_BYTES,
            ex.timeout,
            signed_at,
            &ex.sanitiser,
        )
        .await
        .map_err(AnswerError::into_error)?;
        let (status, body, request_id) = (answer.status, answer.body, answer.request_id);
        // The id-token answer's body is not needed (the token is in a header).
        let json = untrusted_json::parse(&body).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            json,
            subject_token,
            request_id,
        })
    };
    let outcome = tokio::time::timeout(ex.timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(CloudError::Timeout {
                host: host.clone(),
                after: ex.timeout,
            })
        });
    match &outcome {
        Ok(a) => tracing::debug!(method = "POST", url = %url, status = a.status, "IAM answered"),
        Err(e) => tracing::debug!(method = "POST", url = %url, error = %e, "IAM request failed"),
    }
    outcome
}

/// `{"credential": {"access", "secret", "securitytoken", "expires_at"}}`,
/// the answer of both key exchanges and of the metadata service. The
/// secrets are taught to the sanitiser before anything can fail.
pub fn parse_credential(
    ex: &Exchange,
    body: &Value,
    step: &str,
    request_id: Option<&str>,
) -> Result<Issued, AuthError> {
    let credential = body.get("credential");
    let field = |name: &str| {
        credential
            .and_then(|c| c.get(name))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    for secret in ["secret", "securitytoken"] {
        if let Some(s) = field(secret) {
            ex.learn(s);
        }
    }
    let missing = |name: &str| AuthError::Invalid {
        step: step.to_string(),
        problem: format!(
            "the answer has no `credential.{name}`{}",
            request_id_suffix(request_id)
        ),
    };
    let access = field("access").ok_or_else(|| missing("access"))?;
    let secret = field("secret").ok_or_else(|| missing("secret"))?;
    let token = field("securitytoken").ok_or_else(|| missing("securitytoken"))?;
    let expires = field("expires_at").ok_or_else(|| missing("expires_at"))?;
    let expires_at = parse_time(expires).ok_or_else(|| AuthError::Invalid {
        step: step.to_string(),
        problem: format!(
            "`credential.expires_at` is {:?}, not an RFC 3339 time{}",
            ex.sanitiser.line(expires, 64),
            request_id_suffix(request_id)
        ),
    })?;
    let credentials = Credentials::aksk(access, secret, Some(token.to_string())).map_err(|e| {
        AuthError::Invalid {
            step: step.to_string(),
            problem: format!("the temporary keys are not usable: {e}"),
        }
    })?;
    Ok(Issued {
        credentials,
        expires_at: Some(expires_at),
    })
}

/// IAM writes `2026-12-01T08:00:00.000000Z`; the metadata service the same
/// or without fractions.
pub fn parse_time(text: &str) -> Option<SystemTime> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::from(t))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cloud::auth::IdToken;
    use crate::cloud::signer::{self, SigningAlgorithm};
    use crate::cloud::test_server::{response, Captured, Reply, TestServer};
    use crate::untrusted::Sanitiser;
    use std::time::Duration;

    pub fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/src/cloud/auth/fixtures/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    pub fn exchange(iam: Url) -> Exchange {
        let http = crate::cloud::client::test_http_client();
        Exchange {
            metadata_http: http.clone(),
            http,
            metadata: iam.clone(),
            iam: Some(iam),
            sanitiser: Sanitiser::new(),
            signing: SigningAlgorithm::HmacSha256,
            timeout: Duration::from_secs(10),
        }
    }

    const AK: &str = "BASEAK1234567890";
    const SK: &str = "baseSKsecret0123456789abcdefABCDEF";

    fn agency(domain_name: Option<&str>, domain_id: Option<&str>) -> Agency {
        Agency {
            name: "deployer".into(),
            domain_name: domain_name.map(str::to_string),
            domain_id: domain_id.map(str::to_string),
            duration: 3600,
        }
    }

    #[test]
    fn request_bodies_match_the_sdk_models() {
        assert_eq!(
            assume_role_body(&agency(Some("target-account"), None)),
            fixture("assume_role_request_domain_name")
        );
        assert_eq!(
            assume_role_body(&agency(None, Some("0b2c3d4e5f60718293a4b5c6d7e8f901"))),
            fixture("assume_role_request_domain_id")
        );
        assert_eq!(
            token_body("MIIsubjectTOKENexample.abc123", Some(3600)),
            fixture("token_request")
        );
        assert_eq!(
            id_token_body("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUifQ.c2ln"),
            fixture("id_token_request")
        );
        // Without a duration, IAM's default applies: the field is absent.
        let body = token_body("t", None);
        assert!(body["auth"]["identity"]["token"]
            .get("duration_seconds")
            .is_none());
    }

    #[test]
    fn answers_parse_and_their_secrets_are_learnt() {
        let ex = exchange(Url::parse("http://127.0.0.1:1/").unwrap());
        for name in ["assume_role_response", "token_response"] {
            let body = fixture(name);
            let issued = parse_credential(&ex, &body, "step", None).unwrap();
            let c = &body["credential"];
            match &issued.credentials {
                Credentials::AkSk {
                    access_key,
                    secret_key,
                    security_token,
                } => {
                    assert_eq!(access_key, c["access"].as_str().unwrap());
                    assert_eq!(secret_key.expose(), c["secret"].as_str().unwrap());
                    assert_eq!(
                        security_token.as_ref().unwrap().expose(),
                        c["securitytoken"].as_str().unwrap()
                    );
                }
                other => panic!("{other:?}"),
            }
            let expected = parse_time(c["expires_at"].as_str().unwrap()).unwrap();
            assert_eq!(issued.expires_at, Some(expected));
            let echoed = format!(
                "echo {} and {}",
                c["secret"].as_str().unwrap(),
                c["securitytoken"].as_str().unwrap()
            );
            let clean = ex.sanitiser.line(&echoed, 500);
            assert!(!clean.contains(c["secret"].as_str().unwrap()), "{clean}");
            assert!(
                !clean.contains(c["securitytoken"].as_str().unwrap()),
                "{clean}"
            );
        }
        assert_eq!(
            parse_time("2026-12-01T08:00:00Z"),
            parse_time("2026-12-01T08:00:00.000000Z")
        );
    }

    #[test]
    fn incomplete_answers_name_the_missing_field_never_a_value() {
        let ex = exchange(Url::parse("http://127.0.0.1:1/").unwrap());
        let mut body = fixture("assume_role_response");
        body["credential"]
            .as_object_mut()
            .unwrap()
            .remove("securitytoken");
        let e = parse_credential(&ex, &body, "assuming", Some("req-9"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("credential.securitytoken"), "{e}");
        assert!(e.contains("req-9"), "{e}");
        assert!(!e.contains("tempSKagency"), "{e}");
        let mut body = fixture("assume_role_response");
        body["credential"]["expires_at"] = json!("tomorrow");
        let e = parse_credential(&ex, &body, "assuming", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("RFC 3339"), "{e}");
        let e = parse_credential(&ex, &json!({"token": {}}), "assuming", None).unwrap_err();
        assert!(e.to_string().contains("credential.access"), "{e}");
    }

    fn created(body: &Value, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("X-Request-Id", "iam-req-1"),
        ];
        headers.extend_from_slice(extra);
        response("201 Created", &headers, body.to_string().as_bytes())
    }

    /// Checks a signed POST the way the gateway does.
    pub fn verify_post(req: &Captured, ak: &str, sk: &str) -> bool {
        let Some(auth) = req.header("authorization") else {
            return false;
        };
        let Some(parsed) = signer::parse_authorization(auth) else {
            return false;
        };
        if parsed.access_key != ak {
            return false;
        }
        let headers: Vec<(String, String)> = parsed
            .signed_headers
            .iter()
            .map(|n| (n.to_string(), req.header(n).unwrap_or_default().to_string()))
            .collect();
        let host = req.header("host").unwrap_or_default();
        let url = Url::parse(&format!("http://{host}{}", req.target)).unwrap();
        let date = req.header("x-sdk-date").unwrap_or_default();
        parsed
            .algorithm
            .authorization(ak, sk, date, &req.method, &url, &headers, &req.body)
            == auth
    }

    #[tokio::test]
    async fn assume_role_posts_a_signed_sdk_shaped_body() {
        let answer = created(&fixture("assume_role_response"), &[]);
        let server = TestServer::start(move |_| Reply::Raw(answer.clone())).await;
        let ex = exchange(server.base());
        let base = Credentials::aksk(AK, SK, Some("BASEsecuritytoken".into())).unwrap();
        let issued = assume_role(&ex, &base, &agency(Some("target-account"), None))
            .await
            .unwrap();
        assert!(
            matches!(issued.credentials, Credentials::AkSk { ref access_key, .. } if access_key == "TEMPAKAGENCY7XQ2P9ZK")
        );
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let req = &reqs[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/v3.0/OS-CREDENTIAL/securitytokens");
        assert_eq!(req.header("content-type"), Some(CONTENT_TYPE));
        assert_eq!(req.header("x-security-token"), Some("BASEsecuritytoken"));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body, fixture("assume_role_request_domain_name"));
        assert!(verify_post(req, AK, SK), "signature does not verify");
        assert!(!verify_post(req, AK, "another-secret"));
    }

    #[tokio::test]
    async fn oidc_exchanges_the_id_token_then_the_subject_token() {
        let keys = created(&fixture("token_response"), &[]);
        let token = created(
            &json!({"token": {"expires_at": "2026-12-01T08:00:00Z"}}),
            &[("X-Subject-Token", "MIIsubjectTOKENexample.abc123")],
        );
        let server = TestServer::start(move |req| {
            if req.target.contains("id-token") {
                Reply::Raw(token.clone())
            } else {
                Reply::Raw(keys.clone())
            }
        })
        .await;
        let ex = exchange(server.base());
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("id_token");
        std::fs::write(
            &file,
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUifQ.c2ln\n",
        )
        .unwrap();
        let spec = Oidc {
            idp_id: "github-actions".into(),
            id_token: IdToken::File(file),
            duration: Some(3600),
        };
        let issued = oidc(&ex, &spec).await.unwrap();
        assert!(issued.expires_at.is_some());
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].target, "/v3.0/OS-AUTH/id-token/tokens");
        assert_eq!(reqs[0].header("x-idp-id"), Some("github-actions"));
        assert!(reqs[0].header("authorization").is_none());
        let body: Value = serde_json::from_slice(&reqs[0].body).unwrap();
        assert_eq!(body, fixture("id_token_request"));
        assert_eq!(reqs[1].target, "/v3.0/OS-CREDENTIAL/securitytokens");
        assert_eq!(
            reqs[1].header("x-auth-token"),
            Some("MIIsubjectTOKENexample.abc123")
        );
        let body: Value = serde_json::from_slice(&reqs[1].body).unwrap();
        assert_eq!(body, fixture("token_request"));
        // The id token and the subject token are redacted from now on.
        let clean = ex.sanitiser.line(
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUifQ.c2ln MIIsubjectTOKENexample.abc123",
            500,
        );
        assert!(!clean.contains("eyJhbGci"), "{clean}");
        assert!(!clean.contains("MIIsubject"), "{clean}");
    }

    #[tokio::test]
    async fn iam_refusals_carry_status_code_message_and_request_id() {
        let bodies = [
            // IAM's own error shape.
            json!({"error": {"code": 403, "message": "You are not allowed to assume agency deployer.", "title": "Forbidden"}}),
            // The gateway's.
            json!({"error_code": "IAM.0001", "error_msg": "The agency does not exist.", "request_id": "body-req"}),
        ];
        for (body, code) in bodies.into_iter().zip(["403", "IAM.0001"]) {
            let page = response(
                "403 Forbidden",
                &[("X-Request-Id", "iam-req-403")],
                body.to_string().as_bytes(),
            );
            let server = TestServer::start(move |_| Reply::Raw(page.clone())).await;
            let ex = exchange(server.base());
            let base = Credentials::aksk(AK, SK, None).unwrap();
            let e = assume_role(&ex, &base, &agency(Some("target"), None))
                .await
                .unwrap_err();
            assert_eq!(e.status(), Some(403));
            assert!(!e.is_transient());
            let text = e.to_string();
            assert!(
                text.contains("agency `deployer` in account `target`"),
                "{text}"
            );
            assert!(text.contains("403"), "{text}");
            assert!(text.contains("iam-req-403"), "{text}");
            assert!(text.contains(code), "{code}: {text}");
            assert!(text.contains("agency"), "{text}");
            assert!(!text.contains(SK), "{text}");
        }
    }

    #[tokio::test]
    async fn an_echoed_id_token_is_redacted_from_the_refusal() {
        let id_token = "eyJsecret.idtoken.value";
        let page = response(
            "401 Unauthorized",
            &[],
            json!({"error": {"code": 401, "message": format!("bad token {id_token}")}})
                .to_string()
                .as_bytes(),
        );
        let server = TestServer::start(move |_| Reply::Raw(page.clone())).await;
        let ex = exchange(server.base());
        let spec = Oidc {
            idp_id: "gitlab".into(),
            id_token: IdToken::Value(Secret::new(id_token)),
            duration: None,
        };
        let e = oidc(&ex, &spec).await.unwrap_err().to_string();
        assert!(e.contains("401"), "{e}");
        assert!(!e.contains(id_token), "{e}");
    }

    #[tokio::test]
    async fn a_missing_subject_token_is_named() {
        let page = response("201 Created", &[], b"{}");
        let server = TestServer::start(move |_| Reply::Raw(page.clone())).await;
        let ex = exchange(server.base());
        let spec = Oidc {
            idp_id: "gitlab".into(),
            id_token: IdToken::Value(Secret::new("eyJx.y.z")),
            duration: None,
        };
        let e = oidc(&ex, &spec).await.unwrap_err().to_string();
        assert!(e.contains("X-Subject-Token"), "{e}");
        assert_eq!(server.requests().len(), 1);
    }
}
