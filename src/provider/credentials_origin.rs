//! Where the provider's credentials came from, in words, for the errors a
//! refused request produces.
//!
//! "401 APIGW.0301" alone sends a user hunting through their pipeline for
//! which of several key pairs Terraform picked up. The answer is known at
//! configure time (an argument of the provider block or an environment
//! variable), so it is written down then and quoted whenever the cloud
//! refuses the credentials. Only names are kept, never values.

use crate::cloud::signer::SigningAlgorithm;

/// The source of one credential part: `argument` is the provider block's
/// attribute, `variable` its environment fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub argument: &'static str,
    pub variable: &'static str,
    pub from_env: bool,
}

impl Part {
    fn name(&self) -> String {
        if self.from_env {
            format!("the environment variable {}", self.variable)
        } else {
            format!("the provider argument `{}`", self.argument)
        }
    }
}

/// Which credentials the provider signs or authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsOrigin {
    AkSk {
        access_key: Part,
        secret_key: Part,
        security_token: Option<Part>,
        signing: SigningAlgorithm,
    },
    Token {
        token: Part,
    },
}

impl CredentialsOrigin {
    /// "AK/SK: the access key from the environment variable HW_ACCESS_KEY, ..."
    pub fn describe(&self) -> String {
        match self {
            CredentialsOrigin::AkSk {
                access_key,
                secret_key,
                security_token,
                signing,
            } => {
                let kind = if security_token.is_some() {
                    "temporary AK/SK"
                } else {
                    "AK/SK"
                };
                let mut text = format!(
                    "{kind}, the access key from {} and the secret key from {}",
                    access_key.name(),
                    secret_key.name()
                );
                if let Some(t) = security_token {
                    text.push_str(&format!(", with the security token from {}", t.name()));
                }
                text.push_str(&format!(
                    ", requests signed with {}",
                    signing.setting_name()
                ));
                text
            }
            CredentialsOrigin::Token { token } => format!(
                "an IAM token from {} (it wins over any access key)",
                token.name()
            ),
        }
    }

    /// What to check after a 401 (the cloud did not accept who we are) or a
    /// 403 (it did, but this identity may not make the request).
    pub fn advice(&self, status: u16) -> String {
        if status == 403 {
            return "The credentials were accepted but are not allowed this request: check the \
                    IAM user's or agency's permissions for this service in this region and \
                    project (and that the project is not frozen)."
                .to_string();
        }
        match self {
            CredentialsOrigin::AkSk { security_token, .. } => {
                let mut text = String::from(
                    "Check that the secret key is the one created with this access key, that the \
                     access key is enabled in IAM (My Credentials > Access Keys), ",
                );
                if security_token.is_some() {
                    text.push_str(
                        "that the temporary credentials have not expired and the security token \
                         is the one issued with them, ",
                    );
                } else {
                    text.push_str(
                        "that temporary credentials, if these are, come with their security token \
                         (HW_SECURITY_TOKEN), ",
                    );
                }
                text.push_str(
                    "and that this machine's clock is right: the gateway refuses signatures made \
                     more than 15 minutes off.",
                );
                text
            }
            CredentialsOrigin::Token { .. } => {
                "Check that the IAM token has not expired (tokens last 24 hours) and was issued \
                 for this region's project; a new token is needed after a password or key \
                 change."
                    .to_string()
            }
        }
    }

    /// The paragraph appended to an error that a 401 or 403 caused.
    pub fn refusal_paragraph(&self, status: u16) -> String {
        format!(
            "Credentials used: {}.\n{}",
            self.describe(),
            self.advice(status)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(argument: &'static str, variable: &'static str, from_env: bool) -> Part {
        Part {
            argument,
            variable,
            from_env,
        }
    }

    #[test]
    fn names_each_source_as_argument_or_variable() {
        let origin = CredentialsOrigin::AkSk {
            access_key: part("access_key", "HW_ACCESS_KEY", true),
            secret_key: part("secret_key", "HW_SECRET_KEY", false),
            security_token: None,
            signing: SigningAlgorithm::HmacSha256,
        };
        let text = origin.describe();
        assert!(text.starts_with("AK/SK"), "{text}");
        assert!(
            text.contains("access key from the environment variable HW_ACCESS_KEY"),
            "{text}"
        );
        assert!(
            text.contains("secret key from the provider argument `secret_key`"),
            "{text}"
        );
        assert!(text.contains("HmacSHA256"), "{text}");

        let temporary = CredentialsOrigin::AkSk {
            access_key: part("access_key", "HW_ACCESS_KEY", true),
            secret_key: part("secret_key", "HW_SECRET_KEY", true),
            security_token: Some(part("security_token", "HW_SECURITY_TOKEN", true)),
            signing: SigningAlgorithm::HmacSm3,
        };
        let text = temporary.describe();
        assert!(text.starts_with("temporary AK/SK"), "{text}");
        assert!(text.contains("HW_SECURITY_TOKEN"), "{text}");
        assert!(temporary.advice(401).contains("security token"));
        assert!(text.contains("HmacSM3"), "{text}");

        let token = CredentialsOrigin::Token {
            token: part("token", "HW_AUTH_TOKEN", false),
        };
        assert!(token.describe().contains("`token`"));
        assert!(token.advice(401).contains("expired"));
    }

    #[test]
    fn a_403_is_about_permissions_and_a_401_about_the_keys() {
        let origin = CredentialsOrigin::AkSk {
            access_key: part("access_key", "HW_ACCESS_KEY", true),
            secret_key: part("secret_key", "HW_SECRET_KEY", true),
            security_token: None,
            signing: SigningAlgorithm::HmacSha256,
        };
        assert!(origin.advice(403).contains("permissions"));
        assert!(!origin.advice(403).contains("secret key"));
        let refused = origin.refusal_paragraph(401);
        assert!(refused.contains("Credentials used: AK/SK"), "{refused}");
        assert!(refused.contains("clock"), "{refused}");
    }
}
