//! SDK-HMAC-SHA256 and SDK-HMAC-SM3 request signing, as Huawei Cloud's API
//! gateway verifies them.
//!
//! Everything here is a pure function of its inputs so that the loopback
//! simulator can verify signatures with exactly the code that produces them,
//! and so that the published test vectors pin the algorithm down.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use sm3::Sm3;

/// The default algorithm's name, used both in the string to sign and in the
/// header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The gateway leaves only RFC 3986 unreserved characters unescaped; anything
/// looser (e.g. the `url` crate's path set) would produce a different string
/// to sign than the server computes.
pub(crate) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Decode then re-encode, so that an already-escaped input and its raw form
/// sign identically whatever escaping the HTTP library chose on the wire.
fn normalise(component: &str) -> String {
    let raw: Vec<u8> = percent_decode_str(component).collect();
    percent_encode(&raw, UNRESERVED).to_string()
}

fn encode_decoded(component: &str) -> String {
    percent_encode(component.as_bytes(), UNRESERVED).to_string()
}

/// The gateway always signs the path with a trailing `/`, even when the
/// request itself has none; omitting it is the classic cause of a 401.
fn canonical_uri(url: &url::Url) -> String {
    let mut out = String::new();
    for (i, segment) in url.path().split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&normalise(segment));
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    out
}

/// Sorting decoded pairs (key, then value) makes the result independent of
/// the order and escaping in which the caller happened to build the query.
fn canonical_query(url: &url::Url) -> String {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    sorted_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// A query string in canonical form: pairs sorted, each part escaped with
/// the signer's set. The clients send exactly this, so the query on the
/// wire is the one the gateway signs again.
pub(crate) fn sorted_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_decoded(k), encode_decoded(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-cased, trimmed and sorted by name, which is how the server rebuilds
/// them from the request it received.
fn normalised_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The `SignedHeaders` list: lower-case header names, sorted, joined by `;`.
pub fn signed_headers(headers: &[(String, String)]) -> String {
    normalised_headers(headers)
        .into_iter()
        .map(|(n, _)| n)
        .collect::<Vec<_>>()
        .join(";")
}

/// The hash behind a signature. Both variants sign the same canonical request
/// and differ only in the hash (of the payload, of the canonical request, and
/// inside the HMAC) and in the names that announce it; SM3 exists for users
/// whose compliance rules (China's GM/T standards) call for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    #[default]
    HmacSha256,
    HmacSm3,
}

impl SigningAlgorithm {
    /// The values `signing_algorithm` accepts, for error messages.
    pub const VALID_SETTINGS: &'static str = "`HmacSHA256` (the default) or `HmacSM3`";

    const ALL: [SigningAlgorithm; 2] = [SigningAlgorithm::HmacSha256, SigningAlgorithm::HmacSm3];

    /// The value users configure, spelt as the official SDKs' option is.
    pub fn setting_name(self) -> &'static str {
        match self {
            SigningAlgorithm::HmacSha256 => "HmacSHA256",
            SigningAlgorithm::HmacSm3 => "HmacSM3",
        }
    }

    /// Parses a configured value. Exact spelling only, so that a typo is
    /// reported instead of being guessed at.
    pub fn from_setting(value: &str) -> Option<SigningAlgorithm> {
        SigningAlgorithm::ALL
            .into_iter()
            .find(|a| a.setting_name() == value)
    }

    /// The token that opens the `Authorization` header and the string to
    /// sign; it is how the gateway knows which hash to recompute.
    pub fn token(self) -> &'static str {
        match self {
            SigningAlgorithm::HmacSha256 => ALGORITHM,
            SigningAlgorithm::HmacSm3 => "SDK-HMAC-SM3",
        }
    }

    /// The (lower-case) header through which a client may state the payload
    /// hash itself, e.g. `UNSIGNED-PAYLOAD` for a body it does not hash. Each
    /// algorithm has its own; the other one's is an ordinary header.
    pub fn content_hash_header(self) -> &'static str {
        match self {
            SigningAlgorithm::HmacSha256 => "x-sdk-content-sha256",
            SigningAlgorithm::HmacSm3 => "x-sdk-content-sm3",
        }
    }

    /// Lower-case hex digest, the form every hash in the protocol takes.
    pub fn hex_digest(self, data: &[u8]) -> String {
        match self {
            SigningAlgorithm::HmacSha256 => hex::encode(Sha256::digest(data)),
            SigningAlgorithm::HmacSm3 => hex::encode(Sm3::digest(data)),
        }
    }

    /// Lower-case hex HMAC. HMAC accepts keys of any length, so key setup
    /// cannot fail; the empty fallback keeps the function total rather than
    /// panicking, and never matches a real signature.
    fn hex_hmac(self, key: &[u8], data: &[u8]) -> String {
        match self {
            SigningAlgorithm::HmacSha256 => Hmac::<Sha256>::new_from_slice(key)
                .map(|mac| hex::encode(mac.chain_update(data).finalize().into_bytes()))
                .unwrap_or_default(),
            SigningAlgorithm::HmacSm3 => Hmac::<Sm3>::new_from_slice(key)
                .map(|mac| hex::encode(mac.chain_update(data).finalize().into_bytes()))
                .unwrap_or_default(),
        }
    }

    /// Build the six-line canonical request. `headers` must contain every
    /// header to be signed, including `host` and `x-sdk-date`.
    ///
    /// The last line is the payload hash. As in the official SDKs, an empty
    /// body always hashes as empty; otherwise a signed
    /// [`content_hash_header`](Self::content_hash_header) stands in for the
    /// body's hash.
    pub fn canonical_request(
        self,
        method: &str,
        url: &url::Url,
        headers: &[(String, String)],
        body: &[u8],
    ) -> String {
        let normalised = normalised_headers(headers);
        let mut header_block = String::new();
        for (name, value) in &normalised {
            header_block.push_str(name);
            header_block.push(':');
            header_block.push_str(value);
            header_block.push('\n');
        }
        let stated = normalised
            .iter()
            .find(|(n, v)| n == self.content_hash_header() && !v.is_empty())
            .map(|(_, v)| v.clone());
        let payload_hash = match stated {
            Some(v) if !body.is_empty() => v,
            _ => self.hex_digest(body),
        };
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            method.to_ascii_uppercase(),
            canonical_uri(url),
            canonical_query(url),
            header_block,
            signed_headers(headers),
            payload_hash,
        )
    }

    /// The string the gateway signs: it binds the date so that a captured
    /// signature cannot be replayed outside the server's clock-skew window.
    pub fn string_to_sign(self, sdk_date: &str, canonical_request: &str) -> String {
        format!(
            "{}\n{sdk_date}\n{}",
            self.token(),
            self.hex_digest(canonical_request.as_bytes())
        )
    }

    /// Hex HMAC of the string to sign, keyed with the secret key.
    pub fn signature(self, sk: &str, sdk_date: &str, canonical_request: &str) -> String {
        self.hex_hmac(
            sk.as_bytes(),
            self.string_to_sign(sdk_date, canonical_request).as_bytes(),
        )
    }

    /// The complete `Authorization` header value for one request.
    #[allow(clippy::too_many_arguments)]
    pub fn authorization(
        self,
        ak: &str,
        sk: &str,
        sdk_date: &str,
        method: &str,
        url: &url::Url,
        headers: &[(String, String)],
        body: &[u8],
    ) -> String {
        let canonical = self.canonical_request(method, url, headers, body);
        format!(
            "{} Access={ak}, SignedHeaders={}, Signature={}",
            self.token(),
            signed_headers(headers),
            self.signature(sk, sdk_date, &canonical)
        )
    }
}

/// [`SigningAlgorithm::canonical_request`] for SDK-HMAC-SHA256.
#[cfg(test)]
pub fn canonical_request(
    method: &str,
    url: &url::Url,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    SigningAlgorithm::HmacSha256.canonical_request(method, url, headers, body)
}

/// [`SigningAlgorithm::string_to_sign`] for SDK-HMAC-SHA256.
#[cfg(test)]
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    SigningAlgorithm::HmacSha256.string_to_sign(sdk_date, canonical_request)
}

/// [`SigningAlgorithm::signature`] for SDK-HMAC-SHA256.
#[cfg(test)]
pub fn signature(sk: &str, sdk_date: &str, canonical_request: &str) -> String {
    SigningAlgorithm::HmacSha256.signature(sk, sdk_date, canonical_request)
}

/// [`SigningAlgorithm::authorization`] for SDK-HMAC-SHA256.
#[cfg(test)]
pub fn authorization(
    ak: &str,
    sk: &str,
    sdk_date: &str,
    method: &str,
    url: &url::Url,
    headers: &[(String, String)],
    body: &[u8],
) -> String {
    SigningAlgorithm::HmacSha256.authorization(ak, sk, sdk_date, method, url, headers, body)
}

/// The parts of an `Authorization` header, for the server side (the
/// simulator) to look up the key and rebuild the signed header list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub algorithm: SigningAlgorithm,
    pub access_key: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parse `SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..` (or
/// the same opened by `SDK-HMAC-SM3`); `None` for anything else.
pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let header = header.trim();
    let (algorithm, rest) = SigningAlgorithm::ALL
        .into_iter()
        .find_map(|a| Some((a, header.strip_prefix(a.token())?.strip_prefix(' ')?)))?;
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        let (k, v) = part.split_once('=')?;
        match k {
            "Access" => access = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v),
            "Signature" => sig = Some(v.to_string()),
            _ => return None,
        }
    }
    let signed_headers: Vec<String> = signed?
        .split(';')
        .filter(|n| !n.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    if signed_headers.is_empty() {
        return None;
    }
    Some(ParsedAuthorization {
        algorithm,
        access_key: access.filter(|a| !a.is_empty())?,
        signed_headers,
        signature: sig.filter(|s| !s.is_empty())?,
    })
}

/// `X-Sdk-Date` format (`%Y%m%dT%H%M%SZ`, UTC). A clock before 1970 is
/// clamped to the epoch rather than panicking; the server will reject the
/// request as skewed, which is the honest outcome.
pub fn format_sdk_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let secs = i64::try_from(secs).unwrap_or(0);
    let dt =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const AK: &str = "AKEXAMPLE1234567890";
    const SK: &str = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";
    const DATE: &str = "20240102T030405Z";
    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn vector_1_cce_job() {
        let u = url("https://cce.cn-north-4.myhuaweicloud.com/api/v3/projects/0123456789abcdef0123456789abcdef/jobs/5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05");
        let headers = h(&[
            ("Content-Type", "application/json"),
            ("X-Project-Id", PROJECT),
            ("host", "cce.cn-north-4.myhuaweicloud.com"),
            ("X-Sdk-Date", DATE),
        ]);
        assert_eq!(
            signed_headers(&headers),
            "content-type;host;x-project-id;x-sdk-date"
        );
        let cr = canonical_request("GET", &u, &headers, b"");
        assert_eq!(
            signature(SK, DATE, &cr),
            "ae63d2f46075065d6261483839f0e1affdaba664e1d476fcbbcc263a50c46466"
        );
        assert_eq!(
            authorization(AK, SK, DATE, "GET", &u, &headers, b""),
            "SDK-HMAC-SHA256 Access=AKEXAMPLE1234567890, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=ae63d2f46075065d6261483839f0e1affdaba664e1d476fcbbcc263a50c46466"
        );
    }

    /// Vector 1's request signed with SDK-HMAC-SM3; the expected signature
    /// was computed with the official Python SDK's `SM3Signer`.
    #[test]
    fn vector_1_cce_job_sm3() {
        let u = url("https://cce.cn-north-4.myhuaweicloud.com/api/v3/projects/0123456789abcdef0123456789abcdef/jobs/5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05");
        let headers = h(&[
            ("Content-Type", "application/json"),
            ("X-Project-Id", PROJECT),
            ("host", "cce.cn-north-4.myhuaweicloud.com"),
            ("X-Sdk-Date", DATE),
        ]);
        let sm3 = SigningAlgorithm::HmacSm3;
        let cr = sm3.canonical_request("GET", &u, &headers, b"");
        // Same canonical request as SHA-256 but for the empty-body hash,
        // which is SM3's.
        assert!(cr.ends_with("\n1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"));
        assert_eq!(
            cr.rsplit_once('\n').map(|(head, _)| head),
            canonical_request("GET", &u, &headers, b"")
                .rsplit_once('\n')
                .map(|(head, _)| head)
        );
        assert!(sm3
            .string_to_sign(DATE, &cr)
            .starts_with("SDK-HMAC-SM3\n20240102T030405Z\n"));
        assert_eq!(
            sm3.signature(SK, DATE, &cr),
            "7ee99b11eca982c7cf9a4311eded36805ce4bb253af3ffb5e3298bad8146a158"
        );
        assert_eq!(
            sm3.authorization(AK, SK, DATE, "GET", &u, &headers, b""),
            "SDK-HMAC-SM3 Access=AKEXAMPLE1234567890, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=7ee99b11eca982c7cf9a4311eded36805ce4bb253af3ffb5e3298bad8146a158"
        );
    }

    #[test]
    fn settings_names_round_trip_and_nothing_else_parses() {
        for a in SigningAlgorithm::ALL {
            assert_eq!(SigningAlgorithm::from_setting(a.setting_name()), Some(a));
            assert!(SigningAlgorithm::VALID_SETTINGS.contains(a.setting_name()));
        }
        assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::HmacSha256);
        for bad in [
            "",
            "hmacsm3",
            "HMACSM3",
            "SM3",
            "SDK-HMAC-SM3",
            " HmacSM3",
            "HmacSHA1",
        ] {
            assert_eq!(SigningAlgorithm::from_setting(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn stated_payload_hash_only_in_the_algorithms_own_header() {
        let u = url("https://h/p");
        for a in SigningAlgorithm::ALL {
            let own = h(&[
                ("host", "h"),
                ("x-sdk-date", DATE),
                (a.content_hash_header(), "UNSIGNED-PAYLOAD"),
            ]);
            // With a body, the stated value replaces the body's hash ...
            assert!(a
                .canonical_request("PUT", &u, &own, b"data")
                .ends_with("\nUNSIGNED-PAYLOAD"));
            // ... and an empty body always hashes as empty.
            assert!(a
                .canonical_request("PUT", &u, &own, b"")
                .ends_with(&a.hex_digest(b"")));
            // The other algorithm's header is just a header.
            let other = SigningAlgorithm::ALL.into_iter().find(|o| *o != a).unwrap();
            let foreign = h(&[
                ("host", "h"),
                ("x-sdk-date", DATE),
                (other.content_hash_header(), "UNSIGNED-PAYLOAD"),
            ]);
            assert!(a
                .canonical_request("PUT", &u, &foreign, b"data")
                .ends_with(&a.hex_digest(b"data")));
        }
    }

    #[test]
    fn sm3_digest_is_the_standard_one() {
        // GB/T 32905-2016 example 1.
        assert_eq!(
            SigningAlgorithm::HmacSm3.hex_digest(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn vector_2_iam_projects() {
        let u = url("https://iam.cn-north-4.myhuaweicloud.com/v3/projects?name=cn-north-4");
        let headers = h(&[
            ("Host", "iam.cn-north-4.myhuaweicloud.com"),
            ("X-Sdk-Date", DATE),
        ]);
        assert_eq!(signed_headers(&headers), "host;x-sdk-date");
        let cr = canonical_request("GET", &u, &headers, b"");
        assert_eq!(
            cr,
            "GET\n/v3/projects/\nname=cn-north-4\nhost:iam.cn-north-4.myhuaweicloud.com\nx-sdk-date:20240102T030405Z\n\nhost;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            signature(SK, DATE, &cr),
            "2b7fc863c34d8c3876c4a730e92117dea46e95ba22bf8849b37dafa0e422e752"
        );
    }

    #[test]
    fn vector_3_elb_with_query_and_token() {
        let mut u = url("https://elb.ap-southeast-1.myhuaweicloud.com/v3/0123456789abcdef0123456789abcdef/elb/jobs/job-id-1");
        u.query_pairs_mut()
            .append_pair("z", "a b")
            .append_pair("a", "x/y")
            .append_pair("m", "~*'!");
        let headers = h(&[
            ("Content-Type", "application/json"),
            ("X-Project-Id", PROJECT),
            ("X-Security-Token", "TOKENabc123"),
            ("host", "elb.ap-southeast-1.myhuaweicloud.com"),
            ("X-Sdk-Date", DATE),
        ]);
        let cr = canonical_request("GET", &u, &headers, b"");
        let lines: Vec<&str> = cr.split('\n').collect();
        assert_eq!(
            lines[1],
            "/v3/0123456789abcdef0123456789abcdef/elb/jobs/job-id-1/"
        );
        assert_eq!(lines[2], "a=x%2Fy&m=~%2A%27%21&z=a%20b");
        assert_eq!(
            signed_headers(&headers),
            "content-type;host;x-project-id;x-sdk-date;x-security-token"
        );
        assert_eq!(
            signature(SK, DATE, &cr),
            "1bf0541736a1028a61e72f0930e3e3ccf34de86cdde6779dfd3754c1c9cbaf68"
        );
    }

    #[test]
    fn uri_keeps_existing_trailing_slash_and_root() {
        assert_eq!(canonical_uri(&url("https://h/a/b/")), "/a/b/");
        assert_eq!(canonical_uri(&url("https://h")), "/");
        assert_eq!(canonical_uri(&url("https://h/")), "/");
    }

    #[test]
    fn uri_segments_are_decoded_then_strictly_reencoded() {
        // `url` leaves `*`, `!`, `'`, `:` and `@` raw in paths; the signer must not.
        assert_eq!(canonical_uri(&url("https://h/a*b/c!d")), "/a%2Ab/c%21d/");
        assert_eq!(canonical_uri(&url("https://h/a:b@c")), "/a%3Ab%40c/");
        // Already-escaped input signs the same as its raw form.
        assert_eq!(canonical_uri(&url("https://h/x%20y")), "/x%20y/");
        assert_eq!(canonical_uri(&url("https://h/x%7ey")), "/x~y/");
        // An escaped slash stays inside its segment.
        assert_eq!(canonical_uri(&url("https://h/a%2Fb/c")), "/a%2Fb/c/");
        // Non-ASCII is percent-encoded as UTF-8 bytes.
        assert_eq!(canonical_uri(&url("https://h/é")), "/%C3%A9/");
    }

    #[test]
    fn query_sorted_by_key_then_value_with_empty_values() {
        let u = url("https://h/p?b=2&a=&b=1&a=z&c");
        assert_eq!(canonical_query(&u), "a=&a=z&b=1&b=2&c=");
        let plus = url("https://h/p?q=a+b&r=%2B");
        assert_eq!(canonical_query(&plus), "q=a%20b&r=%2B");
        assert_eq!(canonical_query(&url("https://h/p")), "");
    }

    #[test]
    fn header_values_trimmed_and_names_lowercased() {
        let u = url("https://h/p");
        let a = canonical_request(
            "get",
            &u,
            &h(&[("X-Sdk-Date", "  D  "), ("HOST", "h")]),
            b"",
        );
        assert!(a.starts_with("GET\n/p/\n\nhost:h\nx-sdk-date:D\n\nhost;x-sdk-date\n"));
    }

    #[test]
    fn payload_hash_covers_body() {
        let u = url("https://h/p");
        let hd = h(&[("host", "h"), ("x-sdk-date", DATE)]);
        let empty = canonical_request("POST", &u, &hd, b"");
        let body = canonical_request("POST", &u, &hd, b"{}");
        assert!(body.ends_with("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
        assert_ne!(signature(SK, DATE, &empty), signature(SK, DATE, &body));
    }

    #[test]
    fn different_key_or_date_changes_signature() {
        let cr = "GET\n/\n\nhost:h\n\nhost\ne3b0";
        assert_ne!(signature(SK, DATE, cr), signature("other", DATE, cr));
        assert_ne!(
            signature(SK, DATE, cr),
            signature(SK, "20240102T030406Z", cr)
        );
    }

    #[test]
    fn authorization_round_trips_through_parse() {
        let u = url("https://h/p");
        let hd = h(&[("host", "h"), ("X-Sdk-Date", DATE)]);
        let header = authorization(AK, SK, DATE, "GET", &u, &hd, b"");
        let parsed = parse_authorization(&header).unwrap();
        assert_eq!(parsed.algorithm, SigningAlgorithm::HmacSha256);
        assert_eq!(parsed.access_key, AK);
        assert_eq!(parsed.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(
            parsed.signature,
            signature(SK, DATE, &canonical_request("GET", &u, &hd, b""))
        );
        for bad in [
            "",
            "Bearer abc",
            "SDK-HMAC-SHA256 Access=A, SignedHeaders=host",
            "SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SHA256 Access=A, SignedHeaders=, Signature=s",
            "SDK-HMAC-SHA256 Access=A, Junk=1, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SHA256Access=A, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SM3Access=A, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SM2 Access=A, SignedHeaders=host, Signature=s",
        ] {
            assert_eq!(parse_authorization(bad), None, "{bad}");
        }
        let sm3 = SigningAlgorithm::HmacSm3.authorization(AK, SK, DATE, "GET", &u, &hd, b"");
        let parsed = parse_authorization(&sm3).unwrap();
        assert_eq!(parsed.algorithm, SigningAlgorithm::HmacSm3);
        assert_eq!(parsed.access_key, AK);
        assert_eq!(
            parsed.signature,
            SigningAlgorithm::HmacSm3.signature(
                SK,
                DATE,
                &SigningAlgorithm::HmacSm3.canonical_request("GET", &u, &hd, b"")
            )
        );
    }

    #[test]
    fn sdk_date_format() {
        let t = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        assert_eq!(format_sdk_date(t), DATE);
        assert_eq!(format_sdk_date(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            format_sdk_date(UNIX_EPOCH - Duration::from_secs(5)),
            "19700101T000000Z"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn parse_authorization_never_panics(
            header in proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                "SDK-HMAC-SHA256 ((Access|SignedHeaders|Signature|X)=[a-zA-Z0-9;=, ]{0,8},? ?){0,4}",
            ]
        ) {
            if let Some(p) = parse_authorization(&header) {
                proptest::prop_assert!(!p.access_key.is_empty());
                proptest::prop_assert!(!p.signature.is_empty());
                proptest::prop_assert!(!p.signed_headers.is_empty());
                proptest::prop_assert!(p.signed_headers.iter().all(|h| !h.is_empty() && *h == h.to_ascii_lowercase()));
            }
        }

        /// What we sign, the server side parses back to the same key and headers.
        #[test]
        fn authorization_parses_back(
            ak in "[A-Z0-9]{1,24}",
            names in proptest::collection::btree_set("[a-z][a-z0-9-]{0,10}", 1..5),
        ) {
            let u = url("https://h/p");
            let hd: Vec<(String, String)> = names.iter().map(|n| (n.clone(), "v".to_string())).collect();
            let header = authorization(&ak, SK, DATE, "GET", &u, &hd, b"");
            let parsed = parse_authorization(&header).unwrap();
            proptest::prop_assert_eq!(parsed.access_key, ak);
            proptest::prop_assert_eq!(parsed.signed_headers, names.into_iter().collect::<Vec<_>>());
        }
    }
}
