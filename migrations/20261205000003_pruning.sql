-- pruning of the work queues (src/store/housekeeping.rs): the daily
-- housekeeping deletes finished jobs and delivered or refused posts of
-- settled sessions once they are older than QUEUE_RETENTION_DAYS.
--
-- partial indexes of the finished rows only, by age: the delete reads the
-- old finished rows through them instead of scanning every job and post,
-- and rows still waiting or running (the ones the scheduler polls) are not
-- in them, so claiming pays nothing for their upkeep beyond the one entry a
-- row gains when it finishes.
create index job_finished_age on job (updated_at)
    where state in ('done', 'cancelled', 'failed');

create index outbox_finished_age on outbox (created_at)
    where state in ('sent', 'refused');
