//! The contact-point normalisers against corpora of cases: email addresses from the RFCs
//! (5321, 5322, 6531, 6761) and the tricks seen in real sign-up forms; every example number of
//! libphonenumber's published metadata (the copy the `phonenumber` crate embeds), written three
//! ways; and web URLs.

use rapport_core::normalize::{email, number_kinds, phone, url, UrlProblem};

#[test]
fn valid_emails_are_kept_with_ascii_letters_lower_cased() {
    let cases = [
        ("wang.wei@example.cn", "wang.wei@example.cn"),
        (" Wang.Wei@Example.CN ", "wang.wei@example.cn"),
        ("li.na+crm@corp.example", "li.na+crm@corp.example"),
        ("o'brien@mail.ie", "o'brien@mail.ie"),
        (
            "user_name-1@sub.domain.co.uk",
            "user_name-1@sub.domain.co.uk",
        ),
        (
            "!#$%&'*+-/=?^_`{|}~@example.org",
            "!#$%&'*+-/=?^_`{|}~@example.org",
        ),
        ("a@b.cn", "a@b.cn"),
        ("x@example.xn--fiqs8s", "x@example.xn--fiqs8s"),
        ("1234567890@163.com", "1234567890@163.com"),
        ("admin@rapport.local", "admin@rapport.local"),
        ("alice@corp.test", "alice@corp.test"),
        // RFC 6531: letters beyond ASCII, kept as written (no Unicode case folding).
        ("用户@例子.中国", "用户@例子.中国"),
        ("Δοκιμή@Παράδειγμα.ΕΛ", "Δοκιμή@Παράδειγμα.ΕΛ"),
        ("José@Example.ES", "josé@example.es"),
        ("i@xn--80ak6aa92e.com", "i@xn--80ak6aa92e.com"),
    ];
    for (input, stored) in cases {
        assert_eq!(email(input).as_deref(), Some(stored), "{input:?}");
    }
    let longest_local = format!("{}@example.com", "a".repeat(64));
    assert!(email(&longest_local).is_some());
    let longest_label = format!("a@{}.com", "b".repeat(63));
    assert!(email(&longest_label).is_some());
}

#[test]
fn invalid_emails_are_refused() {
    let cases = [
        "",
        "   ",
        "plainaddress",
        "@example.com",
        "wang@",
        "li@@example.com",
        "a@b@example.com",
        "wang wei@example.com",
        "wang@exam ple.com",
        "wang\t@example.com",
        "wang\n@example.com",
        "wang\u{0}@example.com",
        ".wang@example.com",
        "wang.@example.com",
        "wang..wei@example.com",
        "wang@example",
        "wang@.example.com",
        "wang@example.com.",
        "wang@example..com",
        "wang@-example.com",
        "wang@example-.com",
        "wang@exa_mple.com",
        "wang@example.123",
        "wang@127.0.0.1",
        "wang@[127.0.0.1]",
        "wang@[IPv6:2001:db8::1]",
        // Quoted local parts, well formed or not.
        "\"wang wei\"@example.com",
        "\"wang\"@example.com",
        "\"wang\"wei@example.com",
        "wang\"wei@example.com",
        "\"wang@example.com",
        "wang\\@wei@example.com",
        "(comment)wang@example.com",
        "wang(comment)@example.com",
        "<wang@example.com>",
        "Wang Wei <wang@example.com>",
        "wang@example.com,li@example.com",
        "wang;li@example.com",
        "wang:li@example.com",
        "wang[li]@example.com",
        // Fullwidth lookalikes (a Chinese input method's default punctuation).
        "wang＠example.com",
        "wang@example．com",
        "ｗａｎｇ@example.com",
        "wang@ｅｘａｍｐｌｅ.com",
        "wang。wei@example.com",
        // Special-use domains that never receive mail (RFC 6761).
        "wang@example.invalid",
        "wang@foo.INVALID",
        "wang@app.localhost",
        "wang@localhost",
        // Lengths.
        &format!("{}@example.com", "a".repeat(65)),
        &format!("a@{}.com", "b".repeat(64)),
        &format!("a@{}.com", ["c"; 130].join(".")),
    ];
    for input in cases {
        assert_eq!(email(input), None, "{input:?} was accepted");
    }
}

/// Every example number libphonenumber publishes, for every region and number type.
fn example_numbers() -> Vec<(String, u16, String)> {
    let mut numbers = Vec::new();
    for metadata in phonenumber::metadata::DATABASE.iter() {
        for example in number_kinds(metadata).filter_map(|k| k.example()) {
            numbers.push((
                metadata.id().to_string(),
                metadata.country_code(),
                example.to_string(),
            ));
        }
    }
    numbers
}

#[test]
fn every_published_example_number_is_accepted_in_every_writing() {
    let numbers = example_numbers();
    assert!(
        numbers.len() > 1_000,
        "only {} example numbers",
        numbers.len()
    );
    let mut refused = Vec::new();
    let mut misread = 0;
    for (region, code, national) in &numbers {
        let e164 = format!("+{code}{national}");
        let parsed = match phonenumber::parse(None, &e164) {
            Ok(n) => n,
            Err(e) => {
                refused.push(format!("{region} {e164}: the library cannot read it ({e})"));
                continue;
            }
        };
        // Where the library misreads the number itself (it strips Russia's 8 from +7 800…),
        // its own formatting is no writing of the number: only the plain writings are tried.
        let formatted = phonenumber::is_valid(&parsed);
        misread += usize::from(!formatted);
        let international = parsed
            .format()
            .mode(phonenumber::Mode::International)
            .to_string();
        let national_written = parsed
            .format()
            .mode(phonenumber::Mode::National)
            .to_string();
        // Written with the country code, read in a default region of another country.
        let mut writings = vec![
            (format!("+{code} {national}"), None),
            (e164.clone(), Some("US")),
        ];
        if formatted {
            writings.push((international.clone(), Some("CN")));
            writings.push((format!("  {international}  "), None));
        }
        for (writing, default_region) in writings {
            if phone(&writing, default_region).as_deref() != Some(e164.as_str()) {
                refused.push(format!("{region} {writing:?} (default {default_region:?})"));
            }
        }
        // Written as at home (the national prefix, if the country has one, then the number),
        // read in its own region. Regions sharing a calling code (001 for global services)
        // have no home.
        if region.len() == 2 {
            let prefix = phonenumber::metadata::DATABASE
                .by_id(region.as_str())
                .and_then(|m| m.national_prefix())
                .unwrap_or("");
            let mut writings = vec![format!("{prefix}{national}")];
            if formatted {
                writings.push(national_written);
            }
            for writing in writings {
                if phone(&writing, Some(region)).as_deref() != Some(&e164) {
                    refused.push(format!("{region} {writing:?} (at home)"));
                }
            }
        }
    }
    assert!(
        misread <= 10,
        "the library misreads {misread} example numbers"
    );
    assert!(
        refused.is_empty(),
        "{} refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
}

#[test]
fn phones_reported_as_refused_before_are_accepted() {
    for (written, e164) in [
        ("+54 11 2345-6789", "+541123456789"),
        ("+43 1 234567890", "+431234567890"),
        ("+55 11 96123-4567", "+5511961234567"),
        ("+33 1 23 45 67 89", "+33123456789"),
        ("+44 121 234 5678", "+441212345678"),
        ("＋86 138 0013 8000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("010-1234 5678", "+861012345678"),
    ] {
        assert_eq!(phone(written, None).as_deref(), Some(e164), "{written}");
    }
    assert_eq!(
        phone("(415) 555-2671", Some("US")).as_deref(),
        Some("+14155552671")
    );
}

#[test]
fn invalid_phones_are_refused() {
    for (written, region) in [
        ("", None),
        ("abc", None),
        ("+86 123", None),
        ("138 0013 800", None),
        ("+1 415 555 26711111", None),
        ("+999 1234567", None),
        ("12345", Some("US")),
        ("+86 138 0013 8000", Some("not-a-region")),
        ("138 0013 8000", Some("not-a-region")),
    ] {
        let accepted = phone(written, region);
        // A number with its country code does not need the region, so a wrong region does not
        // refuse it; without one, an unknown region can read nothing.
        if written == "+86 138 0013 8000" {
            assert_eq!(accepted.as_deref(), Some("+8613800138000"));
        } else {
            assert_eq!(accepted, None, "{written:?} in {region:?}");
        }
    }
}

#[test]
fn web_urls_are_checked_and_kept_as_written() {
    for ok in [
        "https://example.com",
        "http://example.com/path?q=1#top",
        "  https://例子.中国/页面  ",
        "https://EXAMPLE.com:8443/A",
        "https://127.0.0.1:8080/hook",
        "https://[::1]/hook",
    ] {
        assert_eq!(url(ok).as_deref(), Ok(ok.trim()), "{ok}");
    }
    for (bad, problem) in [
        ("example.com", UrlProblem::NotAUrl),
        ("/relative/path", UrlProblem::NotAUrl),
        ("https://exa mple.com", UrlProblem::NotAUrl),
        ("https://example.com/\u{0}", UrlProblem::NotAUrl),
        ("https://", UrlProblem::NotAUrl),
        ("javascript:alert(1)", UrlProblem::NotHttp),
        ("ftp://example.com/file", UrlProblem::NotHttp),
        (
            "data:text/html,<script>alert(1)</script>",
            UrlProblem::NotHttp,
        ),
        ("mailto:wang@example.com", UrlProblem::NotHttp),
        ("https://user:secret@example.com/", UrlProblem::Credentials),
        ("https://user@example.com/", UrlProblem::Credentials),
    ] {
        assert_eq!(url(bad), Err(problem), "{bad}");
    }
    let long = format!("https://example.com/{}", "a".repeat(2000));
    assert_eq!(url(&long), Err(UrlProblem::TooLong));
}
