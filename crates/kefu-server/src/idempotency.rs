//! `Idempotency-Key` fingerprints: what makes two create requests "the same request".
//!
//! The store keeps one record per (caller scope, key) with the fingerprint of the request
//! that created the resource, inside the create's own transaction; a retry with the same
//! fingerprint gets the first resource back, a different one is `invalid_input` (see
//! [`kefu_store::IdempotencyKey`]). This module only computes fingerprints, for the API's
//! `Idempotency-Key` header and the web UI's one-time form keys alike.
//!
//! A fingerprint is a hex SHA-256 over the *normalised* request: the store input after
//! parsing and sanitising (so `Li@Example.com` and `li@example.com` are the same request),
//! every field except the key itself. The structs are destructured exhaustively, so a new
//! field fails to compile until it is considered here. Structured values are hashed via
//! their `Debug` form: stable within a release; a retry that spans an upgrade changing
//! those types may be refused as a different request, never silently replayed.

use kefu_domain::{NewCustomer, TicketId};
use kefu_store::{IdempotencyKey, NewAttachment, NewMessage, NewTicket};
use sha2::{Digest, Sha256};
use std::fmt::Debug;

/// The key for creating `t`.
pub(crate) fn ticket_key(scope: String, key: String, t: &NewTicket) -> IdempotencyKey {
    let NewTicket {
        draft,
        requester,
        actor,
        first_message_by_actor,
        body_text,
        body_html,
        attachments,
        idempotency: _,
        follow_up_of,
        mail,
    } = t;
    let mut f = Fingerprint::new("ticket");
    f.debug(&(
        draft,
        requester,
        actor,
        first_message_by_actor,
        follow_up_of,
    ));
    f.debug(mail);
    f.debug(body_html);
    f.part(body_text.as_bytes());
    f.attachments(attachments);
    f.key(scope, key)
}

/// The key for adding `m` to `ticket`.
pub(crate) fn message_key(
    scope: String,
    key: String,
    ticket: TicketId,
    m: &NewMessage,
) -> IdempotencyKey {
    let NewMessage {
        author,
        public,
        body_text,
        body_html,
        attachments,
        status_after,
        idempotency: _,
        mail,
    } = m;
    let mut f = Fingerprint::new("message");
    f.debug(&(ticket, author, public, status_after));
    f.debug(mail);
    f.debug(body_html);
    f.part(body_text.as_bytes());
    f.attachments(attachments);
    f.key(scope, key)
}

/// The key for creating `c`.
pub(crate) fn customer_key(scope: String, key: String, c: &NewCustomer) -> IdempotencyKey {
    let NewCustomer {
        name,
        email,
        phones,
        external_ids,
        organization_id,
        segment,
        language,
        time_zone,
    } = c;
    let mut f = Fingerprint::new("customer");
    f.debug(&(name, email, phones, external_ids, organization_id));
    f.debug(&(segment, language, time_zone));
    f.key(scope, key)
}

/// SHA-256 over length-prefixed parts, so that parts cannot run together.
struct Fingerprint(Sha256);

impl Fingerprint {
    fn new(kind: &str) -> Self {
        let mut f = Fingerprint(Sha256::new());
        f.part(kind.as_bytes());
        f
    }

    fn part(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn debug(&mut self, v: &impl Debug) {
        self.part(format!("{v:?}").as_bytes());
    }

    /// Attachments by name, type and content (bytes hashed as they are, not formatted).
    fn attachments(&mut self, attachments: &[NewAttachment]) {
        self.part(&(attachments.len() as u64).to_le_bytes());
        for a in attachments {
            let NewAttachment {
                filename,
                content_type,
                data,
            } = a;
            self.part(filename.as_bytes());
            self.part(content_type.as_bytes());
            self.part(data);
        }
    }

    fn key(self, scope: String, key: String) -> IdempotencyKey {
        IdempotencyKey {
            scope,
            key,
            fingerprint: hex::encode(self.0.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::{Actor, CustomerId, Email, Lang, Segment};

    fn customer(name: &str, mail: &str) -> NewCustomer {
        NewCustomer {
            name: name.into(),
            email: Some(Email::parse(mail).unwrap()),
            phones: vec![],
            external_ids: vec![],
            organization_id: None,
            segment: Segment::Standard,
            language: Lang::En,
            time_zone: "UTC".into(),
        }
    }

    fn fp(c: &NewCustomer) -> String {
        customer_key("agent:1".into(), "k".into(), c).fingerprint
    }

    #[test]
    fn the_same_normalised_request_has_the_same_fingerprint() {
        let a = customer("Li", "Li@Example.com");
        assert_eq!(fp(&a), fp(&customer("Li", "li@example.com")));
        assert_ne!(fp(&a), fp(&customer("Li Wei", "li@example.com")));
        assert_eq!(fp(&a).len(), 64);
    }

    #[test]
    fn attachments_and_the_ticket_are_part_of_a_message_fingerprint() {
        let m = NewMessage {
            author: Actor::Customer(CustomerId(1)),
            public: true,
            body_text: "hi".into(),
            body_html: None,
            attachments: vec![NewAttachment {
                filename: "a.txt".into(),
                content_type: "text/plain".into(),
                data: b"one".to_vec(),
            }],
            status_after: None,
            idempotency: None,
            mail: None,
        };
        let fp = |t: i64, m: &NewMessage| message_key("s".into(), "k".into(), TicketId(t), m);
        assert_eq!(fp(1, &m), fp(1, &m.clone()));
        assert_ne!(fp(1, &m).fingerprint, fp(2, &m).fingerprint);
        let mut other = m.clone();
        other.attachments[0].data = b"two".to_vec();
        assert_ne!(fp(1, &m).fingerprint, fp(1, &other).fingerprint);
    }
}
