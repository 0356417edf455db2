//! Console sign-in sessions (team mode): a random id in a cookie, the ServiceAccount user it
//! signed in as kept server-side, in memory, bounded and revocable. A session ends when it is
//! idle too long, when it reaches its absolute lifetime (never past its token's expiry), on
//! sign-out, and when its ServiceAccount is deleted. Neither ids nor tokens ever reach a log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use service_plan::user::{UserInfo, parse_service_account_user};
use sha2::{Digest, Sha256};

use crate::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "sc_session";
/// A session unused this long ends (8 hours).
pub const SESSION_IDLE_SECS: u64 = 8 * 3600;
/// A session ends this long after sign-in however much it is used (24 hours).
pub const SESSION_LIFETIME_SECS: u64 = 24 * 3600;
/// At most this many sessions are kept; signing in past it ends the oldest.
pub const MAX_SESSIONS: usize = 10_000;
/// Random bytes of a session id (256 bits).
const SESSION_ID_BYTES: usize = 32;

/// A signed-in user, kept server-side.
#[derive(Debug, Clone)]
struct Session {
    user: Arc<UserInfo>,
    created: Instant,
    last_used: Instant,
    /// When the session ends whatever happens: sign-in plus the lifetime, or the token's
    /// expiry when that comes first.
    ends: Instant,
}

/// The sessions of a team-mode server, keyed by the SHA-256 of their ids: the ids themselves
/// are only ever in the cookie.
pub struct Sessions {
    by_id: Mutex<HashMap<[u8; 32], Session>>,
    max: usize,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("count", &self.len())
            .field("max", &self.max)
            .finish()
    }
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions::new(MAX_SESSIONS)
    }
}

impl Sessions {
    /// An empty store keeping at most `max` sessions.
    pub fn new(max: usize) -> Sessions {
        Sessions {
            by_id: Mutex::new(HashMap::new()),
            max: max.max(1),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // A panic while the lock was held leaves a map that is still consistent.
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many sessions are kept.
    pub fn len(&self) -> usize {
        self.sessions().len()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a session for `user` at `now`, ending no later than `token_valid_for` from now;
    /// returns its id (for the cookie). Expired sessions go first, then the oldest while the
    /// store is full.
    pub fn create(&self, user: Arc<UserInfo>, token_valid_for: Duration, now: Instant) -> String {
        let id = URL_SAFE_NO_PAD.encode(rand::random::<[u8; SESSION_ID_BYTES]>());
        let lifetime = token_valid_for.min(Duration::from_secs(SESSION_LIFETIME_SECS));
        let session = Session {
            user,
            created: now,
            last_used: now,
            ends: now + lifetime,
        };
        let mut sessions = self.sessions();
        sessions.retain(|_, s| s.is_live(now));
        while sessions.len() >= self.max {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(key, _)| *key);
            match oldest {
                Some(key) => sessions.remove(&key),
                None => break,
            };
        }
        sessions.insert(digest(&id), session);
        id
    }

    /// The user of live session `id`, which counts as used at `now`; an expired session is
    /// removed.
    pub fn user(&self, id: &str, now: Instant) -> Option<Arc<UserInfo>> {
        let key = digest(id);
        let mut sessions = self.sessions();
        let session = sessions.get_mut(&key)?;
        if !session.is_live(now) {
            sessions.remove(&key);
            return None;
        }
        session.last_used = now;
        Some(session.user.clone())
    }

    /// Ends session `id`; whether there was one.
    pub fn revoke(&self, id: &str) -> bool {
        self.sessions().remove(&digest(id)).is_some()
    }
}

impl Session {
    fn is_live(&self, now: Instant) -> bool {
        now < self.ends
            && now.duration_since(self.last_used) < Duration::from_secs(SESSION_IDLE_SECS)
    }
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// The session id of a request's [`SESSION_COOKIE`], from any of its `Cookie` headers.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_string())
}

/// The user of session `id` while its ServiceAccount still exists with the uid it signed in
/// with; a session whose ServiceAccount was deleted (or re-created) is revoked.
pub async fn session_user(
    state: &AppState,
    sessions: &Sessions,
    id: &str,
) -> Option<Arc<UserInfo>> {
    let user = sessions.user(id, Instant::now())?;
    if service_account_exists(state, &user).await {
        Some(user)
    } else {
        sessions.revoke(id);
        tracing::info!(user = %user.name, "ended a console session whose ServiceAccount is gone");
        None
    }
}

async fn service_account_exists(state: &AppState, user: &UserInfo) -> bool {
    match parse_service_account_user(&user.name) {
        Some((namespace, name)) => {
            super::authenticate::service_account_holds(state, namespace, name, &user.uid).await
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn alice() -> Arc<UserInfo> {
        Arc::new(UserInfo::service_account("default", "alice", "u-1"))
    }

    #[test]
    fn a_session_names_its_user_until_revoked() {
        let sessions = Sessions::new(10);
        let now = Instant::now();
        let id = sessions.create(alice(), 2 * HOUR, now);
        assert_eq!(
            sessions.user(&id, now).map(|u| u.name.clone()).as_deref(),
            Some("system:serviceaccount:default:alice")
        );
        assert!(sessions.user("another-id", now).is_none());
        assert!(sessions.revoke(&id));
        assert!(sessions.user(&id, now).is_none());
        assert!(!sessions.revoke(&id));
    }

    #[test]
    fn ids_are_long_random_and_not_kept() {
        let sessions = Sessions::new(10);
        let now = Instant::now();
        let (a, b) = (
            sessions.create(alice(), HOUR, now),
            sessions.create(alice(), HOUR, now),
        );
        assert_ne!(a, b);
        // 32 random bytes in unpadded base64url.
        assert_eq!(a.len(), 43, "{a}");
        let kept = format!("{:?}", sessions.sessions().keys().collect::<Vec<_>>());
        assert!(!kept.contains(&a) && !format!("{sessions:?}").contains(&a));
    }

    #[test]
    fn an_idle_session_ends_and_use_keeps_it_alive() {
        let sessions = Sessions::new(10);
        let now = Instant::now();
        let idle = Duration::from_secs(SESSION_IDLE_SECS);
        let used = sessions.create(alice(), 48 * HOUR, now);
        let unused = sessions.create(alice(), 48 * HOUR, now);
        let later = now + idle - Duration::from_secs(1);
        assert!(sessions.user(&used, later).is_some());
        assert!(
            sessions
                .user(&used, later + idle - Duration::from_secs(1))
                .is_some()
        );
        assert!(sessions.user(&unused, now + idle).is_none());
        assert_eq!(sessions.len(), 1, "the expired session is removed");
    }

    #[test]
    fn a_session_ends_at_its_lifetime_however_used() {
        let sessions = Sessions::new(10);
        let now = Instant::now();
        let id = sessions.create(alice(), 48 * HOUR, now);
        let mut t = now;
        while t < now + Duration::from_secs(SESSION_LIFETIME_SECS) - HOUR {
            t += HOUR;
            assert!(sessions.user(&id, t).is_some(), "{:?}", t - now);
        }
        assert!(
            sessions
                .user(&id, now + Duration::from_secs(SESSION_LIFETIME_SECS))
                .is_none()
        );
    }

    #[test]
    fn a_session_ends_when_its_token_expires() {
        let sessions = Sessions::new(10);
        let now = Instant::now();
        let id = sessions.create(alice(), Duration::from_secs(600), now);
        assert!(sessions.user(&id, now + Duration::from_secs(599)).is_some());
        assert!(sessions.user(&id, now + Duration::from_secs(600)).is_none());
    }

    #[test]
    fn a_full_store_ends_the_oldest_session() {
        let sessions = Sessions::new(3);
        let now = Instant::now();
        let ids: Vec<String> = (0..4)
            .map(|i| sessions.create(alice(), HOUR, now + Duration::from_secs(i)))
            .collect();
        assert_eq!(sessions.len(), 3);
        let at = now + Duration::from_secs(10);
        assert!(sessions.user(&ids[0], at).is_none(), "the oldest went");
        for id in &ids[1..] {
            assert!(sessions.user(id, at).is_some());
        }
    }

    #[test]
    fn a_full_store_drops_expired_sessions_before_live_ones() {
        let sessions = Sessions::new(2);
        let now = Instant::now();
        let old_but_live = sessions.create(alice(), 48 * HOUR, now);
        let _short = sessions.create(
            alice(),
            Duration::from_secs(60),
            now + Duration::from_secs(1),
        );
        let later = now + Duration::from_secs(120);
        let new = sessions.create(alice(), HOUR, later);
        assert!(sessions.user(&old_but_live, later).is_some());
        assert!(sessions.user(&new, later).is_some());
    }
}
