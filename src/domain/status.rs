//! The status machine of a session: one table, one function.
//!
//! `transition` is the only place that knows which action is allowed from
//! which status and by whom (docs/design.md, section 2). Editing items is modelled
//! as the action `EditItems` from `Draft` to `Draft`, so "approved means
//! read-only" is a row of the same table rather than a check somewhere else.

use std::fmt;

use super::actor::Roles;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Draft,
    PendingApproval,
    Approved,
    Live,
    Ended,
    Expired,
    Cancelled,
    Failed,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Draft,
        Status::PendingApproval,
        Status::Approved,
        Status::Live,
        Status::Ended,
        Status::Expired,
        Status::Cancelled,
        Status::Failed,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::PendingApproval => "pending_approval",
            Status::Approved => "approved",
            Status::Live => "live",
            Status::Ended => "ended",
            Status::Expired => "expired",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
        }
    }

    pub fn from_stored(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// The name people read in chat.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Draft",
            Status::PendingApproval => "Pending approval",
            Status::Approved => "Approved",
            Status::Live => "Live",
            Status::Ended => "Ended",
            Status::Expired => "Expired",
            Status::Cancelled => "Cancelled",
            Status::Failed => "Failed",
        }
    }

    /// The status after "is" in a sentence: "a draft", "pending approval", "live".
    pub fn in_a_sentence(self) -> String {
        match self {
            Status::Draft => "a draft".to_owned(),
            other => other.label().to_lowercase(),
        }
    }

    /// Whether the session holds (or held) its slot on the storefront: cancelled, expired and
    /// failed sessions never showed there, so their time counts as free in lists and the digest.
    pub fn occupies_storefront(self) -> bool {
        !matches!(self, Status::Cancelled | Status::Expired | Status::Failed)
    }

    /// No action leads out of a final status.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Ended | Status::Expired | Status::Cancelled | Status::Failed
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    EditItems,
    Submit,
    Withdraw,
    Approve,
    Reject,
    Revoke,
    Cancel,
    GoLive,
    PublishFailed,
    /// The window passed before the approved session could go live.
    Miss,
    Expire,
    End,
    Stop,
}

impl Action {
    pub const ALL: [Action; 13] = [
        Action::EditItems,
        Action::Submit,
        Action::Withdraw,
        Action::Approve,
        Action::Reject,
        Action::Revoke,
        Action::Cancel,
        Action::GoLive,
        Action::PublishFailed,
        Action::Miss,
        Action::Expire,
        Action::End,
        Action::Stop,
    ];

    /// What the action is called in a sentence: "can't be {verb}".
    fn participle(self) -> &'static str {
        match self {
            Action::EditItems => "edited",
            Action::Submit => "submitted",
            Action::Withdraw => "withdrawn",
            Action::Approve => "approved",
            Action::Reject => "rejected",
            Action::Revoke => "revoked",
            Action::Cancel => "cancelled",
            Action::GoLive => "put live",
            Action::PublishFailed => "marked failed",
            Action::Miss => "marked missed",
            Action::Expire => "expired",
            Action::End => "ended",
            Action::Stop => "stopped",
        }
    }

    /// The command people type for it, when there is one.
    pub fn command(self) -> Option<&'static str> {
        match self {
            Action::EditItems => Some("add-sku / edit-sku / remove-sku"),
            Action::Submit => Some("submit"),
            Action::Withdraw => Some("withdraw"),
            Action::Approve => Some("approve"),
            Action::Reject => Some("reject"),
            Action::Revoke => Some("revoke"),
            Action::Cancel => Some("cancel"),
            Action::Stop => Some("stop"),
            Action::GoLive
            | Action::PublishFailed
            | Action::Miss
            | Action::Expire
            | Action::End => None,
        }
    }
}

/// Who may perform an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Editor,
    Approver,
    System,
}

impl Role {
    fn held_by(self, roles: Roles) -> bool {
        match self {
            Role::Editor => roles.editor,
            Role::Approver => roles.approver,
            Role::System => roles.system,
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Role::Editor => "editors",
            Role::Approver => "approvers",
            Role::System => "the bot itself",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefused {
    /// `roles` are the refused person's, so the message offers only what they may do.
    #[error("{}", not_allowed_message(*.from, *.action, *.roles))]
    NotAllowed {
        from: Status,
        action: Action,
        roles: Roles,
    },
    #[error("Only {} can do this: a session that is {} can be {} by {} only.", .needs.plural(), .from.in_a_sentence(), .action.participle(), .needs.plural())]
    Forbidden {
        from: Status,
        action: Action,
        needs: Role,
    },
    #[error("Only editors can draft sessions: ask someone with the editor role.")]
    DraftingForbidden,
}

fn not_allowed_message(from: Status, action: Action, roles: Roles) -> String {
    if action == Action::EditItems && matches!(from, Status::Approved | Status::Live) {
        return format!(
            "This session is {} and locked (read-only): an approver must revoke it before its items can change.",
            from.label().to_lowercase()
        );
    }
    if action == Action::EditItems && from == Status::PendingApproval {
        return "This session is waiting for approval: withdraw it first to change its items."
            .to_owned();
    }
    // Offer only what this person may do; what others could do is named with who they are, so
    // nobody is sent to a command that refuses them next.
    let possible: Vec<(&str, Role)> = Action::ALL
        .into_iter()
        .filter_map(|a| Some((a.command()?, rule(from, a)?.1)))
        .collect();
    let commands = |of: &dyn Fn(Role) -> bool| {
        possible
            .iter()
            .filter(|(_, r)| of(*r))
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let yours = commands(&|r| r.held_by(roles));
    // What people with other roles could do, one group per role.
    let theirs: Vec<(Role, String)> = [Role::Editor, Role::Approver]
        .into_iter()
        .map(|role| (role, commands(&|r| r == role && !r.held_by(roles))))
        .filter(|(_, list)| !list.is_empty())
        .collect();
    let now = match (yours.is_empty(), theirs.as_slice()) {
        (true, []) => "Nothing can change it any more.".to_owned(),
        (true, [(role, list)]) => format!("Only {} can change it now: {list}.", role.plural()),
        (true, groups) => {
            let groups: Vec<String> = groups
                .iter()
                .map(|(role, list)| format!("{} ({list})", role.plural()))
                .collect();
            format!("It can now be changed by {}.", groups.join(" and "))
        }
        (false, groups) => {
            let mut now = format!("What you can do now: {yours}.");
            for (role, list) in groups {
                now.push_str(&format!(
                    " {} can also: {list}.",
                    capitalised(role.plural())
                ));
            }
            now
        }
    };
    format!(
        "This session is {}: it can't be {}. {now}",
        from.in_a_sentence(),
        action.participle()
    )
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The table of docs/design.md, section 2: the next status and who may cause it.
fn rule(from: Status, action: Action) -> Option<(Status, Role)> {
    use Action as A;
    use Status as S;
    Some(match (from, action) {
        (S::Draft, A::EditItems) => (S::Draft, Role::Editor),
        (S::Draft, A::Submit) => (S::PendingApproval, Role::Editor),
        (S::PendingApproval, A::Withdraw) => (S::Draft, Role::Editor),
        (S::PendingApproval, A::Approve) => (S::Approved, Role::Approver),
        (S::PendingApproval, A::Reject) => (S::Draft, Role::Approver),
        (S::Approved, A::Revoke) => (S::Draft, Role::Approver),
        (S::Approved, A::GoLive) => (S::Live, Role::System),
        (S::Approved, A::PublishFailed | A::Miss) => (S::Failed, Role::System),
        (S::Draft | S::PendingApproval, A::Expire) => (S::Expired, Role::System),
        (S::Live, A::End) => (S::Ended, Role::System),
        (S::Live, A::Stop) => (S::Ended, Role::Approver),
        (S::Draft | S::PendingApproval, A::Cancel) => (S::Cancelled, Role::Editor),
        (S::Approved, A::Cancel) => (S::Cancelled, Role::Approver),
        _ => return None,
    })
}

/// Decides whether `action` may happen to a session in status `from`, done by
/// someone holding `roles`, and if so what the status becomes.
pub fn transition(from: Status, action: Action, roles: Roles) -> Result<Status, TransitionRefused> {
    let (to, needs) = rule(from, action).ok_or(TransitionRefused::NotAllowed {
        from,
        action,
        roles,
    })?;
    if !needs.held_by(roles) {
        return Err(TransitionRefused::Forbidden {
            from,
            action,
            needs,
        });
    }
    Ok(to)
}

/// A new session starts as a draft, and only an editor may start one.
pub fn start_draft(roles: Roles) -> Result<Status, TransitionRefused> {
    if roles.editor {
        Ok(Status::Draft)
    } else {
        Err(TransitionRefused::DraftingForbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Status as S;

    /// Every allowed (from, action, who, to). Anything not listed must be refused.
    const ALLOWED: &[(Status, Action, Roles, Status)] = &[
        (S::Draft, A::EditItems, Roles::EDITOR, S::Draft),
        (S::Draft, A::Submit, Roles::EDITOR, S::PendingApproval),
        (S::PendingApproval, A::Withdraw, Roles::EDITOR, S::Draft),
        (S::PendingApproval, A::Approve, Roles::APPROVER, S::Approved),
        (S::PendingApproval, A::Reject, Roles::APPROVER, S::Draft),
        (S::Approved, A::Revoke, Roles::APPROVER, S::Draft),
        (S::Approved, A::GoLive, Roles::SYSTEM, S::Live),
        (S::Approved, A::PublishFailed, Roles::SYSTEM, S::Failed),
        (S::Approved, A::Miss, Roles::SYSTEM, S::Failed),
        (S::Draft, A::Expire, Roles::SYSTEM, S::Expired),
        (S::PendingApproval, A::Expire, Roles::SYSTEM, S::Expired),
        (S::Live, A::End, Roles::SYSTEM, S::Ended),
        (S::Live, A::Stop, Roles::APPROVER, S::Ended),
        (S::Draft, A::Cancel, Roles::EDITOR, S::Cancelled),
        (S::PendingApproval, A::Cancel, Roles::EDITOR, S::Cancelled),
        (S::Approved, A::Cancel, Roles::APPROVER, S::Cancelled),
    ];

    #[test]
    fn every_allowed_transition_leads_to_its_status() {
        for &(from, action, roles, to) in ALLOWED {
            assert_eq!(
                transition(from, action, roles),
                Ok(to),
                "{from:?} {action:?}"
            );
        }
    }

    #[test]
    fn every_other_pair_is_refused_as_not_allowed() {
        let mut refused = 0;
        for from in Status::ALL {
            for action in Action::ALL {
                if ALLOWED
                    .iter()
                    .any(|(f, a, _, _)| *f == from && *a == action)
                {
                    continue;
                }
                let all_roles = Roles {
                    editor: true,
                    approver: true,
                    system: true,
                };
                assert_eq!(
                    transition(from, action, all_roles),
                    Err(TransitionRefused::NotAllowed {
                        from,
                        action,
                        roles: all_roles
                    }),
                    "{from:?} {action:?}"
                );
                refused += 1;
            }
        }
        assert_eq!(refused, 8 * 13 - ALLOWED.len());
    }

    #[test]
    fn allowed_transitions_are_refused_to_the_wrong_role() {
        for &(from, action, right, _) in ALLOWED {
            for wrong in [Roles::EDITOR, Roles::APPROVER, Roles::SYSTEM, Roles::NONE] {
                if wrong == right {
                    continue;
                }
                assert!(
                    matches!(
                        transition(from, action, wrong),
                        Err(TransitionRefused::Forbidden { .. })
                    ),
                    "{from:?} {action:?} by {wrong:?}"
                );
            }
        }
    }

    #[test]
    fn final_statuses_allow_nothing() {
        for from in Status::ALL.into_iter().filter(|s| s.is_final()) {
            for action in Action::ALL {
                assert!(rule(from, action).is_none(), "{from:?} {action:?}");
            }
        }
    }

    #[test]
    fn editing_an_approved_session_says_it_is_locked() {
        let refused = transition(S::Approved, A::EditItems, Roles::EDITOR).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "This session is approved and locked (read-only): an approver must revoke it before its items can change."
        );
    }

    #[test]
    fn a_refusal_lists_what_can_be_done_instead_by_whom() {
        let refused = transition(S::PendingApproval, A::Submit, Roles::EDITOR).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "This session is pending approval: it can't be submitted. What you can do now: withdraw, cancel. Approvers can also: approve, reject."
        );
        let refused = transition(S::PendingApproval, A::Submit, Roles::BOTH).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "This session is pending approval: it can't be submitted. What you can do now: withdraw, approve, reject, cancel."
        );
    }

    #[test]
    fn an_editor_is_not_offered_what_only_approvers_may_do() {
        let refused = transition(S::Approved, A::Stop, Roles::EDITOR).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "This session is approved: it can't be stopped. Only approvers can change it now: revoke, cancel."
        );
    }

    #[test]
    fn a_draft_is_called_a_draft() {
        let refused = transition(S::Draft, A::Withdraw, Roles::EDITOR).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with("This session is a draft: it can't be withdrawn."),
            "{refused}"
        );
    }

    #[test]
    fn an_editor_approving_is_told_who_may() {
        let refused = transition(S::PendingApproval, A::Approve, Roles::EDITOR).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Only approvers can do this: a session that is pending approval can be approved by approvers only."
        );
    }

    #[test]
    fn only_editors_start_drafts() {
        assert_eq!(start_draft(Roles::EDITOR), Ok(S::Draft));
        assert_eq!(start_draft(Roles::BOTH), Ok(S::Draft));
        for roles in [Roles::APPROVER, Roles::SYSTEM, Roles::NONE] {
            assert_eq!(
                start_draft(roles),
                Err(TransitionRefused::DraftingForbidden)
            );
        }
    }

    #[test]
    fn stored_names_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::from_stored(status.as_str()), Some(status));
        }
        assert_eq!(Status::from_stored("published"), None);
    }
}
