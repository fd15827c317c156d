-- The status the approval card shows. An edit the chat could not take (it was
-- down) leaves it behind the session's status, and the reconciler redraws such
-- cards (`FlashSales::redraw_stale_cards`). Status, not version: a draft's
-- item edits change its version but not its card.
alter table session add column card_status text;
update session set card_status = status where card_message is not null;
