-- Planning the week (issue 28): recurring slots, skipped occurrences, and
-- templates (saved sets of lines a plan fills its drafts from).

-- A recurring slot in wall-clock time in the business time zone; the code
-- expands it into UTC windows (domain::slot). Removed slots stay, marked,
-- so the log can name them.
create table slot (
    id              bigint generated always as identity primary key,
    -- Days of the week it recurs on, Monday = bit 0.
    days            smallint    not null,
    starts_local    time        not null,
    -- At or before starts_local: it runs into the next day.
    ends_local      time        not null,
    created_by      text        not null,
    created_by_name text        not null,
    created_at      timestamptz not null default now(),
    removed_at      timestamptz,
    removed_by      text,

    constraint slot_days_known check (days between 1 and 127),
    constraint slot_not_empty check (starts_local <> ends_local),
    constraint slot_minutes_only check (date_trunc('minute', starts_local) = starts_local
                                        and date_trunc('minute', ends_local) = ends_local)
);

-- The same slot declared twice is one slot.
create unique index slot_declared_once on slot (days, starts_local, ends_local)
    where removed_at is null;

-- One occurrence of a slot the team decided to leave empty: no alarm for it.
create table slot_skip (
    slot_id         bigint      not null references slot (id),
    -- The occurrence's start, as domain::slot computes it.
    starts_at       timestamptz not null,
    reason          text        not null,
    skipped_by      text        not null,
    skipped_by_name text        not null,
    skipped_at      timestamptz not null default now(),

    primary key (slot_id, starts_at),
    constraint slot_skip_reason_not_blank check (length(btrim(reason)) between 1 and 1000)
);

-- Who declared, removed or skipped which slot, and why. Never edited, never deleted.
create table slot_activity (
    id         bigint generated always as identity primary key,
    slot_id    bigint      not null references slot (id),
    actor_id   text        not null,
    actor_name text        not null,
    action     text        not null,
    details    jsonb       not null default '{}',
    at         timestamptz not null default now(),

    constraint slot_activity_action_known check (action in ('declared', 'removed', 'skipped'))
);

create index slot_activity_slot on slot_activity (slot_id, id);

create trigger slot_activity_append_only
    before update or delete on slot_activity
    for each row execute function activity_is_append_only();

create trigger slot_activity_no_truncate
    before truncate on slot_activity
    for each statement execute function activity_is_append_only();

-- A saved set of up to six lines, by a case-folded name.
create table template (
    id              bigint generated always as identity primary key,
    name            text        not null,
    -- Where the lines came from: "#12", or a file's name.
    source          text        not null,
    created_by      text        not null,
    created_by_name text        not null,
    created_at      timestamptz not null default now(),

    constraint template_name_unique unique (name),
    constraint template_name_folded check (name = lower(name) and length(name) between 1 and 40)
);

create table template_line (
    template_id      bigint   not null references template (id) on delete cascade,
    position         smallint not null,
    sku              text     not null,
    discount_percent smallint not null,
    quantity         integer  not null,

    primary key (template_id, position),
    constraint template_line_position_range check (position between 1 and 6),
    constraint template_line_unique_sku unique (template_id, sku),
    constraint template_line_discount_range check (discount_percent between 1 and 90),
    constraint template_line_quantity_positive check (quantity > 0)
);

