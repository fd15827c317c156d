-- Cards and posts (issue 23): what a card shows, a card the chat lost, posts
-- delivered one at a time in each session's order, and the daily digest as a
-- post of the outbox.

-- The version the approval card shows, beside its status (20261203000002): a
-- card is behind when either differs from the session's. A press on a card
-- that is not behind redraws nothing (`FlashSales::refresh_card`).
alter table session add column card_version integer;
update session set card_version = version
where card_message is not null and card_status = status;

-- When the chat refused an edit of the card for good (the message was
-- deleted, the bot lost its permission), and why. Such a card is never
-- edited again: the next state change posts a fresh one (`set_card` clears
-- both), and the stale-card scan leaves it out, so it neither loops nor
-- holds newer stale cards back.
alter table session add column card_lost_at timestamptz;
alter table session add column card_lost_reason text;

-- The stale-card scan (`store::sessions::stale_cards`, every reconcile round
-- on every replica) reads only the cards that are behind, oldest change
-- first, through this index instead of the whole table. Its predicate is the
-- scan's, word for word, so the planner can prove the index covers it.
create index session_card_behind on session (updated_at)
where card_message is not null and card_lost_at is null
  and (card_status is distinct from status or card_version is distinct from version);

-- Posts about no one session: the daily digest, and the alert that a post
-- of it was refused. Their key is the event alone (`digest:2026-12-05`,
-- `refused:17`), once each.
alter table outbox alter column session_id drop not null;
create unique index outbox_one_post_per_event_without_session on outbox (event)
where session_id is null;

-- A session's posts go out in the order they were written: a post is taken
-- only when no older post of its session still waits (`outbox::claim_due`).
-- This index answers "does an older one wait?" without reading sent posts.
create index outbox_waiting_by_session on outbox (session_id, id)
where state in ('pending', 'sending');
