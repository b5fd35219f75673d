//! The audit trail's transparency log (docs/audit.md): every trust decision, key release
//! or refusal, policy version and cluster registration or removal becomes an entry of an
//! RFC 9162 Merkle tree kept in the database, and the log's Ed25519 key signs C2SP
//! checkpoints of it that anyone can fetch and check offline.
//!
//! - [`append`] is the only way in: inside the caller's write transaction, so an action
//!   is never recorded without its entry, and under one lock (SQLite's write lock, a
//!   PostgreSQL advisory lock), so replicas sharing a database never fork the tree.
//! - [`entries`] builds the entries: digests and identifiers, never secrets.
//! - `store` reads entries, tree heads and proofs; `checkpoint` signs tree heads;
//!   `routes` publishes them.
//!
//! Nothing here may ever update or delete an entry or a subtree hash.

#[cfg(test)]
mod bench;
mod checkpoint;
mod edge;
pub(crate) mod entries;
mod orgs;
mod routes;
mod store;
#[cfg(test)]
mod tests;

pub(crate) use checkpoint::{keep_signing, LogSigner};
pub(crate) use edge::EdgeCache;
pub(crate) use routes::{checkpoint, consistency_proof, entries_page, inclusion_proof, key};
pub(crate) use store::{append, append_with, audited};

/// An entry before the log gives it its index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewEntry {
    /// When the action happened (unix seconds).
    pub at: u64,
    /// What happened: docs/audit.md lists every kind (`trust.decision`, `key.released`,
    /// `access.allowed`, `workload.bound`, ...) with its fields.
    pub kind: &'static str,
    /// Who did it: `service`, `admin`, `host/<id>`, `cluster/<id>`, or a named person.
    pub actor: String,
    /// What it was done to: `host/<id>`, `key/<id>`, `policy/<version>`, `cluster/<id>`.
    pub subject: String,
    /// Digests and identifiers that prove it; integers, strings, booleans only.
    pub body: serde_json::Value,
}

impl NewEntry {
    /// The entry as it will be logged at `index`.
    pub(crate) fn at_index(&self, index: u64) -> ironroot_api::AuditEntry {
        ironroot_api::AuditEntry {
            index,
            at: self.at,
            kind: self.kind.to_owned(),
            actor: self.actor.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
        }
    }
}
