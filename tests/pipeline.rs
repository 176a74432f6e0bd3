//! Row-chunk pipelines: results equal naive sequential loops, are bit-identical across thread
//! counts, and `map_to_file` writes what a plain loop computes (C and Fortran inputs).

use mmnpy::ops::OutputOptions;
use mmnpy::{NpyArray, OpenOptions, Order, Overwrite};
use ndarray::{Ix2, IxDyn};
use proptest::prelude::*;
use rayon::prelude::*;

use crate::fixture::in_pool;

fn table(
    dir: &std::path::Path,
    rows: usize,
    cols: usize,
    order: Order,
    seed: u64,
) -> NpyArray<f32> {
    let path = dir.join(format!("t_{rows}_{cols}_{order:?}_{seed}.npy"));
    let mut a = NpyArray::<f32>::create(&path, &[rows, cols], order).unwrap();
    let mut state = seed | 1;
    for x in a.as_slice_mut().unwrap() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *x = (state % 20_000) as f32 / 7.0 - 1000.0;
    }
    a.persist().unwrap();
    drop(a);
    // Without the advisory lock: CLI tests running in parallel fork children that briefly
    // inherit the descriptor of a just-written file, and with it its exclusive flock.
    OpenOptions::new().lock(false).open(&path).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn fold_is_the_chunk_ordered_sequential_sum_with_any_thread_count(
        rows in 0usize..300, cols in 1usize..5, chunk in 1usize..64, seed in any::<u64>(),
        fortran in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let order = if fortran { Order::Fortran } else { Order::C };
        let a = table(dir.path(), rows, cols, order, seed);
        let run = || a.row_chunks_as::<Ix2>(chunk).unwrap().fold(
            || 0f32,
            |acc, _, c| c.iter().fold(acc, |s, &x| s + x * 1.0001),
            |x, y| x + y,
        );
        let one = in_pool(1, run);
        let three = in_pool(3, run);
        prop_assert_eq!(one.to_bits(), three.to_bits());
        // The naive twin: the same arithmetic, chunk by chunk, in row order.
        let v = a.view_as::<Ix2>().unwrap();
        let mut naive = 0f32;
        for start in (0..rows).step_by(chunk) {
            let mut part = 0f32;
            for r in start..(start + chunk).min(rows) {
                for &x in v.row(r) { part += x * 1.0001; }
            }
            naive += part;
        }
        if rows == 0 { naive = 0.0; }
        prop_assert_eq!(one.to_bits(), naive.to_bits());
    }

    #[test]
    fn map_filter_reduce_equals_a_filtered_loop(
        rows in 0usize..300, chunk in 1usize..50, seed in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let a = table(dir.path(), rows, 3, Order::C, seed);
        let (n, idx_sum) = in_pool(2, || a.row_chunks_as::<Ix2>(chunk).unwrap().map_filter_reduce(
            |i, row| (i, row[0] + row[2]),
            |&(_, s)| s > 0.0,
            || (0usize, 0usize),
            |(n, t), (i, _)| (n + 1, t + i),
            |(n1, t1), (n2, t2)| (n1 + n2, t1 + t2),
        ));
        let v = a.view_as::<Ix2>().unwrap();
        let keep: Vec<usize> = (0..rows).filter(|&r| v[[r, 0]] + v[[r, 2]] > 0.0).collect();
        prop_assert_eq!((n, idx_sum), (keep.len(), keep.iter().sum::<usize>()));
    }
}

#[test]
fn map_to_file_casts_and_reshapes_rows_like_a_loop() {
    let dir = tempfile::tempdir().unwrap();
    for order in [Order::C, Order::Fortran] {
        let a = table(dir.path(), 1000, 4, order, 7);
        let out = dir.path().join(format!("clipped_{order:?}.npy"));
        // Per row: clip each value to [-100, 100] and cast to i16, plus the row's index.
        let b = a
            .row_chunks_as::<Ix2>(33)
            .unwrap()
            .map_to_file::<i16>(
                &out,
                &[5],
                |first, chunk, mut dst| {
                    for (k, row) in chunk.outer_iter().enumerate() {
                        for (c, &x) in row.iter().enumerate() {
                            dst[[k, c]] = x.clamp(-100.0, 100.0) as i16;
                        }
                        dst[[k, 4]] = (first + k) as i16;
                    }
                },
                &OutputOptions::new(),
            )
            .unwrap();
        assert_eq!(b.shape(), &[1000, 5]);
        let v = a.view_as::<Ix2>().unwrap();
        let w = b.view_as::<Ix2>().unwrap();
        for r in 0..1000 {
            for c in 0..4 {
                assert_eq!(w[[r, c]], v[[r, c]].clamp(-100.0, 100.0) as i16);
            }
            assert_eq!(w[[r, 4]], r as i16);
        }
        drop(b);
        // The output exists now: refusing to overwrite leaves it alone.
        let again = a.row_chunks(10).unwrap().map_to_file::<u8>(
            &out,
            &[],
            |_, _, _| {},
            &OutputOptions::new().overwrite(Overwrite::Refuse),
        );
        assert!(again.is_err());
        let kept = OpenOptions::new().lock(false).open::<i16>(&out).unwrap();
        assert_eq!(kept.shape(), &[1000, 5]);
    }
}

#[test]
fn par_row_chunks_cover_every_row_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = table(dir.path(), 101, 3, Order::Fortran, 3);
    let pieces: Vec<(usize, Vec<f32>)> = a
        .par_row_chunks(10)
        .map(|(first, c)| (first, c.iter().copied().collect()))
        .collect();
    assert_eq!(
        pieces.iter().map(|p| p.0).collect::<Vec<_>>(),
        (0..101).step_by(10).collect::<Vec<_>>()
    );
    let all: Vec<f32> = pieces.into_iter().flat_map(|p| p.1).collect();
    let want: Vec<f32> = a.view().iter().copied().collect();
    assert_eq!(all, want);
    let zero_d = NpyArray::<f32>::create(dir.path().join("z.npy"), &[], Order::C).unwrap();
    assert!(zero_d.row_chunks_as::<IxDyn>(4).is_err());
}
