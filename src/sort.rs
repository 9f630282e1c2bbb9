//! One compiled copy of the standard library's stable sort for the whole crate.
//!
//! `slice::sort_by` is generic over the item and the comparison, so every call site compiles its
//! own copy of the sort (about 4 KiB of wasm each). Here the sort runs once, on positions, with
//! the comparison behind a `dyn`; the items are then moved into place.

use std::cmp::Ordering;

/// Sorts `items` by `compare`, keeping equal items in their order (as `slice::sort_by`).
pub fn sort_by<T>(items: &mut [T], compare: impl Fn(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    sort_positions(&mut order, &|a, b| compare(&items[a], &items[b]));
    permute(items, order);
}

/// Sorts `items` by a key, keeping equal items in their order (as `slice::sort_by_key`).
pub fn sort_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

#[inline(never)]
fn sort_positions(order: &mut [usize], compare: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| compare(a, b));
}

/// Moves `items[order[i]]` to position `i`, following each cycle of the permutation once.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_standard_sort_does_and_keeps_equal_items_in_order() {
        // A fixed pseudo-random sequence with many equal keys; the tag shows the original order.
        let mut seed = 0x2545_f491_u32;
        for len in [0usize, 1, 2, 3, 7, 20, 100, 1000] {
            let items: Vec<(u32, usize)> = (0..len)
                .map(|tag| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    (seed % 10, tag)
                })
                .collect();
            let mut ours = items.clone();
            sort_by(&mut ours, |a, b| b.0.cmp(&a.0));
            let mut std = items.clone();
            // The same comparator as ours on purpose: the two must agree call for call.
            #[allow(clippy::unnecessary_sort_by)]
            std.sort_by(|a, b| b.0.cmp(&a.0));
            assert_eq!(ours, std, "length {len}");
            let mut by_key = items.clone();
            sort_by_key(&mut by_key, |item| item.0);
            let mut std = items;
            std.sort_by_key(|item| item.0);
            assert_eq!(by_key, std, "length {len}");
        }
    }

    #[test]
    fn moves_items_that_own_memory_without_losing_or_doubling_any() {
        let mut words: Vec<String> = ["pear", "fig", "apple", "kiwi", "banana", "fig"].map(String::from).to_vec();
        sort_by(&mut words, |a, b| a.cmp(b));
        assert_eq!(words, ["apple", "banana", "fig", "fig", "kiwi", "pear"]);
    }
}
