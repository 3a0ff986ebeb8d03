//! [`ImapSource`]: the mailbox URL, parsed at the edge, and folder-name encoding.

use std::fmt;
use std::path::PathBuf;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `imaps://`: TLS from the first byte (port 993).
    Tls,
    /// `imap://`: plain connect, then STARTTLS, which must be offered (port 143).
    StartTls,
    /// `imap://…?tls=none`: no encryption at all. Only for loopback tests.
    None,
}

/// Which mails count as new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchMode {
    /// Unread mails not yet taken (the default): a mail someone already read in a mail
    /// client before kefu polled is left alone.
    Unseen,
    /// Every mail not yet taken, read or not (`?fetch=all`). Needs keyword support or a
    /// `processed` folder, otherwise it falls back to `Unseen`.
    All,
}

/// One mailbox to poll, parsed from
/// `imaps://user:pass@host[:port][/folder][?processed=Folder&fetch=all&ca=/path.pem]`.
///
/// `imap://` means STARTTLS (required) unless `tls=none`. User, password and folders are
/// percent-decoded; a user name may contain a literal `@` (the last `@` ends it). The
/// folder defaults to `INBOX`. `ca` adds a PEM file of extra trusted roots (self-signed
/// servers, tests) to the webpki roots.
#[derive(Clone, PartialEq, Eq)]
pub struct ImapSource {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// Only LOGIN sees it; `Debug` and `Display` leave it out.
    pub(super) password: String,
    pub folder: String,
    pub processed: Option<String>,
    pub fetch: FetchMode,
    pub ca_file: Option<PathBuf>,
}

impl ImapSource {
    pub fn parse(url: &str) -> Result<ImapSource, String> {
        let url = url.trim();
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "an IMAP URL starts with imaps:// or imap://".to_string())?;
        let mut security = match scheme.to_ascii_lowercase().as_str() {
            "imaps" => Security::Tls,
            "imap" => Security::StartTls,
            other => return Err(format!("unsupported scheme {other:?}: use imaps or imap")),
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (rest, query) = match rest.split_once('?') {
            Some((rest, query)) => (rest, Some(query)),
            None => (rest, None),
        };
        // The user name may hold a literal `@`, so the host starts after the last one.
        let (userinfo, host_path) = rest
            .rsplit_once('@')
            .ok_or_else(|| "the URL needs user:password@ before the host".to_string())?;
        let (hostport, path) = match host_path.split_once('/') {
            Some((hostport, path)) => (hostport, path),
            None => (host_path, ""),
        };
        let (user, pass) = userinfo
            .split_once(':')
            .ok_or_else(|| "the URL needs a password (user:password@host)".to_string())?;
        let username = percent_decode(user)?;
        let password = percent_decode(pass)?;
        if username.is_empty() {
            return Err("the user name is empty".into());
        }

        let (host, port) = split_host_port(hostport)?;
        let folder = match percent_decode(path.trim_end_matches('/'))? {
            f if f.is_empty() => "INBOX".to_string(),
            f => f,
        };

        let mut processed = None;
        let mut fetch = FetchMode::Unseen;
        let mut ca_file = None;
        let mut explicit_port = port;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value)?;
            match key {
                "processed" if !value.is_empty() => processed = Some(value),
                "processed" => {}
                "fetch" => {
                    fetch = match value.as_str() {
                        "unseen" => FetchMode::Unseen,
                        "all" => FetchMode::All,
                        other => return Err(format!("fetch={other:?}: use unseen or all")),
                    }
                }
                "tls" => match (value.as_str(), security) {
                    ("none", Security::StartTls) => security = Security::None,
                    ("starttls", Security::StartTls) => {}
                    ("none", Security::Tls) => {
                        return Err("tls=none needs imap://, not imaps://".into());
                    }
                    (other, _) => return Err(format!("tls={other:?}: only tls=none exists")),
                },
                "ca" if !value.is_empty() => ca_file = Some(PathBuf::from(value)),
                "port" => {
                    explicit_port = Some(value.parse().map_err(|_| "bad port".to_string())?);
                }
                other => return Err(format!("unknown parameter {other:?}")),
            }
        }
        if security == Security::None && !is_loopback(&host) {
            return Err("tls=none is only allowed for loopback hosts (tests)".into());
        }
        let port = explicit_port.unwrap_or(match security {
            Security::Tls => 993,
            Security::StartTls | Security::None => 143,
        });
        Ok(ImapSource {
            host,
            port,
            security,
            username,
            password,
            folder,
            processed,
            fetch,
            ca_file,
        })
    }
}

impl fmt::Debug for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapSource")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("folder", &self.folder)
            .field("processed", &self.processed)
            .field("fetch", &self.fetch)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// `imaps://user@host:993/INBOX`, without the password.
impl fmt::Display for ImapSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::Tls => "imaps",
            Security::StartTls | Security::None => "imap",
        };
        write!(
            f,
            "{scheme}://{}@{}:{}/{}",
            self.username, self.host, self.port, self.folder
        )
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = |p: &str| format!("bad port {p:?}");
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| "unclosed [ in host".to_string())?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p.parse::<u16>().map_err(|_| bad_port(p))?)),
            None if after.is_empty() => (host, None),
            None => return Err(format!("unexpected {after:?} after host")),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((host, p)) => (host, Some(p.parse::<u16>().map_err(|_| bad_port(p))?)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    Ok((host.to_string(), port))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "bad percent-encoding in the URL".to_string())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoding in the URL is not UTF-8".to_string())
}

/// RFC 3501 §5.1.3 modified UTF-7, for folder names such as `已处理`.
pub(super) fn encode_mailbox_name(name: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
    fn flush(out: &mut String, pending: &mut Vec<u16>) {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    }
    let mut out = String::with_capacity(name.len());
    let mut pending = Vec::new();
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut out, &mut pending);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut out, &mut pending);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_url_is_parsed_and_percent_decoded() {
        let src = ImapSource::parse(
            "imaps://support%40acme.example:p%40ss%2Fw@imap.acme.example:1993/Support%20Box?processed=Done",
        )
        .unwrap();
        assert_eq!(src.username, "support@acme.example");
        assert_eq!(src.password, "p@ss/w");
        assert_eq!(src.host, "imap.acme.example");
        assert_eq!(src.port, 1993);
        assert_eq!(src.folder, "Support Box");
        assert_eq!(src.processed.as_deref(), Some("Done"));
        assert_eq!(src.security, Security::Tls);
    }

    #[test]
    fn defaults_are_inbox_and_the_standard_ports() {
        let src = ImapSource::parse("imap://u@acme.example:pw@[::1]").unwrap();
        assert_eq!(src.username, "u@acme.example");
        assert_eq!(src.host, "::1");
        assert_eq!(src.port, 143);
        assert_eq!(src.folder, "INBOX");
        assert_eq!(src.security, Security::StartTls);
        let src = ImapSource::parse("imaps://u:pw@h").unwrap();
        assert_eq!(src.port, 993);
        let src = ImapSource::parse("imap://u:pw@127.0.0.1:1143?tls=none").unwrap();
        assert_eq!(src.security, Security::None);
        assert!(ImapSource::parse("imaps://u:pw@h?tls=none").is_err());
        assert!(ImapSource::parse("imap://u:pw@imap.example.com?tls=none").is_err());
        assert!(ImapSource::parse("pop3://u:pw@h").is_err());
        assert!(ImapSource::parse("imaps://h").is_err());
        assert!(ImapSource::parse("imaps://u:pw@h?bogus=1").is_err());
    }

    #[test]
    fn the_password_never_shows() {
        let src = ImapSource::parse("imaps://u:hunter2@h").unwrap();
        assert!(!format!("{src:?}").contains("hunter2"));
        assert!(!src.to_string().contains("hunter2"));
    }

    #[test]
    fn folder_names_use_modified_utf7() {
        assert_eq!(encode_mailbox_name("INBOX"), "INBOX");
        assert_eq!(encode_mailbox_name("A&B"), "A&-B");
        assert_eq!(encode_mailbox_name("已处理"), "&XfJZBHQG-");
        assert_eq!(
            encode_mailbox_name("~peter/mail/台北/日本語"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
        );
    }
}
