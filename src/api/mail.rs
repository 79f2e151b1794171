//! Outgoing mail: new and reset passwords go to the account's email when `[smtp]` is
//! configured (otherwise the API shows them once to the administrator).

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::error::ApiError;

/// How to reach the mail server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port (default 587).
    #[serde(default = "default_port")]
    pub port: u16,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (a relay on loopback).
    #[serde(default = "default_security")]
    pub security: String,
    /// Login, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, e.g. `helpline <desk@example.com>`.
    pub from: String,
}

fn default_port() -> u16 {
    587
}

fn default_security() -> String {
    "starttls".to_owned()
}

impl SmtpConfig {
    /// Checks what the server cannot: the sender parses, the security mode exists.
    pub fn validate(&self) -> Result<(), ApiError> {
        self.from
            .parse::<Mailbox>()
            .map_err(|e| ApiError::invalid("smtp.from", e.to_string()))?;
        if !matches!(self.security.as_str(), "starttls" | "tls" | "none") {
            return Err(ApiError::invalid(
                "smtp.security",
                "must be starttls, tls or none",
            ));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(ApiError::invalid(
                "smtp.password",
                "username and password come together",
            ));
        }
        if self.security == "none" && self.username.is_some() && !is_loopback(&self.host) {
            // The login would cross the network in clear text.
            return Err(ApiError::invalid(
                "smtp.security",
                "none sends the username and password in clear text: use starttls or tls \
                 for a server that is not on loopback",
            ));
        }
        Ok(())
    }
}

/// Whether `host` is this machine: `localhost` or a loopback address.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Sends mail through the configured server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `config` (connections are made per message).
    pub fn new(config: &SmtpConfig) -> Result<Self, ApiError> {
        config.validate()?;
        let builder = match config.security.as_str() {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host),
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host),
            _ => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                &config.host,
            )),
        }
        .map_err(|e| ApiError::invalid("smtp.host", e.to_string()))?;
        let mut builder = builder.port(config.port);
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: config
                .from
                .parse()
                .map_err(|_| ApiError::invalid("smtp.from", "not a mailbox"))?,
        })
    }

    /// Sends a new password to an account.
    pub async fn send_password(
        &self,
        to: &str,
        name: &str,
        password: &str,
        login_url: &str,
    ) -> Result<(), ApiError> {
        let to: Mailbox = format!("{name} <{to}>")
            .parse()
            .or_else(|_| to.parse())
            .map_err(|_| ApiError::invalid("email", "cannot be mailed to"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject("Your helpline password")
            .body(format!(
                "Hello {name},\n\nyour helpline password is: {password}\n\nSign in at {login_url} \
                 and choose a new password when asked.\n"
            ))
            .map_err(|e| ApiError::Unavailable(format!("cannot build the email: {e}")))?;
        self.transport.send(message).await.map_err(|e| {
            ApiError::Unavailable(format!("the mail server refused the email: {e}"))
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, security: &str, login: bool) -> SmtpConfig {
        SmtpConfig {
            host: host.to_owned(),
            port: 25,
            security: security.to_owned(),
            username: login.then(|| "desk".to_owned()),
            password: login.then(|| "secret".to_owned()),
            from: "helpline <desk@example.com>".to_owned(),
        }
    }

    #[test]
    fn a_login_in_clear_text_is_refused_beyond_loopback() {
        let e = config("mail.example.com", "none", true)
            .validate()
            .unwrap_err();
        assert!(
            matches!(&e, ApiError::Invalid { field, .. } if field == "smtp.security"),
            "{e}"
        );
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            config(host, "none", true).validate().unwrap();
        }
        config("mail.example.com", "none", false)
            .validate()
            .unwrap();
        config("mail.example.com", "starttls", true)
            .validate()
            .unwrap();
    }
}
