-- Money guards (issue 27): what an approver allowed against a hard guard,
-- and the price facts each item was checked against.
--
-- An override covers exactly one SKU at one discount in one session (an
-- edit to another discount is checked again), or, with no SKU, the
-- session's budget up to the give-away it was given for. Who gave it and
-- why stay here and in the activity log.
create table guard_override (
    id               bigint generated always as identity primary key,
    session_id       bigint      not null references session (id) on delete cascade,
    sku              text,
    discount_percent smallint,
    giveaway_minor   bigint,
    reason           text        not null,
    actor_id         text        not null,
    actor_name       text        not null,
    at               timestamptz not null default now(),

    -- A line override names its discount; a budget override its give-away.
    constraint guard_override_line_or_budget check (
        (sku is not null and discount_percent is not null and giveaway_minor is null)
        or (sku is null and discount_percent is null and giveaway_minor is not null)
    ),
    constraint guard_override_discount_range check (discount_percent between 1 and 90),
    constraint guard_override_reason_not_blank check (length(btrim(reason)) > 0)
);

create index guard_override_session on guard_override (session_id);

-- The facts an item was validated against, so cards stay DB-only: the
-- reference (lowest price of the reference period), the unit cost where the
-- shop gave one, and the flags (suspicious, not refused) as people read them.
alter table session_item
    add column reference_minor bigint,
    add column unit_cost_minor bigint,
    add column guard_flags     text[] not null default '{}';
