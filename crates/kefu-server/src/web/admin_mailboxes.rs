//! Administration of support mailboxes (admins only, `Permission::Administer`): the list
//! with a create form, and an edit page for each.
//!
//! Invariant: an IMAP URL holds a password, so no page ever shows it back: the list and
//! the edit page show `kefu_domain::mail::redact_url`, the URL field is never pre-filled
//! (not even when a form comes back with an error), and leaving it empty on the edit
//! page keeps the stored URL.

use super::{
    form::{FormData, hint, parse_id, saved},
    i18n::Tr,
    page::{Chrome, WebError, WebResult, form_status, render_with},
    session::AgentCtx,
    views::Opt,
};
use crate::AppState;
use askama::Template;
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect},
};
use kefu_domain::{
    DomainError, Email, Mailbox, MailboxId, MailboxPatch, NewMailbox, Team, TeamId,
    authz::Permission,
    mail::{redact_url, validate_mailbox},
};
use kefu_store::StoreError;

pub struct MailboxRow {
    pub id: i64,
    pub address: String,
    pub name: String,
    pub team: String,
    /// "IMAP: imaps://bot:***@host/INBOX" (redacted), if the mailbox is polled.
    pub imap: Option<String>,
    pub auto_ack: bool,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "admin/mailboxes.html")]
struct MailboxesPage {
    tr: Tr,
    chrome: Chrome,
    rows: Vec<MailboxRow>,
    error: Option<String>,
    address: String,
    name: String,
    teams: Vec<Opt>,
    auto_ack: bool,
    active: bool,
}

/// The team select: "No team" first, then every team.
fn team_opts(tr: Tr, teams: &[Team], current: Option<TeamId>) -> Vec<Opt> {
    let mut opts = vec![Opt::new("", tr.t("ticket.no_team"), current.is_none())];
    opts.extend(
        teams
            .iter()
            .map(|t| Opt::new(t.id.to_string(), t.name.clone(), Some(t.id) == current)),
    );
    opts
}

fn form_team(form: &FormData) -> Option<TeamId> {
    form.get("team").parse().ok().map(TeamId)
}

async fn mailboxes_page(
    state: &AppState,
    a: &AgentCtx,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let (mailboxes, teams) = tokio::join!(state.store.list_mailboxes(), state.store.list_teams());
    let (mailboxes, teams) = (mailboxes?, teams?);
    let rows = mailboxes
        .into_iter()
        .map(|m| MailboxRow {
            id: m.id.0,
            address: m.address.as_str().to_string(),
            team: m
                .team_id
                .and_then(|id| teams.iter().find(|t| t.id == id))
                .map(|t| t.name.clone())
                .unwrap_or_default(),
            imap: m
                .imap_url
                .as_deref()
                .map(|u| tr.f("mailbox.imap", &[("url", &redact_url(u))])),
            name: m.name,
            auto_ack: m.auto_ack,
            active: m.active,
        })
        .collect();
    let get = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    let page = MailboxesPage {
        tr,
        chrome: a.ctx.chrome(tr.t("admin.mailboxes"), "admin"),
        rows,
        error,
        address: get("address"),
        name: get("name"),
        teams: team_opts(tr, &teams, form.and_then(form_team)),
        // A fresh form starts with both ticked.
        auto_ack: form.is_none_or(|f| f.checked("auto_ack")),
        active: form.is_none_or(|f| f.checked("active")),
    };
    render_with(form_status(&page.error), &page)
}

pub async fn mailboxes(State(state): State<AppState>, a: AgentCtx) -> WebResult {
    a.require(Permission::Administer)?;
    mailboxes_page(&state, &a, None, None).await
}

/// What the form says about the IMAP URL.
#[derive(Debug, PartialEq)]
enum Imap {
    /// Left empty: keep what is stored (nothing, for a new mailbox).
    Keep,
    /// "Stop polling" ticked.
    Remove,
    Set(String),
}

/// The fields both forms share.
struct MailboxInput {
    name: String,
    team_id: Option<TeamId>,
    imap: Imap,
    auto_ack: bool,
    active: bool,
}

/// The message for an invalid mailbox field.
fn mailbox_hint(tr: Tr, e: &DomainError) -> String {
    match e {
        DomainError::Invalid {
            field: "imap_url", ..
        } => tr.t("hint.imap_url").to_string(),
        DomainError::Invalid { field: "name", .. } => tr.t("hint.mailbox_name").to_string(),
        other => super::form::domain_message(tr, other),
    }
}

/// Reads and checks the shared fields; an empty name becomes the address.
fn mailbox_input(tr: Tr, form: &FormData, address: &str) -> Result<MailboxInput, String> {
    let name = match form.get("name").trim() {
        "" => address.to_string(),
        n => n.to_string(),
    };
    if name.chars().any(char::is_control) {
        return Err(tr.t("hint.mailbox_name").to_string());
    }
    let team_id = match form.get("team") {
        "" => None,
        v => Some(TeamId(
            v.parse().map_err(|_| tr.t("hint.choice").to_string())?,
        )),
    };
    let url = form.get("imap_url").trim();
    let imap = if form.checked("remove_imap") {
        Imap::Remove
    } else if url.is_empty() {
        Imap::Keep
    } else {
        Imap::Set(url.to_string())
    };
    let checked_url = match &imap {
        Imap::Set(u) => Some(u.as_str()),
        _ => None,
    };
    if checked_url.is_some_and(|u| u.chars().any(|c| c.is_control() || c.is_whitespace())) {
        return Err(tr.t("hint.imap_url").to_string());
    }
    validate_mailbox(&name, checked_url).map_err(|e| mailbox_hint(tr, &e))?;
    Ok(MailboxInput {
        name,
        team_id,
        imap,
        auto_ack: form.checked("auto_ack"),
        active: form.checked("active"),
    })
}

/// Sorts a store result like [`saved`], with the mailbox's own messages for a taken
/// address and invalid fields.
fn mailbox_saved<T>(tr: Tr, r: Result<T, StoreError>) -> WebResult<Result<T, String>> {
    match r {
        Err(StoreError::Conflict(_)) => Ok(Err(tr.t("mailbox.exists").to_string())),
        Err(StoreError::Domain(e)) => Ok(Err(mailbox_hint(tr, &e))),
        r => saved(tr, r),
    }
}

pub async fn create_mailbox(
    State(state): State<AppState>,
    a: AgentCtx,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let parsed = Email::parse(form.get("address"))
        .map_err(|_| hint(tr, "email"))
        .and_then(|address| Ok((mailbox_input(tr, &form, address.as_str())?, address)));
    let outcome = match parsed {
        Ok((input, address)) => {
            let new = NewMailbox {
                address,
                name: input.name,
                team_id: input.team_id,
                imap_url: match input.imap {
                    Imap::Set(u) => Some(u),
                    Imap::Keep | Imap::Remove => None,
                },
                auto_ack: input.auto_ack,
                active: input.active,
            };
            mailbox_saved(tr, state.store.create_mailbox(&new).await)?
        }
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/admin/mailboxes").into_response()),
        Err(msg) => mailboxes_page(&state, &a, Some(&form), Some(msg)).await,
    }
}

#[derive(Template)]
#[template(path = "admin/mailbox_edit.html")]
struct MailboxEditPage {
    tr: Tr,
    chrome: Chrome,
    id: i64,
    address: String,
    name: String,
    teams: Vec<Opt>,
    /// "Current IMAP URL: …" with the stored URL redacted.
    imap_current: Option<String>,
    auto_ack: bool,
    active: bool,
    error: Option<String>,
}

async fn load(state: &AppState, id: &str) -> WebResult<Mailbox> {
    state
        .store
        .get_mailbox(MailboxId(parse_id(id)?))
        .await?
        .ok_or_else(WebError::not_found)
}

async fn mailbox_edit(
    state: &AppState,
    a: &AgentCtx,
    m: Mailbox,
    form: Option<&FormData>,
    error: Option<String>,
) -> WebResult {
    let tr = a.ctx.tr;
    let teams = state.store.list_teams().await?;
    let team = form.map(form_team).unwrap_or(m.team_id);
    let page = MailboxEditPage {
        tr,
        chrome: a.ctx.chrome(m.address.as_str().to_string(), "admin"),
        id: m.id.0,
        address: m.address.as_str().to_string(),
        name: form.map(|f| f.get("name").to_string()).unwrap_or(m.name),
        teams: team_opts(tr, &teams, team),
        imap_current: m
            .imap_url
            .as_deref()
            .map(|u| tr.f("mailbox.imap_current", &[("url", &redact_url(u))])),
        auto_ack: form.map(|f| f.checked("auto_ack")).unwrap_or(m.auto_ack),
        active: form.map(|f| f.checked("active")).unwrap_or(m.active),
        error,
    };
    render_with(form_status(&page.error), &page)
}

pub async fn mailbox_form(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
) -> WebResult {
    a.require(Permission::Administer)?;
    let m = load(&state, &id).await?;
    mailbox_edit(&state, &a, m, None, None).await
}

pub async fn update_mailbox(
    State(state): State<AppState>,
    a: AgentCtx,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult {
    a.ctx.check_csrf(&form)?;
    a.require(Permission::Administer)?;
    let tr = a.ctx.tr;
    let m = load(&state, &id).await?;
    let outcome = match mailbox_input(tr, &form, m.address.as_str()) {
        Ok(input) => {
            let patch = MailboxPatch {
                name: Some(input.name),
                team_id: Some(input.team_id),
                imap_url: match input.imap {
                    Imap::Keep => None,
                    Imap::Remove => Some(None),
                    Imap::Set(u) => Some(Some(u)),
                },
                auto_ack: Some(input.auto_ack),
                active: Some(input.active),
            };
            match mailbox_saved(tr, state.store.update_mailbox(m.id, &patch).await)? {
                Ok(Some(_)) => Ok(()),
                Ok(None) => return Err(WebError::not_found()),
                Err(msg) => Err(msg),
            }
        }
        Err(msg) => Err(msg),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/admin/mailboxes").into_response()),
        Err(msg) => mailbox_edit(&state, &a, m, Some(&form), Some(msg)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_domain::Lang;

    fn form(fields: &[(&str, &str)]) -> FormData {
        FormData::from_pairs(fields)
    }

    #[test]
    fn an_empty_imap_field_keeps_the_url_and_the_checkbox_removes_it() {
        let tr = Tr(Lang::En);
        let keep = mailbox_input(tr, &form(&[("name", "")]), "s@x.example").unwrap();
        assert_eq!(keep.imap, Imap::Keep);
        assert_eq!(
            keep.name, "s@x.example",
            "an empty name becomes the address"
        );
        let remove = mailbox_input(
            tr,
            &form(&[("imap_url", "imaps://a:b@h"), ("remove_imap", "1")]),
            "s@x.example",
        )
        .unwrap();
        assert_eq!(remove.imap, Imap::Remove);
        let set = mailbox_input(tr, &form(&[("imap_url", " imaps://a:b@h/INBOX ")]), "s").unwrap();
        assert_eq!(set.imap, Imap::Set("imaps://a:b@h/INBOX".into()));
    }

    #[test]
    fn bad_urls_teams_and_names_are_explained() {
        let tr = Tr(Lang::En);
        let err = |f: &[(&str, &str)]| mailbox_input(tr, &form(f), "s@x.example").err();
        assert_eq!(
            err(&[("imap_url", "http://a:b@h")]).as_deref(),
            Some(tr.t("hint.imap_url"))
        );
        assert_eq!(
            err(&[("imap_url", "imaps://a:b@h/IN BOX")]).as_deref(),
            Some(tr.t("hint.imap_url"))
        );
        assert!(err(&[("team", "x")]).is_some());
        let long = "n".repeat(201);
        assert_eq!(
            err(&[("name", &long)]).as_deref(),
            Some(tr.t("hint.mailbox_name"))
        );
    }
}
