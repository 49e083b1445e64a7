//! What an uploaded file is: its picture type judged by content (never by its name or the
//! type the browser claims), and the name and type kept for it.

/// The longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// The type of a PNG, JPEG, GIF or WebP picture, read from its first bytes.
pub fn sniff_image(content: &[u8]) -> Option<&'static str> {
    if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if content.starts_with(b"GIF87a") || content.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if content.len() >= 12 && &content[..4] == b"RIFF" && &content[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The file's own name without any folder, control characters or surrounding blanks, at most
/// [`MAX_FILE_NAME_CHARS`] characters (the end, with its extension, is kept); `file` if
/// nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base.chars().filter(|c| !c.is_control()).collect();
    let kept = kept.trim();
    let count = kept.chars().count();
    let kept: String = kept
        .chars()
        .skip(count.saturating_sub(MAX_FILE_NAME_CHARS))
        .collect();
    if kept.is_empty() || kept == "." || kept == ".." {
        "file".to_string()
    } else {
        kept
    }
}

/// The type a file is served with: a picture's sniffed type, else the claimed type when it is
/// a plain `type/subtype`, else `application/octet-stream`.
pub fn content_type(content: &[u8], claimed: Option<&str>) -> String {
    if let Some(image) = sniff_image(content) {
        return image.to_string();
    }
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match claimed
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .as_deref()
        .and_then(|c| c.split_once('/'))
    {
        // A picture the content does not bear out is not served as one.
        Some((kind, sub)) if token(kind) && token(sub) && kind != "image" => {
            format!("{kind}/{sub}")
        }
        _ => "application/octet-stream".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_known_by_content() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff_image(b""), None);
    }

    #[test]
    fn types_and_names_are_kept_safe() {
        assert_eq!(
            content_type(b"<html>", Some("image/png")),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(b"%PDF-1.7", Some("application/pdf; x=y")),
            "application/pdf"
        );
        assert_eq!(
            content_type(b"x", Some("text/html\r\nX-Evil: 1")),
            "application/octet-stream"
        );
        assert_eq!(content_type(b"x", None), "application/octet-stream");
        assert_eq!(
            content_type(b"\x89PNG\r\n\x1a\n", Some("text/plain")),
            "image/png"
        );
        assert_eq!(clean_file_name("C:\\Users\\me\\合同.pdf"), "合同.pdf");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name(" a\u{0}b\n.txt "), "ab.txt");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name(""), "file");
        let long = format!("{}.pdf", "长".repeat(300));
        let kept = clean_file_name(&long);
        assert_eq!(kept.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(kept.ends_with(".pdf"));
    }
}
