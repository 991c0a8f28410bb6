//! Form bodies (`application/x-www-form-urlencoded`) as name–value pairs, in order, so that a
//! name may repeat (check boxes); and the errors a form shows beside its fields.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

/// The fields of a posted form.
#[derive(Clone, Debug, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(pairs)) => Ok(Fields(pairs)),
            Err(e) => Err((e.status(), format!("the form could not be read: {}", e.body_text())).into_response()),
        }
    }
}

impl Fields {
    /// The first value of `name`, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The value of `name` as typed (empty when absent).
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }
}

/// Messages by field name; the empty name holds what belongs to no field.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn set(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_string()).or_insert_with(|| message.into());
    }

    /// The message for `field`, or "" (templates print it beside the field).
    pub fn of(&self, field: &str) -> &str {
        self.0.get(field).map_or("", String::as_str)
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message that belongs to no field.
    pub fn general(&self) -> &str {
        self.of("")
    }

    /// Files an error of the app under the field it names. The app's messages start with the
    /// field ("quantity: …") or quote an attribute ("attribute \"turnaround_h\" must be …");
    /// the field named earliest in the message gets it, else it belongs to the form.
    pub fn file(&mut self, message: &str, fields: &[&str]) {
        let named = fields
            .iter()
            .filter_map(|f| word_position(message, f).map(|at| (at, *f)))
            .min_by_key(|(at, f)| (*at, std::cmp::Reverse(f.len())))
            .map(|(_, f)| f);
        self.set(named.unwrap_or(""), message);
    }
}

/// Where `word` occurs in `text` as a whole word (not inside a longer name).
fn word_position(text: &str, word: &str) -> Option<usize> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_name) && !after.is_some_and(is_name) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// A number typed into a field: absent, a number, or an error to show beside it.
pub fn number(fields: &Fields, name: &str, errors: &mut FieldErrors, lang: super::ui::Lang) -> Option<f64> {
    let text = fields.get(name)?;
    match text.replace([',', '，'], "").parse::<f64>() {
        Ok(value) if value.is_finite() => Some(value),
        _ => {
            errors.set(name, lang.pick("请填写数字", "enter a number").to_string() + &format!(": {text:?}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_error_goes_to_the_field_it_names_first() {
        let mut errors = FieldErrors::default();
        errors.file("attrs: attribute \"turnaround_h\" must be a number, found \"x\"", &["method", "turnaround_h", "capacity_per_day"]);
        assert_eq!(errors.of("turnaround_h"), "attrs: attribute \"turnaround_h\" must be a number, found \"x\"");
    }

    #[test]
    fn a_field_inside_a_longer_name_does_not_match() {
        let mut errors = FieldErrors::default();
        errors.file("max_input_width_m is -1, must not be negative", &["input_width_m", "max_input_width_m"]);
        assert!(errors.has("max_input_width_m"));
        assert!(!errors.has("input_width_m"));
    }

    #[test]
    fn an_error_naming_no_field_belongs_to_the_form() {
        let mut errors = FieldErrors::default();
        errors.file("provider demo:x is already registered", &["name", "region"]);
        assert_eq!(errors.general(), "provider demo:x is already registered");
    }
}
