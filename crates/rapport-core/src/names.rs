//! API names of objects and fields: the identifiers that become table and column names, so they
//! are restricted to a safe alphabet and may never collide with system columns.

use crate::codes::ErrorCode;
use crate::{CoreError, Label};
use pinyin::ToPinyin;

/// Columns every record table has; no field may take these names.
pub const SYSTEM_COLUMNS: &[&str] = &[
    "id",
    "version",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "owner_id",
    "deleted_at",
];

pub const MAX_NAME_LEN: usize = 40;

/// Checks that `name` is lower snake case: `[a-z][a-z0-9_]*`, at most 40 characters, no double
/// underscore (reserved for derived columns such as a currency's code column).
pub fn validate_api_name(name: &str, what: &str) -> Result<(), CoreError> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !starts_with_letter
        || !rest_ok
        || name.len() > MAX_NAME_LEN
        || name.contains("__")
        || name.ends_with('_')
    {
        return Err(CoreError::definition(
            ErrorCode::InvalidApiName,
            format!(
                "{what} api name {name:?} must be lower snake case ([a-z][a-z0-9_]*), at most {MAX_NAME_LEN} characters"
            ),
        ));
    }
    Ok(())
}

/// Quotes an identifier that has already passed `validate_api_name` (or is a system column).
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', ""))
}

/// An api name made from a label, for admins who only typed a name: the English label when it
/// has Latin letters or digits, else the Chinese one in toneless pinyin, one syllable per word
/// ("客户等级" → `ke_hu_deng_ji`, "Serial number" → `serial_number`); other characters separate
/// words. `prefix` starts a name that would not start with a letter (`field_2024_target`).
/// When the name is taken (`taken`) or a system column, `_2`, `_3` … is appended.
pub fn generate_api_name(label: &Label, prefix: &str, taken: impl Fn(&str) -> bool) -> String {
    let source = if label.en.chars().any(|c| c.is_ascii_alphanumeric()) {
        &label.en
    } else {
        &label.zh
    };
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in source.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if let Some(syllable) = c.to_pinyin() {
            words.push(syllable.plain().to_string());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut base = words.join("_");
    if !base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base = if base.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}_{base}")
        };
    }
    // Room for a `_NN` suffix within the length limit, cut at a word boundary.
    let mut cut = base.clone();
    while cut.len() > MAX_NAME_LEN - 4 {
        match cut.rfind('_') {
            Some(at) if at > 0 => cut.truncate(at),
            _ => cut.truncate(MAX_NAME_LEN - 4),
        }
    }
    let free = |name: &str| !taken(name) && !SYSTEM_COLUMNS.contains(&name);
    if free(&cut) {
        return cut;
    }
    (2..)
        .map(|n| format!("{cut}_{n}"))
        .find(|name| free(name))
        .unwrap_or(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(en: &str, zh: &str, taken: &[&str]) -> String {
        generate_api_name(&Label::new(en, zh), "field", |n| taken.contains(&n))
    }

    #[test]
    fn chinese_names_become_pinyin() {
        assert_eq!(generated("", "客户等级", &[]), "ke_hu_deng_ji");
        assert_eq!(generated("客户等级", "客户等级", &[]), "ke_hu_deng_ji");
        assert_eq!(generated("", "合同编号(HT)", &[]), "he_tong_bian_hao_ht");
    }

    #[test]
    fn english_names_win_when_given() {
        assert_eq!(generated("Serial number", "序列号", &[]), "serial_number");
        assert_eq!(
            generated("  E-mail / Phone ", "联系方式", &[]),
            "e_mail_phone"
        );
    }

    #[test]
    fn names_start_with_a_letter_and_are_valid() {
        assert_eq!(generated("", "2024年目标", &[]), "field_2024_nian_mu_biao");
        assert_eq!(generated("", "★★", &[]), "field");
        for (en, zh) in [
            ("", "一二三四五六七八九十一二三四五六七八九十"),
            (
                "Annual recurring revenue for the whole group of companies",
                "",
            ),
            ("", "🙂 ID"),
            ("__x__", ""),
        ] {
            let name = generated(en, zh, &[]);
            assert!(validate_api_name(&name, "field").is_ok(), "{name}");
        }
    }

    #[test]
    fn taken_and_system_names_get_a_number() {
        assert_eq!(generated("Owner id", "", &[]), "owner_id_2");
        assert_eq!(
            generated("", "客户等级", &["ke_hu_deng_ji"]),
            "ke_hu_deng_ji_2"
        );
        assert_eq!(
            generated("", "客户等级", &["ke_hu_deng_ji", "ke_hu_deng_ji_2"]),
            "ke_hu_deng_ji_3"
        );
    }
}
