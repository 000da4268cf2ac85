//! Which offsets may be committed, per partition, when calls finish out of order.
//!
//! Calls take very different times (a 30 s call and a 2 h call may share a
//! partition), so they finish out of order. Committing offset `n + 1` says
//! "everything up to `n` is done", so the committable position of a partition is
//! the lowest offset still in flight, or one past the highest started offset
//! when nothing is in flight. Finishing offset 7 while 5 is still running
//! commits nothing new; finishing 5 then commits 8 at once.
//!
//! Each assignment of a partition gets a new generation, so a call that
//! finishes after its partition was revoked (and maybe assigned back) cannot
//! move the new owner's position.

use std::collections::{BTreeSet, HashMap};

/// One partition's in-flight offsets.
#[derive(Debug, Default)]
struct Partition {
    generation: u64,
    pending: BTreeSet<i64>,
    /// One past the highest offset started.
    high: Option<i64>,
    /// The last position handed out for committing.
    committed: Option<i64>,
}

/// Tracks in-flight offsets of the assigned partitions.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    partitions: HashMap<i32, Partition>,
    next_generation: u64,
}

/// A handle that names one started offset (partition, offset, generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    /// The partition.
    pub partition: i32,
    /// The message's offset.
    pub offset: i64,
    generation: u64,
}

impl OffsetTracker {
    /// A tracker with no partitions.
    pub fn new() -> Self {
        Self::default()
    }

    /// The partition was assigned to this consumer: start a new generation.
    pub fn assign(&mut self, partition: i32) {
        self.next_generation += 1;
        self.partitions
            .insert(partition, Partition { generation: self.next_generation, ..Partition::default() });
    }

    /// The partition was revoked: forget it. Returns its committable position
    /// (to commit before it goes), if anything was started on it.
    pub fn revoke(&mut self, partition: i32) -> Option<i64> {
        self.partitions.remove(&partition)?.position()
    }

    /// Whether the partition is assigned.
    pub fn is_assigned(&self, partition: i32) -> bool {
        self.partitions.contains_key(&partition)
    }

    /// A message was taken for processing. `None` if its partition is not
    /// assigned (a message delivered across a rebalance).
    pub fn start(&mut self, partition: i32, offset: i64) -> Option<Ticket> {
        let p = self.partitions.get_mut(&partition)?;
        p.pending.insert(offset);
        // Where consumption began is already the committed position.
        p.committed.get_or_insert(offset);
        p.high = Some(p.high.map_or(offset + 1, |h| h.max(offset + 1)));
        Some(Ticket { partition, offset, generation: p.generation })
    }

    /// A message is done (stored or dead-lettered). Returns the partition's new
    /// committable position if it advanced; `None` if it did not, or if the
    /// partition was revoked since the message started.
    pub fn finish(&mut self, ticket: Ticket) -> Option<i64> {
        let p = self.partitions.get_mut(&ticket.partition)?;
        if p.generation != ticket.generation || !p.pending.remove(&ticket.offset) {
            return None;
        }
        let pos = p.position()?;
        if Some(pos) == p.committed {
            return None;
        }
        p.committed = Some(pos);
        Some(pos)
    }

    /// Number of messages in flight over all partitions.
    pub fn in_flight(&self) -> usize {
        self.partitions.values().map(|p| p.pending.len()).sum()
    }

    /// Every assigned partition's committable position (for a final commit).
    pub fn positions(&self) -> Vec<(i32, i64)> {
        let mut v: Vec<_> = self.partitions.iter().filter_map(|(k, p)| Some((*k, p.position()?))).collect();
        v.sort_unstable();
        v
    }
}

impl Partition {
    fn position(&self) -> Option<i64> {
        self.pending.first().copied().or(self.high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_finishes_commit_only_the_contiguous_prefix() {
        let mut t = OffsetTracker::new();
        t.assign(0);
        let tickets: Vec<_> = (5..9).map(|o| t.start(0, o).expect("assigned")).collect();
        assert_eq!(t.finish(tickets[2]), None, "7 done, 5 and 6 still running");
        assert_eq!(t.finish(tickets[1]), None, "6 done, 5 still running");
        assert_eq!(t.finish(tickets[0]), Some(8), "5 done: 5, 6, 7 committable");
        assert_eq!(t.in_flight(), 1);
        assert_eq!(t.finish(tickets[3]), Some(9));
        assert_eq!(t.finish(tickets[3]), None, "finishing twice changes nothing");
        assert_eq!(t.in_flight(), 0);
    }

    #[test]
    fn partitions_are_independent() {
        let mut t = OffsetTracker::new();
        t.assign(0);
        t.assign(1);
        let a = t.start(0, 10).expect("assigned");
        let b = t.start(1, 3).expect("assigned");
        assert_eq!(t.finish(b), Some(4));
        assert_eq!(t.positions(), vec![(0, 10), (1, 4)]);
        assert_eq!(t.finish(a), Some(11));
    }

    #[test]
    fn revoked_partitions_ignore_late_finishes() {
        let mut t = OffsetTracker::new();
        t.assign(0);
        let a = t.start(0, 1).expect("assigned");
        let b = t.start(0, 2).expect("assigned");
        assert_eq!(t.finish(a), Some(2));
        assert_eq!(t.revoke(0), Some(2), "2 is still running");
        assert_eq!(t.finish(b), None, "revoked");
        t.assign(0);
        assert_eq!(t.finish(b), None, "an old generation's ticket");
        assert!(t.start(3, 0).is_none(), "unassigned partition");
    }

    #[test]
    fn revoke_hands_out_the_committable_position() {
        let mut t = OffsetTracker::new();
        t.assign(2);
        assert_eq!(t.revoke(2), None, "nothing started");
        t.assign(2);
        let a = t.start(2, 40).expect("assigned");
        let _running = t.start(2, 41).expect("assigned");
        assert_eq!(t.finish(a), Some(41));
        assert_eq!(t.revoke(2), Some(41));
    }

    #[test]
    fn random_finish_orders_never_commit_past_an_unfinished_offset() {
        // A small deterministic shuffle over many orders.
        for seed in 0..200u64 {
            let mut t = OffsetTracker::new();
            t.assign(0);
            let mut tickets: Vec<_> = (0..12).map(|o| t.start(0, o).expect("assigned")).collect();
            let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for i in (1..tickets.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                tickets.swap(i, (x >> 33) as usize % (i + 1));
            }
            let mut done = BTreeSet::new();
            let mut last = 0;
            for tk in tickets {
                done.insert(tk.offset);
                if let Some(pos) = t.finish(tk) {
                    assert!(pos > last);
                    assert!((0..pos).all(|o| done.contains(&o)), "seed {seed}: committed {pos} past a gap");
                    last = pos;
                }
            }
            assert_eq!(last, 12);
        }
    }
}
