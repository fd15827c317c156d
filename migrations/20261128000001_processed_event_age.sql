-- processed_event is pruned by age (see src/store/events.rs): index the age so
-- the daily delete does not scan the whole table.
create index processed_event_age on processed_event (processed_at);
