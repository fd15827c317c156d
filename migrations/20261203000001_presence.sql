-- Presence: a replica tells a dead process's claims from a slow one's without
-- waiting out the lease.
--
-- Every scheduler holds a session-level advisory lock (namespace 1179407176,
-- "FLSH", and a key of its own) on a connection it keeps open while it runs,
-- and stamps its claims with that key. Postgres releases the lock as soon as
-- the connection closes, which is as soon as a killed process's sockets close.
-- A claim whose key nobody holds belongs to a process that is gone and may be
-- taken over at once; the lease stays the backstop for what a closed socket
-- does not show (a frozen process, a host lost without a FIN).
alter table job add column claimed_presence integer;
alter table outbox add column claimed_presence integer;

-- The keys of the schedulers connected to this database right now. An
-- uncorrelated view, so a claim reads pg_locks once, not once per row.
create view present_worker as
select objid::int8::int4 as key
from pg_locks
where locktype = 'advisory'
  and granted
  and objsubid = 2
  and classid = 1179407176
  and database = (select oid from pg_database where datname = current_database());
