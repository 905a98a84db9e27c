//! Stable slots for jobs in service, reused through a free list.

use super::discipline::Job;

#[derive(Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<Option<Job>>,
    free: Vec<u32>,
}

impl Slab {
    /// Stores `j`; its slot.
    #[inline]
    pub fn insert(&mut self, j: Job) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(j);
                i
            }
            None => {
                self.slots.push(Some(j));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Takes the job out of slot `i`.
    #[inline]
    pub fn remove(&mut self, i: u32) -> Job {
        let j = self.slots[i as usize].take().expect("a live slot");
        self.free.push(i);
        j
    }

    /// Jobs held.
    #[inline]
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}
