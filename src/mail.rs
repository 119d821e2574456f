//! Mail out (lettre): the reset and invitation links people are sent. `SEXTANT_MAIL` picks the
//! transport — `smtp://user:pass@host:587?tls=required` or `smtps://user:pass@host` (lettre's
//! URL form), or `file:///some/dir` (each message written there as an `.eml` file: for a demo or
//! a test, nothing leaves the machine). Unset, nothing is mailed: a link issued by an owner or an
//! admin is shown to them to pass on, and the self-service "forgot password" page says to ask
//! for one.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Off,
    Smtp(AsyncSmtpTransport<Tokio1Executor>, Mailbox),
    File(AsyncFileTransport<Tokio1Executor>, Mailbox),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mailer::Off => "Mailer::Off",
            Mailer::Smtp(..) => "Mailer::Smtp",
            Mailer::File(..) => "Mailer::File",
        })
    }
}

impl Mailer {
    /// The transport `url` names, sending as `from`; `Off` without a URL.
    pub fn from_settings(url: Option<&str>, from: &str) -> anyhow::Result<Mailer> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Mailer::Off);
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("SEXTANT_MAIL_FROM is not an address: {e}"))?;
        if let Some(dir) = url.strip_prefix("file://") {
            std::fs::create_dir_all(dir)
                .map_err(|e| anyhow::anyhow!("SEXTANT_MAIL folder {dir}: {e}"))?;
            return Ok(Mailer::File(AsyncFileTransport::new(dir), from));
        }
        let smtp = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SEXTANT_MAIL is not an smtp:// or file:// URL: {e}"))?
            .build();
        Ok(Mailer::Smtp(smtp, from))
    }

    pub fn is_on(&self) -> bool {
        !matches!(self, Mailer::Off)
    }

    /// Sends a plain-text message; false when mail is off.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> anyhow::Result<bool> {
        let to: Mailbox = to.parse()?;
        // lettre picks the transfer encoding (base64 for mostly-Chinese text).
        let message = |from: &Mailbox| {
            Message::builder()
                .from(from.clone())
                .to(to.clone())
                .subject(subject)
                .header(ContentType::TEXT_PLAIN)
                .body(body.clone())
        };
        match self {
            Mailer::Off => Ok(false),
            Mailer::Smtp(t, from) => {
                t.send(message(from)?).await?;
                Ok(true)
            }
            Mailer::File(t, from) => {
                t.send(message(from)?).await?;
                Ok(true)
            }
        }
    }
}

/// What happened to a link that was issued for someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Mailed to the person; the issuer does not see it.
    Mailed,
    /// Mail is off: the issuer passes it on.
    Show,
    /// Mail is on but sending failed: the issuer passes it on, told why.
    Failed,
}

/// Mails a set-password link (`url`, a full address) to `to` in both languages, saying how long
/// it works. Never fails: a failed send is logged and reported as `Failed`.
pub async fn deliver_link(mailer: &Mailer, to: &str, url: &str, expires: &str) -> Delivery {
    if !mailer.is_on() {
        return Delivery::Show;
    }
    let zh = crate::web::lang::Lang::ZhCn;
    let en = crate::web::lang::Lang::En;
    let subject = format!(
        "{} / {}",
        zh.t("mail.link.subject"),
        en.t("mail.link.subject")
    );
    let body = format!(
        "{}\n\n{url}\n\n{}\n\n---\n\n{}\n\n{url}\n\n{}\n",
        zh.t("mail.link.body"),
        zh.t_with("mail.link.expires", &[("expires", expires)]),
        en.t("mail.link.body"),
        en.t_with("mail.link.expires", &[("expires", expires)]),
    );
    match mailer.send(to, &subject, body).await {
        Ok(true) => Delivery::Mailed,
        Ok(false) => Delivery::Show,
        Err(e) => {
            tracing::error!(error = %e, "mailing a set-password link failed");
            Delivery::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_mailer_writes_the_link_in_both_languages_and_no_url_is_off() {
        assert!(!Mailer::from_settings(None, "x@y.invalid").unwrap().is_on());
        assert!(
            !Mailer::from_settings(Some("  "), "x@y.invalid")
                .unwrap()
                .is_on()
        );
        assert!(Mailer::from_settings(Some("ftp://nope"), "a@b.invalid").is_err());
        assert!(Mailer::from_settings(Some("file:///tmp/x"), "not an address").is_err());
        let dir = std::env::temp_dir().join(format!("sextant-mail-{}", uuid::Uuid::now_v7()));
        let mailer = Mailer::from_settings(
            Some(&format!("file://{}", dir.display())),
            "Sextant <no-reply@sextant.invalid>",
        )
        .unwrap();
        let url = "http://127.0.0.1:1/set-password/abc123";
        let sent = deliver_link(
            &mailer,
            "someone@lumi-home.example",
            url,
            "2026-12-08 10:00",
        )
        .await;
        assert_eq!(sent, Delivery::Mailed);
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(files.len(), 1);
        let raw = std::fs::read(files[0].path()).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address()),
            Some("someone@lumi-home.example")
        );
        let text = parsed.body_text(0).unwrap();
        assert!(text.contains(url), "{text}");
        assert!(text.contains("2026-12-08 10:00"), "{text}");
        assert!(
            text.contains("密码") && text.contains("password"),
            "both languages: {text}"
        );
        // A bad recipient is a failed delivery, never a panic.
        assert_eq!(
            deliver_link(&mailer, "not an address", url, "x").await,
            Delivery::Failed
        );
        std::fs::remove_dir_all(dir).ok();
    }
}
