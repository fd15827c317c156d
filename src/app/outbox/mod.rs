//! The outbox, app's side: the notices a change writes, delivered to the
//! chat until it takes them (`store::outbox` keeps them).

use crate::chat::Channel;
use crate::store::outbox::Destination;

/// Where the outbox keeps a post for `channel`.
pub(super) fn destination(channel: Channel) -> Destination {
    match channel {
        Channel::Announcements => Destination::Announcements,
        Channel::Approvals => Destination::Approvals,
    }
}

/// The chat channel of a post the outbox kept for `destination`.
pub(super) fn channel(destination: Destination) -> Channel {
    match destination {
        Destination::Announcements => Channel::Announcements,
        Destination::Approvals => Channel::Approvals,
    }
}
