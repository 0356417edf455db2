//! The tag of a container image reference, as kube-apiserver reads it to default
//! `imagePullPolicy`: `ParseImageName` in pkg/util/parsers over distribution/reference's
//! `ParseNormalizedNamed` grammar. Only what the tag depends on is modelled: whether the
//! reference parses, and its tag and digest.

/// `Always`, the pull policy of an image tagged `latest` (or not tagged at all).
pub const PULL_ALWAYS: &str = "Always";
/// `IfNotPresent`, the pull policy of every other image.
pub const PULL_IF_NOT_PRESENT: &str = "IfNotPresent";

/// `parsers.DefaultImageTag`: the tag of a reference that names neither a tag nor a digest.
const DEFAULT_TAG: &str = "latest";
/// `reference.NameTotalLengthMax`.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// `defaultDomain`, `legacyDefaultDomain` and `officialRepoPrefix` of distribution/reference.
const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// `reference.tag`: at most 128 characters.
const TAG_LENGTH_MAX: usize = 128;

/// The pull policy `SetDefaults_Container` gives `image` when none is set: `Always` for the
/// tag `latest` (an untagged, undigested reference counts as `latest`), else `IfNotPresent`.
/// A reference that does not parse has no tag, so it gets `IfNotPresent`, as upstream, which
/// ignores the parse error.
pub fn default_pull_policy(image: &str) -> &'static str {
    match image_tag(image) {
        Some(tag) if tag == DEFAULT_TAG => PULL_ALWAYS,
        _ => PULL_IF_NOT_PRESENT,
    }
}

/// The tag `parsers.ParseImageName` returns: `None` when the reference does not parse,
/// `latest` when it has neither tag nor digest, empty when it has only a digest.
pub fn image_tag(image: &str) -> Option<String> {
    let parsed = parse_normalized(image)?;
    Some(match (parsed.tag, parsed.digest) {
        (Some(tag), _) => tag.to_string(),
        (None, Some(_)) => String::new(),
        (None, None) => DEFAULT_TAG.to_string(),
    })
}

struct Parsed<'a> {
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// `reference.ParseNormalizedNamed`: refuses a bare 64-hex identifier and an upper-case
/// repository, then parses `domain/remainder` with the reference grammar.
fn parse_normalized(s: &str) -> Option<Parsed<'_>> {
    if s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote_name = remainder.split(':').next().unwrap_or(remainder);
    if remote_name.to_lowercase() != remote_name {
        return None;
    }
    parse(domain, remainder)
}

/// `splitDockerDomain`: the text before the first `/` is a domain only if it looks like one.
fn split_docker_domain(s: &str) -> (&str, &str) {
    match s.find('/') {
        Some(i) => {
            let first = &s[..i];
            let looks_like_domain =
                first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first;
            if looks_like_domain {
                (first, &s[i + 1..])
            } else {
                (DEFAULT_DOMAIN, s)
            }
        }
        None => (DEFAULT_DOMAIN, s),
    }
}

/// `reference.Parse` of `domain + "/" + remainder`: `name[:tag][@digest]`.
fn parse<'a>(domain: &'a str, remainder: &'a str) -> Option<Parsed<'a>> {
    let (named, digest) = match remainder.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (remainder, None),
    };
    let last_segment_start = named.rfind('/').map_or(0, |i| i + 1);
    let (path, tag) = match named[last_segment_start..].find(':') {
        Some(i) => (
            &named[..last_segment_start + i],
            Some(&named[last_segment_start + i + 1..]),
        ),
        None => (named, None),
    };
    let mut segments: Vec<&str> = Vec::with_capacity(4);
    segments.push(domain);
    segments.extend(path.split('/'));
    let name_ok = (is_domain(segments[0]) && segments[1..].iter().all(|c| is_path_component(c)))
        || segments.iter().all(|c| is_path_component(c));
    // splitDockerDomain spells Docker Hub `docker.io` and gives its one-segment names the
    // `library/` prefix before the length is checked.
    let domain_len = if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN.len()
    } else {
        domain.len()
    };
    let official_prefix = if (domain == DEFAULT_DOMAIN || domain == LEGACY_DEFAULT_DOMAIN)
        && !remainder.contains('/')
    {
        OFFICIAL_REPO_PREFIX.len()
    } else {
        0
    };
    if !name_ok || domain_len + 1 + official_prefix + path.len() > NAME_TOTAL_LENGTH_MAX {
        return None;
    }
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    if digest.is_some_and(|d| !is_valid_digest(d)) {
        return None;
    }
    Some(Parsed { tag, digest })
}

/// `pathComponent`: lower-case alphanumerics joined by `.`, `_`, `__` or runs of `-`.
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "."
            || sep == "_"
            || sep == "__"
            || (!sep.is_empty() && sep.bytes().all(|x| x == b'-'));
        if !ok {
            return false;
        }
    }
    true
}

/// `domainAndPort`: a host name of dot-separated components or a bracketed IPv6 address,
/// with an optional numeric port.
fn is_domain(d: &str) -> bool {
    let (host, port) = if d.starts_with('[') {
        match d.find(']') {
            Some(end) => (&d[..=end], d[end + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (d, None),
        }
    };
    if d.starts_with('[') {
        let inner = &host[1..host.len() - 1];
        let tail = &d[host.len()..];
        if inner.is_empty()
            || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
            || !(tail.is_empty() || port.is_some())
        {
            return false;
        }
    } else if !host.split('.').all(is_domain_component) {
        return false;
    }
    port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `domainNameComponent`: alphanumerics, with inner dashes.
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
}

/// `tag`: `[\w][\w.-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_LENGTH_MAX
        && word(b[0])
        && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

/// `digest.Parse` with the algorithms kube-apiserver links: sha256, sha384 and sha512, each
/// with its exact length of lower-case hex.
fn is_valid_digest(d: &str) -> bool {
    let Some((algorithm, encoded)) = d.split_once(':') else {
        return false;
    };
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    encoded.len() == hex_len
        && encoded
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn untagged_and_latest_images_are_pulled_always() {
        for image in [
            "nginx",
            "nginx:latest",
            "library/nginx",
            "docker.io/library/nginx",
            "registry.example.com:5000/team/app",
            "localhost/app:latest",
            "[::1]:5000/app",
        ] {
            assert_eq!(default_pull_policy(image), PULL_ALWAYS, "{image}");
        }
    }

    #[test]
    fn tagged_and_digested_images_are_pulled_if_not_present() {
        let digested = format!("nginx@{SHA}");
        let both = format!("nginx:latest@{SHA}");
        for image in [
            "nginx:1.27",
            "registry.example.com:5000/team/app:v1",
            digested.as_str(),
            both.as_str(),
        ] {
            let expected = if image == both {
                PULL_ALWAYS
            } else {
                PULL_IF_NOT_PRESENT
            };
            assert_eq!(default_pull_policy(image), expected, "{image}");
        }
    }

    #[test]
    fn references_that_do_not_parse_have_no_tag() {
        let hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        for image in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-bad",
            "nginx@sha256:abc",
            "nginx@md5:0123456789abcdef0123456789abcdef",
            "a//b",
            "nginx:1:2",
            " nginx",
            hex,
        ] {
            assert_eq!(image_tag(image), None, "{image:?}");
            assert_eq!(default_pull_policy(image), PULL_IF_NOT_PRESENT, "{image:?}");
        }
    }

    #[test]
    fn names_longer_than_255_bytes_do_not_parse() {
        // docker.io/library/ + 237 bytes is 255.
        let fits = "a".repeat(237);
        let too_long = "a".repeat(238);
        assert_eq!(default_pull_policy(&fits), PULL_ALWAYS);
        assert_eq!(image_tag(&too_long), None);
    }

    #[test]
    fn the_tag_is_read_like_parse_image_name() {
        assert_eq!(image_tag("nginx").as_deref(), Some("latest"));
        assert_eq!(image_tag("a.b/c/d:v1.2-rc_3").as_deref(), Some("v1.2-rc_3"));
        assert_eq!(image_tag(&format!("nginx@{SHA}")).as_deref(), Some(""));
        assert_eq!(
            image_tag("Registry.Example.com/app:1").as_deref(),
            Some("1")
        );
        assert_eq!(
            image_tag("my-registry__x/a__b.c-d").as_deref(),
            Some("latest")
        );
    }
}
