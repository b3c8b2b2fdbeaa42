//! The lock taken on every send and receive: a socket's state and each
//! direction of a pipe.
//!
//! These locks are almost never contended (a socket is used by one thread
//! at a time; a pipe's two ends meet only when a batch changes hands), so
//! what they cost is their atomic instructions. parking_lot's mutex takes a
//! locked instruction to lock and another to unlock (it must check for
//! parked waiters); this one unlocks with a plain store, as libzmq's
//! lock-free pipes pay one locked instruction per message. A waiter spins
//! briefly, then yields its CPU, so a holder preempted on the same CPU
//! gets to finish.

/// A spin lock that yields under contention.
pub type Lock<T> = spin::mutex::SpinMutex<T, Backoff>;

/// How a waiter for a [`Lock`] passes time: a few pause instructions,
/// enough for a holder on another CPU, then a yield.
pub struct Backoff;

impl spin::RelaxStrategy for Backoff {
    #[inline]
    fn relax() {
        for _ in 0..32 {
            std::hint::spin_loop();
        }
        std::thread::yield_now();
    }
}
