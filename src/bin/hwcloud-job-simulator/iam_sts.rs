//! IAM's temporary-credential calls, as pure functions: reading the request
//! bodies, deciding who may assume which agency, and writing the answers.
//!
//! The shapes follow the official SDK's IAM models (`huaweicloudsdkiam`
//! 3.1.219): `CreateTemporaryAccessKeyByAgencyRequestBody`
//! (`auth.identity{methods, assume_role{agency_name, domain_id, domain_name,
//! duration_seconds, session_user}}`), `…ByTokenRequestBody`
//! (`auth.identity{methods, token{id, duration_seconds}}`), `Credential`
//! (`access, secret, securitytoken, expires_at`), `GetIdTokenRequestBody`
//! (`auth{id_token{id}, scope{domain|project{id, name}}}`) and
//! `ScopedTokenInfo` for the OIDC answer. Errors are IAM's documented
//! `{"error_msg", "error_code"}` with its `IAM.00xx` codes.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::responses::Reply;
use crate::sts::{Credential, SubjectToken};

/// IAM's range for `duration_seconds`: 15 minutes to 24 hours.
pub const DURATION_RANGE: std::ops::RangeInclusive<u64> = 900..=86_400;
/// What IAM gives when `duration_seconds` is left out.
pub const DEFAULT_DURATION: u64 = 900;

/// An IAM refusal: status, IAM code and a message that names the problem
/// (never a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IamError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl IamError {
    /// 400 `IAM.0011`: the body is not what the API takes at all.
    pub fn bad_body(detail: &str) -> IamError {
        IamError {
            status: 400,
            code: "IAM.0011",
            message: format!("Request body is invalid: {detail}"),
        }
    }

    /// 400 `IAM.0007`: one parameter is wrong.
    pub fn bad_parameter(key: &str, detail: &str) -> IamError {
        IamError {
            status: 400,
            code: "IAM.0007",
            message: format!("Request parameter {key} is invalid: {detail}"),
        }
    }

    /// 401 `IAM.0001`.
    pub fn unauthenticated(detail: &str) -> IamError {
        IamError {
            status: 401,
            code: "IAM.0001",
            message: format!("The request you have made requires authentication: {detail}"),
        }
    }

    /// 403 `IAM.0002`.
    pub fn forbidden(detail: &str) -> IamError {
        IamError {
            status: 403,
            code: "IAM.0002",
            message: format!("You are not authorized to perform the requested action: {detail}"),
        }
    }

    /// 404 `IAM.0004`.
    pub fn not_found(what: &str, id: &str) -> IamError {
        IamError {
            status: 404,
            code: "IAM.0004",
            message: format!("Could not find {what}: {id}."),
        }
    }

    pub fn reply(&self) -> Reply {
        json_reply(
            self.status,
            &json!({ "error_msg": self.message, "error_code": self.code }),
        )
    }
}

fn json_reply(status: u16, body: &Value) -> Reply {
    Reply {
        status,
        content_type: "application/json;charset=utf-8",
        body: body.to_string(),
        retry_after: None,
    }
}

/// `POST /v3.0/OS-CREDENTIAL/securitytokens`, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StsRequest {
    AssumeRole(AssumeRole),
    Token(TokenExchange),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRole {
    pub agency_name: String,
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    pub duration_seconds: Option<u64>,
}

/// `methods: ["token"]`; `id` is the subject token, which must also be the
/// `X-Auth-Token` header.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenExchange {
    pub id: Option<String>,
    pub duration_seconds: Option<u64>,
}

impl std::fmt::Debug for TokenExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchange")
            .field("id", &self.id.as_ref().map(|_| "<redacted>"))
            .field("duration_seconds", &self.duration_seconds)
            .finish()
    }
}

/// The first of `auth.identity.methods`, read leniently, so the request
/// can be counted under its flow before anything else is checked.
pub fn method_of(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.pointer("/auth/identity/methods/0")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn optional_string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, IamError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(IamError::bad_parameter(key, "it is empty")),
        Some(_) => Err(IamError::bad_parameter(key, "it must be a string")),
    }
}

/// `duration_seconds` must be a whole number of seconds in IAM's range.
fn duration(obj: &Map<String, Value>) -> Result<Option<u64>, IamError> {
    match obj.get("duration_seconds") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if DURATION_RANGE.contains(&n) => Ok(Some(n)),
            _ => Err(IamError::bad_parameter(
                "duration_seconds",
                "it must be a whole number from 900 to 86400",
            )),
        },
    }
}

pub fn parse_securitytokens(body: &[u8]) -> Result<StsRequest, IamError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|_| IamError::bad_body("it is not JSON"))?;
    let identity = v
        .pointer("/auth/identity")
        .and_then(Value::as_object)
        .ok_or_else(|| IamError::bad_body("auth.identity is missing"))?;
    let methods: Vec<&str> = identity
        .get("methods")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match methods.as_slice() {
        ["assume_role"] => {
            let ar = identity
                .get("assume_role")
                .and_then(Value::as_object)
                .ok_or_else(|| IamError::bad_body("auth.identity.assume_role is missing"))?;
            let agency_name = optional_string(ar, "agency_name")?
                .ok_or_else(|| IamError::bad_parameter("agency_name", "it is required"))?;
            let domain_id = optional_string(ar, "domain_id")?;
            let domain_name = optional_string(ar, "domain_name")?;
            if domain_id.is_none() && domain_name.is_none() {
                return Err(IamError::bad_parameter(
                    "domain_id",
                    "domain_id or domain_name is required",
                ));
            }
            Ok(StsRequest::AssumeRole(AssumeRole {
                agency_name,
                domain_id,
                domain_name,
                duration_seconds: duration(ar)?,
            }))
        }
        ["token"] => {
            let empty = Map::new();
            let token = match identity.get("token") {
                None | Some(Value::Null) => &empty,
                Some(Value::Object(o)) => o,
                Some(_) => return Err(IamError::bad_body("auth.identity.token is not an object")),
            };
            Ok(StsRequest::Token(TokenExchange {
                id: optional_string(token, "id")?,
                duration_seconds: duration(token)?,
            }))
        }
        _ => Err(IamError::bad_parameter(
            "methods",
            "it must be [\"assume_role\"] or [\"token\"]",
        )),
    }
}

/// Which agencies exist, and in which account. A simulated agency trusts
/// every caller the gateway authenticated.
#[derive(Clone, Copy, Debug)]
pub struct AgencyPolicy<'a> {
    pub agencies: &'a [String],
    pub domain_name: &'a str,
    pub domain_id: &'a str,
}

impl AgencyPolicy<'_> {
    /// 403 naming what does not match: the agency or the account.
    pub fn authorize(&self, req: &AssumeRole) -> Result<(), IamError> {
        if let Some(id) = &req.domain_id {
            if id != self.domain_id {
                return Err(IamError::forbidden(&format!(
                    "no account with domain_id {id} delegates to this caller"
                )));
            }
        }
        if let Some(name) = &req.domain_name {
            if name != self.domain_name {
                return Err(IamError::forbidden(&format!(
                    "no account named {name} delegates to this caller"
                )));
            }
        }
        if !self.agencies.contains(&req.agency_name) {
            return Err(IamError::forbidden(&format!(
                "the account {} has no agency named {} for this caller",
                self.domain_name, req.agency_name
            )));
        }
        Ok(())
    }
}

/// What a credential lives: what the caller asked (or IAM's default),
/// capped by the simulator's `--credential-lifetime`.
pub fn lifetime(requested: Option<u64>, cap: Duration) -> Duration {
    Duration::from_secs(requested.unwrap_or(DEFAULT_DURATION)).min(cap)
}

/// `{"credential": {...}}`, IAM's 201 and the metadata service's 200 body.
pub fn credential_reply(status: u16, c: &Credential) -> Reply {
    json_reply(
        status,
        &json!({
            "credential": {
                "access": c.access,
                "secret": c.secret,
                "securitytoken": c.securitytoken,
                "expires_at": c.expires_at,
            }
        }),
    )
}

/// The token scope an OIDC request asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    None,
    Domain {
        id: Option<String>,
        name: Option<String>,
    },
    Project {
        id: Option<String>,
        name: Option<String>,
    },
}

/// `POST /v3.0/OS-AUTH/id-token/tokens`, read.
#[derive(Clone, PartialEq, Eq)]
pub struct IdTokenRequest {
    pub id_token: String,
    pub scope: Scope,
}

impl std::fmt::Debug for IdTokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenRequest")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

pub fn parse_id_token(body: &[u8]) -> Result<IdTokenRequest, IamError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|_| IamError::bad_body("it is not JSON"))?;
    let id_token = v
        .pointer("/auth/id_token/id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| IamError::bad_body("auth.id_token.id is missing"))?
        .to_owned();
    let pick = |o: &Value| -> Result<(Option<String>, Option<String>), IamError> {
        let obj = o
            .as_object()
            .ok_or_else(|| IamError::bad_body("a scope is not an object"))?;
        Ok((optional_string(obj, "id")?, optional_string(obj, "name")?))
    };
    let scope = match v.pointer("/auth/scope") {
        None | Some(Value::Null) => Scope::None,
        Some(s) => match (s.get("domain"), s.get("project")) {
            (Some(d), None) => {
                let (id, name) = pick(d)?;
                Scope::Domain { id, name }
            }
            (None, Some(p)) => {
                let (id, name) = pick(p)?;
                Scope::Project { id, name }
            }
            _ => {
                return Err(IamError::bad_parameter(
                    "scope",
                    "it must name either a domain or a project",
                ))
            }
        },
    };
    Ok(IdTokenRequest { id_token, scope })
}

/// Who the federated user is, for the token body.
#[derive(Clone, Copy, Debug)]
pub struct Federation<'a> {
    pub idp_id: &'a str,
    pub domain_id: &'a str,
    pub domain_name: &'a str,
    pub project_id: &'a str,
    pub region: &'a str,
}

/// The 201 body of the OIDC exchange (`ScopedTokenInfo`); the token itself
/// travels in `X-Subject-Token`, never in the body.
pub fn token_reply(token: &SubjectToken, who: &Federation<'_>, scope: &Scope) -> Reply {
    let domain = json!({ "id": who.domain_id, "name": who.domain_name });
    let mut body = json!({
        "expires_at": token.expires_at,
        "issued_at": token.issued_at,
        "methods": ["mapped"],
        "user": {
            "OS-FEDERATION": {
                "identity_provider": { "id": who.idp_id },
                "protocol": { "id": "oidc" },
                "groups": [],
            },
            "domain": domain,
            "id": crate::responses::derived_uuid(&["federated", who.idp_id]).replace('-', ""),
            "name": format!("FederationUser-{}", who.idp_id),
        },
        "roles": [{ "id": "0", "name": "op_auth" }],
        "catalog": [],
    });
    match scope {
        Scope::Project { .. } => {
            body["project"] = json!({ "domain": domain, "id": who.project_id, "name": who.region });
        }
        Scope::Domain { .. } | Scope::None => {
            body["domain"] = domain;
        }
    }
    json_reply(201, &json!({ "token": body }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Reply) -> Value {
        serde_json::from_str(&r.body).unwrap_or(Value::Null)
    }

    fn assume(agency: &str, domain: &str) -> Vec<u8> {
        json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
            "agency_name": agency, "domain_name": domain, "duration_seconds": 3600}}}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn reads_an_assume_role_request() {
        let parsed = parse_securitytokens(&assume("deployer", "partner-account"));
        assert_eq!(
            parsed,
            Ok(StsRequest::AssumeRole(AssumeRole {
                agency_name: "deployer".into(),
                domain_id: None,
                domain_name: Some("partner-account".into()),
                duration_seconds: Some(3600),
            }))
        );
        assert_eq!(method_of(&assume("a", "b")).as_deref(), Some("assume_role"));
    }

    #[test]
    fn duration_outside_iams_range_is_a_400() {
        for bad in [
            json!(899),
            json!(86_401),
            json!(-1),
            json!("3600"),
            json!(1.5),
        ] {
            let b = json!({"auth": {"identity": {"methods": ["assume_role"], "assume_role": {
                "agency_name": "a", "domain_id": "d", "duration_seconds": bad}}}});
            let err = parse_securitytokens(b.to_string().as_bytes());
            let Err(err) = err else {
                panic!("{bad} accepted");
            };
            assert_eq!((err.status, err.code), (400, "IAM.0007"), "{bad}");
            assert!(err.message.contains("duration_seconds"));
        }
        for ok in [900, 86_400] {
            let b = json!({"auth": {"identity": {"methods": ["token"], "token": {
                "id": "t", "duration_seconds": ok}}}});
            assert!(
                parse_securitytokens(b.to_string().as_bytes()).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn malformed_bodies_are_400s_naming_the_part() {
        let cases: [(&[u8], &str); 5] = [
            (b"not json", "IAM.0011"),
            (br#"{"auth": {}}"#, "IAM.0011"),
            (br#"{"auth": {"identity": {"methods": ["password"]}}}"#, "IAM.0007"),
            (
                br#"{"auth": {"identity": {"methods": ["assume_role"], "assume_role": {"domain_id": "d"}}}}"#,
                "IAM.0007",
            ),
            (
                br#"{"auth": {"identity": {"methods": ["assume_role"], "assume_role": {"agency_name": "a"}}}}"#,
                "IAM.0007",
            ),
        ];
        for (b, code) in cases {
            let err = parse_securitytokens(b).err();
            assert_eq!(
                err.as_ref().map(|e| (e.status, e.code)),
                Some((400, code)),
                "{}",
                String::from_utf8_lossy(b)
            );
        }
    }

    #[test]
    fn the_agency_and_its_account_must_match() {
        let agencies = vec!["deployer".to_owned(), "auditor".to_owned()];
        let policy = AgencyPolicy {
            agencies: &agencies,
            domain_name: "partner-account",
            domain_id: "0b1e",
        };
        let req = |agency: &str, id: Option<&str>, name: Option<&str>| AssumeRole {
            agency_name: agency.into(),
            domain_id: id.map(Into::into),
            domain_name: name.map(Into::into),
            duration_seconds: None,
        };
        assert_eq!(
            policy.authorize(&req("auditor", None, Some("partner-account"))),
            Ok(())
        );
        assert_eq!(
            policy.authorize(&req("deployer", Some("0b1e"), None)),
            Ok(())
        );
        let err = policy.authorize(&req("nobody", Some("0b1e"), None)).err();
        let Some(err) = err else {
            panic!("unknown agency accepted");
        };
        assert_eq!((err.status, err.code), (403, "IAM.0002"));
        assert!(
            err.message.contains("no agency named nobody"),
            "{}",
            err.message
        );
        let err = policy
            .authorize(&req("deployer", None, Some("elsewhere")))
            .err();
        assert!(err.is_some_and(|e| e.status == 403 && e.message.contains("elsewhere")));
        let err = policy.authorize(&req("deployer", Some("ffff"), None)).err();
        assert!(err.is_some_and(|e| e.status == 403 && e.message.contains("ffff")));
    }

    #[test]
    fn lifetime_is_the_request_capped_by_the_simulator() {
        let cap = Duration::from_secs(3);
        assert_eq!(lifetime(Some(3600), cap), cap);
        assert_eq!(
            lifetime(None, Duration::from_secs(3600)),
            Duration::from_secs(900)
        );
        assert_eq!(
            lifetime(Some(1200), Duration::from_secs(3600)),
            Duration::from_secs(1200)
        );
    }

    #[test]
    fn token_exchange_reads_the_subject_token_and_hides_it() {
        let b = br#"{"auth": {"identity": {"methods": ["token"], "token": {"id": "MIIsecret"}}}}"#;
        let Ok(StsRequest::Token(t)) = parse_securitytokens(b) else {
            panic!("not read as a token exchange");
        };
        assert_eq!(t.id.as_deref(), Some("MIIsecret"));
        assert!(!format!("{t:?}").contains("MIIsecret"));
        let bare = br#"{"auth": {"identity": {"methods": ["token"]}}}"#;
        assert!(matches!(
            parse_securitytokens(bare),
            Ok(StsRequest::Token(TokenExchange { id: None, .. }))
        ));
    }

    #[test]
    fn id_token_requests_and_scopes() {
        let r = parse_id_token(br#"{"auth": {"id_token": {"id": "eyJ.x.y"}}}"#);
        assert_eq!(
            r.as_ref().map(|r| (r.id_token.as_str(), r.scope.clone())),
            Ok(("eyJ.x.y", Scope::None))
        );
        assert!(!format!("{r:?}").contains("eyJ.x.y"));
        let r = parse_id_token(
            br#"{"auth": {"id_token": {"id": "t"}, "scope": {"project": {"name": "cn-north-4"}}}}"#,
        );
        assert_eq!(
            r.map(|r| r.scope),
            Ok(Scope::Project {
                id: None,
                name: Some("cn-north-4".into())
            })
        );
        for bad in [
            &br#"{"auth": {"id_token": {}}}"#[..],
            br#"{"auth": {"id_token": {"id": ""}}}"#,
            br#"{"auth": {"id_token": {"id": "t"}, "scope": {"domain": {}, "project": {}}}}"#,
        ] {
            assert_eq!(parse_id_token(bad).map_err(|e| e.status), Err(400));
        }
    }

    /// Bodies built with the official SDK's models by
    /// `scripts/fixtures/iam_sts_simulator.py`.
    fn sdk(case: &str) -> &'static str {
        match case {
            "assume_role_by_domain_name" => {
                include_str!("fixtures/iam/assume_role_by_domain_name.json")
            }
            "assume_role_by_domain_id" => {
                include_str!("fixtures/iam/assume_role_by_domain_id.json")
            }
            "token_exchange" => include_str!("fixtures/iam/token_exchange.json"),
            "id_token" => include_str!("fixtures/iam/id_token.json"),
            "id_token_project_scope" => include_str!("fixtures/iam/id_token_project_scope.json"),
            "credential_response" => include_str!("fixtures/iam/credential_response.json"),
            "scoped_token_response" => include_str!("fixtures/iam/scoped_token_response.json"),
            _ => "",
        }
    }

    #[test]
    fn reads_the_requests_the_sdk_sends() {
        assert_eq!(
            parse_securitytokens(sdk("assume_role_by_domain_name").as_bytes()),
            Ok(StsRequest::AssumeRole(AssumeRole {
                agency_name: "deployer".into(),
                domain_id: None,
                domain_name: Some("partner-account".into()),
                duration_seconds: Some(3600),
            }))
        );
        assert_eq!(
            parse_securitytokens(sdk("assume_role_by_domain_id").as_bytes()),
            Ok(StsRequest::AssumeRole(AssumeRole {
                agency_name: "deployer".into(),
                domain_id: Some("0b1e5f9d2c3a4b5c6d7e8f9a0b1c2d3e".into()),
                domain_name: None,
                duration_seconds: None,
            }))
        );
        let token = parse_securitytokens(sdk("token_exchange").as_bytes());
        assert_eq!(
            token,
            Ok(StsRequest::Token(TokenExchange {
                id: Some("MIIsdk-fixture-subject-token".into()),
                duration_seconds: Some(900),
            }))
        );
        let plain = parse_id_token(sdk("id_token").as_bytes());
        assert_eq!(
            plain.map(|r| (r.id_token, r.scope)),
            Ok((
                "eyJhbGciOiJSUzI1NiJ9.sdk-fixture.sig".to_owned(),
                Scope::None
            ))
        );
        let scoped = parse_id_token(sdk("id_token_project_scope").as_bytes());
        assert_eq!(
            scoped.map(|r| r.scope),
            Ok(Scope::Project {
                id: None,
                name: Some("cn-north-4".into())
            })
        );
    }

    /// Every key path of `ours` exists in `theirs` (array items compared
    /// with the SDK's first item), so no answer uses a name the SDK's
    /// models do not have.
    fn unknown_paths(ours: &Value, theirs: &Value, at: &str, out: &mut Vec<String>) {
        match (ours, theirs) {
            (Value::Object(o), Value::Object(t)) => {
                for (k, v) in o {
                    let path = format!("{at}.{k}");
                    match t.get(k) {
                        Some(tv) => unknown_paths(v, tv, &path, out),
                        None => out.push(path),
                    }
                }
            }
            (Value::Array(o), Value::Array(t)) => {
                if let Some(first) = t.first() {
                    for v in o {
                        unknown_paths(v, first, &format!("{at}[]"), out);
                    }
                }
            }
            (Value::Object(_) | Value::Array(_), _) => out.push(format!("{at} (shape)")),
            _ => {}
        }
    }

    #[test]
    fn answers_use_only_the_sdk_models_names() {
        let c = Credential {
            access: "TMP1".into(),
            secret: "S".into(),
            securitytoken: "T".into(),
            expires_at: "2026-12-01T07:21:03.123000Z".into(),
        };
        let ours = body(&credential_reply(201, &c));
        let theirs: Value = serde_json::from_str(sdk("credential_response")).unwrap_or(Value::Null);
        // The credential has exactly the SDK's four fields.
        assert_eq!(
            ours["credential"].as_object().map(|o| o.len()),
            theirs["credential"].as_object().map(|o| o.len())
        );
        let mut unknown = Vec::new();
        unknown_paths(&ours, &theirs, "", &mut unknown);

        let t = SubjectToken {
            id: "MIIx".into(),
            issued_at: "2026-12-01T07:00:00.000000Z".into(),
            expires_at: "2026-12-01T08:00:00.000000Z".into(),
        };
        let who = Federation {
            idp_id: "github-actions",
            domain_id: "d1",
            domain_name: "acct",
            project_id: "p1",
            region: "cn-north-4",
        };
        let theirs: Value =
            serde_json::from_str(sdk("scoped_token_response")).unwrap_or(Value::Null);
        assert!(theirs["token"]["user"]["OS-FEDERATION"].is_object());
        for scope in [
            Scope::None,
            Scope::Project {
                id: None,
                name: Some("cn-north-4".into()),
            },
        ] {
            let ours = body(&token_reply(&t, &who, &scope));
            unknown_paths(&ours, &theirs, "", &mut unknown);
        }
        assert!(unknown.is_empty(), "not in the SDK's models: {unknown:?}");
        // And the check itself catches a misspelt name.
        let mut caught = Vec::new();
        unknown_paths(
            &json!({"credential": {"acess": "x"}}),
            &json!({"credential": {"access": "x"}}),
            "",
            &mut caught,
        );
        assert_eq!(caught, [".credential.acess"]);
    }

    #[test]
    fn bodies_use_the_sdk_field_names() {
        let c = Credential {
            access: "TMP1".into(),
            secret: "S".into(),
            securitytoken: "T".into(),
            expires_at: "2026-12-01T07:21:03.123000Z".into(),
        };
        let b = body(&credential_reply(201, &c));
        let mut keys: Vec<&str> = b["credential"]
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(keys, ["access", "expires_at", "secret", "securitytoken"]);

        let t = SubjectToken {
            id: "MIIsubject".into(),
            issued_at: "2026-12-01T07:00:00.000000Z".into(),
            expires_at: "2026-12-01T08:00:00.000000Z".into(),
        };
        let who = Federation {
            idp_id: "github-actions",
            domain_id: "d1",
            domain_name: "acct",
            project_id: "p1",
            region: "cn-north-4",
        };
        let r = token_reply(&t, &who, &Scope::None);
        assert_eq!(r.status, 201);
        assert!(
            !r.body.contains("MIIsubject"),
            "the token is for the header only"
        );
        let b = body(&r);
        assert_eq!(b["token"]["expires_at"], "2026-12-01T08:00:00.000000Z");
        assert_eq!(b["token"]["methods"][0], "mapped");
        assert_eq!(
            b["token"]["user"]["OS-FEDERATION"]["identity_provider"]["id"],
            "github-actions"
        );
        assert_eq!(b["token"]["domain"]["id"], "d1");
        let scoped = body(&token_reply(
            &t,
            &who,
            &Scope::Project {
                id: None,
                name: Some("cn-north-4".into()),
            },
        ));
        assert_eq!(scoped["token"]["project"]["id"], "p1");

        let e = body(&IamError::forbidden("x").reply());
        assert_eq!(e["error_code"], "IAM.0002");
        assert!(e["error_msg"].as_str().is_some_and(|m| m.ends_with(": x")));
    }
}
