//! `zmq_timers_*`: a set of repeating timers that the caller drives from
//! its own loop (`zmq_timers_timeout` to know how long to wait,
//! `zmq_timers_execute` to run what is due).

use std::collections::HashMap;
use std::ffi::{c_int, c_long, c_void};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::guard;
use super::handle::Registry;
use crate::error::{Error, Result};

/// Stands for C's function type `zmq_timer_fn` (declared in cbindgen.toml).
#[repr(C)]
pub struct zmq_timer_fn {
    _opaque: [u8; 0],
}

type TimerFn = unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void);

struct Timer {
    interval: Duration,
    due: Instant,
    handler: TimerFn,
    arg: usize,
}

#[derive(Default)]
pub(crate) struct Timers {
    inner: Mutex<TimersInner>,
}

#[derive(Default)]
struct TimersInner {
    last_id: c_int,
    timers: HashMap<c_int, Timer>,
}

static TIMERS: Registry<Timers> = Registry::new();

fn timers(handle: *mut c_void) -> Result<Arc<Timers>> {
    TIMERS.get(handle).ok_or(Error::Fault)
}

fn with_timer(handle: *mut c_void, id: c_int, f: impl FnOnce(&mut Timer)) -> c_int {
    guard(-1, || {
        let t = timers(handle)?;
        let mut inner = t.inner.lock();
        f(inner.timers.get_mut(&id).ok_or(Error::Inval)?);
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_timers_new() -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        Ok(TIMERS.insert(Arc::new(Timers::default())))
    })
}

#[no_mangle]
pub extern "C" fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int {
    guard(-1, || {
        if timers_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL, pointing to the caller's handle variable.
        let handle = unsafe { *timers_p };
        TIMERS.remove(handle).ok_or(Error::Fault)?;
        // SAFETY: as above.
        unsafe { *timers_p = std::ptr::null_mut() };
        Ok(0)
    })
}

/// Returns the new timer's id (from 1 up).
#[no_mangle]
pub extern "C" fn zmq_timers_add(
    timers_: *mut c_void,
    interval: usize,
    handler: *mut zmq_timer_fn,
    arg: *mut c_void,
) -> c_int {
    guard(-1, || {
        let t = timers(timers_)?;
        if handler.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: C passed a pointer to a function of type zmq_timer_fn;
        // code and data pointers have the same size on our targets.
        let handler = unsafe { std::mem::transmute::<*mut zmq_timer_fn, TimerFn>(handler) };
        let interval = Duration::from_millis(interval as u64);
        let mut inner = t.inner.lock();
        inner.last_id = inner.last_id.checked_add(1).ok_or(Error::NoMem)?;
        let id = inner.last_id;
        inner.timers.insert(
            id,
            Timer {
                interval,
                due: Instant::now() + interval,
                handler,
                arg: arg as usize,
            },
        );
        Ok(id)
    })
}

#[no_mangle]
pub extern "C" fn zmq_timers_cancel(timers_: *mut c_void, timer_id: c_int) -> c_int {
    guard(-1, || {
        let t = timers(timers_)?;
        let mut inner = t.inner.lock();
        inner.timers.remove(&timer_id).ok_or(Error::Inval)?;
        Ok(0)
    })
}

/// Changes the interval; the timer restarts from now.
#[no_mangle]
pub extern "C" fn zmq_timers_set_interval(
    timers_: *mut c_void,
    timer_id: c_int,
    interval: usize,
) -> c_int {
    with_timer(timers_, timer_id, |t| {
        t.interval = Duration::from_millis(interval as u64);
        t.due = Instant::now() + t.interval;
    })
}

/// Restarts the timer from now.
#[no_mangle]
pub extern "C" fn zmq_timers_reset(timers_: *mut c_void, timer_id: c_int) -> c_int {
    with_timer(timers_, timer_id, |t| t.due = Instant::now() + t.interval)
}

/// Milliseconds until the next timer is due (0 if one is overdue), or -1
/// when there is none.
#[no_mangle]
pub extern "C" fn zmq_timers_timeout(timers_: *mut c_void) -> c_long {
    guard(-1, || {
        let t = timers(timers_)?;
        let inner = t.inner.lock();
        let now = Instant::now();
        Ok(match inner.timers.values().map(|t| t.due).min() {
            None => -1,
            Some(due) => {
                let ms = due
                    .saturating_duration_since(now)
                    .as_micros()
                    .div_ceil(1000);
                ms.min(c_long::MAX as u128) as c_long
            }
        })
    })
}

/// Runs every due timer's handler once and schedules it again an interval
/// from now. Handlers may add, cancel or change timers: the lock is not
/// held while one runs, and a timer cancelled by an earlier handler of the
/// same round does not run.
#[no_mangle]
pub extern "C" fn zmq_timers_execute(timers_: *mut c_void) -> c_int {
    guard(-1, || {
        let t = timers(timers_)?;
        let now = Instant::now();
        let mut due: Vec<(Instant, c_int)> = {
            let inner = t.inner.lock();
            inner
                .timers
                .iter()
                .filter(|(_, t)| t.due <= now)
                .map(|(id, t)| (t.due, *id))
                .collect()
        };
        due.sort();
        for (_, id) in due {
            let call = {
                let mut inner = t.inner.lock();
                match inner.timers.get_mut(&id) {
                    Some(timer) => {
                        timer.due = now + timer.interval;
                        Some((timer.handler, timer.arg))
                    }
                    None => None,
                }
            };
            if let Some((handler, arg)) = call {
                // SAFETY: the caller's handler with the id and argument it
                // registered, as zmq_timers_add promises.
                unsafe { handler(id, arg as *mut c_void) };
            }
        }
        Ok(0)
    })
}
