//! The write path's plugins. Later capabilities join the one write path here instead of adding
//! a second one: governance registers an access policy, automation its before-save rules. Every
//! create and update runs, inside its transaction and in this order: validation of the input
//! (built in) → the `AccessPolicy` hooks (may refuse) → the `BeforeSave` hooks (may change the
//! record; formulas and required fields are checked again after them) → the row, its field
//! history and its outbox entry (built in). A hook that fails fails the write, all or nothing.

use super::WriteCtx;
use crate::{StoreError, Tx};
use rapport_core::metadata::ObjectDef;
use rapport_core::Record;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// May refuse the write (`StoreError::Forbidden`, or a validation error).
    AccessPolicy,
    /// May change the record before it is saved (business rules).
    BeforeSave,
}

/// A create or update about to be saved.
pub struct ProposedWrite<'b> {
    pub ctx: &'b WriteCtx<'b>,
    pub object: &'b ObjectDef,
    /// The record as stored, for an update; none for a create.
    pub before: Option<&'b Record>,
    /// The record as it will be saved (input applied, formulas computed).
    pub record: &'b mut Record,
}

pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// A plugin of the write path.
pub trait WriteHook: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn stage(&self) -> Stage;
    /// Runs inside the write's transaction (`tx`), before the row is written.
    fn before_save<'a, 'b: 'a>(
        &'a self,
        tx: &'a mut Tx,
        write: &'a mut ProposedWrite<'b>,
    ) -> HookFuture<'a>;
}

/// The registered hooks, in stage order (then registration order).
#[derive(Default)]
pub struct Hooks(RwLock<Vec<Arc<dyn WriteHook>>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&'static str> = self.all().iter().map(|h| h.name()).collect();
        f.debug_tuple("Hooks").field(&names).finish()
    }
}

impl Hooks {
    pub fn add(&self, hook: Arc<dyn WriteHook>) {
        if let Ok(mut hooks) = self.0.write() {
            hooks.push(hook);
            hooks.sort_by_key(|h| h.stage());
        }
    }

    pub fn all(&self) -> Vec<Arc<dyn WriteHook>> {
        // A panic while registering cannot leave the list half-pushed: read it regardless,
        // never run a write without its hooks.
        self.0
            .read()
            .map_or_else(|poisoned| poisoned.into_inner().clone(), |h| h.clone())
    }
}
