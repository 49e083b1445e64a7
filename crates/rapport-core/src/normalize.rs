//! The one normaliser of each kind of contact point — email address, phone number, web URL —
//! used by record fields, user accounts, CDP identities, event-schema formats and webhook
//! targets alike, so that what one part of Rapport accepts no other part refuses.
//!
//! Decisions (docs/API.md repeats them for clients):
//! - **Email**: a mailbox as people and mail systems really use it (RFC 5321's dot-atom form,
//!   with RFC 6531's non-ASCII letters): one `@`; a local part of ASCII `atext` or letters and
//!   digits beyond ASCII, dots only between characters, at most 64 bytes; a domain of two or more
//!   labels (letters, digits, inner hyphens; at most 63 characters each, 253 in all) whose last
//!   label is not all digits. Refused: quoted local parts and address literals (`"a b"@x.cn`,
//!   `a@[127.0.0.1]`: legal but used for abuse rather than mail), fullwidth and halfwidth forms
//!   (`ａ＠ｂ．ｃｎ` looks like ASCII and is a spoofing vector), and the special-use top-level
//!   domains that can never receive mail (`.invalid`, `.localhost`; RFC 6761). The stored form is
//!   trimmed with ASCII letters lower-cased; other letters are kept as written, so no two
//!   different addresses fold into one.
//! - **Phone**: parsed with libphonenumber's metadata (the `phonenumber` crate) and stored in
//!   E.164. A number written with its country code (`+…`) is read as such; only a number written
//!   without one is read in the field's default region (CN unless set).
//! - **URL**: an absolute `http` or `https` URL with a host and no credentials, at most 2,000
//!   characters, checked by the WHATWG URL parser (the `url` crate); it is kept as written
//!   (trimmed), since a URL's text is what people paste and recognise.

/// Longest URL accepted anywhere (browsers and proxies commonly cap near this).
pub const MAX_URL_CHARS: usize = 2000;

/// Top-level domains that can never receive mail (RFC 6761 §6.4, §6.3).
const NO_MAIL_TLDS: [&str; 2] = ["invalid", "localhost"];

/// An email address in its one stored form, or None when it is not an address Rapport accepts.
pub fn email(text: &str) -> Option<String> {
    let text = text.trim();
    let (local, domain) = text.split_once('@')?;
    (valid_local(local) && valid_domain(domain)).then(|| text.to_ascii_lowercase())
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || "!#$%&'*+-/=?^_`{|}~.".contains(c)
                || (!c.is_ascii() && c.is_alphanumeric() && !is_width_form(c))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let Some(top) = labels.last() else {
        return false;
    };
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || c == '-'
                        || (!c.is_ascii() && c.is_alphanumeric() && !is_width_form(c))
                })
        })
        && !top.chars().all(|c| c.is_ascii_digit())
        && !NO_MAIL_TLDS.contains(&top.to_ascii_lowercase().as_str())
}

/// Unicode's Halfwidth and Fullwidth Forms block: lookalikes of ASCII and of Katakana/Hangul.
fn is_width_form(c: char) -> bool {
    ('\u{FF00}'..='\u{FFEF}').contains(&c)
}

/// A phone number in E.164, reading a number written without a country code in
/// `default_region` (an ISO 3166 code; CN when None); None when it is not a valid number.
pub fn phone(text: &str, default_region: Option<&str>) -> Option<String> {
    let text = text.trim();
    // With a country code the region must not take part: the parser would otherwise strip the
    // default region's national prefixes from the foreign number (+33 1 23… lost its "12345"
    // to China's carrier-prefix rule).
    let region = if text.starts_with('+') || text.starts_with('＋') {
        None
    } else {
        Some(default_region.unwrap_or("CN").to_string())
    };
    let id = match &region {
        // An unknown default region makes a local number unreadable: not a phone number.
        Some(code) => Some(code.parse::<phonenumber::country::Id>().ok()?),
        None => None,
    };
    let first = phonenumber::parse(id, text).ok();
    match first {
        Some(number) if phonenumber::is_valid(&number) => {
            Some(number.format().mode(phonenumber::Mode::E164).to_string())
        }
        first => by_metadata(text, region.as_deref(), first),
    }
}

/// Checks the digits against libphonenumber's metadata directly. The Rust port of the parser
/// strips a leading national prefix from digits that start with it even when what is left is no
/// valid number (Russia's toll-free +7 800… loses its 8; the reference implementation keeps the
/// digits then), and reads a leading country code into a number written at home (Rwanda's
/// 250 123 456). Here the national number is the digits after the country code (written with
/// one) or the digits with the region's national prefix taken off or not (written without);
/// it is valid when a number type of a region of that country code matches it.
fn by_metadata(
    text: &str,
    region: Option<&str>,
    first: Option<phonenumber::PhoneNumber>,
) -> Option<String> {
    let database = &*phonenumber::metadata::DATABASE;
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let (code, candidates) = match region {
        None => {
            let code = first?.code().value();
            let national = digits.strip_prefix(&code.to_string())?.to_string();
            (code, vec![national])
        }
        Some(region) => {
            let metadata = database.by_id(region)?;
            let mut candidates = Vec::new();
            if let Some(rest) = metadata
                .national_prefix()
                .and_then(|prefix| digits.strip_prefix(prefix))
            {
                candidates.push(rest.to_string());
            }
            candidates.push(digits);
            (metadata.country_code(), candidates)
        }
    };
    let regions = database.by_code(&code)?;
    candidates.into_iter().find_map(|national| {
        regions
            .iter()
            .filter(|metadata| region.is_none_or(|r| r == metadata.id()))
            .any(|metadata| {
                metadata.descriptors().general().is_match(&national)
                    && number_kinds(metadata).any(|kind| kind.is_match(&national))
            })
            .then(|| format!("+{code}{national}"))
    })
}

/// The number types a region's metadata describes (fixed line, mobile, toll free, …).
pub fn number_kinds(
    metadata: &phonenumber::Metadata,
) -> impl Iterator<Item = &phonenumber::metadata::Descriptor> {
    let d = metadata.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// A web URL as it is kept (trimmed), or why it is not one.
pub fn url(text: &str) -> Result<String, UrlProblem> {
    let text = text.trim();
    if text.chars().count() > MAX_URL_CHARS {
        return Err(UrlProblem::TooLong);
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlProblem::NotAUrl);
    }
    let parsed = url::Url::parse(text).map_err(|_| UrlProblem::NotAUrl)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlProblem::NotHttp);
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UrlProblem::NoHost);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    Ok(text.to_string())
}

/// Why a text is not a web URL Rapport accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    TooLong,
    NotAUrl,
    NotHttp,
    NoHost,
    Credentials,
}

impl std::fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UrlProblem::TooLong => "is longer than 2000 characters",
            UrlProblem::NotAUrl => "is not a URL",
            UrlProblem::NotHttp => "must start with http:// or https://",
            UrlProblem::NoHost => "has no host",
            UrlProblem::Credentials => "must not carry a user name or password",
        })
    }
}
