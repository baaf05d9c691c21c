//! Session and operation handles: a random public id and a random secret, both of which a
//! client must send back, so that a handle cannot be guessed from another.

use uuid::Uuid;

use super::protocol::THandleIdentifier;

/// A handle's public id.
pub type HandleId = [u8; 16];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handle {
    pub id: HandleId,
    secret: [u8; 16],
}

impl Handle {
    /// A new handle, random in both parts.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Handle {
        Handle {
            id: *Uuid::new_v4().as_bytes(),
            secret: *Uuid::new_v4().as_bytes(),
        }
    }

    pub fn to_thrift(self) -> THandleIdentifier {
        THandleIdentifier::new(self.id.to_vec(), self.secret.to_vec())
    }

    /// The handle a client sent, if it has the shape of one.
    pub fn from_thrift(identifier: &THandleIdentifier) -> Option<Handle> {
        Some(Handle {
            id: identifier.guid.as_slice().try_into().ok()?,
            secret: identifier.secret.as_slice().try_into().ok()?,
        })
    }

    /// The handle's id as Hive prints it in logs and query ids.
    pub fn display_id(&self) -> String {
        Uuid::from_bytes(self.id).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_travel_and_differ() {
        let handle = Handle::new();
        assert_eq!(Handle::from_thrift(&handle.to_thrift()), Some(handle));
        assert_ne!(Handle::new(), handle);
        let short = THandleIdentifier::new(vec![1, 2, 3], vec![0; 16]);
        assert_eq!(Handle::from_thrift(&short), None);
    }
}
