//! The PostgreSQL URL a replica connects with, kept out of logs and errors.

/// A database URL (`postgres://user:password@host/db`) that never shows its password: its
/// `Debug` and `Display` print it redacted, so flags and errors can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Accepts a `postgres://` or `postgresql://` URL that PostgreSQL's driver can use; the
    /// error never quotes the URL.
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(
                "only postgres:// URLs are supported (without --database the store is \
                 SQLite in --data-dir)"
                    .to_owned(),
            );
        }
        super::postgres::connect_options(text).map_err(|_| {
            "not a valid postgres://USER:PASSWORD@HOST:PORT/DATABASE URL".to_owned()
        })?;
        Ok(DatabaseUrl(text.to_owned()))
    }

    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password (in the user info or a `password=` parameter) replaced by
    /// `***`.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

/// `url` with any password replaced by `***`.
fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return "***".to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (user_info, host) = authority.split_at(at);
            match user_info.split_once(':') {
                Some((user, _password)) => format!("{user}:***{host}"),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{}{authority}{tail}", &url[..scheme_end])
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_shown_without_their_password() {
        let url = DatabaseUrl::parse(
            "postgres://app:s3cr%40t@db.example:5432/console?sslmode=require&password=other",
        )
        .expect("a postgres URL");
        assert_eq!(
            url.to_string(),
            "postgres://app:***@db.example:5432/console?sslmode=require&password=***"
        );
        assert_eq!(format!("{url:?}"), url.to_string());
        assert!(url.expose().contains("s3cr%40t"));
        assert!(
            DatabaseUrl::parse("mysql://app:secret@db/x").is_err_and(|e| !e.contains("secret"))
        );
        assert!(
            DatabaseUrl::parse("postgres://app:secret@db:notaport/x")
                .is_err_and(|e| !e.contains("secret"))
        );
    }
}
