//! Base URLs of the services we call.
//!
//! Endpoint configuration is validated once (at provider configuration) and
//! resolved per region (each wait may override the region), so a bad
//! override is reported up front, naming the key that is wrong.

use std::collections::BTreeMap;

use url::Url;

use super::CloudError;

/// Domain of the public Huawei Cloud regions.
pub const DEFAULT_CLOUD: &str = "myhuaweicloud.com";
/// Domain of the European sovereign regions.
pub const EU_CLOUD: &str = "myhuaweicloud.eu";

/// A service endpoint the caller knows: the key users write in `endpoints`
/// and the leftmost label of its default host. The jobs registry supplies
/// the job services; this layer only adds IAM, which it calls itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceEndpoint {
    pub key: &'static str,
    pub host_label: &'static str,
}

/// IAM, for project discovery.
pub const IAM: ServiceEndpoint = ServiceEndpoint {
    key: "iam",
    host_label: "iam",
};

/// Reject anything that could change the host name the region is put into.
pub fn validate_region(region: &str) -> Result<(), CloudError> {
    let bad = |reason: &str| CloudError::InvalidInput {
        what: format!("region {region:?}"),
        reason: reason.to_string(),
    };
    let mut bytes = region.bytes();
    match bytes.next() {
        None => return Err(bad("must not be empty")),
        Some(b) if !(b.is_ascii_lowercase() || b.is_ascii_digit()) => {
            return Err(bad(
                "must start with a lower-case letter or digit (pattern ^[a-z0-9][a-z0-9-]*$)",
            ))
        }
        Some(_) => {}
    }
    if !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(bad(
            "may contain only lower-case letters, digits and `-` (pattern ^[a-z0-9][a-z0-9-]*$)",
        ));
    }
    if region.len() > 63 {
        return Err(bad("is longer than a DNS label (63 characters)"));
    }
    Ok(())
}

/// The domain a region lives under when `cloud` is not set.
pub fn default_cloud(region: &str) -> &'static str {
    if region.starts_with("eu-west-1") {
        EU_CLOUD
    } else {
        DEFAULT_CLOUD
    }
}

/// Validated endpoint settings from the provider block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointConfig {
    cloud: Option<String>,
    auth_url: Option<Url>,
    known: Vec<ServiceEndpoint>,
    overrides: BTreeMap<&'static str, Url>,
}

/// IAM only, on the default cloud: what a client that waits on no job
/// service needs.
impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            cloud: None,
            auth_url: None,
            known: vec![IAM],
            overrides: BTreeMap::new(),
        }
    }
}

impl EndpointConfig {
    /// Validate `cloud`, `auth_url` and the `endpoints` map against the
    /// `services` the caller serves (IAM is always known). Empty strings
    /// count as unset.
    pub fn new(
        cloud: Option<&str>,
        auth_url: Option<&str>,
        overrides: &BTreeMap<String, String>,
        services: &[ServiceEndpoint],
    ) -> Result<EndpointConfig, CloudError> {
        let cloud = match cloud.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => {
                validate_cloud(c)?;
                Some(c.to_ascii_lowercase())
            }
            None => None,
        };
        let auth_url = match auth_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => Some(iam_base_from_auth_url(u)?),
            None => None,
        };
        let mut known: Vec<ServiceEndpoint> = Vec::with_capacity(services.len() + 1);
        for s in services.iter().chain([&IAM]) {
            if !known.iter().any(|k| k.key == s.key) {
                known.push(*s);
            }
        }
        let mut parsed = BTreeMap::new();
        for (key, value) in overrides {
            let key = key.trim();
            let Some(k) = known.iter().find(|k| k.key == key) else {
                let names: Vec<&str> = known.iter().map(|k| k.key).collect();
                return Err(CloudError::InvalidEndpoint {
                    key: key.to_string(),
                    reason: format!("unknown service key; expected one of {}", names.join(", ")),
                });
            };
            if value.trim().is_empty() {
                continue;
            }
            parsed.insert(k.key, parse_base_url(key, value)?);
        }
        Ok(EndpointConfig {
            cloud,
            auth_url,
            known,
            overrides: parsed,
        })
    }

    /// The keys `endpoints` accepts, IAM last.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.known.iter().map(|k| k.key)
    }

    /// The base URL of `key` in `region`: the override if set, then
    /// `auth_url` for IAM, then `https://{label}.{region}.{cloud}`. Only the
    /// one URL asked for is built, since every wait asks for one.
    pub fn url(&self, region: &str, key: &str) -> Result<Url, CloudError> {
        validate_region(region)?;
        let Some(known) = self.known.iter().find(|k| k.key == key) else {
            return Err(CloudError::InvalidEndpoint {
                key: key.to_string(),
                reason: "no such service endpoint".to_string(),
            });
        };
        if let Some(u) = self.overrides.get(known.key) {
            return Ok(u.clone());
        }
        if known.key == IAM.key {
            if let Some(u) = &self.auth_url {
                return Ok(u.clone());
            }
        }
        let cloud = self
            .cloud
            .as_deref()
            .unwrap_or_else(|| default_cloud(region));
        let text = format!("https://{}.{region}.{cloud}", known.host_label);
        parse_base_url(known.key, &text)
    }

    /// IAM's base URL in `region`.
    pub fn iam(&self, region: &str) -> Result<Url, CloudError> {
        self.url(region, IAM.key)
    }
}

/// `cloud` becomes part of every default host name.
fn validate_cloud(cloud: &str) -> Result<(), CloudError> {
    let ok_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    // The URL parser reads a host whose last label is numeric (`1.2`,
    // `a.0x1`) as an IPv4 address and refuses it; check here, so the error
    // names `cloud` instead of surfacing later as a bad `cce` endpoint.
    let lower = cloud.to_ascii_lowercase();
    let parses_as_domain = || {
        Url::parse(&format!("https://h.{lower}/"))
            .is_ok_and(|u| u.host_str() == Some(format!("h.{lower}").as_str()))
    };
    if cloud.len() <= 253
        && cloud.split('.').count() >= 2
        && cloud.split('.').all(ok_label)
        && parses_as_domain()
    {
        Ok(())
    } else {
        Err(CloudError::InvalidInput {
            what: format!("cloud {cloud:?}"),
            reason: "must be a domain name such as myhuaweicloud.com".to_string(),
        })
    }
}

/// Parse a base URL and refuse forms that would leak or misplace
/// credentials: userinfo would be sent to the server, and a query or
/// fragment would be silently mangled when paths are appended.
fn parse_base_url(key: &str, value: &str) -> Result<Url, CloudError> {
    let bad = |reason: String| CloudError::InvalidEndpoint {
        key: key.to_string(),
        reason,
    };
    let value = value.trim();
    // Without a scheme, `url` calls `cce.example.com` a relative URL and
    // reads `localhost:8080` as scheme `localhost`: neither says what to do.
    // The value itself is not quoted: it may hold a password.
    if !value.contains("://") {
        return Err(bad(
            "must be a whole URL starting with https:// (or http:// for a test server)".to_string(),
        ));
    }
    let url = Url::parse(value).map_err(|e| bad(format!("{e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad(format!(
            "scheme {:?} is not supported; use https:// (or http:// for a test server)",
            url.scheme()
        )));
    }
    match url.host_str() {
        Some(h) if !h.is_empty() => {}
        _ => return Err(bad("has no host".to_string())),
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo the URL itself here: the userinfo may be a password.
        return Err(bad("must not contain a user name or password".to_string()));
    }
    if url.query().is_some() {
        return Err(bad("must not contain a query string".to_string()));
    }
    if url.fragment().is_some() {
        return Err(bad("must not contain a fragment".to_string()));
    }
    Ok(url)
}

/// `auth_url` is written official-provider style, ending in `/v3`; our IAM
/// base is the same URL without it, because requests add `v3/...` themselves.
fn iam_base_from_auth_url(value: &str) -> Result<Url, CloudError> {
    let mut url = parse_base_url("auth_url", value).map_err(|e| match e {
        CloudError::InvalidEndpoint { reason, .. } => CloudError::InvalidInput {
            what: "auth_url".to_string(),
            reason,
        },
        other => other,
    })?;
    let path = url.path().trim_end_matches('/');
    let base = path.strip_suffix("/v3").unwrap_or(path).to_string();
    url.set_path(if base.is_empty() { "/" } else { &base });
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The services these tests configure, as a caller would pass them.
    const SERVICES: &[ServiceEndpoint] = &[
        ServiceEndpoint {
            key: "cce",
            host_label: "cce",
        },
        ServiceEndpoint {
            key: "swr",
            host_label: "swr-api",
        },
        ServiceEndpoint {
            key: "elb",
            host_label: "elb",
        },
    ];

    fn new(
        cloud: Option<&str>,
        auth_url: Option<&str>,
        map: &BTreeMap<String, String>,
    ) -> Result<EndpointConfig, CloudError> {
        EndpointConfig::new(cloud, auth_url, map, SERVICES)
    }

    /// Every URL of one region, so the tests can compare them side by side.
    #[derive(Debug)]
    struct Resolved {
        cce: Url,
        swr: Url,
        elb: Url,
        iam: Url,
        config: EndpointConfig,
        region: String,
    }

    impl Resolved {
        fn by_name(&self, key: &str) -> Result<Url, CloudError> {
            self.config.url(&self.region, key)
        }
    }

    impl EndpointConfig {
        fn resolve(&self, region: &str) -> Result<Resolved, CloudError> {
            Ok(Resolved {
                cce: self.url(region, "cce")?,
                swr: self.url(region, "swr")?,
                elb: self.url(region, "elb")?,
                iam: self.iam(region)?,
                config: self.clone(),
                region: region.to_string(),
            })
        }
    }

    fn cfg(overrides: &[(&str, &str)]) -> Result<EndpointConfig, CloudError> {
        let map = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        new(None, None, &map)
    }

    #[test]
    fn defaults_per_region() {
        let e = cfg(&[]).unwrap().resolve("cn-north-4").unwrap();
        assert_eq!(e.cce.as_str(), "https://cce.cn-north-4.myhuaweicloud.com/");
        assert_eq!(
            e.swr.as_str(),
            "https://swr-api.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(e.elb.as_str(), "https://elb.cn-north-4.myhuaweicloud.com/");
        assert_eq!(e.iam.as_str(), "https://iam.cn-north-4.myhuaweicloud.com/");
        assert_eq!(e.by_name("swr").unwrap(), e.swr);
        assert!(e.by_name("ecs").is_err());
    }

    #[test]
    fn eu_regions_use_the_eu_domain_unless_cloud_is_set() {
        let e = cfg(&[]).unwrap().resolve("eu-west-101").unwrap();
        assert_eq!(e.cce.as_str(), "https://cce.eu-west-101.myhuaweicloud.eu/");
        let e = cfg(&[]).unwrap().resolve("eu-west-0").unwrap();
        assert_eq!(e.cce.as_str(), "https://cce.eu-west-0.myhuaweicloud.com/");
        let c = new(Some("Example.COM"), None, &BTreeMap::new()).unwrap();
        assert_eq!(
            c.url("eu-west-101", "elb").unwrap().as_str(),
            "https://elb.eu-west-101.example.com/"
        );
    }

    #[test]
    fn bad_cloud_rejected() {
        for c in [
            "nodot",
            "a..b",
            "-a.com",
            "a.com/evil",
            "a.com@b",
            "ex ample.com",
            "example.123",
            "1.2",
            "a.0x1",
        ] {
            let e = new(Some(c), None, &BTreeMap::new()).unwrap_err();
            assert!(e.to_string().contains("cloud"), "{c}: {e}");
        }
    }

    #[test]
    fn region_validation() {
        for ok in ["cn-north-4", "ap-southeast-1", "la-north-2", "0"] {
            assert!(validate_region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-cn",
            "CN-north-4",
            "cn_north",
            "cn.evil.com/x",
            "cn-north-4 ",
            "a@b",
            &"a".repeat(64),
        ] {
            let e = cfg(&[]).unwrap().resolve(bad).unwrap_err();
            assert!(matches!(e, CloudError::InvalidInput { .. }), "{bad}: {e:?}");
            assert!(e.to_string().starts_with("invalid region"), "{e}");
        }
    }

    #[test]
    fn overrides_win_and_keep_paths() {
        let c = cfg(&[
            ("cce", "http://127.0.0.1:8080/prefix/"),
            ("iam", "http://127.0.0.1:9000"),
        ])
        .unwrap();
        let e = c.resolve("cn-north-4").unwrap();
        assert_eq!(e.cce.as_str(), "http://127.0.0.1:8080/prefix/");
        assert_eq!(e.iam.as_str(), "http://127.0.0.1:9000/");
        assert_eq!(e.elb.as_str(), "https://elb.cn-north-4.myhuaweicloud.com/");
        // Empty overrides count as unset.
        let e = cfg(&[("swr", "")]).unwrap().resolve("cn-north-4").unwrap();
        assert_eq!(
            e.swr.as_str(),
            "https://swr-api.cn-north-4.myhuaweicloud.com/"
        );
    }

    #[test]
    fn override_rejections_name_the_key() {
        let cases = [
            (("elb", "ftp://h/"), "scheme"),
            (("elb", "not a url"), "starting with https://"),
            (
                ("elb", "elb.example.com"),
                "must be a whole URL starting with https:// (or http:// for a test server)",
            ),
            (("elb", "localhost:8080"), "starting with https://"),
            (("elb", "/relative/path"), "starting with https://"),
            (("swr", "http://user:pw@h/"), "user name or password"),
            (("cce", "https://h/?a=b"), "query"),
            (("cce", "https://h/#frag"), "fragment"),
            (("iam", "file:///etc/passwd"), "scheme"),
            (("ecs", "https://h/"), "unknown service key"),
        ];
        for ((key, value), needle) in cases {
            let e = cfg(&[(key, value)]).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("invalid endpoint `{key}`")),
                "{text}"
            );
            assert!(text.contains(needle), "{text}");
            assert!(!text.contains("pw"), "{text}");
        }
    }

    #[test]
    fn auth_url_strips_v3_and_endpoints_iam_wins() {
        let none = BTreeMap::new();
        for (input, want) in [
            (
                "https://iam.myhuaweicloud.com/v3",
                "https://iam.myhuaweicloud.com/",
            ),
            (
                "https://iam.myhuaweicloud.com/v3/",
                "https://iam.myhuaweicloud.com/",
            ),
            ("http://127.0.0.1:5000/iam/v3", "http://127.0.0.1:5000/iam"),
            ("https://iam.example.com", "https://iam.example.com/"),
        ] {
            let c = new(None, Some(input), &none).unwrap();
            assert_eq!(
                c.url("cn-north-4", "iam").unwrap().as_str(),
                want,
                "{input}"
            );
        }
        let mut map = BTreeMap::new();
        map.insert("iam".to_string(), "http://127.0.0.1:1/".to_string());
        let c = new(None, Some("https://iam.example.com/v3"), &map).unwrap();
        assert_eq!(
            c.url("cn-north-4", "iam").unwrap().as_str(),
            "http://127.0.0.1:1/"
        );
        let e = new(None, Some("ldap://x/v3"), &none).unwrap_err();
        assert!(e.to_string().starts_with("invalid auth_url"), "{e}");
    }
    #[test]
    fn hostile_regions_are_rejected_before_any_host_is_built() {
        let long = "a".repeat(64);
        for bad in [
            "",
            "../x",
            "a/b",
            "%2e%2e",
            "x?y",
            "x#y",
            "x@evil",
            "cn-north-4.evil.com",
            "evil.com/",
            "cn-north-4\r\n",
            "cn-north-4\n.evil.com",
            "cn-north-4\t",
            "cn north",
            " cn-north-4",
            "cn-nörth-4",
            "cn-north-4\u{ff0e}evil",
            "cn-north-4:443",
            "cn-north-4\\evil",
            "\u{0}",
            long.as_str(),
        ] {
            let e = validate_region(bad).unwrap_err();
            assert!(e.to_string().starts_with("invalid region "), "{e}");
            assert!(!e.to_string().contains(['\n', '\r']), "{e}");
            let e = cfg(&[]).unwrap().resolve(bad).unwrap_err();
            assert!(
                matches!(e, CloudError::InvalidInput { .. }),
                "{bad:?}: {e:?}"
            );
        }
    }

    /// The characters a region may contain, plus the ones an attacker would try.
    const REGION_SOUP: &str = "[a-z0-9./\\\\%?#@: \\t\\r\\nA-Z\\u{0}\\u{ff0e}-]{0,12}";

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// An accepted region holds only `[a-z0-9-]` and lands, whole, as the
        /// second label of every default host.
        #[test]
        fn accepted_regions_stay_one_host_label(
            region in proptest::prop_oneof![
                REGION_SOUP,
                proptest::prelude::any::<String>(),
                "[a-z0-9][a-z0-9-]{0,62}",
            ]
        ) {
            let accepted = validate_region(&region).is_ok();
            let wanted = !region.is_empty()
                && region.len() <= 63
                && !region.starts_with('-')
                && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            proptest::prop_assert_eq!(accepted, wanted, "{:?}", region);
            match cfg(&[]).unwrap().resolve(&region) {
                Ok(e) => {
                    proptest::prop_assert!(accepted);
                    for known in SERVICES.iter().chain([&IAM]) {
                        let url = e.by_name(known.key).unwrap();
                        let want = format!("{}.{region}.{}", known.host_label, default_cloud(&region));
                        proptest::prop_assert_eq!(url.host_str(), Some(want.as_str()));
                        proptest::prop_assert_eq!(url.scheme(), "https");
                        proptest::prop_assert_eq!(url.path(), "/");
                        proptest::prop_assert_eq!(url.port(), None);
                    }
                }
                Err(e) => {
                    proptest::prop_assert!(!accepted);
                    let is_input = matches!(e, CloudError::InvalidInput { .. });
                    proptest::prop_assert!(is_input, "{:?}", e);
                }
            }
        }

        /// Whatever the `endpoints` map holds, an accepted override is an
        /// http(s) URL with a host and no user info, query or fragment, and a
        /// rejection names the key without echoing a password.
        #[test]
        fn endpoint_overrides_are_validated(
            value in proptest::prop_oneof![
                "(https?|ftp|file|javascript)://[a-z0-9.:@/?#%\\[\\] -]{0,20}",
                "[a-z0-9.:@/?#%\\\\ -]{0,20}",
                proptest::prelude::any::<String>(),
            ],
            key in proptest::prop_oneof![
                proptest::strategy::Just("cce"),
                proptest::strategy::Just("iam"),
                proptest::strategy::Just("ecs"),
            ],
        ) {
            let secret = "pw-Secr3t";
            let value = value.replace("@", &format!(":{secret}@"));
            match cfg(&[(key, &value)]) {
                Ok(c) => {
                    proptest::prop_assert!(key != "ecs");
                    let e = c.resolve("cn-north-4").unwrap();
                    let url = e.by_name(key).unwrap();
                    if value.trim().is_empty() {
                        proptest::prop_assert_eq!(url.host_str().map(|h| h.ends_with(".cn-north-4.myhuaweicloud.com")), Some(true));
                    } else {
                        proptest::prop_assert!(url.scheme() == "https" || url.scheme() == "http");
                        proptest::prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
                        proptest::prop_assert_eq!(url.username(), "");
                        proptest::prop_assert_eq!(url.password(), None);
                        proptest::prop_assert_eq!(url.query(), None);
                        proptest::prop_assert_eq!(url.fragment(), None);
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    proptest::prop_assert!(text.starts_with(&format!("invalid endpoint `{key}`")), "{}", text);
                    proptest::prop_assert!(!text.contains(secret), "{}", text);
                }
            }
        }

        /// `cloud` and `auth_url` never panic; an accepted `cloud` is the
        /// domain of every default host, lower-cased.
        #[test]
        fn cloud_and_auth_url_are_validated(
            cloud in proptest::prop_oneof![
                "[A-Za-z0-9.@/:% -]{0,20}",
                "[a-z0-9-]{1,4}(\\.[a-z0-9x-]{1,4}){1,3}",
                proptest::prelude::any::<String>(),
            ],
            auth_url in proptest::prop_oneof![
                "https?://[a-z0-9.:@/?#%-]{0,20}",
                proptest::prelude::any::<String>(),
            ],
        ) {
            let none = BTreeMap::new();
            if let Ok(c) = new(Some(&cloud), None, &none) {
                let e = c.resolve("cn-north-4").unwrap();
                let domain = cloud.trim().to_ascii_lowercase();
                if domain.is_empty() {
                    proptest::prop_assert_eq!(e.cce.host_str(), Some("cce.cn-north-4.myhuaweicloud.com"));
                } else {
                    let want = format!("cce.cn-north-4.{domain}");
                    proptest::prop_assert_eq!(e.cce.host_str(), Some(want.as_str()));
                }
            }
            if let Ok(c) = new(None, Some(&auth_url), &none) {
                let iam = c.url("cn-north-4", "iam").unwrap();
                proptest::prop_assert!(iam.scheme() == "https" || iam.scheme() == "http");
                proptest::prop_assert_eq!(iam.username(), "");
                proptest::prop_assert_eq!(iam.query(), None);
                proptest::prop_assert_eq!(iam.fragment(), None);
            }
        }
    }
}
