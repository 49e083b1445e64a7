//! Bilingual labels. Every user-visible name of an object, field or option has an English and a
//! Simplified Chinese form; a plain string in input is used for both, and a pair may leave
//! either language out.

use crate::codes::ErrorCode;
use crate::CoreError;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// The longest label, in characters per language.
pub const MAX_LABEL_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Label {
    pub en: String,
    pub zh: String,
}

impl Label {
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub fn is_blank(&self) -> bool {
        self.en.trim().is_empty() || self.zh.trim().is_empty()
    }

    /// Checks that both languages have a label of 1 to `MAX_LABEL_CHARS` characters
    /// (422 `invalid_label`); `what` names the labelled thing in the message.
    pub fn check(&self, what: &str) -> Result<(), CoreError> {
        if self.is_blank() {
            return Err(CoreError::definition(
                ErrorCode::InvalidLabel,
                format!("{what} needs a label"),
            ));
        }
        if self.en.chars().count() > MAX_LABEL_CHARS || self.zh.chars().count() > MAX_LABEL_CHARS {
            return Err(CoreError::definition(
                ErrorCode::InvalidLabel,
                format!("the label of {what} is longer than {MAX_LABEL_CHARS} characters"),
            ));
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Label {
    /// A plain string is both languages; in a pair either language may be left out or blank and
    /// takes the other's text, so a Chinese-speaking admin names a field in Chinese only.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Input {
            Plain(String),
            Pair {
                #[serde(default)]
                en: Option<String>,
                #[serde(default)]
                zh: Option<String>,
            },
        }
        let given = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
        Ok(match Input::deserialize(deserializer)? {
            Input::Plain(text) => Label::new(text.clone(), text),
            Input::Pair { en, zh } => match (given(en), given(zh)) {
                (Some(en), Some(zh)) => Label { en, zh },
                (Some(one), None) | (None, Some(one)) => Label::new(one.clone(), one),
                (None, None) => Label::new("", ""),
            },
        })
    }
}
