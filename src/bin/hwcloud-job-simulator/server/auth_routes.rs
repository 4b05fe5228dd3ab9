//! The routes that hand out temporary credentials: IAM's
//! `/v3.0/OS-CREDENTIAL/securitytokens`, the OIDC exchange
//! `/v3.0/OS-AUTH/id-token/tokens`, and the ECS metadata service's
//! `/openstack/latest/securitykey`. What they read and answer is in
//! `iam_sts`; this module wires them to the gateway's authentication, the
//! credential store and the counters.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};

use super::{into_response, lock, refusal, AppState, RequestId};
use crate::auth::constant_time_eq;
use crate::iam_sts::{self, AgencyPolicy, Federation, IamError, StsRequest};
use crate::responses::{derived_uuid, Reply};
use crate::sts::TokenRefusal;

pub(super) fn add(router: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    router
        .route("/v3.0/OS-CREDENTIAL/securitytokens", post(securitytokens))
        .route("/v3.0/OS-AUTH/id-token/tokens", post(id_token_tokens))
        .route("/openstack/latest/securitykey", get(securitykey))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn refused(err: &IamError) -> Response {
    into_response(
        err.reply(),
        format!("iam refused: {} {}", err.status, err.code),
    )
}

/// Counts a non-2xx answer of the IAM routes, whoever produced it (IAM or
/// the gateway in front of it).
fn counted(state: &AppState, response: Response) -> Response {
    if !response.status().is_success() {
        lock(&state.stats).iam_refusals += 1;
    }
    response
}

fn issued(state: &AppState) {
    lock(&state.stats).temporary_credentials_issued += 1;
}

async fn securitytokens(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token_flow = iam_sts::method_of(&body).as_deref() == Some("token");
    {
        let mut stats = lock(&state.stats);
        if token_flow {
            stats.sts_token_requests += 1;
        } else {
            stats.sts_assume_role_requests += 1;
        }
    }
    let response = if token_flow {
        token_exchange(&state, &headers, &body)
    } else {
        assume_role(&state, &request_id, &method, &uri, &headers, &body)
    };
    counted(&state, response)
}

/// `methods: ["assume_role"]`: signed with the base keys or with live
/// temporary keys (an OIDC-federated caller assuming an agency), then the
/// agency and its account must be the configured ones.
fn assume_role(
    state: &AppState,
    request_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if header(headers, "authorization").is_none() {
        return refused(&IamError::unauthenticated(
            "assume_role must be signed with an access key (Authorization: SDK-HMAC-SHA256 ...)",
        ));
    }
    if let Some(refusal) = refusal(state, request_id, method, uri, headers, body) {
        return refusal;
    }
    let req = match iam_sts::parse_securitytokens(body) {
        Ok(StsRequest::AssumeRole(req)) => req,
        Ok(StsRequest::Token(_)) => {
            return refused(&IamError::bad_parameter("methods", "expected assume_role"))
        }
        Err(err) => return refused(&err),
    };
    let auth = &state.config.auth;
    let policy = AgencyPolicy {
        agencies: &auth.agencies,
        domain_name: &auth.agency_domain_name,
        domain_id: &auth.agency_domain_id,
    };
    if let Err(err) = policy.authorize(&req) {
        return refused(&err);
    }
    let lifetime = iam_sts::lifetime(req.duration_seconds, auth.credential_lifetime);
    let credential = state.sts.issue(SystemTime::now(), lifetime);
    issued(state);
    into_response(
        iam_sts::credential_reply(201, &credential),
        format!(
            "assume_role {}: issued {} for {} s",
            req.agency_name,
            credential.access,
            lifetime.as_secs()
        ),
    )
}

/// `methods: ["token"]`: the subject token in both `X-Auth-Token` and the
/// body, and it must be one the simulator issued (or `--token`).
fn token_exchange(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Response {
    let req = match iam_sts::parse_securitytokens(body) {
        Ok(StsRequest::Token(req)) => req,
        Ok(StsRequest::AssumeRole(_)) => {
            return refused(&IamError::bad_parameter("methods", "expected token"))
        }
        Err(err) => return refused(&err),
    };
    let Some(presented) = header(headers, "x-auth-token") else {
        return refused(&IamError::unauthenticated("X-Auth-Token is missing"));
    };
    let Some(id) = req.id.as_deref() else {
        return refused(&IamError::unauthenticated(
            "auth.identity.token.id is missing",
        ));
    };
    if !constant_time_eq(id.as_bytes(), presented.as_bytes()) {
        return refused(&IamError::unauthenticated(
            "X-Auth-Token and auth.identity.token.id are different tokens",
        ));
    }
    let now = SystemTime::now();
    let configured = state
        .config
        .credentials
        .token
        .as_deref()
        .is_some_and(|t| constant_time_eq(t.as_bytes(), presented.as_bytes()));
    if !configured {
        match state.sts.check_subject_token(presented, now) {
            Ok(()) => {}
            Err(TokenRefusal::Unknown) => {
                return refused(&IamError::unauthenticated("the token is not valid"))
            }
            Err(TokenRefusal::Expired(at)) => {
                return refused(&IamError::unauthenticated(&format!(
                    "the token expired at {at}"
                )))
            }
        }
    }
    let lifetime = iam_sts::lifetime(req.duration_seconds, state.config.auth.credential_lifetime);
    let credential = state.sts.issue(now, lifetime);
    issued(state);
    into_response(
        iam_sts::credential_reply(201, &credential),
        format!(
            "token exchange: issued {} for {} s",
            credential.access,
            lifetime.as_secs()
        ),
    )
}

/// The OIDC exchange: `X-Idp-Id` names the provider, and the id token must
/// be the current content of `--id-token-file`, read now, so a test that
/// rotates the file sees the old token refused.
async fn id_token_tokens(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lock(&state.stats).id_token_requests += 1;
    let response = id_token_answer(&state, &headers, &body).await;
    counted(&state, response)
}

async fn id_token_answer(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Response {
    let auth = &state.config.auth;
    let Some(idp) = header(headers, "x-idp-id") else {
        return refused(&IamError::bad_parameter(
            "X-Idp-Id",
            "the header is required",
        ));
    };
    if idp != auth.idp_id {
        return refused(&IamError::not_found("identity provider", idp));
    }
    let req = match iam_sts::parse_id_token(body) {
        Ok(req) => req,
        Err(err) => return refused(&err),
    };
    let Some(path) = &auth.id_token_file else {
        return refused(&IamError::unauthenticated(
            "the id token is not valid (the simulator has no --id-token-file)",
        ));
    };
    let current =
        match tokio::fs::read_to_string(path).await {
            Ok(text) => text,
            Err(_) => return refused(&IamError::unauthenticated(
                "the id token is not valid (the identity provider's current token cannot be read)",
            )),
        };
    let current = current.trim();
    if current.is_empty() || !constant_time_eq(req.id_token.trim().as_bytes(), current.as_bytes()) {
        return refused(&IamError::unauthenticated(
            "the id token is not valid (expired, rotated or not issued by the identity provider)",
        ));
    }
    let token = state
        .sts
        .issue_subject_token(SystemTime::now(), auth.credential_lifetime);
    let domain_id = derived_uuid(&["domain", &state.config.project_id]).replace('-', "");
    let who = Federation {
        idp_id: &auth.idp_id,
        domain_id: &domain_id,
        domain_name: "sim-account",
        project_id: &state.config.project_id,
        region: &state.config.region,
    };
    let mut response = into_response(
        iam_sts::token_reply(&token, &who, &req.scope),
        format!(
            "id token exchange via {idp}: subject token until {}",
            token.expires_at
        ),
    );
    if let Ok(value) = HeaderValue::from_str(&token.id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-subject-token"), value);
    }
    response
}

/// The ECS metadata service: no authentication (only the instance can
/// reach it), keys for the instance's agency.
async fn securitykey(State(state): State<Arc<AppState>>) -> Response {
    lock(&state.stats).metadata_requests += 1;
    if !state.config.auth.metadata {
        let reply = Reply {
            status: 404,
            content_type: "text/plain",
            body: "404 Not Found\n".to_owned(),
            retry_after: None,
        };
        return into_response(reply, "metadata is off (no --metadata)".to_owned());
    }
    let lifetime = state.config.auth.credential_lifetime;
    let credential = state.sts.issue(SystemTime::now(), lifetime);
    issued(&state);
    into_response(
        iam_sts::credential_reply(200, &credential),
        format!(
            "metadata: issued {} for {} s",
            credential.access,
            lifetime.as_secs()
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hwjobs::cloud::signer::{format_sdk_date, SigningAlgorithm};
    use serde_json::{json, Value};

    use super::super::{router, AppState};
    use crate::auth::Credentials;
    use crate::auth_options::AuthOptions;
    use crate::cli::Config;

    const AK: &str = "AKSIM";
    const SK: &str = "SKSIM-secret";
    const PID: &str = "0123456789abcdef0123456789abcdef";
    const STS: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
    const OIDC: &str = "/v3.0/OS-AUTH/id-token/tokens";
    const JOB: &str = "/v3/0123456789abcdef0123456789abcdef/elb/jobs/done-x";

    struct Sim {
        base: String,
        host: String,
        state: std::sync::Arc<AppState>,
        client: reqwest::Client,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Sim {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    struct Keys<'a> {
        ak: &'a str,
        sk: &'a str,
        token: Option<&'a str>,
    }

    const BASE: Keys<'static> = Keys {
        ak: AK,
        sk: SK,
        token: None,
    };

    async fn start(auth: AuthOptions) -> Sim {
        let config = Config {
            listen: ([127, 0, 0, 1], 0).into(),
            credentials: Credentials {
                access_key: AK.to_owned(),
                secret_key: SK.to_owned(),
                token: Some("TOKEN-OK".to_owned()),
            },
            project_id: PID.to_owned(),
            region: "cn-north-4".to_owned(),
            rate_limit: None,
            auth,
        };
        let Ok(listener) = tokio::net::TcpListener::bind(config.listen).await else {
            panic!("bind");
        };
        let Ok(addr) = listener.local_addr() else {
            panic!("addr");
        };
        let state = AppState::new(config);
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let Ok(client) = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
        else {
            panic!("client");
        };
        Sim {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            state,
            client,
            task,
        }
    }

    impl Sim {
        /// A request signed as the provider signs, with `keys`.
        async fn signed(
            &self,
            method: &str,
            path: &str,
            body: &str,
            keys: &Keys<'_>,
        ) -> (u16, Value) {
            let Ok(url) = url::Url::parse(&format!("{}{path}", self.base)) else {
                panic!("url");
            };
            let date = format_sdk_date(std::time::SystemTime::now());
            let mut headers = vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("host".to_owned(), self.host.clone()),
                ("x-sdk-date".to_owned(), date.clone()),
            ];
            if let Some(t) = keys.token {
                headers.push(("x-security-token".to_owned(), t.to_owned()));
            }
            let authz = SigningAlgorithm::HmacSha256.authorization(
                keys.ak,
                keys.sk,
                &date,
                method,
                &url,
                &headers,
                body.as_bytes(),
            );
            let mut req = match method {
                "POST" => self.client.post(url),
                _ => self.client.get(url),
            };
            for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
                req = req.header(name, value);
            }
            let req = req.header("authorization", authz).body(body.to_owned());
            Self::read(req).await.0
        }

        async fn read(req: reqwest::RequestBuilder) -> ((u16, Value), reqwest::header::HeaderMap) {
            let Ok(r) = req.send().await else {
                return ((0, Value::Null), reqwest::header::HeaderMap::new());
            };
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap_or_default();
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            ((status, body), headers)
        }

        async fn oidc(&self, idp: &str, id_token: &str) -> ((u16, Value), Option<String>) {
            let req = self
                .client
                .post(format!("{}{OIDC}", self.base))
                .header("x-idp-id", idp)
                .header("content-type", "application/json")
                .body(json!({"auth": {"id_token": {"id": id_token}}}).to_string());
            let (answer, headers) = Self::read(req).await;
            let subject = headers
                .get("x-subject-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (answer, subject)
        }

        async fn exchange(&self, header: &str, body_id: &str) -> (u16, Value) {
            let body =
                json!({"auth": {"identity": {"methods": ["token"], "token": {"id": body_id}}}});
            let req = self
                .client
                .post(format!("{}{STS}", self.base))
                .header("x-auth-token", header)
                .header("content-type", "application/json")
                .body(body.to_string());
            Self::read(req).await.0
        }
    }

    fn assume_body(agency: &str, domain_name: &str, duration: u64) -> String {
        json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
            "agency_name": agency, "domain_name": domain_name, "duration_seconds": duration}}}})
        .to_string()
    }

    fn credential(body: &Value) -> (String, String, String, String) {
        let c = &body["credential"];
        let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
        (
            s("access"),
            s("secret"),
            s("securitytoken"),
            s("expires_at"),
        )
    }

    #[tokio::test]
    async fn assumed_keys_sign_job_requests_until_they_expire() {
        let sim = start(AuthOptions {
            credential_lifetime: Duration::from_secs(1),
            ..AuthOptions::default()
        })
        .await;
        let (status, body) = sim
            .signed(
                "POST",
                STS,
                &assume_body("deployer", "partner-account", 3600),
                &BASE,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let (ak, sk, token, expires_at) = credential(&body);
        assert!(ak.starts_with("TMP") && sk.len() == 40 && token.starts_with("gQ"));
        assert!(
            expires_at.ends_with("000Z") && expires_at.len() == 27,
            "{expires_at}"
        );
        let keys = Keys {
            ak: &ak,
            sk: &sk,
            token: Some(&token),
        };
        let (status, body) = sim.signed("GET", JOB, "", &keys).await;
        assert_eq!(status, 200, "{body}");
        // Without its token the temporary key is unknown to the gateway.
        let bare = Keys {
            token: None,
            ..keys
        };
        let (status, body) = sim.signed("GET", JOB, "", &bare).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (401, Some("APIGW.0301"))
        );
        assert!(
            body["error_msg"]
                .as_str()
                .is_some_and(|m| m.contains("not exist")),
            "{body}"
        );

        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (status, body) = sim.signed("GET", JOB, "", &keys).await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error_code"], "APIGW.0307");
        assert_eq!(
            body["error_msg"],
            format!("The token must be updated: the security token expired at {expires_at}")
        );
        let stats = sim.state.stats();
        assert_eq!(stats.requests_with_temporary_keys, 1);
        assert_eq!(stats.sts_assume_role_requests, 1);
        assert_eq!(stats.temporary_credentials_issued, 1);
        assert_eq!(stats.expired_credential_rejections, 1);
        assert_eq!(stats.auth_failures, 2);
        assert_eq!(stats.iam_refusals, 0);
    }

    #[tokio::test]
    async fn iam_refuses_in_its_own_shape() {
        let sim = start(AuthOptions {
            agencies: vec!["deployer".into(), "auditor".into()],
            ..AuthOptions::default()
        })
        .await;
        let (status, body) = sim
            .signed(
                "POST",
                STS,
                &assume_body("nobody", "partner-account", 3600),
                &BASE,
            )
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (403, Some("IAM.0002"))
        );
        assert!(
            body["error_msg"]
                .as_str()
                .is_some_and(|m| m.contains("nobody")),
            "{body}"
        );
        let (status, body) = sim
            .signed(
                "POST",
                STS,
                &assume_body("auditor", "someone-else", 3600),
                &BASE,
            )
            .await;
        assert_eq!(status, 403, "{body}");
        let (status, body) = sim
            .signed(
                "POST",
                STS,
                &assume_body("auditor", "partner-account", 600),
                &BASE,
            )
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (400, Some("IAM.0007"))
        );
        let (status, _) = sim
            .signed(
                "POST",
                STS,
                &assume_body("auditor", "partner-account", 900),
                &BASE,
            )
            .await;
        assert_eq!(status, 201);
        // Unsigned, or signed with the wrong secret.
        let unsigned = sim
            .client
            .post(format!("{}{STS}", sim.base))
            .body(assume_body("deployer", "partner-account", 900));
        let ((status, body), _) = Sim::read(unsigned).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (401, Some("IAM.0001"))
        );
        let wrong = Keys { sk: "nope", ..BASE };
        let (status, body) = sim
            .signed(
                "POST",
                STS,
                &assume_body("deployer", "partner-account", 900),
                &wrong,
            )
            .await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (401, Some("APIGW.0301"))
        );
        let stats = sim.state.stats();
        assert_eq!(stats.sts_assume_role_requests, 6);
        assert_eq!(stats.iam_refusals, 5);
        assert_eq!(stats.temporary_credentials_issued, 1);
    }

    #[tokio::test]
    async fn oidc_then_token_exchange_then_an_agency() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("temp dir");
        };
        let file = dir.path().join("id-token");
        let write = |t: &str| std::fs::write(&file, t).is_ok();
        assert!(write("eyJfirst.token.sig\n"));
        let sim = start(AuthOptions {
            id_token_file: Some(file.clone()),
            ..AuthOptions::default()
        })
        .await;
        let ((status, body), subject) = sim.oidc("github-actions", "eyJfirst.token.sig").await;
        assert_eq!(status, 201, "{body}");
        let Some(subject) = subject else {
            panic!("no X-Subject-Token");
        };
        assert!(!body.to_string().contains(&subject));
        assert_eq!(body["token"]["methods"][0], "mapped");
        assert!(body["token"]["expires_at"].as_str().is_some());

        let (status, body) = sim.exchange(&subject, &subject).await;
        assert_eq!(status, 201, "{body}");
        let (ak, sk, token, _) = credential(&body);
        // The federated caller assumes an agency with its temporary keys.
        let keys = Keys {
            ak: &ak,
            sk: &sk,
            token: Some(&token),
        };
        let (status, body) = sim
            .signed(
                "POST",
                STS,
                &assume_body("deployer", "partner-account", 900),
                &keys,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        assert_ne!(credential(&body).0, ak);

        // Rotation: the old id token is refused, the new one accepted.
        assert!(write("  eyJsecond.token.sig  \n"));
        let ((status, body), _) = sim.oidc("github-actions", "eyJfirst.token.sig").await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (401, Some("IAM.0001"))
        );
        let ((status, _), subject2) = sim.oidc("github-actions", "eyJsecond.token.sig").await;
        assert_eq!(status, 201);
        assert!(subject2.is_some_and(|s| s != subject));
        let ((status, body), _) = sim.oidc("gitlab", "eyJsecond.token.sig").await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (404, Some("IAM.0004"))
        );

        // Token exchanges need the same, issued token in header and body.
        let (status, _) = sim.exchange(&subject, "MIIother").await;
        assert_eq!(status, 401);
        let (status, _) = sim.exchange("MIIforged", "MIIforged").await;
        assert_eq!(status, 401);
        let (status, _) = sim.exchange("TOKEN-OK", "TOKEN-OK").await;
        assert_eq!(status, 201, "--token is a valid subject token too");

        let stats = sim.state.stats();
        assert_eq!(stats.id_token_requests, 4);
        assert_eq!(stats.sts_token_requests, 4);
        assert_eq!(stats.sts_assume_role_requests, 1);
        assert_eq!(stats.temporary_credentials_issued, 3);
        assert_eq!(stats.iam_refusals, 4);
    }

    #[tokio::test]
    async fn an_expired_subject_token_is_refused() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("temp dir");
        };
        let file = dir.path().join("id-token");
        assert!(std::fs::write(&file, "eyJ.t.s").is_ok());
        let sim = start(AuthOptions {
            id_token_file: Some(file),
            credential_lifetime: Duration::from_secs(1),
            ..AuthOptions::default()
        })
        .await;
        let (_, subject) = sim.oidc("github-actions", "eyJ.t.s").await;
        let subject = subject.unwrap_or_default();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (status, body) = sim.exchange(&subject, &subject).await;
        assert_eq!(status, 401, "{body}");
        assert!(body["error_msg"]
            .as_str()
            .is_some_and(|m| m.contains("expired")));
    }

    #[tokio::test]
    async fn metadata_hands_out_keys_only_when_enabled() {
        let off = start(AuthOptions::default()).await;
        let ((status, _), _) = Sim::read(
            off.client
                .get(format!("{}/openstack/latest/securitykey", off.base)),
        )
        .await;
        assert_eq!(status, 404);
        assert_eq!(off.state.stats().metadata_requests, 1);

        let on = start(AuthOptions {
            metadata: true,
            credential_lifetime: Duration::from_secs(120),
            ..AuthOptions::default()
        })
        .await;
        let ((status, body), _) = Sim::read(
            on.client
                .get(format!("{}/openstack/latest/securitykey", on.base)),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (ak, sk, token, _) = credential(&body);
        let keys = Keys {
            ak: &ak,
            sk: &sk,
            token: Some(&token),
        };
        let (status, body) = on.signed("GET", JOB, "", &keys).await;
        assert_eq!(status, 200, "{body}");
        let stats = on.state.stats();
        assert_eq!(
            (stats.metadata_requests, stats.temporary_credentials_issued),
            (1, 1)
        );
    }
}
