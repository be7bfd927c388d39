//! [`Raw`]: an assertion's verdict before negation, as every kind's check returns it
//! (`check`, `graded`, `scripted`, `text`, `json`…); [`super::conclude`] applies negation.

/// A verdict before negation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Raw {
    pub(crate) pass: bool,
    pub(crate) score: f64,
    pub(crate) reason: String,
    /// False when the check could not be decided (unknown cost, a transform that found
    /// nothing): the assertion then fails whether or not it is negated.
    pub(crate) decided: bool,
}

impl Raw {
    pub(crate) fn pass(reason: impl Into<String>) -> Raw {
        Raw {
            pass: true,
            score: 1.0,
            reason: reason.into(),
            decided: true,
        }
    }

    pub(crate) fn fail(reason: impl Into<String>) -> Raw {
        Raw {
            pass: false,
            score: 0.0,
            reason: reason.into(),
            decided: true,
        }
    }

    pub(crate) fn undetermined(reason: impl Into<String>) -> Raw {
        Raw {
            pass: false,
            score: 0.0,
            reason: reason.into(),
            decided: false,
        }
    }
}
