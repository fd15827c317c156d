-- The core schema: sessions, their items, the append-only activity log,
-- future jobs, and processed platform events.
--
-- The application checks every rule before writing; the constraints below are
-- the last line of defence against a bug or a race, and they are named so the
-- store can map a violation back to a domain error.

-- A flash-sale slot. Times are UTC; the business time zone is a display concern.
create table session (
    id               bigint generated always as identity primary key,
    title            text        not null,
    starts_at        timestamptz not null,
    ends_at          timestamptz not null,
    status           text        not null default 'draft',
    -- Bumped by every mutation. Cards carry the version they show, so an
    -- approver can only approve what they saw.
    version          integer     not null default 1,
    created_by       text        not null,
    created_by_name  text        not null,
    submitted_by     text,
    approved_by      text,
    rejection_reason text,
    -- Free text from the editor (the draft modal's notes field).
    notes            text,
    -- Where the approval card was posted, so it can be edited later.
    card_channel     text,
    card_message     text,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),

    constraint session_title_not_blank check (length(btrim(title)) between 1 and 100),
    constraint session_ends_after_start check (ends_at > starts_at),
    constraint session_status_known check (status in (
        'draft', 'pending_approval', 'approved', 'live', 'ended', 'expired', 'cancelled', 'failed'
    )),
    -- The storefront shows one flash sale at a time: approved and live windows
    -- may never overlap. Half-open ranges, so back-to-back sessions are fine.
    constraint session_no_overlap_when_approved exclude using gist (
        tstzrange(starts_at, ends_at, '[)') with &&
    ) where (status in ('approved', 'live'))
);

create index session_starts_at on session (starts_at);

-- One SKU of a session, with the catalog facts seen when it was validated.
create table session_item (
    session_id       bigint      not null references session (id),
    -- Slot 1..6: with (session_id, slot) unique, the database itself refuses
    -- a seventh item whatever the application does.
    slot             smallint    not null,
    sku              text        not null,
    discount_percent smallint    not null,
    quantity         integer     not null,
    product_name     text        not null,
    base_price_minor bigint      not null,
    stock_seen       bigint      not null,
    added_by         text        not null,
    updated_by       text        not null,
    added_at         timestamptz not null default now(),
    updated_at       timestamptz not null default now(),

    primary key (session_id, slot),
    constraint session_item_slot_range check (slot between 1 and 6),
    constraint session_item_unique_sku unique (session_id, sku),
    constraint session_item_discount_range check (discount_percent between 1 and 90),
    constraint session_item_quantity_positive check (quantity > 0),
    constraint session_item_price_not_negative check (base_price_minor >= 0)
);

-- Who did what to which session, and what changed. Never edited, never deleted.
create table activity (
    id          bigint generated always as identity primary key,
    session_id  bigint      not null references session (id),
    at          timestamptz not null default now(),
    actor_id    text        not null,
    actor_name  text        not null,
    action      text        not null,
    -- Before/after details of the change, for audit.
    details     jsonb       not null default '{}'::jsonb
);

create index activity_session on activity (session_id, id);

create function activity_is_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'activity is append-only: % refused', tg_op
        using errcode = 'restrict_violation';
end;
$$;

create trigger activity_append_only
    before update or delete on activity
    for each row execute function activity_is_append_only();

create trigger activity_no_truncate
    before truncate on activity
    for each statement execute function activity_is_append_only();

-- Every future action of a session (reminders, heads-up, publish, end, expiry).
-- Created and cancelled in the same transaction as the state change that
-- implies them; claimed by the scheduler with a lease and an attempt number.
create table job (
    id              bigint generated always as identity primary key,
    session_id      bigint      not null references session (id),
    kind            text        not null,
    due_at          timestamptz not null,
    state           text        not null default 'pending',
    attempts        integer     not null default 0,
    next_attempt_at timestamptz not null,
    last_error      text,
    claimed_by      text,
    claimed_until   timestamptz,
    -- Fixed when the job is created; sent as webhook-id so retries are idempotent.
    idempotency_key uuid        not null,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),

    constraint job_one_per_kind unique (session_id, kind),
    constraint job_state_known check (state in ('pending', 'running', 'done', 'failed', 'cancelled'))
);

create index job_due on job (next_attempt_at) where state in ('pending', 'running');

-- Platform events (interaction ids) already handled, so a redelivered event
-- changes nothing twice.
create table processed_event (
    platform     text        not null,
    event_id     text        not null,
    processed_at timestamptz not null default now(),
    primary key (platform, event_id)
);
