-- Round 2 of go-live: fencing tokens that only grow, the outbox, and the
-- reconciler's lease on sessions.

-- The fencing token. `attempts` counts the tries of the job's current plan and
-- starts again at 0 when a re-plan re-arms the job (it drives backoff and
-- alerts); `claims` counts every claim the row ever had and is never reset, so
-- a new owner always holds a larger token than any stale worker.
alter table job add column claims bigint not null default 0;
update job set claims = attempts;

-- Channel posts that report a state change ("now live", "ended", "could not
-- go live", alerts). Each is written in the same transaction as the change it
-- reports and delivered by the scheduler until the chat accepts it, so a crash,
-- a restart or a chat outage delays a post but never drops or doubles it.
create table outbox (
    id              bigint generated always as identity primary key,
    session_id      bigint      not null references session (id),
    -- What happened (`live`, `ended`, `publish_failed`, ...), and the session
    -- version it happened at: one post per (session, event, version).
    event           text        not null,
    version         integer     not null,
    channel         text        not null,
    -- The platform-neutral chat message (`chat::Message`), as JSON.
    message         jsonb       not null,
    state           text        not null default 'pending',
    -- Tries so far (backoff) and claims ever (the fencing token).
    attempts        integer     not null default 0,
    claims          bigint      not null default 0,
    next_attempt_at timestamptz not null default now(),
    claimed_by      text,
    claimed_until   timestamptz,
    last_error      text,
    -- Where the chat put it.
    posted_channel  text,
    posted_message  text,
    created_at      timestamptz not null default now(),
    sent_at         timestamptz,

    constraint outbox_one_post_per_event unique (session_id, event, version),
    constraint outbox_channel_known check (channel in ('announcements', 'approvals')),
    constraint outbox_state_known check (state in ('pending', 'sending', 'sent', 'refused'))
);

create index outbox_due on outbox (next_attempt_at) where state in ('pending', 'sending');

-- The reconciler compares sessions with the storefront. Every replica runs it;
-- this lease (taken with FOR UPDATE SKIP LOCKED) keeps two from checking, and
-- repairing, the same session at once.
alter table session add column reconcile_lease_until timestamptz;
