//! Recycling of message blocks (up to 64 KiB).
//!
//! A sender allocates one block per message and another thread (the I/O
//! thread, or the receiving socket's over inproc) frees it. glibc then
//! serves every allocation from its slow path, and a sender that runs ahead
//! makes it trim and refault the heap. Freed blocks come back here instead:
//! each thread keeps a few per size class and hands its surplus to the
//! others in batches, so the shared lock is taken once per batch, not once
//! per message. What is kept is bounded per class.

use std::cell::RefCell;

use parking_lot::Mutex;

use super::Block;

/// Block sizes that are recycled; a request is rounded up to the next one.
const CLASSES: [usize; 11] = [
    64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];
const SMALLEST_LOG2: u32 = 6;
/// Bytes of one class a thread keeps for itself (at most 64 blocks, at
/// least 4).
const LOCAL_MAX_BYTES: usize = 256 * 1024;
/// Bytes of one class the shared store keeps; beyond, blocks are freed.
const SHARED_MAX_BYTES: usize = 1 << 20;

/// Blocks of a class a thread keeps; half of them move at once.
const fn local_max(class: usize) -> usize {
    let n = LOCAL_MAX_BYTES / CLASSES[class];
    if n > 64 {
        64
    } else if n < 4 {
        4
    } else {
        n
    }
}

static SHARED: [Mutex<Vec<Vec<Block>>>; CLASSES.len()] =
    [const { Mutex::new(Vec::new()) }; CLASSES.len()];

thread_local! {
    static LOCAL: RefCell<[Vec<Block>; CLASSES.len()]> =
        const { RefCell::new([const { Vec::new() }; CLASSES.len()]) };
}

/// The class a request of `size` bytes is served from, and its block size.
pub(super) fn class_for(size: usize) -> Option<(usize, usize)> {
    if size > CLASSES[CLASSES.len() - 1] {
        return None;
    }
    let log2 = size.max(1).next_power_of_two().trailing_zeros();
    let class = log2.saturating_sub(SMALLEST_LOG2) as usize;
    Some((class, CLASSES[class]))
}

/// The class a block of exactly `len` bytes goes back to.
pub(super) fn class_of_block(len: usize) -> Option<usize> {
    match class_for(len) {
        Some((class, size)) if size == len => Some(class),
        _ => None,
    }
}

/// A recycled block of the class, if there is one.
pub(super) fn take(class: usize) -> Option<Block> {
    LOCAL
        .try_with(|local| {
            let mut local = local.try_borrow_mut().ok()?;
            let mine = &mut local[class];
            if mine.is_empty() {
                let batch = SHARED[class].lock().pop()?;
                *mine = batch;
            }
            mine.pop()
        })
        .ok()
        .flatten()
}

/// Keeps a block nobody else references for reuse (or frees it when
/// enough are kept).
pub(super) fn give(class: usize, block: Block) {
    let _ = LOCAL.try_with(move |local| {
        let Ok(mut local) = local.try_borrow_mut() else {
            return;
        };
        let mine = &mut local[class];
        let max = local_max(class);
        if mine.len() >= max {
            let batch = mine.split_off(mine.len() - max / 2);
            let surplus = {
                let mut shared = SHARED[class].lock();
                if (shared.len() + 1) * (max / 2) * CLASSES[class] <= SHARED_MAX_BYTES {
                    shared.push(batch);
                    None
                } else {
                    Some(batch)
                }
            };
            // Freed outside the lock.
            drop(surplus);
        }
        mine.push(block);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_round_up() {
        assert_eq!(class_for(0), Some((0, 64)));
        assert_eq!(class_for(47), Some((0, 64)));
        assert_eq!(class_for(64), Some((0, 64)));
        assert_eq!(class_for(65), Some((1, 128)));
        assert_eq!(class_for(8192), Some((7, 8192)));
        assert_eq!(class_for(65536), Some((10, 65536)));
        assert_eq!(class_for(65537), None);
        assert_eq!(class_of_block(1024), Some(4));
        assert_eq!(class_of_block(1000), None);
        assert_eq!(class_of_block(65536), Some(10));
        assert_eq!(local_max(0), 64);
        assert_eq!(local_max(10), 4);
    }
}
