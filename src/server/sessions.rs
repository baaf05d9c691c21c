//! A client's session on the server: the engine session its statements run in (one at a
//! time, in order), who it belongs to, the protocol version it speaks, and its operations.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use super::handles::{Handle, HandleId};
use super::operations::lock;
use super::protocol::TProtocolVersion;
use crate::driver::{Session, SettingSnapshot};
use crate::error::Result;

pub struct ServerSession {
    pub handle: Handle,
    pub user: String,
    pub protocol: TProtocolVersion,
    /// The binary-transport connection that opened the session; it ends with it.
    pub connection: Option<u64>,
    engine_session: Arc<tokio::sync::Mutex<Session>>,
    last_used: Mutex<Instant>,
    operations: Mutex<Vec<HandleId>>,
}

impl ServerSession {
    pub fn new(
        user: String,
        protocol: TProtocolVersion,
        connection: Option<u64>,
        session: Session,
    ) -> ServerSession {
        ServerSession {
            handle: Handle::new(),
            user,
            protocol,
            connection,
            engine_session: Arc::new(tokio::sync::Mutex::new(session)),
            last_used: Mutex::new(Instant::now()),
            operations: Mutex::default(),
        }
    }

    pub fn engine_session(&self) -> Arc<tokio::sync::Mutex<Session>> {
        Arc::clone(&self.engine_session)
    }

    pub fn touch(&self) {
        *lock(&self.last_used) = Instant::now();
    }

    pub fn idle_for(&self) -> Duration {
        lock(&self.last_used).elapsed()
    }

    pub fn add_operation(&self, id: HandleId) {
        lock(&self.operations).push(id);
    }

    pub fn remove_operation(&self, id: &HandleId) {
        lock(&self.operations).retain(|o| o != id);
    }

    pub fn operation_ids(&self) -> Vec<HandleId> {
        lock(&self.operations).clone()
    }

    pub fn take_operations(&self) -> Vec<HandleId> {
        std::mem::take(&mut *lock(&self.operations))
    }
}

/// What one ExecuteStatement asks for beyond its text.
pub struct StatementSettings {
    /// Settings for this statement only (`confOverlay`).
    pub overlay: BTreeMap<String, String>,
    /// `queryTimeout`, when the client set one.
    pub timeout: Option<Duration>,
}

impl StatementSettings {
    /// Applies the overlay to the locked session; the settings are put back when the
    /// returned guard is dropped.
    pub fn apply(self, session: OwnedMutexGuard<Session>) -> Result<OverlaidSession> {
        let mut overlaid = OverlaidSession {
            session,
            saved: Vec::new(),
        };
        for (name, value) in &self.overlay {
            let snapshot = overlaid.session.snapshot_setting(name);
            overlaid.saved.push(snapshot);
            // On an error, dropping `overlaid` puts back what was set so far.
            overlaid.session.set(name, value)?;
        }
        Ok(overlaid)
    }
}

/// A locked session with a statement's settings applied.
pub struct OverlaidSession {
    session: OwnedMutexGuard<Session>,
    saved: Vec<SettingSnapshot>,
}

impl Deref for OverlaidSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl DerefMut for OverlaidSession {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl Drop for OverlaidSession {
    fn drop(&mut self) {
        for snapshot in self.saved.drain(..).rev() {
            // A value the session held before can be set again.
            let _ = self.session.restore_setting(snapshot);
        }
    }
}
