//! Property tests of the engine: every fast path against the naive reference, the same bits
//! for every thread count, and float sums against exact references.

use proptest::prelude::*;

use crate::array::NpyFile;
use crate::dtype::{ByteOrder, DType, Element, swap_bytes_in_place};
use crate::engine::naive::{self, Elem};
use crate::engine::{PassOptions, Stats, Value, histogram, stats, stats_axis};
use crate::header::Order;

/// Write `c_values` (C order) as an `.npy` of `shape` in `order` and byte order `big`, and open
/// it read-only.
fn file_of<T: Element>(
    dir: &tempfile::TempDir,
    c_values: &[T],
    shape: &[usize],
    order: Order,
    big: bool,
) -> NpyFile {
    let path = dir.path().join("a.npy");
    let byte_order = if big {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let dtype = DType::new(T::SCALAR, byte_order);
    let mut f = NpyFile::create(&path, dtype, shape, order).unwrap();
    let memory: Vec<T> = match order {
        Order::C => c_values.to_vec(),
        // The Fortran memory order of shape s is the C order of the reversed shape's transpose.
        Order::Fortran => {
            let rev: Vec<usize> = shape.iter().rev().copied().collect();
            naive::fortran_to_c_order(c_values, &rev)
        }
    };
    let bytes = f.bytes_mut().unwrap();
    bytes.copy_from_slice(bytemuck::cast_slice(&memory));
    if !dtype.is_native() {
        swap_bytes_in_place(T::SCALAR, bytes);
    }
    f.persist().unwrap();
    drop(f);
    NpyFile::open(&path).unwrap()
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * scale.max(1.0) || (a.is_nan() && b.is_nan())
}

/// Fast and naive agree: counts, extremes and indices exactly; float moments closely.
fn agree(fast: &Stats, slow: &Stats, scale: f64) -> std::result::Result<(), String> {
    let same = fast.count == slow.count
        && fast.nan_count == slow.nan_count
        && fast.count_nonzero == slow.count_nonzero
        && fast.argmin == slow.argmin
        && fast.argmax == slow.argmax
        && fast.min.map(Value::as_f64) == slow.min.map(Value::as_f64)
        && fast.max.map(Value::as_f64) == slow.max.map(Value::as_f64)
        && match (fast.sum, slow.sum) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (a, b) => close(a.as_f64(), b.as_f64(), scale),
        }
        && fast.mean.is_some() == slow.mean.is_some()
        && close(
            fast.mean.map_or(0.0, Value::as_f64),
            slow.mean.map_or(0.0, Value::as_f64),
            scale,
        )
        && fast.var.is_some() == slow.var.is_some()
        && close(
            fast.var.unwrap_or(0.0),
            slow.var.unwrap_or(0.0),
            scale * scale,
        );
    if same {
        Ok(())
    } else {
        Err(format!("fast {fast:?}\nnaive {slow:?}"))
    }
}

/// Floats with NaN, ties and infinities mixed in.
fn float_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -1e3..1e3f64,
        2 => (-3i32..3).prop_map(|i| i as f64),
        1 => Just(f64::NAN),
        1 => Just(0.0),
    ]
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..6, 0..4)
}

fn layout() -> impl Strategy<Value = (Vec<usize>, Order, bool, usize)> {
    (shape_strategy(), any::<bool>(), any::<bool>(), 1usize..40)
        .prop_map(|(s, f, big, block)| (s, if f { Order::Fortran } else { Order::C }, big, block))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn float_stats_match_the_naive_reference_in_every_layout(
        (shape, order, big, block) in layout(),
        pool in prop::collection::vec(float_value(), 200),
        ddof in 0u64..2,
    ) {
        let n: usize = shape.iter().product();
        let values = &pool[..n.min(pool.len())];
        prop_assume!(values.len() == n);
        let dir = tempfile::tempdir().unwrap();
        let file = file_of(&dir, values, &shape, order, big);
        let options = PassOptions::new().block_units(block).window_blocks(2);
        let elems: Vec<Elem> = values.iter().map(|&x| Elem::Float(x)).collect();
        let scale = 1e3 * n as f64;
        agree(&stats(&file, ddof, &options).unwrap(), &naive::stats(&elems, ddof), scale)
            .map_err(TestCaseError::fail)?;
        for axis in 0..shape.len() {
            let fast = stats_axis(&file, axis, ddof, &options).unwrap();
            let slow = naive::stats_axis(&elems, &shape, axis, ddof);
            prop_assert_eq!(fast.stats.len(), slow.len());
            for (f, s) in fast.stats.iter().zip(&slow) {
                agree(f, s, scale).map_err(|e| TestCaseError::fail(format!("axis {axis}: {e}")))?;
            }
        }
    }

    #[test]
    fn integer_sums_are_exact_in_every_layout(
        (shape, order, big, block) in layout(),
        pool in prop::collection::vec(prop_oneof![any::<i64>(), -5i64..5], 200),
    ) {
        let n: usize = shape.iter().product();
        let values = &pool[..n.min(pool.len())];
        prop_assume!(values.len() == n);
        let dir = tempfile::tempdir().unwrap();
        let file = file_of(&dir, values, &shape, order, big);
        let options = PassOptions::new().block_units(block).window_blocks(3);
        let elems: Vec<Elem> = values.iter().map(|&x| Elem::Int(x as i128)).collect();
        let scale = 1e19 * n as f64;
        agree(&stats(&file, 0, &options).unwrap(), &naive::stats(&elems, 0), scale)
            .map_err(TestCaseError::fail)?;
        for axis in 0..shape.len() {
            let fast = stats_axis(&file, axis, 0, &options).unwrap();
            let slow = naive::stats_axis(&elems, &shape, axis, 0);
            for (f, s) in fast.stats.iter().zip(&slow) {
                agree(f, s, scale).map_err(TestCaseError::fail)?;
            }
        }
    }

    #[test]
    fn same_bits_with_1_2_3_and_16_threads(
        values in prop::collection::vec(float_value(), 1..3000),
        cols in 1usize..9,
        block in 1usize..300,
    ) {
        let rows = values.len() / cols;
        prop_assume!(rows > 0);
        let values = &values[..rows * cols];
        let dir = tempfile::tempdir().unwrap();
        let file = file_of(&dir, values, &[rows, cols], Order::C, false);
        let options = PassOptions::new().block_units(block).window_blocks(3);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                format!(
                    "{:?}\n{:?}\n{:?}\n{:?}",
                    stats(&file, 1, &options).unwrap(),
                    stats_axis(&file, 0, 0, &options).unwrap(),
                    stats_axis(&file, 1, 0, &options).unwrap(),
                    histogram(&file, 7, Some((-100.0, 100.0)), &options).unwrap(),
                )
            })
        };
        let one = run(1);
        for threads in [2, 3, 16] {
            prop_assert_eq!(&run(threads), &one, "{} threads", threads);
        }
    }

    #[test]
    fn leaving_out_count_nonzero_changes_nothing_else(
        values in prop::collection::vec(
            prop_oneof![8 => -1e3..1e3f64, 1 => Just(0.0), 1 => Just(-0.0)],
            1..12_000,
        ),
        nan_at in prop::option::of(any::<prop::sample::Index>()),
        block in prop_oneof![Just(None), (1usize..5000).prop_map(Some)],
        narrow in any::<bool>(),
    ) {
        // Long enough for whole runs (the SIMD scans that skip the count), with a NaN at times
        // (its run is rescanned by the portable scan, which counts anyway).
        let mut values = values;
        if let Some(i) = nan_at {
            let at = i.index(values.len());
            values[at] = f64::NAN;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = if narrow {
            let narrow: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            file_of(&dir, &narrow, &[values.len()], Order::C, false)
        } else {
            file_of(&dir, &values, &[values.len()], Order::C, false)
        };
        let counted = match block {
            Some(n) => PassOptions::new().block_units(n),
            None => PassOptions::new(),
        };
        let with = stats(&file, 0, &counted).unwrap();
        let without = stats(&file, 0, &counted.without_count_nonzero()).unwrap();
        let zeros = values.iter().filter(|&&x| x == 0.0).count() as u64;
        prop_assert_eq!(with.count_nonzero, Some(values.len() as u64 - zeros));
        prop_assert_eq!(without.count_nonzero, None);
        // Debug text compares NaN fields as equal.
        let rest = |s: &Stats| format!("{:?}", Stats { count_nonzero: None, ..s.clone() });
        prop_assert_eq!(rest(&without), rest(&with));
        // Along the axes of a table of 16 columns (the per-column scans).
        let rows = values.len() / 16;
        let table_dir = tempfile::tempdir().unwrap();
        let table = if narrow {
            let narrow: Vec<f32> = values[..rows * 16].iter().map(|&x| x as f32).collect();
            file_of(&table_dir, &narrow, &[rows, 16], Order::C, false)
        } else {
            file_of(&table_dir, &values[..rows * 16], &[rows, 16], Order::C, false)
        };
        for (file, axis) in [(&file, 0), (&table, 0), (&table, 1)] {
            let with = stats_axis(file, axis, 0, &counted).unwrap();
            let without = stats_axis(file, axis, 0, &counted.without_count_nonzero()).unwrap();
            for (with, without) in with.stats.iter().zip(&without.stats) {
                prop_assert!(with.count_nonzero.is_some());
                prop_assert_eq!(without.count_nonzero, None);
                prop_assert_eq!(rest(without), rest(with));
            }
        }
    }

    #[test]
    fn float32_stats_are_the_float64_stats_of_the_widened_values(
        pool in prop::collection::vec(prop_oneof![
            6 => -1e3..1e3f32,
            2 => (-3i32..3).prop_map(|i| i as f32),
            1 => Just(f32::NAN),
            1 => Just(-0.0f32),
            1 => prop_oneof![Just(f32::INFINITY), Just(f32::NEG_INFINITY), Just(f32::MAX)],
        ], 0..3000),
        nan_free in any::<bool>(),
        big in any::<bool>(),
        block in prop_oneof![Just(None), (1usize..5000).prop_map(Some)],
    ) {
        // float32 accumulates in float64 along the same tree as float64 (blocks and runs counted
        // in elements), so the sums are the same bits whichever leaf ran (the AVX2 float32 leaf
        // on native files, the portable one on swapped runs); the rest agrees with the naive
        // reference.
        let values: Vec<f32> = if nan_free {
            pool.into_iter().filter(|x| !x.is_nan()).collect()
        } else {
            pool
        };
        let wide: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
        let dir = tempfile::tempdir().unwrap();
        let file32 = file_of(&dir, &values, &[values.len()], Order::C, big);
        let block = block.unwrap_or(1 << 18);
        let options = PassOptions::new().block_units(block).window_blocks(2);
        let narrow = stats(&file32, 1, &options).unwrap();
        let dir64 = tempfile::tempdir().unwrap();
        let file64 = file_of(&dir64, &wide, &[wide.len()], Order::C, false);
        let widened = stats(&file64, 1, &options).unwrap();
        let bits = |s: &Stats| {
            let mean = s.mean.map(|m| m.as_f64().to_bits());
            (s.sum.as_f64().to_bits(), mean, s.var.map(f64::to_bits))
        };
        prop_assert_eq!(bits(&narrow), bits(&widened));
        let elems: Vec<Elem> = wide.iter().map(|&x| Elem::Float(x)).collect();
        let largest = wide
            .iter()
            .filter(|x| x.is_finite())
            .fold(1e3, |m: f64, x| m.max(x.abs()));
        agree(&narrow, &naive::stats(&elems, 1), largest * values.len() as f64)
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn histogram_counts_agree_with_the_edges(
        values in prop::collection::vec(float_value(), 0..500),
        bins in 1usize..20,
        lo in -10.0..0.0f64,
        width in 0.0..20.0f64,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = file_of(&dir, &values, &[values.len()], Order::C, false);
        let h = histogram(&file, bins, Some((lo, lo + width)), &PassOptions::new().block_units(7)).unwrap();
        prop_assert_eq!(h.edges.len(), bins + 1);
        prop_assert_eq!(h.counts, naive::histogram_counts(&values, &h.edges));
    }

    #[test]
    fn float_sums_are_within_numpys_pairwise_error_bound(
        mantissas in prop::collection::vec((-(1i64 << 40)..(1i64 << 40), -20i32..20), 1..6000),
        block in prop_oneof![Just(None), (1usize..5000).prop_map(Some)],
    ) {
        // x = m * 2^e; scaled by 2^20 every x is an integer below 2^81, so i128 sums exactly.
        let values: Vec<f64> = mantissas.iter().map(|&(m, e)| m as f64 * 2f64.powi(e)).collect();
        let exact: i128 = mantissas.iter().map(|&(m, e)| (m as i128) << (e + 20)).sum();
        let exact = exact as f64 / 2f64.powi(20);
        let abs_sum: f64 = values.iter().map(|x| x.abs()).sum();
        let dir = tempfile::tempdir().unwrap();
        let file = file_of(&dir, &values, &[values.len()], Order::C, false);
        let options = match block {
            Some(b) => PassOptions::new().block_units(b),
            None => PassOptions::new(),
        };
        let got = stats(&file, 0, &options).unwrap().sum.as_f64();
        // numpy's pairwise sum: 16 sequential additions per lane, 3 to combine the 8 lanes,
        // one per level of the tree above the 128-element leaves.
        let n = values.len() as f64;
        let levels = (n / 128.0).max(1.0).log2().ceil();
        let bound = (16.0 + 3.0 + levels) * f64::EPSILON * abs_sum + exact.abs() * f64::EPSILON;
        prop_assert!((got - exact).abs() <= bound, "error {} > bound {}", (got - exact).abs(), bound);

        // float32 data summed in float64: compare with the exact float64 sum of the f32 values.
        let small: Vec<f32> = values.iter().map(|&x| x as f32).collect();
        let file32 = file_of(&dir, &small, &[small.len()], Order::C, true);
        let exact32: f64 = {
            let mut s = crate::engine::kernel::Neumaier::default();
            small.iter().for_each(|&x| s.add(x as f64));
            s.value()
        };
        let got32 = stats(&file32, 0, &options).unwrap().sum.as_f64();
        let abs32: f64 = small.iter().map(|x| x.abs() as f64).sum();
        prop_assert!((got32 - exact32).abs() <= (16.0 + 3.0 + levels) * f64::EPSILON * abs32 + 1e-300);
    }

    #[test]
    fn variance_stays_accurate_with_a_huge_offset_sorted_data_and_outliers(
        offset in 0i64..(1 << 24),
        steps in prop::collection::vec(prop_oneof![8 => 0i64..2, 1 => -(1i64 << 16)..(1 << 16)], 2..6000),
        sorted in any::<bool>(),
        block in prop_oneof![Just(None), (1usize..5000).prop_map(Some)],
    ) {
        // x = offset + m / 8: a tiny spread (mostly 0 or 1/8) on a huge offset, with rare
        // outliers, optionally sorted. The one-pass shifted variance loses digits when a run's
        // shift is far from its mean (outliers first in a run, sorted runs); the guard must
        // then fall back to the two-pass. Exact reference: 64 n^2 var = n Σy² - (Σy)² with
        // y = 8x, integers in i128.
        let mut scaled: Vec<i64> = steps.iter().map(|&m| 8 * offset + m).collect();
        if sorted {
            scaled.sort_unstable();
        }
        let values: Vec<f64> = scaled.iter().map(|&y| y as f64 / 8.0).collect();
        let n = scaled.len() as i128;
        let (sum, squares) = scaled.iter().fold((0i128, 0i128), |(s, q), &y| {
            (s + y as i128, q + y as i128 * y as i128)
        });
        let exact = (n * squares - sum * sum) as f64 / (64 * n * n) as f64;
        prop_assume!(exact > 0.0);
        let dir = tempfile::tempdir().unwrap();
        let file = file_of(&dir, &values, &[values.len()], Order::C, false);
        let options = match block {
            Some(b) => PassOptions::new().block_units(b),
            None => PassOptions::new(),
        };
        let var = stats(&file, 0, &options).unwrap().var.unwrap();
        prop_assert!(
            ((var - exact) / exact).abs() <= 1e-12,
            "var {} exact {} relative error {:e}", var, exact, ((var - exact) / exact).abs()
        );
    }
}

#[test]
fn fortran_ties_report_the_first_c_order_index() {
    // Shape (2, 2) with the minimum at C indices 1 and 2; Fortran memory visits index 2 first.
    let dir = tempfile::tempdir().unwrap();
    let file = file_of(
        &dir,
        &[5.0f64, -1.0, -1.0, 5.0],
        &[2, 2],
        Order::Fortran,
        false,
    );
    let s = stats(&file, 0, &PassOptions::new()).unwrap();
    assert_eq!((s.argmin, s.argmax), (Some(1), Some(0)));
}

#[test]
fn bool_extremes_are_the_first_true_and_false_bytes_whatever_their_value() {
    // numpy treats every non-zero byte as true: the first true is at 2 (a 1), though a later
    // true byte (7) is what a lane of the scan may hold as its maximum.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.npy");
    let mut bytes = vec![0u8; 40];
    bytes[2] = 1;
    bytes[9] = 7;
    bytes[30] = 3;
    let mut f = NpyFile::create(
        &path,
        DType::native(crate::dtype::Scalar::Bool),
        &[40],
        Order::C,
    )
    .unwrap();
    f.bytes_mut().unwrap().copy_from_slice(&bytes);
    f.persist().unwrap();
    drop(f);
    let s = stats(&NpyFile::open(&path).unwrap(), 0, &PassOptions::new()).unwrap();
    assert_eq!((s.argmin, s.argmax), (Some(0), Some(2)));
    assert_eq!((s.count_nonzero, s.sum), (Some(3), Value::Int(3)));
}

#[test]
fn every_dtype_gives_numpy_style_results() {
    use crate::dtype::Scalar;
    let dir = tempfile::tempdir().unwrap();
    for scalar in Scalar::ALL {
        let dtype = DType::native(scalar);
        let path = dir.path().join(format!("{}.npy", scalar.name()));
        let mut f = NpyFile::create(&path, dtype, &[3], Order::C).unwrap();
        let bytes: Vec<u8> = ["1", "0", "1"]
            .iter()
            .flat_map(|v| dtype.encode_value(v).unwrap())
            .collect();
        f.bytes_mut().unwrap().copy_from_slice(&bytes);
        f.persist().unwrap();
        drop(f);
        let s = stats(&NpyFile::open(&path).unwrap(), 0, &PassOptions::new()).unwrap();
        assert_eq!((s.count, s.count_nonzero), (3, Some(2)), "{scalar:?}");
        assert_eq!(s.sum.as_f64(), 2.0, "{scalar:?}");
        if scalar.is_complex() {
            assert_eq!(s.min, None);
        } else {
            assert_eq!((s.argmin, s.argmax), (Some(1), Some(0)), "{scalar:?}");
            let var = s.var.unwrap();
            assert!((var - 2.0 / 9.0).abs() < 1e-15, "{scalar:?} var {var}");
        }
        if scalar == Scalar::Bool {
            assert_eq!(s.min, Some(Value::Bool(false)));
        }
    }
}
