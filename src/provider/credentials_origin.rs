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
    /// Keys from a KooCLI profile.
    Profile {
        name: String,
        /// The file as the user wrote it, e.g. `~/.hcloud/config.json`.
        file: String,
        temporary: bool,
        signing: SigningAlgorithm,
    },
    /// Temporary keys of the ECS instance's agency.
    Metadata {
        endpoint: String,
    },
    /// Temporary keys for an OIDC identity.
    Oidc {
        idp_id: String,
        /// Where the id token is read: "the file /run/token (id_token_file)".
        id_token: String,
    },
    /// Temporary keys for an agency, assumed with `base`.
    AssumeRole {
        /// "agency `deployer` in account `target`".
        agency: String,
        /// What named the agency: "the `assume_role` block",
        /// "HW_ASSUME_ROLE_AGENCY_NAME", "profile `ci`".
        named_by: String,
        base: Box<CredentialsOrigin>,
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
            CredentialsOrigin::Profile {
                name,
                file,
                temporary,
                signing,
            } => format!(
                "{}keys from profile `{name}` in {file}, requests signed with {}",
                if *temporary { "temporary " } else { "" },
                signing.setting_name()
            ),
            CredentialsOrigin::Metadata { endpoint } => {
                format!("temporary keys from the ECS metadata service ({endpoint})")
            }
            CredentialsOrigin::Oidc { idp_id, id_token } => format!(
                "temporary keys for identity provider `{idp_id}`, obtained with the id token from {id_token}"
            ),
            CredentialsOrigin::AssumeRole {
                agency,
                named_by,
                base,
            } => format!(
                "temporary keys for {agency} (named by {named_by}), assumed with {}",
                base.describe()
            ),
        }
    }

    /// What to check after a 401 (the cloud did not accept who we are) or a
    /// 403 (it did, but this identity may not make the request).
    pub fn advice(&self, status: u16) -> String {
        if status == 403 {
            if let CredentialsOrigin::AssumeRole { agency, .. } = self {
                return format!(
                    "The credentials were accepted but are not allowed this request: check the \
                     permissions granted to {agency} for this service in this region and project."
                );
            }
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
            CredentialsOrigin::Profile { name, file, .. } => format!(
                "Check the keys of profile `{name}` in {file} (`hcloud configure show --cli-profile={name}`): \
                 that the access key is enabled in IAM, that temporary keys there have not expired, \
                 and that this machine's clock is right."
            ),
            CredentialsOrigin::Metadata { .. } => {
                "These keys are refreshed before they expire; check that the ECS instance still \
                 has an agency (ECS console > instance > Management Information > Agency) and \
                 that this machine's clock is right."
                    .to_string()
            }
            CredentialsOrigin::Oidc { idp_id, .. } => format!(
                "These keys are refreshed before they expire; check that identity provider \
                 `{idp_id}` in IAM still maps this CI identity to a user group or agency, and \
                 that this machine's clock is right."
            ),
            CredentialsOrigin::AssumeRole { agency, .. } => format!(
                "These keys are refreshed before they expire; check that {agency} still exists \
                 and still trusts the account of the credentials it is assumed with, and that \
                 this machine's clock is right."
            ),
        }
    }

    /// What to check when IAM refused to hand out the temporary keys
    /// themselves (at configure), which is not the job APIs' refusal that
    /// [`CredentialsOrigin::advice`] speaks to: the agency or the identity
    /// provider is what to look at, or the keys the agency is assumed with.
    pub fn obtaining_advice(&self, status: Option<u16>) -> Option<String> {
        match (self, status?) {
            (CredentialsOrigin::AssumeRole { base, .. }, 401) => Some(base.advice(401)),
            (CredentialsOrigin::AssumeRole { agency, .. }, 403) => Some(format!(
                "Check that {agency} exists, that it is delegated to the account of the \
                 credentials it is assumed with, and that those credentials may assume it."
            )),
            (CredentialsOrigin::Oidc { idp_id, .. }, 401) => Some(format!(
                "Check that the id token is fresh (CI systems issue tokens that live minutes; a \
                 file is read again at each renewal) and that identity provider `{idp_id}` in IAM \
                 trusts its issuer and audience."
            )),
            (CredentialsOrigin::Oidc { idp_id, .. }, 403) => Some(format!(
                "Check the mapping rules of identity provider `{idp_id}` in IAM: they decide which \
                 CI identities get keys."
            )),
            (CredentialsOrigin::Oidc { idp_id, .. }, 404) => Some(format!(
                "Check that `{idp_id}` is the name of an identity provider in IAM (IAM > Identity \
                 Providers); `idp_id` / HW_ASSUME_ROLE_IDP_ID must match it exactly."
            )),
            _ => None,
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
    fn temporary_sources_are_named_without_values() {
        let base = CredentialsOrigin::AkSk {
            access_key: part("access_key", "HW_ACCESS_KEY", true),
            secret_key: part("secret_key", "HW_SECRET_KEY", true),
            security_token: None,
            signing: SigningAlgorithm::HmacSha256,
        };
        let assumed = CredentialsOrigin::AssumeRole {
            agency: "agency `deployer` in account `target`".into(),
            named_by: "HW_ASSUME_ROLE_AGENCY_NAME".into(),
            base: Box::new(base),
        };
        let text = assumed.describe();
        assert!(
            text.starts_with("temporary keys for agency `deployer`"),
            "{text}"
        );
        assert!(text.contains("HW_ACCESS_KEY"), "{text}");
        assert!(assumed.advice(403).contains("agency `deployer`"));
        assert!(assumed.advice(401).contains("still trusts"));

        let profile = CredentialsOrigin::Profile {
            name: "ci".into(),
            file: "~/.hcloud/config.json".into(),
            temporary: false,
            signing: SigningAlgorithm::HmacSha256,
        };
        assert!(profile
            .describe()
            .starts_with("keys from profile `ci` in ~/.hcloud/config.json"));
        let metadata = CredentialsOrigin::Metadata {
            endpoint: "http://169.254.169.254".into(),
        };
        assert!(metadata
            .describe()
            .contains("temporary keys from the ECS metadata service"));
        assert!(metadata.advice(401).contains("agency"));
        let oidc = CredentialsOrigin::Oidc {
            idp_id: "github".into(),
            id_token: "the file /run/token (id_token_file)".into(),
        };
        assert!(oidc
            .refusal_paragraph(401)
            .contains("identity provider `github`"));

        // When IAM refuses the keys themselves, the advice is about the
        // agency, the identity provider, or the keys an agency is assumed with.
        let refused_agency = assumed.obtaining_advice(Some(403)).expect("403 advice");
        assert!(
            refused_agency.contains("Check that agency `deployer`"),
            "{refused_agency}"
        );
        let refused_base = assumed.obtaining_advice(Some(401)).expect("401 advice");
        assert!(refused_base.contains("secret key"), "{refused_base}");
        assert!(oidc
            .obtaining_advice(Some(404))
            .is_some_and(|a| a.contains("`github` is the name of an identity provider")));
        assert!(oidc
            .obtaining_advice(Some(401))
            .is_some_and(|a| a.contains("id token is fresh")));
        assert_eq!(metadata.obtaining_advice(None), None);
        assert_eq!(profile.obtaining_advice(Some(401)), None);
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
