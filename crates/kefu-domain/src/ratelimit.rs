//! Sign-in rate limiting: the policy, over counts the store keeps in fixed windows.
//!
//! Two counters guard a password check, each in a fixed window of [`LOGIN_WINDOW`]:
//! - per account (the lowercased email): failed attempts, at most
//!   [`LOGIN_FAILURES_PER_ACCOUNT`]; checked *before* the password is verified, so a locked
//!   account costs no Argon2;
//! - per client (the peer address, IPv6 by /64): every attempt, at most
//!   [`LOGIN_ATTEMPTS_PER_CLIENT`].
//!
//! The caller counts the attempt first (the count includes it) and asks [`login_gate`]. A
//! successful sign-in takes its hit back from the account counter, so that counter holds
//! failures only. Counting before checking keeps the bound exact under concurrency: N
//! parallel guesses are N increments, never N reads of the same old count.

use jiff::{SignedDuration, Timestamp};
use std::net::IpAddr;

/// The length of one counting window.
pub const LOGIN_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failed sign-ins allowed per account and window.
pub const LOGIN_FAILURES_PER_ACCOUNT: u32 = 10;
/// Sign-in (and registration) attempts allowed per client address and window.
pub const LOGIN_ATTEMPTS_PER_CLIENT: u32 = 50;
/// Counters older than this are deleted by the periodic job.
pub const RATE_LIMIT_RETENTION: SignedDuration = SignedDuration::from_hours(24);

/// Whether a sign-in attempt may go on to the password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginGate {
    Allow,
    /// Too many attempts from this client address.
    ClientLimited,
    /// Too many failed attempts on this account.
    AccountLimited,
}

/// Decides from the counts in the current window, each including this attempt. `None`
/// for a counter that does not apply (no client address, or no valid email).
pub fn login_gate(client_attempts: Option<u32>, account_failures: Option<u32>) -> LoginGate {
    if client_attempts.is_some_and(|n| n > LOGIN_ATTEMPTS_PER_CLIENT) {
        LoginGate::ClientLimited
    } else if account_failures.is_some_and(|n| n > LOGIN_FAILURES_PER_ACCOUNT) {
        LoginGate::AccountLimited
    } else {
        LoginGate::Allow
    }
}

/// The start of the fixed window of length `window` that contains `now` (windows are
/// aligned to the Unix epoch, so every node computes the same one).
///
/// # Panics
/// If `window` is not positive.
pub fn window_start(now: Timestamp, window: SignedDuration) -> Timestamp {
    let len = window.as_micros();
    assert!(len > 0, "a rate-limit window must be positive");
    let now = i128::from(now.as_microsecond());
    let start = now - now.rem_euclid(len);
    // `start` lies between the epoch-aligned floor and `now`, so it is a valid timestamp.
    Timestamp::from_microsecond(start as i64).expect("window start is within range")
}

/// The counter key of an account: its email, lowercased.
pub fn account_key(email: &str) -> String {
    format!("login:email:{}", email.trim().to_lowercase())
}

/// The counter key of registration attempts for an email, lowercased (apart from the
/// sign-in counter, so failed registrations do not lock the account's sign-in).
pub fn registration_key(email: &str) -> String {
    format!("register:email:{}", email.trim().to_lowercase())
}

/// The counter key of a client address. IPv6 clients are keyed by their /64 (one host
/// usually owns a whole /64); IPv4-mapped IPv6 addresses count as IPv4.
pub fn client_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("login:ip:{v4}"),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("login:ip:{}/64", std::net::Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_failure_on_an_account_is_refused() {
        assert_eq!(login_gate(Some(1), Some(1)), LoginGate::Allow);
        assert_eq!(login_gate(Some(1), Some(10)), LoginGate::Allow);
        assert_eq!(login_gate(Some(1), Some(11)), LoginGate::AccountLimited);
        assert_eq!(login_gate(None, Some(11)), LoginGate::AccountLimited);
    }

    #[test]
    fn the_fifty_first_attempt_from_a_client_is_refused_first() {
        assert_eq!(login_gate(Some(50), None), LoginGate::Allow);
        assert_eq!(login_gate(Some(51), None), LoginGate::ClientLimited);
        assert_eq!(login_gate(Some(51), Some(11)), LoginGate::ClientLimited);
        assert_eq!(login_gate(None, None), LoginGate::Allow);
    }

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        let t: Timestamp = "2025-03-01T10:29:59.5Z".parse().unwrap();
        let start = window_start(t, LOGIN_WINDOW);
        assert_eq!(start, "2025-03-01T10:15:00Z".parse().unwrap());
        assert_eq!(window_start(start, LOGIN_WINDOW), start);
        let before_epoch: Timestamp = "1969-12-31T23:59:00Z".parse().unwrap();
        assert_eq!(
            window_start(before_epoch, LOGIN_WINDOW),
            "1969-12-31T23:45:00Z".parse().unwrap()
        );
    }

    #[test]
    fn keys_normalise_case_and_ipv6_hosts() {
        assert_eq!(
            account_key(" Li.Wei@Example.COM"),
            "login:email:li.wei@example.com"
        );
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_eq!(client_key(a), "login:ip:2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "login:ip:192.0.2.7");
    }
}
