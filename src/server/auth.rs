//! Who may open a session. `NONE` lets anyone in under the name they give; `PASSWORD`
//! checks the name and password against a users file of salted Argon2 hashes (PHC strings,
//! one `user:hash` per line, written by `apiary passwd`).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use super::operations::lock;
use crate::error::{ApiaryError, Result};

/// The user of a session opened without a name.
pub const ANONYMOUS: &str = "anonymous";

#[derive(Debug, Clone)]
pub enum Authenticator {
    None,
    Password(Users),
}

/// The message clients show when a login is refused (HiveServer2's).
pub const LOGIN_REFUSED: &str = "Error validating the login";

impl Authenticator {
    /// Checks a user and password the transport received (SASL PLAIN, HTTP basic).
    pub fn check(&self, user: &str, password: &str) -> Result<String> {
        match self {
            Authenticator::None => Ok(if user.is_empty() { ANONYMOUS } else { user }.to_string()),
            Authenticator::Password(users) => {
                if users.verify(user, password) {
                    Ok(user.to_string())
                } else {
                    Err(ApiaryError::Analysis(LOGIN_REFUSED.to_string()))
                }
            }
        }
    }

    /// The user of a session whose transport authenticated no one (NOSASL): the name in
    /// OpenSession, checked with its password when passwords are required.
    pub fn open_session_user(&self, user: Option<&str>, password: Option<&str>) -> Result<String> {
        self.check(user.unwrap_or_default(), password.unwrap_or_default())
    }
}

/// The users file: user names and their password hashes.
#[derive(Debug, Clone, Default)]
pub struct Users {
    hashes: BTreeMap<String, String>,
    /// Digests of the (user, password, hash) triples already verified, so that a client
    /// that authenticates every call (HTTP) pays for the slow hash once. A wrong password
    /// is never remembered, so guessing costs the full hash every time.
    verified: Arc<Mutex<HashSet<[u8; 32]>>>,
}

impl Users {
    pub fn load(path: &Path) -> Result<Users> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ApiaryError::io(format!("cannot read users file {}", path.display()), e)
        })?;
        Users::parse(&text).map_err(|message| {
            ApiaryError::Analysis(format!("users file {}: {message}", path.display()))
        })
    }

    fn parse(text: &str) -> std::result::Result<Users, String> {
        let mut hashes = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, hash) = line
                .split_once(':')
                .ok_or_else(|| format!("line {}: expected user:hash", number + 1))?;
            PasswordHash::new(hash)
                .map_err(|e| format!("line {}: not a password hash: {e}", number + 1))?;
            hashes.insert(user.to_string(), hash.to_string());
        }
        Ok(Users {
            hashes,
            verified: Arc::default(),
        })
    }

    pub fn verify(&self, user: &str, password: &str) -> bool {
        let Some(hash) = self.hashes.get(user) else {
            return false;
        };
        let digest: [u8; 32] = Sha256::new()
            .chain_update(user.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .chain_update([0])
            .chain_update(hash.as_bytes())
            .finalize()
            .into();
        if lock(&self.verified).contains(&digest) {
            return true;
        }
        let valid = PasswordHash::new(hash).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        });
        if valid {
            lock(&self.verified).insert(digest);
        }
        valid
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }
}

/// A salted hash of `password`.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| ApiaryError::Execution(format!("cannot make a salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiaryError::Execution(format!("cannot hash the password: {e}")))
}

/// Sets `user`'s password in the users file at `path`, creating the file if needed. The file
/// is replaced whole (written beside it, then renamed), so it is never half-written.
pub fn set_password(path: &Path, user: &str, password: &str) -> Result<()> {
    if user.is_empty() || user.contains(':') || user.contains(char::is_whitespace) {
        return Err(ApiaryError::Analysis(format!(
            "invalid user name '{user}': it must be non-empty, without ':' or spaces"
        )));
    }
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(ApiaryError::io(
                format!("cannot read users file {}", path.display()),
                e,
            ));
        }
    };
    let mut lines: Vec<String> = existing
        .lines()
        .filter(|line| line.split_once(':').is_none_or(|(u, _)| u.trim() != user))
        .map(str::to_string)
        .collect();
    lines.push(format!("{user}:{}", hash_password(password)?));
    let temporary = PathBuf::from(format!("{}.tmp", path.display()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all((lines.join("\n") + "\n").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|e| ApiaryError::io(format!("cannot write users file {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_checked_against_salted_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users");
        set_password(&path, "ana", "s3cret").unwrap();
        set_password(&path, "bo", "other").unwrap();
        set_password(&path, "ana", "changed").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("changed"), "{text}");
        let users = Users::load(&path).unwrap();
        assert_eq!(users.len(), 2);
        let auth = Authenticator::Password(users);
        assert_eq!(auth.check("ana", "changed").unwrap(), "ana");
        assert!(auth.check("ana", "s3cret").is_err());
        assert!(auth.check("nobody", "x").is_err());
        assert!(auth.open_session_user(Some("bo"), None).is_err());
        assert_eq!(Authenticator::None.check("", "").unwrap(), ANONYMOUS);
        assert!(set_password(&path, "a:b", "x").is_err());
    }

    #[test]
    fn a_malformed_users_file_is_refused() {
        assert!(Users::parse("ana\n").is_err());
        assert!(Users::parse("ana:plaintext\n").is_err());
        assert!(Users::parse("# comment\n\n").unwrap().is_empty());
    }
}
