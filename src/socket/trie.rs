//! Subscription tries: which prefixes are subscribed (`Trie`, on the
//! subscriber side), and which pipes want which prefixes (`MultiTrie`, on
//! the publisher side), as libzmq's `trie` and `mtrie`.

use std::collections::BTreeMap;

use crate::pipe::PipeId;

/// Prefixes with a subscription count each.
#[derive(Default)]
pub struct Trie {
    count: u32,
    children: BTreeMap<u8, Trie>,
}

impl Trie {
    /// Adds one subscription; true if the prefix is new.
    pub fn add(&mut self, prefix: &[u8]) -> bool {
        let mut node = self;
        for b in prefix {
            node = node.children.entry(*b).or_default();
        }
        node.count += 1;
        node.count == 1
    }

    /// Removes one subscription; true if it was the prefix's last.
    pub fn remove(&mut self, prefix: &[u8]) -> bool {
        fn rm(node: &mut Trie, prefix: &[u8]) -> Option<bool> {
            match prefix.split_first() {
                None => {
                    if node.count == 0 {
                        return None;
                    }
                    node.count -= 1;
                    Some(node.count == 0)
                }
                Some((b, rest)) => {
                    let child = node.children.get_mut(b)?;
                    let last = rm(child, rest)?;
                    if child.count == 0 && child.children.is_empty() {
                        node.children.remove(b);
                    }
                    Some(last)
                }
            }
        }
        rm(self, prefix).unwrap_or(false)
    }

    /// True if some subscribed prefix starts `data`.
    pub fn matches(&self, data: &[u8]) -> bool {
        let mut node = self;
        if node.count > 0 {
            return true;
        }
        for b in data {
            match node.children.get(b) {
                Some(child) => node = child,
                None => return false,
            }
            if node.count > 0 {
                return true;
            }
        }
        false
    }

    /// Every subscribed prefix, once per prefix (to resend on a new pipe).
    pub fn prefixes(&self) -> Vec<Vec<u8>> {
        fn walk(node: &Trie, path: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) {
            if node.count > 0 {
                out.push(path.clone());
            }
            for (b, child) in &node.children {
                path.push(*b);
                walk(child, path, out);
                path.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }
}

/// Prefixes with the set of pipes subscribed to each.
#[derive(Default)]
pub struct MultiTrie {
    pipes: Vec<PipeId>,
    children: BTreeMap<u8, MultiTrie>,
}

impl MultiTrie {
    /// Subscribes `pipe` to `prefix`; true if no pipe had it before.
    pub fn add(&mut self, prefix: &[u8], pipe: PipeId) -> bool {
        let mut node = self;
        for b in prefix {
            node = node.children.entry(*b).or_default();
        }
        let first = node.pipes.is_empty();
        if !node.pipes.contains(&pipe) {
            node.pipes.push(pipe);
        }
        first
    }

    /// Unsubscribes `pipe` from `prefix`; true if no pipe has it now.
    pub fn remove(&mut self, prefix: &[u8], pipe: PipeId) -> bool {
        fn rm(node: &mut MultiTrie, prefix: &[u8], pipe: PipeId) -> bool {
            match prefix.split_first() {
                None => {
                    let before = node.pipes.len();
                    node.pipes.retain(|p| *p != pipe);
                    before > 0 && node.pipes.is_empty()
                }
                Some((b, rest)) => {
                    let Some(child) = node.children.get_mut(b) else {
                        return false;
                    };
                    let last = rm(child, rest, pipe);
                    if child.pipes.is_empty() && child.children.is_empty() {
                        node.children.remove(b);
                    }
                    last
                }
            }
        }
        rm(self, prefix, pipe)
    }

    /// Removes `pipe` everywhere; returns each prefix it held, with true
    /// where nobody wants that prefix now.
    pub fn remove_pipe(&mut self, pipe: PipeId) -> Vec<(Vec<u8>, bool)> {
        fn walk(
            node: &mut MultiTrie,
            pipe: PipeId,
            path: &mut Vec<u8>,
            out: &mut Vec<(Vec<u8>, bool)>,
        ) {
            let before = node.pipes.len();
            node.pipes.retain(|p| *p != pipe);
            if node.pipes.len() < before {
                out.push((path.clone(), node.pipes.is_empty()));
            }
            let keys: Vec<u8> = node.children.keys().copied().collect();
            for b in keys {
                path.push(b);
                if let Some(child) = node.children.get_mut(&b) {
                    walk(child, pipe, path, out);
                    if child.pipes.is_empty() && child.children.is_empty() {
                        node.children.remove(&b);
                    }
                }
                path.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, pipe, &mut Vec::new(), &mut out);
        out
    }

    /// Calls `f` once for each pipe subscribed to a prefix of `data`.
    pub fn matching(&self, data: &[u8], mut f: impl FnMut(PipeId)) {
        let mut node = self;
        node.pipes.iter().for_each(|p| f(*p));
        for b in data {
            match node.children.get(b) {
                Some(child) => node = child,
                None => return,
            }
            node.pipes.iter().for_each(|p| f(*p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trie_counts_and_prefix_match() {
        let mut t = Trie::default();
        assert!(t.add(b"ab"));
        assert!(!t.add(b"ab"));
        assert!(t.matches(b"abc"));
        assert!(!t.matches(b"a"));
        assert!(!t.remove(b"ab"));
        assert!(t.remove(b"ab"));
        assert!(!t.matches(b"abc"));
        assert!(t.add(b""));
        assert!(t.matches(b"anything"));
    }

    #[test]
    fn multitrie_matches_each_pipe() {
        let mut t = MultiTrie::default();
        assert!(t.add(b"a", 1));
        assert!(t.add(b"ab", 2));
        t.add(b"", 3);
        let mut got = Vec::new();
        t.matching(b"abc", |p| got.push(p));
        got.sort();
        assert_eq!(got, vec![1, 2, 3]);
        assert_eq!(t.remove_pipe(1), vec![(b"a".to_vec(), true)]);
        let mut got = Vec::new();
        t.matching(b"a", |p| got.push(p));
        assert_eq!(got, vec![3]);
    }
}
