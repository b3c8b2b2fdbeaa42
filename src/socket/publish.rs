//! PUB: an XPUB that never hands subscriptions to the application and
//! cannot receive.

use super::xpub::XPub;

pub fn new() -> XPub {
    XPub::new(true)
}
