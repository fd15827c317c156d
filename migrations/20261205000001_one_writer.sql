-- One writer per sale (docs/design.md, "One writer per sale").
--
-- Every storefront write for a sale carries a revision that only grows; a
-- storefront applies a write only when its revision is newer than the last
-- one it applied. Revisions come from one sequence: `nextval` is never rolled
-- back, so a number drawn by a writer that crashed is never handed out again,
-- and the numbers of one sale grow because the numbers of all sales do.
create sequence sale_revision as bigint;

-- The revision and idempotency key of the write a job's current decision
-- sends: a retry of the same decision repeats both, a new decision (the
-- storefront showed something else, or answered that a newer write won)
-- draws a new revision and a new key.
alter table job add column revision bigint;

-- When the first `stop` of a live sale was asked for: from then on its sale
-- must be down, whatever a reconcile round reads, and a second stop is
-- recorded and announced without planning the end again.
alter table session add column stop_requested_at timestamptz;

-- The reconciler's candidates, found without reading every session: the live
-- ones, and those whose storefront jobs ran lately.
create index session_live on session (id) where status = 'live';
create index job_storefront_recent on job (updated_at, session_id)
    where kind in ('publish', 'end', 'repair') and claims > 0;
