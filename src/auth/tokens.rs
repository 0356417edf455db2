//! ServiceAccount tokens: signed JWTs bound to a ServiceAccount's uid, as the TokenRequest
//! API issues them. A token authenticates only while its ServiceAccount exists with that uid,
//! so deleting the ServiceAccount revokes every token it was given.

use std::collections::HashSet;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The issuer of the tokens, which is also the API audience they must name.
pub use service_plan::token_request::API_AUDIENCE as ISSUER;

/// The private `kubernetes.io` claim of a ServiceAccount token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KubernetesClaim {
    pub namespace: String,
    pub serviceaccount: ServiceAccountRef,
}

/// The ServiceAccount a token is bound to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceAccountRef {
    pub name: String,
    pub uid: String,
}

/// The claims kube-apiserver puts in a bound ServiceAccount token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub aud: Vec<String>,
    pub exp: i64,
    pub iat: i64,
    pub iss: String,
    pub jti: String,
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaim,
    pub nbf: i64,
    pub sub: String,
}

/// Why a token does not authenticate (the client only ever sees 401 Unauthorized).
#[derive(Debug, thiserror::Error)]
#[error("invalid bearer token: {0}")]
pub struct InvalidToken(String);

/// How long a verified token is trusted without checking its signature again
/// (kube-apiserver's token cache: 10 s for a success).
const VERIFIED_TTL_SECONDS: i64 = 10;
/// Most verified tokens remembered at once.
const VERIFIED_MAX: usize = 4096;

/// The signing and verifying keys, and the tokens verified in the last seconds.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    key_id: String,
    /// By SHA-256 of the token (the token itself is never kept): its claims and until when
    /// they are trusted. An ECDSA verification costs far more than the request it guards.
    verified: std::sync::Mutex<std::collections::HashMap<[u8; 32], (Claims, i64)>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches a log.
        f.debug_struct("TokenKeys")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl TokenKeys {
    /// Keys from the PKI's `sa.key` (PKCS#8 ECDSA P-256) and `sa.pub`.
    pub fn from_pem(private_pem: &str, public_pem: &str) -> anyhow::Result<TokenKeys> {
        // The key id is a digest of the public key, as kube-apiserver derives its `kid`.
        let key_id = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            sha2::Sha256::digest(public_pem.as_bytes()),
        );
        Ok(TokenKeys {
            encoding: EncodingKey::from_ec_pem(private_pem.as_bytes())?,
            decoding: DecodingKey::from_ec_pem(public_pem.as_bytes())?,
            key_id,
            verified: Default::default(),
        })
    }

    /// A token for ServiceAccount `namespace/name` with `uid`, valid from `now` for
    /// `seconds`, for `audiences`.
    pub fn issue(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        audiences: Vec<String>,
        now: i64,
        seconds: i64,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            aud: audiences,
            exp: now + seconds,
            iat: now,
            iss: ISSUER.into(),
            jti: uuid::Uuid::new_v4().to_string(),
            kubernetes: KubernetesClaim {
                namespace: namespace.into(),
                serviceaccount: ServiceAccountRef {
                    name: name.into(),
                    uid: uid.into(),
                },
            },
            nbf: now,
            sub: service_plan::user::service_account_user(namespace, name),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// The claims of a token this server signed for the API audience, not expired. Whether
    /// its ServiceAccount still exists is the caller's check (on every request, so deleting
    /// the ServiceAccount revokes at once, cache or not).
    pub fn verify(&self, token: &str) -> Result<Claims, InvalidToken> {
        let now = jiff::Timestamp::now().as_second();
        let digest: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((claims, until)) = verified.get(&digest)
            && now < *until
        {
            return Ok(claims.clone());
        }
        drop(verified);
        let claims = self.verify_signature(token)?;
        let until = (now + VERIFIED_TTL_SECONDS).min(claims.exp);
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_MAX {
            verified.retain(|_, (_, until)| now < *until);
            if verified.len() >= VERIFIED_MAX {
                verified.clear();
            }
        }
        verified.insert(digest, (claims.clone(), until));
        Ok(claims)
    }

    fn verify_signature(&self, token: &str) -> Result<Claims, InvalidToken> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        validation.required_spec_claims =
            HashSet::from(["exp", "iss", "aud", "sub", "nbf"].map(str::to_owned));
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| InvalidToken(e.to_string()))?
            .claims;
        if claims.sub
            != service_plan::user::service_account_user(
                &claims.kubernetes.namespace,
                &claims.kubernetes.serviceaccount.name,
            )
        {
            return Err(InvalidToken(
                "subject does not match the ServiceAccount".into(),
            ));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::pki::Pki;

    fn keys() -> TokenKeys {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
        TokenKeys::from_pem(&pki.sa_key_pem, &pki.sa_public_pem).unwrap()
    }

    fn now() -> i64 {
        jiff::Timestamp::now().as_second()
    }

    #[test]
    fn a_token_verifies_with_its_claims() {
        let keys = keys();
        let token = keys
            .issue("default", "alice", "u-1", vec![ISSUER.into()], now(), 3600)
            .unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, "system:serviceaccount:default:alice");
        assert_eq!(claims.kubernetes.serviceaccount.uid, "u-1");
        assert_eq!(claims.exp - claims.iat, 3600);
    }

    #[test]
    fn a_verified_token_is_trusted_for_seconds_never_past_its_expiry() {
        let keys = keys();
        let short = keys
            .issue("default", "alice", "u", vec![ISSUER.into()], now(), 3)
            .unwrap();
        let claims = keys.verify(&short).unwrap();
        assert_eq!(keys.verify(&short).unwrap().jti, claims.jti);
        let verified = keys.verified.lock().unwrap();
        assert_eq!(verified.len(), 1);
        let (_, until) = verified.values().next().unwrap();
        assert_eq!(
            *until, claims.exp,
            "a token about to expire is trusted only until then"
        );
    }

    #[test]
    fn expired_foreign_and_other_audience_tokens_are_refused() {
        let keys = keys();
        let expired = keys
            .issue(
                "default",
                "alice",
                "u",
                vec![ISSUER.into()],
                now() - 7200,
                3600,
            )
            .unwrap();
        assert!(keys.verify(&expired).is_err());
        let foreign = super::tests::keys()
            .issue("default", "alice", "u", vec![ISSUER.into()], now(), 3600)
            .unwrap();
        assert!(keys.verify(&foreign).is_err());
        let elsewhere = keys
            .issue("default", "alice", "u", vec!["vault".into()], now(), 3600)
            .unwrap();
        assert!(keys.verify(&elsewhere).is_err());
        assert!(keys.verify("not-a-jwt").is_err());
    }
}
