//! The computation of a draw from a validated input, spec `draw-v1.md` §4–§8.
//!
//! * §4 seed: `announcement_digest`, then the seed from the revealed sources;
//! * §6 lottery numbers: Fisher–Yates over the units (families or single
//!   children) in ascending id order, driven by `uniform(m)` of §5;
//! * §7 assignment: every school ranks the applicants who list it by
//!   (priority, lottery number, id); applicant-proposing deferred acceptance
//!   with one bounded max-heap per school (the currently held applicants,
//!   worst on top), O(total prefs · log seats);
//! * §8 result: written by hand as canonical JSON into one buffer.
//!
//! Everything is integer arithmetic on roster indices; strings only appear
//! when the result is written.

use std::collections::BinaryHeap;

use sha2::{Digest, Sha256};

use super::cjson;
use super::input::{Draw, VERSION};
use super::merkle::Hash;
use super::rng::DrawRng;

/// "Not assigned" / "no such index".
pub const NONE: u32 = u32::MAX;

/// Everything a draw computes, by roster index (applicants) and
/// announcement index (schools).
pub struct Outcome {
    pub announcement_digest: Hash,
    pub seed: Hash,
    /// Lottery number (1-based) of each applicant.
    pub lottery_number: Vec<u32>,
    /// Applicants in lottery order: by (lottery number, id).
    pub lottery_order: Vec<u32>,
    /// School each applicant is assigned to, or [`NONE`].
    pub assigned: Vec<u32>,
    /// School `s`'s admitted applicants, in its ranking order, are
    /// `assign_list[assign_off[s]..assign_off[s+1]]`.
    pub assign_off: Vec<u32>,
    pub assign_list: Vec<u32>,
    /// School `s`'s waitlist, in its ranking order.
    pub wait_off: Vec<u32>,
    pub wait_list: Vec<u32>,
    /// Applicants assigned nowhere, in lottery order.
    pub unassigned: Vec<u32>,
}

impl Outcome {
    pub fn admitted(&self, s: usize) -> &[u32] {
        &self.assign_list[self.assign_off[s] as usize..self.assign_off[s + 1] as usize]
    }
    pub fn waitlist(&self, s: usize) -> &[u32] {
        &self.wait_list[self.wait_off[s] as usize..self.wait_off[s + 1] as usize]
    }
}

/// `SHA-256(CJSON(announcement))`.
pub fn announcement_digest(draw: &Draw) -> Hash {
    Sha256::digest(draw.announcement.to_bytes()).into()
}

/// The seed of §4 from the announcement digest and the revealed sources.
pub fn seed(announcement_digest: &Hash, sources: &[(String, String)]) -> Hash {
    let mut b = Vec::with_capacity(256);
    b.extend_from_slice(b"{\"announcement\":\"");
    b.extend_from_slice(hex::encode(announcement_digest).as_bytes());
    b.extend_from_slice(b"\",\"sources\":[");
    for (k, (name, value)) in sources.iter().enumerate() {
        if k > 0 {
            b.push(b',');
        }
        b.extend_from_slice(b"{\"name\":");
        cjson::write_str(&mut b, name);
        b.extend_from_slice(b",\"value\":");
        cjson::write_str(&mut b, value);
        b.push(b'}');
    }
    b.extend_from_slice(b"],\"version\":");
    cjson::write_str(&mut b, VERSION);
    b.push(b'}');
    Sha256::digest(&b).into()
}

/// Compute the draw (§4–§7).
pub fn compute(draw: &Draw) -> Outcome {
    let n = draw.len();
    let announcement_digest = announcement_digest(draw);
    let seed = seed(&announcement_digest, &draw.sources);

    // §6 units: the entries that name themselves (or nobody) as family, in
    // roster order, which is ascending id order.
    let mut unit_of_rep = vec![NONE; n];
    let mut m = 0u32;
    for (i, u) in unit_of_rep.iter_mut().enumerate() {
        if draw.unit_rep[i] as usize == i {
            *u = m;
            m += 1;
        }
    }
    let unit_of = |i: usize| unit_of_rep[draw.unit_rep[i] as usize];

    // Fisher–Yates: for i from m−1 down to 1, j = uniform(i+1), swap.
    let mut rng = DrawRng::new(seed);
    let mut order: Vec<u32> = (0..m).collect();
    for i in (1..m as usize).rev() {
        let j = rng.uniform(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let mut number_of_unit = vec![0u32; m as usize];
    for (p, &u) in order.iter().enumerate() {
        number_of_unit[u as usize] = p as u32 + 1;
    }
    let lottery_number: Vec<u32> = (0..n).map(|i| number_of_unit[unit_of(i) as usize]).collect();

    // Members of each unit in id order (counting sort), then lottery order.
    let mut unit_off = vec![0u32; m as usize + 1];
    for i in 0..n {
        unit_off[unit_of(i) as usize + 1] += 1;
    }
    for u in 0..m as usize {
        unit_off[u + 1] += unit_off[u];
    }
    let mut fill = unit_off.clone();
    let mut members = vec![0u32; n];
    for i in 0..n {
        let u = unit_of(i) as usize;
        members[fill[u] as usize] = i as u32;
        fill[u] += 1;
    }
    drop(fill);
    let mut lottery_order = Vec::with_capacity(n);
    for &u in &order {
        lottery_order.extend_from_slice(&members[unit_off[u as usize] as usize..unit_off[u as usize + 1] as usize]);
    }
    drop(members);
    drop(unit_off);

    // §7 rankings. A school ranks applicant `a` by (priority, lottery number,
    // id); (lottery number, id) is exactly a's position in the lottery order,
    // so one u64 key `priority_class_rank << 32 | lottery_position` orders
    // every school's applicants, and keys of different applicants differ.
    let mut lottery_pos = vec![0u32; n];
    for (p, &a) in lottery_order.iter().enumerate() {
        lottery_pos[a as usize] = p as u32;
    }
    // One preference slot, packed so that a proposal touches one cache line.
    #[derive(Clone, Copy)]
    struct Slot {
        key: u64,
        school: u32,
        applicant: u32,
    }
    let mut slot_info: Vec<Slot> = Vec::with_capacity(draw.slot_school.len());
    for (a, &lp) in lottery_pos.iter().enumerate() {
        for slot in draw.slots(a) {
            let class = draw.class_rank[draw.slot_class[slot] as usize] as u64;
            slot_info.push(Slot { key: class << 32 | lp as u64, school: draw.slot_school[slot], applicant: a as u32 });
        }
    }
    drop(lottery_pos);

    // Applicant-proposing deferred acceptance. `cursor[a]` is (the slot a
    // proposes to next or is held at, end of a's slots); each school's heap
    // holds the keys of the applicants it currently holds, worst on top,
    // never more than its seats.
    let ns = draw.schools.len();
    let seats: Vec<u64> = draw.schools.iter().map(|s| s.seats).collect();
    let mut cursor: Vec<(u32, u32)> = draw.pref_off.windows(2).map(|w| (w[0], w[1])).collect();
    // Keys alone (8 bytes) keep the heaps small; the applicant behind a key
    // is `lottery_order[key & 0xffff_ffff]`.
    let applicant_of = |key: u64| lottery_order[(key & 0xffff_ffff) as usize];
    let mut heaps: Vec<BinaryHeap<u64>> = (0..ns).map(|_| BinaryHeap::new()).collect();
    for start in 0..n {
        let mut a = start;
        loop {
            let (cur, end) = cursor[a];
            if cur >= end {
                break; // a is rejected everywhere
            }
            let sl = slot_info[cur as usize];
            let s = sl.school as usize;
            let heap = &mut heaps[s];
            if (heap.len() as u64) < seats[s] {
                heap.push(sl.key);
                break;
            }
            match heap.peek_mut() {
                Some(mut worst) if sl.key < *worst => {
                    let b = applicant_of(*worst) as usize;
                    *worst = sl.key;
                    cursor[b].0 += 1;
                    a = b;
                }
                _ => cursor[a].0 += 1,
            }
        }
    }

    // Assignments: each heap, sorted by key, is the school's admitted list
    // in ranking order.
    let mut assigned = vec![NONE; n];
    let mut assign_off = Vec::with_capacity(ns + 1);
    let mut assign_list = Vec::with_capacity(n);
    assign_off.push(0u32);
    for (s, heap) in heaps.into_iter().enumerate() {
        let mut held = heap.into_vec();
        held.sort_unstable();
        for &key in &held {
            let a = applicant_of(key);
            assigned[a as usize] = s as u32;
            assign_list.push(a);
        }
        assign_off.push(assign_list.len() as u32);
    }

    // Waitlists: every slot before the one a is held at (all of a's slots
    // if a is unassigned), grouped by school with a counting pass, then
    // sorted by key.
    let mut wait_off = vec![0u32; ns + 1];
    for a in 0..n {
        for sl in &slot_info[draw.pref_off[a] as usize..cursor[a].0 as usize] {
            wait_off[sl.school as usize + 1] += 1;
        }
    }
    for s in 0..ns {
        wait_off[s + 1] += wait_off[s];
    }
    let mut fill = wait_off.clone();
    let mut waiting = vec![(0u64, 0u32); wait_off[ns] as usize];
    for a in 0..n {
        for sl in &slot_info[draw.pref_off[a] as usize..cursor[a].0 as usize] {
            let s = sl.school as usize;
            waiting[fill[s] as usize] = (sl.key, sl.applicant);
            fill[s] += 1;
        }
    }
    drop(fill);
    drop(cursor);
    drop(slot_info);
    let mut wait_list = Vec::with_capacity(waiting.len());
    for s in 0..ns {
        let list = &mut waiting[wait_off[s] as usize..wait_off[s + 1] as usize];
        list.sort_unstable();
        wait_list.extend(list.iter().map(|&(_, a)| a));
    }
    drop(waiting);
    let unassigned = lottery_order.iter().copied().filter(|&a| assigned[a as usize] == NONE).collect();

    Outcome { announcement_digest, seed, lottery_number, lottery_order, assigned, assign_off, assign_list, wait_off, wait_list, unassigned }
}

/// Append the canonical JSON of `result` (§8) to `out`.
pub fn write_result(draw: &Draw, o: &Outcome, out: &mut Vec<u8>) {
    out.reserve(draw.len() * 64);
    // Applicant ids match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ (checked by
    // validation), so their CJSON form is the id in quotes, no escaping.
    let ids = |out: &mut Vec<u8>, list: &[u32]| {
        out.push(b'[');
        for (k, &a) in list.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(draw.id_bytes(a as usize));
            out.push(b'"');
        }
        out.push(b']');
    };
    let per_school = |out: &mut Vec<u8>, off: &[u32], list: &[u32]| {
        out.push(b'{');
        for (k, &s) in draw.school_order.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            cjson::write_str(out, &draw.schools[s as usize].id);
            out.push(b':');
            let s = s as usize;
            ids(out, &list[off[s] as usize..off[s + 1] as usize]);
        }
        out.push(b'}');
    };
    out.extend_from_slice(b"{\"announcement_digest\":\"");
    out.extend_from_slice(hex::encode(o.announcement_digest).as_bytes());
    out.extend_from_slice(b"\",\"assignments\":");
    per_school(out, &o.assign_off, &o.assign_list);
    out.extend_from_slice(b",\"draw_id\":");
    cjson::write_str(out, &draw.draw_id);
    out.extend_from_slice(b",\"lottery\":");
    ids(out, &o.lottery_order);
    out.extend_from_slice(b",\"lottery_numbers\":{");
    for i in 0..draw.len() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(draw.id_bytes(i));
        out.extend_from_slice(b"\":");
        cjson::write_uint(out, o.lottery_number[i] as u64);
    }
    out.extend_from_slice(b"},\"seed\":\"");
    out.extend_from_slice(hex::encode(o.seed).as_bytes());
    out.extend_from_slice(b"\",\"unassigned\":");
    ids(out, &o.unassigned);
    out.extend_from_slice(b",\"version\":");
    cjson::write_str(out, VERSION);
    out.extend_from_slice(b",\"waitlists\":");
    per_school(out, &o.wait_off, &o.wait_list);
    out.push(b'}');
}
