//! Turns formula text into tokens. Positions are 1-based character offsets, used in every
//! error message.

use super::invalid;
use super::num::{ONE, SCALE_DIGITS};
use crate::CoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// A number literal, already at the internal scale.
    Num(i128),
    Str(String),
    Ident(String),
    LParen,
    RParen,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Amp,
    AndAnd,
    OrOr,
    Bang,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

impl Tok {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        let sym = |s: &str| format!("`{s}`");
        match self {
            Tok::Num(n) => format!("number {}", super::num::format(*n)),
            Tok::Str(s) => format!("text {s:?}"),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::LParen => sym("("),
            Tok::RParen => sym(")"),
            Tok::Comma => sym(","),
            Tok::Dot => sym("."),
            Tok::Plus => sym("+"),
            Tok::Minus => sym("-"),
            Tok::Star => sym("*"),
            Tok::Slash => sym("/"),
            Tok::Amp => sym("&"),
            Tok::AndAnd => sym("&&"),
            Tok::OrOr => sym("||"),
            Tok::Bang => sym("!"),
            Tok::Eq => sym("="),
            Tok::Ne => sym("!="),
            Tok::Lt => sym("<"),
            Tok::Le => sym("<="),
            Tok::Gt => sym(">"),
            Tok::Ge => sym(">="),
            Tok::End => "the end of the formula".to_string(),
        }
    }
}

pub(super) fn lex(src: &str) -> Result<Vec<Token>, CoreError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = at(i + 1);
        let (tok, len) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '.' => (Tok::Dot, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '*' => (Tok::Star, 1),
            '/' => (Tok::Slash, 1),
            '&' if next == Some('&') => (Tok::AndAnd, 2),
            '&' => (Tok::Amp, 1),
            '|' if next == Some('|') => (Tok::OrOr, 2),
            '!' if next == Some('=') => (Tok::Ne, 2),
            '!' => (Tok::Bang, 1),
            '=' if next == Some('=') => (Tok::Eq, 2),
            '=' => (Tok::Eq, 1),
            '<' if next == Some('=') => (Tok::Le, 2),
            '<' if next == Some('>') => (Tok::Ne, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match at(j) {
                        None => return Err(invalid(pos, "text is missing its closing `\"`")),
                        Some('"') => break,
                        Some('\\') => {
                            let escaped = match at(j + 1) {
                                Some('"') => '"',
                                Some('\\') => '\\',
                                Some('n') => '\n',
                                Some('t') => '\t',
                                other => {
                                    let shown = other.map_or("end".to_string(), |c| c.to_string());
                                    return Err(invalid(
                                        j + 1,
                                        format!(
                                            "unknown escape `\\{shown}` (use \\\" \\\\ \\n or \\t)"
                                        ),
                                    ));
                                }
                            };
                            text.push(escaped);
                            j += 2;
                        }
                        Some(ch) => {
                            text.push(ch);
                            j += 1;
                        }
                    }
                }
                (Tok::Str(text), j + 1 - i)
            }
            c if c.is_ascii_digit() => {
                let mut j = i;
                while at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                // i..j lies within chars (j stops at its end), so the slice is always there.
                let int_part: String = chars.get(i..j).unwrap_or_default().iter().collect();
                let mut frac_part = String::new();
                if at(j) == Some('.') && at(j + 1).is_some_and(|c| c.is_ascii_digit()) {
                    let start = j + 1;
                    j = start;
                    while at(j).is_some_and(|c| c.is_ascii_digit()) {
                        j += 1;
                    }
                    // start..j lies within chars, as above.
                    frac_part = chars.get(start..j).unwrap_or_default().iter().collect();
                }
                if at(j).is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    return Err(invalid(j + 1, "malformed number"));
                }
                (Tok::Num(parse_number(&int_part, &frac_part, pos)?), j - i)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i;
                while at(j).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    j += 1;
                }
                // i..j lies within chars, as above.
                let name: String = chars.get(i..j).unwrap_or_default().iter().collect();
                (Tok::Ident(name), j - i)
            }
            other => {
                return Err(invalid(pos, format!("unexpected character {other:?}")));
            }
        };
        tokens.push(Token { tok, pos });
        i += len;
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: chars.len() + 1,
    });
    Ok(tokens)
}

/// Reads `int.frac` into internal units, refusing more fraction digits than the internal scale.
fn parse_number(int_part: &str, frac_part: &str, pos: usize) -> Result<i128, CoreError> {
    let frac = frac_part.trim_end_matches('0');
    if frac.len() > SCALE_DIGITS as usize {
        return Err(invalid(
            pos,
            format!("number has more than {SCALE_DIGITS} digits after the point"),
        ));
    }
    let too_large = || invalid(pos, "number is too large");
    let mut whole: i128 = 0;
    for d in int_part.bytes() {
        whole = whole
            .checked_mul(10)
            .and_then(|w| w.checked_add(i128::from(d - b'0')))
            .ok_or_else(too_large)?;
    }
    let mut units = whole.checked_mul(ONE).ok_or_else(too_large)?;
    let mut place = ONE;
    for d in frac.bytes() {
        place /= 10;
        units = units
            .checked_add(i128::from(d - b'0') * place)
            .ok_or_else(too_large)?;
    }
    Ok(units)
}
