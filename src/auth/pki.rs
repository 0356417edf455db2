//! The team-mode PKI under `DATA_DIR/pki/`, laid out as kubeadm lays out `/etc/kubernetes/pki`:
//! a CA (`ca.crt`, `ca.key`) that signs the serving certificate (`apiserver.crt`,
//! `apiserver.key`) and every client certificate, and the ServiceAccount token signing key
//! (`sa.key`, `sa.pub`). Generated on first start, reused on later ones; private keys are 0600.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// The folder of the PKI inside the data directory.
pub const PKI_DIR: &str = "pki";
/// How long the generated CA is valid (kubeadm: 10 years).
const CA_VALIDITY: Duration = Duration::days(3650);
/// How long serving and client certificates are valid (kubeadm: 1 year).
const LEAF_VALIDITY: Duration = Duration::days(365);
/// The CA's common name, as kubeadm names its CA.
const CA_NAME: &str = "kubernetes";

/// PEM files of the PKI.
#[derive(Debug, Clone)]
pub struct Pki {
    pub dir: PathBuf,
    pub ca_cert_pem: String,
    ca_key_pem: String,
    /// The serving certificate chain and key.
    pub serving_cert_pem: String,
    pub serving_key_pem: String,
    /// The ServiceAccount token signing key (ECDSA P-256, PKCS#8) and its public key.
    pub sa_key_pem: String,
    pub sa_public_pem: String,
}

impl Pki {
    /// Loads the PKI under `data_dir`, creating what is missing. A serving certificate that
    /// does not name every one of `names` is issued again (the CA stays).
    pub fn load_or_create(data_dir: &Path, names: &[String]) -> anyhow::Result<Pki> {
        let dir = data_dir.join(PKI_DIR);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let (ca_cert_pem, ca_key_pem) = match read_pair(&dir, "ca")? {
            Some(pair) => pair,
            None => {
                let pair = new_ca()?;
                write_pair(&dir, "ca", &pair)?;
                pair
            }
        };
        let serving = match read_pair(&dir, "apiserver")? {
            Some(pair) if names_all(&pair.0, names) => pair,
            _ => {
                let pair = issue_serving(&ca_cert_pem, &ca_key_pem, names)?;
                write_pair(&dir, "apiserver", &pair)?;
                pair
            }
        };
        let (sa_key_pem, sa_public_pem) = match read_text(&dir.join("sa.key"))? {
            Some(key) => {
                let pair = KeyPair::from_pem(&key).context("reading pki/sa.key")?;
                (key, pair.public_key_pem())
            }
            None => {
                let pair = KeyPair::generate().context("generating the ServiceAccount key")?;
                let key = pair.serialize_pem();
                write_private(&dir.join("sa.key"), &key)?;
                (key, pair.public_key_pem())
            }
        };
        fs::write(dir.join("sa.pub"), &sa_public_pem).context("writing pki/sa.pub")?;
        Ok(Pki {
            dir,
            ca_cert_pem,
            ca_key_pem,
            serving_cert_pem: serving.0,
            serving_key_pem: serving.1,
            sa_key_pem,
            sa_public_pem,
        })
    }

    /// Loads an existing PKI (for `kubeconfig`), failing when there is none.
    pub fn load(data_dir: &Path) -> anyhow::Result<Pki> {
        let dir = data_dir.join(PKI_DIR);
        if read_pair(&dir, "ca")?.is_none() {
            anyhow::bail!(
                "no CA under {}: start the server once with --tls --data-dir {} first",
                dir.display(),
                data_dir.display()
            );
        }
        Pki::load_or_create(data_dir, &[])
    }

    /// A client certificate and key for `user` in `group` (CN and O, as the x509
    /// authenticator reads them), signed by the CA. One group only: rcgen writes one value per
    /// attribute type (the authenticator reads as many O values as a certificate has).
    pub fn issue_client(
        &self,
        user: &str,
        group: Option<&str>,
    ) -> anyhow::Result<(String, String)> {
        let mut params = leaf_params();
        let mut name = DistinguishedName::new();
        if let Some(group) = group {
            name.push(DnType::OrganizationName, group);
        }
        name.push(DnType::CommonName, user);
        params.distinguished_name = name;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        sign(params, &self.ca_cert_pem, &self.ca_key_pem)
    }
}

/// The names a generated serving certificate always carries, then the listen host and `sans`.
pub fn serving_names(listen_host: &str, sans: &[String]) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    for name in std::iter::once(listen_host.to_owned()).chain(sans.iter().cloned()) {
        let unspecified = name.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified());
        if !name.is_empty() && !unspecified && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

fn new_ca() -> anyhow::Result<(String, String)> {
    let key = KeyPair::generate().context("generating the CA key")?;
    let mut params = CertificateParams::default();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + CA_VALIDITY;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).context("signing the CA")?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn leaf_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + LEAF_VALIDITY;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.use_authority_key_identifier_extension = true;
    params
}

fn issue_serving(
    ca_cert: &str,
    ca_key: &str,
    names: &[String],
) -> anyhow::Result<(String, String)> {
    let mut params = leaf_params();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "kube-apiserver");
    params.distinguished_name = name;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.subject_alt_names = names
        .iter()
        .map(|name| match name.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => name
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .with_context(|| format!("--tls-san {name:?} is not a DNS name or an IP address")),
        })
        .collect::<anyhow::Result<_>>()?;
    sign(params, ca_cert, ca_key)
}

fn sign(
    params: CertificateParams,
    ca_cert: &str,
    ca_key: &str,
) -> anyhow::Result<(String, String)> {
    let ca_key = KeyPair::from_pem(ca_key).context("reading pki/ca.key")?;
    let issuer = Issuer::from_ca_cert_pem(ca_cert, ca_key).context("reading pki/ca.crt")?;
    let key = KeyPair::generate().context("generating a key")?;
    let cert = params
        .signed_by(&key, &issuer)
        .context("signing a certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Whether the certificate in `cert_pem` names every one of `names`.
fn names_all(cert_pem: &str, names: &[String]) -> bool {
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()) else {
        return false;
    };
    let Ok(cert) = pem.parse_x509() else {
        return false;
    };
    let Ok(Some(sans)) = cert.subject_alternative_name() else {
        return names.is_empty();
    };
    let present: Vec<String> = sans
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            x509_parser::extensions::GeneralName::IPAddress(bytes) => ip_from_bytes(bytes),
            _ => None,
        })
        .collect();
    names.iter().all(|name| {
        let wanted = name
            .parse::<IpAddr>()
            .map_or(name.clone(), |ip| ip.to_string());
        present.contains(&wanted)
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::from(b).to_string()),
        16 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::from(b).to_string()),
        _ => None,
    }
}

fn read_text(path: &Path) -> anyhow::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn read_pair(dir: &Path, stem: &str) -> anyhow::Result<Option<(String, String)>> {
    let cert = read_text(&dir.join(format!("{stem}.crt")))?;
    let key = read_text(&dir.join(format!("{stem}.key")))?;
    Ok(cert.zip(key))
}

fn write_pair(dir: &Path, stem: &str, (cert, key): &(String, String)) -> anyhow::Result<()> {
    write_private(&dir.join(format!("{stem}.key")), key)?;
    fs::write(dir.join(format!("{stem}.crt")), cert)
        .with_context(|| format!("writing pki/{stem}.crt"))
}

/// Writes a private key readable by its owner only, created so from the start.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pki_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let names = serving_names("0.0.0.0", &["console.example".into()]);
        assert_eq!(names, ["localhost", "127.0.0.1", "::1", "console.example"]);
        let first = Pki::load_or_create(dir.path(), &names).unwrap();
        let again = Pki::load_or_create(dir.path(), &names).unwrap();
        assert_eq!(first.ca_cert_pem, again.ca_cert_pem);
        assert_eq!(first.serving_cert_pem, again.serving_cert_pem);
        assert_eq!(first.sa_key_pem, again.sa_key_pem);
        assert!(names_all(&first.serving_cert_pem, &names));
        // A new name re-issues the serving certificate under the same CA.
        let more = serving_names("10.1.2.3", &[]);
        let reissued = Pki::load_or_create(dir.path(), &more).unwrap();
        assert_eq!(reissued.ca_cert_pem, first.ca_cert_pem);
        assert_ne!(reissued.serving_cert_pem, first.serving_cert_pem);
        assert!(names_all(&reissued.serving_cert_pem, &more));
        #[cfg(unix)]
        for key in ["ca.key", "apiserver.key", "sa.key"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(PKI_DIR).join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }

    #[test]
    fn client_certificates_carry_the_user_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::load_or_create(dir.path(), &[]).unwrap();
        let (cert, _key) = pki
            .issue_client("kubernetes-admin", Some("system:masters"))
            .unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(cert.as_bytes()).unwrap();
        let parsed = pem.parse_x509().unwrap();
        let cn: Vec<_> = parsed
            .subject()
            .iter_common_name()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let o: Vec<_> = parsed
            .subject()
            .iter_organization()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(cn, ["kubernetes-admin"]);
        assert_eq!(o, ["system:masters"]);
        assert!(Pki::load(tempfile::tempdir().unwrap().path()).is_err());
    }
}
