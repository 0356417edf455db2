//! The HTTPS server configuration of team mode: the serving certificate (given or generated)
//! and client certificates verified against the CA when a client offers one. A client without
//! a certificate still connects: it may bring a token, or be anonymous (which RBAC refuses).

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use service_plan::user::UserInfo;

use super::pki::Pki;
use crate::config::TlsArgs;

/// A rustls server configuration serving HTTP/2 and HTTP/1.1.
pub fn server_config(pki: &Pki, args: &TlsArgs) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    #[expect(
        deprecated,
        reason = "ring rather than aws-lc-rs: no C toolchain (cmake, NASM) in the build; rustls \
                  marks ring's provider deprecated for lacking post-quantum key exchange, and its \
                  TLS 1.3 and 1.2 suites are what kube-apiserver offers too"
    )]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (chain, key) = match (&args.tls_cert_file, &args.tls_private_key_file) {
        (Some(cert), Some(key)) => (
            CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .with_context(|| format!("reading --tls-cert-file {}", cert.display()))?,
            PrivateKeyDer::from_pem_file(key)
                .with_context(|| format!("reading --tls-private-key-file {}", key.display()))?,
        ),
        _ => (
            CertificateDer::pem_slice_iter(pki.serving_cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .context("reading pki/apiserver.crt")?,
            PrivateKeyDer::from_pem_slice(pki.serving_key_pem.as_bytes())
                .context("reading pki/apiserver.key")?,
        ),
    };
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(pki.ca_cert_pem.as_bytes()) {
        roots
            .add(ca.context("reading pki/ca.crt")?)
            .context("adding the CA to the client roots")?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .context("building the client certificate verifier")?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("choosing TLS versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("loading the serving certificate")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The user a verified client certificate names: CN is the user, each O a group (the x509
/// request authenticator's `CommonNameUserConversion`).
#[derive(Debug, Clone)]
pub struct ClientCertificateUser(pub Arc<UserInfo>);

/// Reads the user of a client certificate that the handshake already verified.
pub fn certificate_user(der: &[u8]) -> Option<ClientCertificateUser> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let name = subject.iter_common_name().next()?.as_str().ok()?.to_owned();
    if name.is_empty() {
        return None;
    }
    let groups: Vec<String> = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_owned))
        .collect();
    Some(ClientCertificateUser(Arc::new(UserInfo::authenticated(
        &name, groups,
    ))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_certificate_names_its_user_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
        let (cert, _) = pki.issue_client("jane", Some("developers")).unwrap();
        let der = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
        let user = certificate_user(&der).unwrap().0;
        assert_eq!(user.name, "jane");
        assert_eq!(user.groups, ["developers", "system:authenticated"]);
        assert!(server_config(&pki, &TlsArgs::default()).is_ok());
    }
}
