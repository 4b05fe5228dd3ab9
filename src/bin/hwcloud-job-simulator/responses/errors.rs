//! Error answers: each service's own error body, and the gateway's.
//!
//! The spellings follow the services' API references (the SDK core reads
//! `error_code`/`error_msg`, `errorCode`/`errorMsg`, `code`/`message`, and
//! the same pairs one level down). Codes the references give as examples
//! are used as they are (`DBS.200001`, `DBS.200002`, `CCE.01404001`,
//! `ELB.8902`); the others are stand-ins in the service's own code format.

use serde_json::{json, Value};

use super::{Reply, APIGW_THROTTLED};
use crate::service::{Family, Service};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    NotFound,
    BadRequest,
}

impl Kind {
    fn status(self) -> u16 {
        match self {
            Kind::NotFound => 404,
            Kind::BadRequest => 400,
        }
    }

    fn pick<T>(self, not_found: T, bad_request: T) -> T {
        match self {
            Kind::NotFound => not_found,
            Kind::BadRequest => bad_request,
        }
    }
}

/// The v1 family's codes are per service: `Ecs.`, `EVS.`, `IMG.`, `BMS.`.
fn v1_code(service: Service, kind: Kind) -> &'static str {
    match service {
        Service::Evs => kind.pick("EVS.5404", "EVS.2001"),
        Service::Ims => kind.pick("IMG.0027", "IMG.0001"),
        Service::Bms => kind.pick("BMS.0014", "BMS.0001"),
        _ => kind.pick("Ecs.0014", "Ecs.0005"),
    }
}

fn body(service: Service, kind: Kind, request_id: &str, message: &str) -> Value {
    match service.family() {
        // CCE answers with both its own camelCase pair and the snake_case
        // pair, with different codes in each.
        Family::Cce => {
            let (title, cm_code) = kind.pick(
                ("Resource not found", "CCE_CM.0003"),
                ("Bad request", "CCE_CM.0001"),
            );
            json!({
                "errorCode": kind.pick("CCE.01404001", "CCE.01400001"),
                "errorMessage": title,
                "error_code": cm_code,
                "error_msg": format!("{title}: {message}"),
            })
        }
        Family::Swr => json!({
            "error_code": kind.pick("SWR.0404", "SWR.0400"),
            "error_msg": message,
        }),
        Family::Elb => json!({
            "error_code": kind.pick("ELB.8902", "ELB.8901"),
            "error_msg": message,
            "request_id": request_id,
        }),
        Family::V1 => json!({
            "error": { "code": v1_code(service, kind), "message": message },
        }),
        Family::V3 => json!({
            "error_code": kind.pick("DBS.200002", "DBS.200001"),
            "error_msg": message,
        }),
        Family::Dcs => json!({
            "error_code": kind.pick("DCS.4204", "DCS.4000"),
            "error_msg": message,
            "error_ext_msg": null,
        }),
        Family::Cbr => json!({
            "error_code": kind.pick("BackupService.6410", "BackupService.0001"),
            "error_msg": message,
        }),
    }
}

fn reply(service: Service, kind: Kind, request_id: &str, message: &str) -> Reply {
    Reply::json(kind.status(), &body(service, kind, request_id, message))
}

/// HTTP 404 in each service's own error shape.
pub fn not_found(service: Service, request_id: &str, message: &str) -> Reply {
    reply(service, Kind::NotFound, request_id, message)
}

/// HTTP 400 in each service's own error shape: a request the service
/// refuses before looking for a job (a v3 request without its `id`).
pub fn bad_request(service: Service, request_id: &str, message: &str) -> Reply {
    reply(service, Kind::BadRequest, request_id, message)
}

/// An error from the API gateway in front of every service.
pub fn gateway_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "error_msg": message,
            "error_code": code,
            "request_id": request_id,
        }),
    )
}

pub fn throttled(request_id: &str) -> Reply {
    Reply {
        retry_after: Some(1),
        ..gateway_error(
            429,
            APIGW_THROTTLED,
            "The throttling threshold has been reached",
            request_id,
        )
    }
}

/// What a load balancer in front of the gateway shows when the backend is
/// down: HTML, not JSON, which clients must treat as transient.
pub fn unavailable() -> Reply {
    Reply {
        status: 503,
        content_type: "text/html",
        body: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n\
               <body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n\
               <hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
            .to_owned(),
        retry_after: None,
    }
}

/// A truncated JSON document: claims to be JSON and is not.
pub fn bad_json() -> Reply {
    Reply {
        status: 200,
        content_type: "application/json;charset=utf-8",
        body: "{\"kind\": \"Job\", \"apiVersion\": \"v3\", \"status\": {\"phase\": \"Succ"
            .to_owned(),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{body as json_of, ctx};
    use super::super::{job_reply, APIGW_THROTTLED};
    use super::*;
    use crate::scenario::Step;

    /// The code and message wherever the service's shape puts them.
    fn code_and_message(service: Service, reply: &Reply) -> (String, String) {
        let b = json_of(reply);
        let (code, msg) = match service.family() {
            Family::V1 => (&b["error"]["code"], &b["error"]["message"]),
            Family::Cce => (&b["errorCode"], &b["error_msg"]),
            _ => (&b["error_code"], &b["error_msg"]),
        };
        (
            code.as_str().unwrap_or("?").to_owned(),
            msg.as_str().unwrap_or("?").to_owned(),
        )
    }

    #[test]
    fn not_found_uses_each_service_shape() {
        let cce = json_of(&not_found(Service::Cce, "r", "job x not found"));
        assert_eq!(cce["errorCode"], "CCE.01404001");
        assert_eq!(cce["error_code"], "CCE_CM.0003");
        let swr = json_of(&not_found(Service::Swr, "r", "job x not found"));
        assert_eq!(swr["error_code"], "SWR.0404");
        assert_eq!(swr["error_msg"], "job x not found");
        let elb = not_found(Service::Elb, "r", "m");
        assert_eq!(elb.status, 404);
        assert_eq!(json_of(&elb)["error_code"], "ELB.8902");
        assert_eq!(json_of(&elb)["request_id"], "r");
        let ecs = json_of(&not_found(Service::Ecs, "r", "m"));
        assert_eq!(ecs["error"]["code"], "Ecs.0014");
        assert_eq!(ecs["error"]["message"], "m");
        assert!(ecs.get("error_code").is_none());
        assert_eq!(
            json_of(&not_found(Service::Ims, "r", "m"))["error"]["code"],
            "IMG.0027"
        );
        assert_eq!(
            json_of(&not_found(Service::Rds, "r", "m"))["error_code"],
            "DBS.200002"
        );
        let dcs = json_of(&not_found(Service::Dcs, "r", "m"));
        assert!(dcs["error_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("DCS.")));
        let cbr = json_of(&not_found(Service::Cbr, "r", "m"));
        assert!(cbr["error_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("BackupService.")));
    }

    #[test]
    fn every_service_has_a_404_and_a_400_with_distinct_codes() {
        for service in Service::ALL {
            let nf = not_found(service, "r", "job gone");
            let br = bad_request(service, "r", "id is required");
            assert_eq!((nf.status, br.status), (404, 400), "{service}");
            let (nf_code, nf_msg) = code_and_message(service, &nf);
            let (br_code, br_msg) = code_and_message(service, &br);
            assert!(nf_code.contains('.') && br_code.contains('.'), "{service}");
            assert_ne!(nf_code, br_code, "{service}");
            assert!(nf_msg.contains("job gone"), "{service}: {nf_msg}");
            assert!(br_msg.contains("id is required"), "{service}: {br_msg}");
        }
    }

    #[test]
    fn database_services_refuse_a_missing_id_with_dbs_200001() {
        for service in [
            Service::Rds,
            Service::Dds,
            Service::Gaussdb,
            Service::Opengauss,
            Service::Geminidb,
        ] {
            let b = json_of(&bad_request(service, "r", "m"));
            assert_eq!(b["error_code"], "DBS.200001", "{service}");
            assert_eq!(b["error_msg"], "m");
        }
    }

    #[test]
    fn transient_and_broken_replies() {
        let t = job_reply(&ctx(Service::Cce, "throttle1-x"), Step::Throttled);
        assert_eq!(t.status, 429);
        assert_eq!(t.retry_after, Some(1));
        assert_eq!(json_of(&t)["error_code"], APIGW_THROTTLED);
        assert_eq!(json_of(&t)["request_id"], "req-1");
        let u = job_reply(&ctx(Service::Elb, "unavail1-x"), Step::Unavailable);
        assert_eq!(u.status, 503);
        assert!(serde_json::from_str::<Value>(&u.body).is_err());
        assert!(u.content_type.starts_with("text/html"));
        let b = job_reply(&ctx(Service::Cbr, "bad-json-x"), Step::BadJson);
        assert_eq!(b.status, 200);
        assert!(serde_json::from_str::<Value>(&b.body).is_err());
    }
}
