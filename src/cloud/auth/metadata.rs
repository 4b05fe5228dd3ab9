//! Temporary keys of an ECS instance's agency, from the metadata service.
//!
//! It is the last resort, tried only when nothing else gives credentials,
//! so on most machines (a laptop, a CI runner elsewhere) nothing listens at
//! its link-local address and a connection attempt would hang until the TCP
//! stack gives up. One overall bound of [`METADATA_TIMEOUT`] turns that into
//! a quick error that lists every other way to authenticate.

use std::time::Duration;

use serde_json::Value;

use super::{AuthError, Exchange, Issued};
use crate::cloud::client::{authority, read_capped};
use crate::cloud::error::ErrorResponse;
use crate::cloud::{CloudClient, CloudError};

/// The metadata service answers in milliseconds on an instance.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(2);
/// The answer is a few hundred bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;
pub const SECURITY_KEY_PATH: [&str; 3] = ["openstack", "latest", "securitykey"];

/// `GET {metadata}/openstack/latest/securitykey`, within [`METADATA_TIMEOUT`].
pub async fn fetch(ex: &Exchange) -> Result<Issued, AuthError> {
    let url = CloudClient::build_url(&ex.metadata, &SECURITY_KEY_PATH, &[]).map_err(|e| {
        AuthError::Invalid {
            step: "building the metadata service address".into(),
            problem: e.to_string(),
        }
    })?;
    let shown = url.to_string();
    let host = authority(&url).map_err(|e| AuthError::Invalid {
        step: "building the metadata service address".into(),
        problem: e.to_string(),
    })?;
    let request = async {
        let mut response = ex
            .metadata_http
            .get(url.clone())
            .timeout(METADATA_TIMEOUT)
            .send()
            .await
            .map_err(|e| CloudError::from_transport(&host, &e, METADATA_TIMEOUT))?;
        let status = response.status().as_u16();
        let body = read_capped(&mut response, &host, MAX_BODY_BYTES, METADATA_TIMEOUT).await?;
        if !response.status().is_success() {
            return Err(CloudError::from_response(
                &ErrorResponse::new(status, &host, &body),
                &ex.sanitiser,
            ));
        }
        Ok(body)
    };
    let body = match tokio::time::timeout(METADATA_TIMEOUT, request).await {
        Err(_) | Ok(Err(CloudError::Timeout { .. })) => {
            return Err(AuthError::NoMetadata {
                url: shown,
                problem: format!(
                    "did not answer within {} s (this is not an ECS instance, or its metadata service is blocked)",
                    METADATA_TIMEOUT.as_secs()
                ),
            })
        }
        Ok(Err(e)) if e.status().is_none() => {
            return Err(AuthError::NoMetadata {
                url: shown,
                problem: format!("could not be reached ({e})"),
            })
        }
        Ok(Err(cause)) => {
            return Err(AuthError::Request {
                step: format!("fetching temporary keys from the ECS metadata service at {shown} (does the instance have an agency?)"),
                cause: Box::new(cause),
            })
        }
        Ok(Ok(body)) => body,
    };
    let json = crate::untrusted::json::parse(&body).unwrap_or(Value::Null);
    super::iam::parse_credential(
        ex,
        &json,
        "reading the ECS metadata service's temporary keys",
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::auth::iam::tests::{exchange, fixture};
    use crate::cloud::test_server::{response, Reply, TestServer};
    use crate::cloud::Credentials;
    use std::time::Instant;

    #[tokio::test]
    async fn reads_the_credential_object() {
        // The metadata answer has the IAM answer's `credential` object.
        let body = fixture("assume_role_response").to_string();
        let page = response("200 OK", &[], body.as_bytes());
        let server = TestServer::start(move |_| Reply::Raw(page.clone())).await;
        let mut ex = exchange(Url::parse("http://127.0.0.1:1/").unwrap());
        ex.metadata = server.base();
        let issued = fetch(&ex).await.unwrap();
        assert!(issued.expires_at.is_some());
        assert!(matches!(
            issued.credentials,
            Credentials::AkSk {
                security_token: Some(_),
                ..
            }
        ));
        let reqs = server.requests();
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(reqs[0].target, "/openstack/latest/securitykey");
        assert!(reqs[0].header("authorization").is_none());
    }

    use url::Url;

    #[tokio::test]
    async fn a_silent_metadata_service_fails_fast_listing_every_way() {
        // Accepts connections and never answers, like a blackholed address.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        let mut ex = exchange(Url::parse("http://127.0.0.1:1/").unwrap());
        ex.metadata = Url::parse(&format!("http://{addr}")).unwrap();
        let started = Instant::now();
        let e = fetch(&ex).await.unwrap_err();
        let took = started.elapsed();
        keep.abort();
        assert!(took < Duration::from_secs(10), "took {took:?}");
        let text = e.to_string();
        assert!(text.contains("did not answer within 2 s"), "{text}");
        for way in [
            "HW_ACCESS_KEY",
            "HW_AUTH_TOKEN",
            "HW_PROFILE",
            "HW_ASSUME_ROLE_IDP_ID",
            "HW_METADATA_ENDPOINT",
            "HW_ASSUME_ROLE_AGENCY_NAME",
        ] {
            assert!(text.contains(way), "{way} missing: {text}");
        }
    }

    #[tokio::test]
    async fn a_refusing_metadata_service_is_an_error_with_its_status() {
        let page = response("404 Not Found", &[], br#"{"error":"no agency"}"#);
        let server = TestServer::start(move |_| Reply::Raw(page.clone())).await;
        let mut ex = exchange(Url::parse("http://127.0.0.1:1/").unwrap());
        ex.metadata = server.base();
        let e = fetch(&ex).await.unwrap_err();
        assert_eq!(e.status(), Some(404));
        assert!(e.to_string().contains("agency"), "{e}");
    }
}
