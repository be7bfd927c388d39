//! What one sample (a [`CaseResult`]) counts as on its side, shared by the steps that read
//! samples (`pairing`, `classify`, `findings`, `tools`) so none of them reaches into another
//! for it.

use crate::provider::ErrorClass;
use crate::results::{CaseResult, Status};

/// Whether a result counts as an answer: it passed or failed its assertions, or the provider
/// refused to serve it (`content_filter`, `invalid_request`: the candidate's behaviour, a
/// failed sample). Other errors are unanswered and left out of every rate (the rules are in
/// [`super::classify`]'s docs, **Answered samples**).
pub(crate) fn answered(r: &CaseResult) -> bool {
    match r.status {
        Status::Passed | Status::Failed => true,
        Status::Error => r.error.as_ref().is_some_and(|e| {
            matches!(
                e.class,
                ErrorClass::ContentFilter | ErrorClass::InvalidRequest
            )
        }),
    }
}
