//! Email over SMTP (`lettre`): STARTTLS (port 587), implicit TLS (465) or plain on a trusted
//! network, with login when a username is set. Every email goes to one recipient (each gets
//! their own unsubscribe link; nobody sees the others' addresses), as multipart text + HTML.
//! Addresses that unsubscribed are skipped unless the message is transactional.

use super::send::{Failed, Outcome, Prepared, Sent};
use super::{render, unsubscribe, Opened};
use lettre::message::{header, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rapport_store::Store;

/// An address as a mailbox (`name <a@b.cn>` or `a@b.cn`).
pub fn mailbox(text: &str) -> Result<Mailbox, String> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|e| format!("{text:?}: {e}"))
}

/// The email's HTML part: the text escaped, its lines kept, and the unsubscribe link.
fn html_body(text: &str, unsubscribe: Option<&str>, locale_zh: bool) -> String {
    let mut html = String::from(
        "<!doctype html><html><body><div style=\"font-family:sans-serif;line-height:1.6\">",
    );
    for paragraph in text.split("\n\n") {
        html.push_str("<p>");
        html.push_str(&render::html(paragraph).replace('\n', "<br>"));
        html.push_str("</p>");
    }
    if let Some(link) = unsubscribe {
        let label = if locale_zh {
            "退订此类邮件"
        } else {
            "Unsubscribe"
        };
        html.push_str(&format!(
            "<p style=\"color:#888;font-size:12px\"><a href=\"{}\">{label}</a></p>",
            render::html(link)
        ));
    }
    html.push_str("</div></body></html>");
    html
}

fn text_body(text: &str, unsubscribe: Option<&str>, locale_zh: bool) -> String {
    match unsubscribe {
        Some(link) => {
            let label = if locale_zh { "退订" } else { "Unsubscribe" };
            format!("{text}\n\n--\n{label}: {link}\n")
        }
        None => text.to_string(),
    }
}

fn transport(
    connector: &Opened,
    host: &str,
    port: u16,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, Failed> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_string())
            .map_err(|e| Failed::permanent(format!("TLS settings: {e}")))
    };
    let security = match connector.setting("security").as_str() {
        "tls" => Tls::Wrapper(tls(host)?),
        "none" => Tls::None,
        _ => Tls::Required(tls(host)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .tls(security)
        .timeout(Some(super::send::TIMEOUT));
    let username = connector.setting("username");
    if !username.is_empty() {
        builder = builder.credentials(Credentials::new(username, connector.secret("password")));
    }
    Ok(builder.build())
}

/// The SMTP host may be reached under the outbound policy (no intranet address unless the
/// operator allowed it).
async fn check_host(store: &Store, host: &str, port: u16) -> Result<(), Failed> {
    let by_name = store.outbound().host_allowed(host);
    let addresses: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Failed {
            transient: true,
            reason: format!("{host}: {e}"),
            ..Default::default()
        })?
        .collect();
    // lettre connects to any of the addresses: each must be allowed.
    if !by_name
        && (addresses.is_empty() || !addresses.iter().all(|a| store.outbound().allows(a.ip())))
    {
        return Err(Failed::permanent(format!(
            "{host} resolves to no address outbound calls may reach"
        )));
    }
    Ok(())
}

pub async fn send(store: &Store, connector: &Opened, message: &Prepared) -> Outcome {
    let host = connector.setting("host");
    let port: u16 = connector
        .setting("port")
        .parse()
        .map_err(|_| Failed::permanent("the port is not a number"))?;
    check_host(store, &host, port).await?;
    let from = {
        let address = connector.setting("from_address");
        let name = connector.setting("from_name");
        let text = if name.is_empty() {
            address
        } else {
            format!("{name} <{address}>")
        };
        mailbox(&text).map_err(Failed::permanent)?
    };
    let reply_to = connector.setting("reply_to");
    let public_url = connector.setting("public_url");
    let locale_zh = !message.vars.get("locale").is_some_and(|l| l == "en");
    let mailer = transport(connector, &host, port)?;
    let mut shown = Vec::new();
    let mut skipped = Vec::new();
    for recipient in &message.to {
        let to = mailbox(recipient).map_err(Failed::permanent)?;
        let address = to.email.to_string();
        if !message.transactional
            && unsubscribe::is_unsubscribed(store, &connector.workspace_id, &address)
                .await
                .map_err(|e| Failed {
                    transient: true,
                    reason: e.to_string(),
                    ..Default::default()
                })?
        {
            skipped.push(address);
            continue;
        }
        let link = (!message.transactional && !public_url.is_empty())
            .then(|| unsubscribe::link(store, &public_url, &connector.workspace_id, &address));
        let mut email = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(message.subject.clone());
        if !reply_to.is_empty() {
            email = email.reply_to(mailbox(&reply_to).map_err(Failed::permanent)?);
        }
        if let Some(link) = &link {
            email = email
                .header(ListUnsubscribe(format!("<{link}>")))
                .header(ListUnsubscribePost);
        }
        let body = MultiPart::alternative()
            .singlepart(
                SinglePart::builder()
                    .header(header::ContentType::TEXT_PLAIN)
                    .body(text_body(&message.text, link.as_deref(), locale_zh)),
            )
            .singlepart(
                SinglePart::builder()
                    .header(header::ContentType::TEXT_HTML)
                    .body(html_body(&message.text, link.as_deref(), locale_zh)),
            );
        let email = email
            .multipart(body)
            .map_err(|e| Failed::permanent(format!("the email: {e}")))?;
        let request = format!(
            "SMTP {host}:{port} MAIL FROM {} RCPT TO {address}",
            from.email
        );
        match mailer.send(email).await {
            Ok(response) => shown.push(format!(
                "{request} → {} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => {
                return Err(Failed {
                    refused: false,
                    transient: !e.is_permanent(),
                    reason: format!("SMTP: {e}"),
                    request,
                    status: e.status().map(|c| i64::from(u16::from(c))),
                    response: shown.join("\n"),
                })
            }
        }
    }
    if shown.is_empty() && !skipped.is_empty() {
        return Err(Failed::permanent(format!(
            "every recipient unsubscribed: {}",
            skipped.join(", ")
        )));
    }
    let mut response = shown.join("\n");
    if !skipped.is_empty() {
        response.push_str(&format!("\nskipped (unsubscribed): {}", skipped.join(", ")));
    }
    Ok(Sent {
        request: format!("SMTP {host}:{port}, {} email(s)", shown.len()),
        status: Some(250),
        response,
        answer: None,
    })
}

/// `List-Unsubscribe` (RFC 2369): where a mail client's own unsubscribe button goes.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post` (RFC 8058): the link unsubscribes with one POST, no page to click.
#[derive(Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}
