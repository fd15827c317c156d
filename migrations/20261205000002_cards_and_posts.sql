-- Cards and posts (issue 23): what a card shows, a card the chat lost.

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
