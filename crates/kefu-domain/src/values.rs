//! Validated values: parse at the edge, then trust the type.

use crate::DomainError;

/// A syntactically plausible, lowercased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, DomainError> {
        let s = s.trim();
        let bad = |r: &str| Err(DomainError::invalid("email", r.to_string()));
        if s.is_empty() {
            return bad("is required");
        }
        if s.len() > 254 {
            return bad("is longer than 254 characters");
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return bad("must contain @");
        };
        if local.is_empty() || domain.is_empty() || !domain.contains('.') {
            return bad("is not a valid address");
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return bad("must not contain spaces or angle brackets");
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return bad("has an invalid domain");
        }
        Ok(Email(s.to_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ticket subject: 1–250 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub const MAX_CHARS: usize = 250;
    pub fn parse(s: &str) -> Result<Subject, DomainError> {
        let s: String = s
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if s.is_empty() {
            return Err(DomainError::invalid("subject", "is required"));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "subject",
                "is longer than 250 characters",
            ));
        }
        Ok(Subject(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tag: lowercase, 1–64 characters, no whitespace or commas. Chinese tags are fine.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn parse(s: &str) -> Result<Tag, DomainError> {
        let s = s.trim().to_lowercase();
        if s.is_empty() || s.chars().count() > 64 {
            return Err(DomainError::invalid(
                "tags",
                "each tag must be 1–64 characters",
            ));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c == ',' || c.is_control())
        {
            return Err(DomainError::invalid(
                "tags",
                format!("tag {s:?} must not contain spaces or commas"),
            ));
        }
        Ok(Tag(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses, lowercases, de-duplicates and sorts a list of tags.
pub fn parse_tags<S: AsRef<str>>(tags: &[S]) -> Result<Vec<Tag>, DomainError> {
    if tags.len() > 50 {
        return Err(DomainError::invalid("tags", "at most 50 tags"));
    }
    let mut out = tags
        .iter()
        .map(|t| Tag::parse(t.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// A message body in plain text: non-empty, at most 64 KiB... of characters we keep.
pub fn parse_body(s: &str) -> Result<String, DomainError> {
    if s.trim().is_empty() {
        return Err(DomainError::invalid("body", "is required"));
    }
    if s.len() > 256 * 1024 {
        return Err(DomainError::invalid("body", "is longer than 256 KiB"));
    }
    // NUL is not text (and PostgreSQL cannot store it): dropped.
    Ok(s.replace("\r\n", "\n").replace('\0', ""))
}

/// A person's or team's display name: 1–120 characters.
pub fn parse_name(field: &'static str, s: &str) -> Result<String, DomainError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if s.chars().count() > 120 || s.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must be at most 120 printable characters",
        ));
    }
    Ok(s.to_string())
}

/// Password rules for agents and portal customers.
pub fn check_password(s: &str) -> Result<(), DomainError> {
    if s.chars().count() < 8 {
        return Err(DomainError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    if s.len() > 1024 {
        return Err(DomainError::invalid("password", "is too long"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Li.Wei@Example.COM ").unwrap().as_str(),
            "li.wei@example.com"
        );
        for bad in ["", "a", "a@b", "@b.com", "a b@c.com", "a@.com", "a@b..com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subjects_are_trimmed_and_bounded() {
        assert_eq!(
            Subject::parse("  打印机坏了 ").unwrap().as_str(),
            "打印机坏了"
        );
        assert!(Subject::parse("   ").is_err());
        assert!(Subject::parse(&"字".repeat(251)).is_err());
    }

    #[test]
    fn tags_are_normalised_and_deduplicated() {
        let t = parse_tags(&["VIP", "退款", "vip"]).unwrap();
        let s: Vec<_> = t.iter().map(Tag::as_str).collect();
        assert_eq!(s, ["vip", "退款"]);
        assert!(parse_tags(&["two words"]).is_err());
    }
}
