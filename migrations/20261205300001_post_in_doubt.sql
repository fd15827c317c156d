-- Posts whose outcome is in doubt (issue 29, item 6): Slack is no longer
-- asked whether a post went out (its channel history is limited to one read
-- a minute for new apps outside the Marketplace, and two posts in flight
-- both passed that check), so the outbox keeps what it knows itself.

-- When the current try began talking to the chat, written (fenced) just
-- before the chat call and cleared when the chat answered "not taken"
-- (`retry_later`). A post claimed again while it is set was left by a
-- process that stopped mid-call: the chat may have it. Where posted is
-- recorded (`posted_channel`, `posted_message`) with `sent`, as before.
alter table outbox add column posting_since timestamptz;

-- `unconfirmed`: such a post, given up on by a chat that cannot drop a
-- repeat (Slack) instead of risking it twice; approvers are told to check.
alter table outbox drop constraint outbox_state_known;
alter table outbox add constraint outbox_state_known
    check (state in ('pending', 'sending', 'sent', 'refused', 'unconfirmed'));

-- Pruned like the other settled posts (`store::housekeeping::prune_outbox`).
drop index outbox_finished_age;
create index outbox_finished_age on outbox (created_at)
    where state in ('sent', 'refused', 'unconfirmed');
