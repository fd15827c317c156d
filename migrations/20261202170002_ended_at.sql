-- When a session really ended on the storefront. A session an approver
-- stopped ends before its planned ends_at, and the time after that is free
-- again: the daily digest and list count a session as busy only until then.
-- Set (by the database's clock) when the status becomes 'ended'; nullable:
-- sessions that have not ended have no end yet.
alter table session add column ended_at timestamptz;

-- Sessions that ended before this column existed: when their end was logged.
update session s
set ended_at = (
    select max(a.at)
    from activity a
    where a.session_id = s.id and a.action = 'ended'
)
where s.status = 'ended';
