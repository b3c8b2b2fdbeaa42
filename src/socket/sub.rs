//! SUB: an XSUB whose subscriptions are set with `ZMQ_SUBSCRIBE` and
//! `ZMQ_UNSUBSCRIBE`, and which cannot send.

use super::xsub::XSub;

pub fn new() -> XSub {
    XSub::new(true)
}
