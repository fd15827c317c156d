-- The submitter's display name, for the card footer ("submitted by Carol"),
-- next to created_by_name: submitted_by holds a platform id people cannot read.
-- Nullable: a session that was never submitted has no submitter.
alter table session add column submitted_by_name text;

-- Sessions submitted before this column existed: the name their last submit
-- was logged with (the activity log records every submit with its actor).
update session s
set submitted_by_name = (
    select a.actor_name
    from activity a
    where a.session_id = s.id and a.action = 'submitted' and a.actor_id = s.submitted_by
    order by a.id desc
    limit 1
)
where s.submitted_by is not null;
