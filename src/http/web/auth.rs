//! Basic auth against `basic_auth_users`: the `Authorization` header's user and password,
//! checked with bcrypt. A bcrypt check costs milliseconds by design (a cost of 10 is about 50 ms),
//! too much for every scrape, so a user and password that passed are remembered, as
//! exporter-toolkit does, under a keyed hash (the password itself is not kept). Checks that are
//! not remembered (a new password, or a wrong one) run one at a time, as exporter-toolkit runs
//! them: a crowd sending wrong passwords costs at most one core, and every other request (and a
//! remembered password) gets the rest.

use base64::Engine;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

/// How many passed checks are remembered; past that the memory starts again (users are few).
const REMEMBERED: usize = 1024;

/// A hash that no password matches, checked for unknown users so that they take as long to
/// refuse as known ones, and a client cannot find out user names by timing.
const UNKNOWN_USER: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// The users of `basic_auth_users`, or nobody to ask for when there are none.
pub struct Users {
    hashes: HashMap<String, String>,
    passed: Mutex<HashSet<u64>>,
    /// Held for each bcrypt check: one at a time.
    checking: Mutex<()>,
    /// The key of the hash under which passed checks are remembered, random per process.
    key: RandomState,
}

impl Users {
    pub fn new(users: &[(String, String)]) -> Users {
        Users {
            hashes: users.iter().cloned().collect(),
            passed: Mutex::new(HashSet::new()),
            checking: Mutex::new(()),
            key: RandomState::new(),
        }
    }

    /// Whether a request with this `Authorization` header may be answered: always when there are
    /// no users, else only with the `Basic` credentials of one of them.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        if self.hashes.is_empty() {
            return true;
        }
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        let (hash, known) = match self.hashes.get(&user) {
            Some(hash) => (hash.as_str(), true),
            None => (UNKNOWN_USER, false),
        };
        let remembered = self.key.hash_one((&user, &password, hash));
        if known && self.passed.lock().unwrap_or_else(PoisonError::into_inner).contains(&remembered) {
            return true;
        }
        let passed = {
            let _one_at_a_time = self.checking.lock().unwrap_or_else(PoisonError::into_inner);
            bcrypt::verify(&password, hash).unwrap_or(false) && known
        };
        if passed {
            let mut set = self.passed.lock().unwrap_or_else(PoisonError::into_inner);
            if set.len() >= REMEMBERED {
                set.clear();
            }
            set.insert(remembered);
        }
        passed
    }
}

/// The user and password of a `Basic` `Authorization` header.
fn credentials(header: &str) -> Option<(String, Vec<u8>)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
    }

    #[test]
    fn users_and_passwords() {
        let hash = bcrypt::hash("s3cret:x", 4).unwrap();
        let users = Users::new(&[("prometheus".into(), hash)]);
        assert!(users.authorized(Some(&basic("prometheus:s3cret:x"))), "a password may hold a colon");
        assert!(users.authorized(Some(&basic("prometheus:s3cret:x"))), "and passes again, remembered");
        for refused in [
            None,
            Some(basic("prometheus:wrong")),
            Some(basic("prometheus:")),
            Some(basic("nobody:s3cret:x")),
            Some("Bearer abc".to_string()),
            Some("Basic !!!".to_string()),
            Some(basic("no colon")),
        ] {
            assert!(!users.authorized(refused.as_deref()), "{refused:?}");
        }
        assert!(Users::new(&[]).authorized(None), "no users: nothing to ask for");
    }

    #[test]
    fn the_unknown_users_hash_is_a_bcrypt_hash() {
        assert!(matches!(bcrypt::verify("", UNKNOWN_USER), Ok(false)));
    }
}
