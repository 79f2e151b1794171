//! SDK login URLs (the seed's CreateSDKLoginToken): a server asks for a URL that signs one
//! agent into the JavaScript agent SDK. The URL's token is random, kept only as a hash,
//! valid for [`SDK_TOKEN_TTL_MS`] and good for one use; its issue and its use are events,
//! so "used once" holds across a restart. This is the fold of those events and the check a
//! use is decided by.

use std::collections::{HashMap, VecDeque};

use crate::domain::event::Event;
use crate::domain::ids::{AgentId, AppId};

/// How long an SDK URL works: the seed's 10 minutes, long enough for a page to load it.
pub const SDK_TOKEN_TTL_MS: i64 = 10 * 60_000;
/// Unused, unexpired URLs one agent may have at once: a page asks for one per load and
/// uses it at once, so more means a backend asking in a loop.
pub const MAX_OPEN_SDK_TOKENS_PER_AGENT: usize = 20;
/// How long a URL is remembered after it expired, so a late use is told "expired" or
/// "used" rather than "unknown"; after that its memory is freed.
pub const SDK_TOKEN_MEMORY_MS: i64 = 24 * 3_600_000;

/// One issued SDK URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkToken {
    /// The app.
    pub app: AppId,
    /// The agent it signs in.
    pub agent: AgentId,
    /// When it stops working, ms since the epoch.
    pub expires_at_ms: i64,
    /// It signed the agent in once already.
    pub used: bool,
}

/// Why an SDK URL does not sign in. Each has its own error code, so a client can tell
/// "ask your backend for a new URL" apart from other failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdkTokenRefusal {
    /// No such URL was issued (or it was forgotten long after it expired).
    Unknown,
    /// Its 10 minutes are over.
    Expired,
    /// It signed in once already.
    Used,
}

impl SdkTokenRefusal {
    /// The API's error code.
    pub fn code(self) -> &'static str {
        match self {
            SdkTokenRefusal::Unknown => "sdk_token_unknown",
            SdkTokenRefusal::Expired => "sdk_token_expired",
            SdkTokenRefusal::Used => "sdk_token_used",
        }
    }

    /// What went wrong, in words.
    pub fn message(self) -> &'static str {
        match self {
            SdkTokenRefusal::Unknown => "this SDK URL is unknown; ask for a new one",
            SdkTokenRefusal::Expired => {
                "this SDK URL expired (they last 10 minutes); ask for a new one"
            }
            SdkTokenRefusal::Used => "this SDK URL was used already (once only); ask for a new one",
        }
    }
}

/// Every remembered SDK URL, by the hash of its token.
#[derive(Clone, Debug, Default)]
pub struct SdkTokens {
    by_hash: HashMap<String, SdkToken>,
    /// Hashes in the order issued (so, with one lifetime, in the order they expire): the
    /// front is forgotten first.
    issued: VecDeque<(i64, String)>,
}

impl SdkTokens {
    /// Folds an SDK event of `app`; other events pass by.
    pub fn apply(&mut self, app: AppId, event: &Event) {
        match event {
            Event::SdkTokenIssued {
                agent,
                token_hash,
                issued_at_ms,
                expires_at_ms,
            }
            | Event::SdkTokenIssuedBy {
                agent,
                token_hash,
                issued_at_ms,
                expires_at_ms,
                ..
            } => {
                self.forget_before(*issued_at_ms - SDK_TOKEN_MEMORY_MS);
                self.by_hash.insert(
                    token_hash.clone(),
                    SdkToken {
                        app,
                        agent: *agent,
                        expires_at_ms: *expires_at_ms,
                        used: false,
                    },
                );
                self.issued.push_back((*expires_at_ms, token_hash.clone()));
            }
            Event::SdkTokenUsed { token_hash, .. } => {
                if let Some(token) = self.by_hash.get_mut(token_hash) {
                    debug_assert!(!token.used, "an SDK URL is used once");
                    token.used = true;
                }
            }
            _ => {}
        }
    }

    /// Frees the URLs that expired before `before_ms`.
    fn forget_before(&mut self, before_ms: i64) {
        while let Some((expires_at_ms, _)) = self.issued.front() {
            if *expires_at_ms >= before_ms {
                break;
            }
            if let Some((_, hash)) = self.issued.pop_front() {
                self.by_hash.remove(&hash);
            }
        }
    }

    /// The URL whose token hashes to `token_hash`, if it may sign in at `now_ms`.
    pub fn check(&self, token_hash: &str, now_ms: i64) -> Result<&SdkToken, SdkTokenRefusal> {
        let token = self
            .by_hash
            .get(token_hash)
            .ok_or(SdkTokenRefusal::Unknown)?;
        if token.used {
            return Err(SdkTokenRefusal::Used);
        }
        if now_ms >= token.expires_at_ms {
            return Err(SdkTokenRefusal::Expired);
        }
        Ok(token)
    }

    /// How many unused URLs `agent` has that still work at `now_ms`.
    pub fn open_for(&self, app: AppId, agent: AgentId, now_ms: i64) -> usize {
        // Only the newest entries can still work: walk back until they expired.
        self.issued
            .iter()
            .rev()
            .take_while(|(expires_at_ms, _)| now_ms < *expires_at_ms + SDK_TOKEN_TTL_MS)
            .filter_map(|(_, hash)| self.by_hash.get(hash))
            .filter(|t| t.app == app && t.agent == agent && !t.used && now_ms < t.expires_at_ms)
            .count()
    }

    /// How many URLs are remembered.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: AppId = AppId(1);
    const ANN: AgentId = AgentId(20);

    fn issued(hash: &str, at_ms: i64) -> Event {
        Event::SdkTokenIssued {
            agent: ANN,
            token_hash: hash.to_owned(),
            issued_at_ms: at_ms,
            expires_at_ms: at_ms + SDK_TOKEN_TTL_MS,
        }
    }

    fn used(hash: &str) -> Event {
        Event::SdkTokenUsed {
            agent: ANN,
            token_hash: hash.to_owned(),
        }
    }

    #[test]
    fn a_url_works_once_and_for_ten_minutes() {
        let mut tokens = SdkTokens::default();
        tokens.apply(APP, &issued("a", 1_000));
        assert_eq!(tokens.check("a", 1_000).unwrap().agent, ANN);
        assert_eq!(
            tokens.check("a", 1_000 + SDK_TOKEN_TTL_MS - 1).unwrap().app,
            APP
        );
        assert_eq!(
            tokens.check("a", 1_000 + SDK_TOKEN_TTL_MS),
            Err(SdkTokenRefusal::Expired)
        );
        assert_eq!(tokens.check("b", 1_000), Err(SdkTokenRefusal::Unknown));
        tokens.apply(APP, &used("a"));
        assert_eq!(tokens.check("a", 1_001), Err(SdkTokenRefusal::Used));
        // Used is said even after it would have expired: the more useful of the two.
        assert_eq!(
            tokens.check("a", 1_000 + SDK_TOKEN_TTL_MS),
            Err(SdkTokenRefusal::Used)
        );
    }

    #[test]
    fn a_url_with_its_issuer_folds_as_one_without() {
        let mut tokens = SdkTokens::default();
        tokens.apply(
            APP,
            &Event::SdkTokenIssuedBy {
                agent: ANN,
                token_hash: "a".into(),
                issued_at_ms: 0,
                expires_at_ms: SDK_TOKEN_TTL_MS,
                issuer: crate::domain::event::Issuer::ApiKey {
                    key: crate::domain::ids::ApiKeyId(3),
                },
            },
        );
        tokens.apply(APP, &issued("b", 0));
        assert_eq!(tokens.open_for(APP, ANN, 1), 2);
        tokens.apply(APP, &used("a"));
        assert_eq!(tokens.check("a", 1), Err(SdkTokenRefusal::Used));
    }

    #[test]
    fn urls_are_forgotten_a_day_after_they_expired() {
        let mut tokens = SdkTokens::default();
        tokens.apply(APP, &issued("old", 0));
        tokens.apply(APP, &issued("new", SDK_TOKEN_TTL_MS + SDK_TOKEN_MEMORY_MS));
        assert_eq!(
            tokens.len(),
            2,
            "expired exactly a day ago: still remembered"
        );
        tokens.apply(
            APP,
            &issued("newer", SDK_TOKEN_TTL_MS + SDK_TOKEN_MEMORY_MS + 1),
        );
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens.check("old", 0), Err(SdkTokenRefusal::Unknown));
        // A use of a forgotten URL changes nothing.
        tokens.apply(APP, &used("old"));
        assert_eq!(tokens.len(), 2);
    }

    #[test]
    fn open_urls_are_counted_per_agent() {
        let mut tokens = SdkTokens::default();
        tokens.apply(APP, &issued("a", 0));
        tokens.apply(APP, &issued("b", 1));
        tokens.apply(
            APP,
            &Event::SdkTokenIssued {
                agent: AgentId(21),
                token_hash: "c".into(),
                issued_at_ms: 2,
                expires_at_ms: 2 + SDK_TOKEN_TTL_MS,
            },
        );
        tokens.apply(AppId(2), &issued("d", 3));
        assert_eq!(tokens.open_for(APP, ANN, 10), 2);
        tokens.apply(APP, &used("a"));
        assert_eq!(tokens.open_for(APP, ANN, 10), 1);
        assert_eq!(tokens.open_for(APP, ANN, 1 + SDK_TOKEN_TTL_MS), 0);
        assert_eq!(tokens.open_for(AppId(2), ANN, 10), 1);
    }
}
