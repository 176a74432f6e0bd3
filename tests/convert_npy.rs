//! `mmnpy convert` between .npy files and raw binary, against files numpy wrote
//! (`scripts/make_convert_fixtures.py`).

use std::path::{Path, PathBuf};

pub(crate) use crate::fixture::{dir_entries as listing, mmnpy};
use mmnpy::convert::npy::{NpyOptions, npy_to_npy};
use mmnpy::ops::CastMode;
use mmnpy::{DType, NpyArray, NpyFile, Order, Overwrite};

pub(crate) fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/convert")
        .join(path)
}

/// Run `mmnpy convert` and compare the output with a numpy-written file, byte for byte.
fn convert_matches(src: &str, args: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    mmnpy()
        .arg("convert")
        .arg(fixture(src))
        .arg("-o")
        .arg(&out)
        .args(args)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(fixture(expected)).unwrap(),
        "{src} {args:?} differs from {expected}"
    );
}

#[test]
fn npy_conversions_are_byte_identical_to_np_save() {
    convert_matches("npy/src.npy", &["--dtype", "float32"], "npy/f4.npy");
    convert_matches("npy/src.npy", &["--dtype", "f2"], "npy/f2.npy");
    convert_matches(
        "npy/src.npy",
        &["--dtype", "<i2", "--cast", "unsafe"],
        "npy/i2_unsafe.npy",
    );
    convert_matches("npy/src.npy", &["--order", "F"], "npy/fortran.npy");
    convert_matches("npy/src.npy", &["--byte-order", "big"], "npy/big.npy");
    convert_matches(
        "npy/src.npy",
        &["--dtype", "f4", "--byte-order", "big", "--order", "F"],
        "npy/big_f4_fortran.npy",
    );
    convert_matches("npy/fortran.npy", &["--order", "C"], "npy/src.npy");
    convert_matches("npy/src.npy", &["--version", "2"], "npy/v2.npy");
    convert_matches("npy/src.npy", &["--version", "3"], "npy/v3.npy");
    convert_matches(
        "npy/src3_fortran_big.npy",
        &["--dtype", "<i8", "--order", "C"],
        "npy/src3_to_c_little_i8.npy",
    );
}

/// Equal, except that NaNs compare by being NaN (payload bits may differ).
fn same_elements(got: &[u8], want: &[u8], dtype: DType) -> bool {
    if got == want {
        return true;
    }
    let size = dtype.itemsize();
    got.len() == want.len()
        && got.chunks(size).zip(want.chunks(size)).all(|(a, b)| {
            a == b || {
                let (x, y) = (
                    mmnpy::ops::cast::value_text(a, dtype, 0),
                    mmnpy::ops::cast::value_text(b, dtype, 0),
                );
                x == y && x.contains("nan")
            }
        })
}

#[test]
fn unsafe_casts_match_numpy_astype_for_every_dtype_pair() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    ];
    let mut wrong = Vec::new();
    for src in names {
        let input = NpyFile::open(fixture(&format!("cast/src_{src}.npy"))).unwrap();
        for dst in names {
            let out = dir.path().join(format!("{src}_{dst}.npy"));
            let opts = NpyOptions {
                dtype: Some(DType::parse(dst).unwrap()),
                cast: CastMode::Unsafe,
                ..NpyOptions::default()
            };
            npy_to_npy(&input, &out, &opts, Overwrite::Refuse, None).unwrap();
            let want = NpyFile::open(fixture(&format!("cast/{src}_to_{dst}.npy"))).unwrap();
            let got = NpyFile::open(&out).unwrap();
            assert_eq!(got.header(), want.header(), "{src} -> {dst}");
            if !same_elements(got.bytes(), want.bytes(), got.dtype()) {
                wrong.push(format!("{src} -> {dst}"));
            }
        }
    }
    assert!(wrong.is_empty(), "differ from numpy: {wrong:?}");
}

#[test]
fn safe_cast_fails_on_the_first_unfit_value_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let assert = mmnpy()
        .arg("convert")
        .arg(fixture("npy/src.npy"))
        .arg("-o")
        .arg(&out)
        .args(["--dtype", "int16"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        err.starts_with("error:") && err.contains("at index 0"),
        "{err}"
    );
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn safe_cast_reports_the_first_unfit_value_of_many_blocks_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("c.npy");
    // 2M float64 (16 blocks of output), unfit values in blocks 5, 11 and 14: the blocks after
    // the first failure may be skipped, the ones before must all run.
    let mut a = NpyArray::<f64>::create(&src, &[2_000_000], Order::C).unwrap();
    {
        let mut v = a.view_mut().unwrap();
        v.fill(2.0);
        v[1_500_000] = f64::NAN;
        v[700_000] = f64::INFINITY;
        v[1_900_000] = 1e300;
    }
    a.persist().unwrap();
    drop(a);
    let input = NpyFile::open(&src).unwrap();
    for threads in [1, 2, 3, 8] {
        let msg = failed_int32_cast(&input, &dir.path().join("o.npy"), threads);
        assert!(
            msg.contains("inf at index 700000"),
            "{threads} threads: {msg}"
        );
    }
    assert_eq!(listing(dir.path()), ["c.npy"]);
}

/// The error of a safe cast of `input` to int32 into `out` on a pool of `threads` threads.
fn failed_int32_cast(input: &NpyFile, out: &std::path::Path, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = NpyOptions {
        dtype: Some(DType::parse("i4").unwrap()),
        ..NpyOptions::default()
    };
    pool.install(|| npy_to_npy(input, out, &opts, Overwrite::Refuse, None))
        .unwrap_err()
        .to_string()
}

#[test]
fn safe_cast_reports_the_first_index_in_c_order_for_fortran_files() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("f.npy");
    // A (300, 500) Fortran array, big enough for many blocks, with NaN at C indices
    // 70_001 and 140_000: in memory order the second comes first.
    let mut a = NpyArray::<f64>::create(&src, &[300, 500], Order::Fortran).unwrap();
    {
        let mut v = a.view_mut().unwrap();
        v.fill(1.0);
        v[[140, 1]] = f64::NAN; // C index 70_001
        v[[280, 0]] = f64::INFINITY; // C index 140_000, earlier in F memory order
    }
    a.persist().unwrap();
    drop(a);
    let input = NpyFile::open(&src).unwrap();
    for threads in [1, 2] {
        let msg = failed_int32_cast(&input, &dir.path().join("o.npy"), threads);
        assert!(msg.contains("nan at index 70001"), "{msg}");
    }
    assert_eq!(listing(dir.path()), ["f.npy"]);
}

#[test]
fn order_change_of_a_large_array_is_a_true_transpose() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("c.npy");
    let (n, m, k) = (37, 1001, 29);
    let mut a = NpyArray::<i32>::create(&src, &[n, m, k], Order::C).unwrap();
    for (i, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *x = i as i32;
    }
    a.persist().unwrap();
    drop(a);
    let out = dir.path().join("f.npy");
    let opts = NpyOptions {
        order: Some(Order::Fortran),
        dtype: Some(DType::parse("<i8").unwrap()),
        ..NpyOptions::default()
    };
    npy_to_npy(
        &NpyFile::open(&src).unwrap(),
        &out,
        &opts,
        Overwrite::Refuse,
        None,
    )
    .unwrap();
    let f = NpyArray::<i64>::open(&out).unwrap();
    assert_eq!(f.file().order(), Order::Fortran);
    let v = f.view();
    for (idx, x) in v.indexed_iter() {
        let c = (idx[0] * m + idx[1]) * k + idx[2];
        assert_eq!(*x, c as i64);
    }
    assert_eq!(f.as_slice()[1], m as i64 * k as i64); // F: axis 0 is fastest
}

#[test]
fn raw_import_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.npy");
    mmnpy()
        .arg("convert")
        .arg(fixture("raw/u2_5x6_offset16.bin"))
        .arg("-o")
        .arg(&out)
        .args(["--dtype", "<u2", "--shape", "-1,6", "--offset", "16"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(fixture("raw/u2_5x6.npy")).unwrap()
    );
    let bin = dir.path().join("back.bin");
    mmnpy()
        .arg("convert")
        .arg(&out)
        .arg("-o")
        .arg(&bin)
        .assert()
        .success();
    let raw = std::fs::read(fixture("raw/u2_5x6_offset16.bin")).unwrap();
    assert_eq!(std::fs::read(&bin).unwrap(), raw[16..]);

    // a size that does not divide is an error naming the size, and writes nothing
    let bad = dir.path().join("bad.npy");
    let assert = mmnpy()
        .arg("convert")
        .arg(fixture("raw/u2_5x6_offset16.bin"))
        .arg("-o")
        .arg(&bad)
        .args(["--dtype", "<u2", "--shape", "-1,7"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        err.starts_with("error:") && err.contains("76 bytes"),
        "{err}"
    );
    assert!(!bad.exists());
}

#[test]
fn refuses_existing_outputs_inputs_and_misplaced_options() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.npy");
    std::fs::copy(fixture("npy/src.npy"), &src).unwrap();
    let before = std::fs::read(&src).unwrap();
    let existing = dir.path().join("exists.npy");
    std::fs::write(&existing, b"keep").unwrap();
    let cases: Vec<(Vec<&str>, &Path, &str)> = vec![
        (vec![], &existing, "already exists"),
        (vec!["--force"], &src, "is the input"),
        (vec!["--shape", "3,4"], &existing, "does not apply"),
        (
            vec!["--dtype", "<U4", "--force"],
            &existing,
            "unsupported dtype",
        ),
        (vec!["--order", "X", "--force"], &existing, "unknown order"),
    ];
    for (args, out, expect) in cases {
        let assert = mmnpy()
            .arg("convert")
            .arg(&src)
            .arg("-o")
            .arg(out)
            .args(&args)
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            err.starts_with("error:") && err.contains(expect),
            "{args:?}: {err}"
        );
    }
    let link = dir.path().join("link.npy");
    std::fs::hard_link(&src, &link).unwrap();
    mmnpy()
        .arg("convert")
        .arg(&src)
        .arg("-o")
        .arg(&link)
        .arg("--force")
        .assert()
        .code(1);
    assert_eq!(std::fs::read(&src).unwrap(), before);
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep");
    assert_eq!(listing(dir.path()), ["exists.npy", "link.npy", "src.npy"]);
    // --force replaces an existing output
    let ok = mmnpy()
        .arg("convert")
        .arg(&src)
        .arg("-o")
        .arg(&existing)
        .args(["--force", "--verbose"])
        .assert()
        .success();
    let err = String::from_utf8_lossy(&ok.get_output().stderr).into_owned();
    assert!(err.contains("5 rows") && err.contains("MB/s"), "{err}");
    assert_eq!(std::fs::read(&existing).unwrap(), before);
}

#[test]
fn formats_of_other_branches_report_themselves_missing_or_work() {
    // Zarr arrived with the scale-out branch: `.zarr` now converts (tests/scaleout.rs has the rest).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.zarr");
    mmnpy()
        .arg("convert")
        .arg(fixture("npy/src.npy"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("zarr.json").is_file());
}

/// Flat memory position of multi-index `idx` of `shape` in `order`.
fn position(idx: &[usize], shape: &[usize], order: Order) -> usize {
    let axes: Vec<usize> = match order {
        Order::C => (0..shape.len()).collect(),
        Order::Fortran => (0..shape.len()).rev().collect(),
    };
    axes.iter().fold(0, |acc, &k| acc * shape[k] + idx[k])
}

/// Every multi-index of `shape` in C order.
fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![vec![]];
    for &n in shape {
        all = all
            .into_iter()
            .flat_map(|p| {
                (0..n).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    all
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    #[test]
    fn conversion_equals_naive_reordering_then_naive_cast(
        shape in proptest::collection::vec(1usize..9, 1..4),
        from in 0usize..6, to in 0usize..6,
        src_f in proptest::bool::ANY, dst_f in proptest::bool::ANY, seed in 0u64..1000,
    ) {
        let dtypes = ["<f8", ">f4", "<i4", ">i2", "|u1", "<c8"];
        let (from, to) = (DType::parse(dtypes[from]).unwrap(), DType::parse(dtypes[to]).unwrap());
        let order = |f: bool| if f { Order::Fortran } else { Order::C };
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("s.npy");
        let mut file = NpyFile::create(&src, from, &shape, order(src_f)).unwrap();
        let src_order = file.order();
        for (i, b) in file.bytes_mut().unwrap().iter_mut().enumerate() {
            *b = ((i as u64 * 2654435761 + seed) >> 7) as u8 & 0x3f; // small finite values
        }
        file.persist().unwrap();
        drop(file);
        let input = NpyFile::open(&src).unwrap();
        let out = dir.path().join("o.npy");
        let opts = NpyOptions {
            dtype: Some(to),
            order: Some(order(dst_f)),
            cast: CastMode::Unsafe,
            ..NpyOptions::default()
        };
        npy_to_npy(&input, &out, &opts, Overwrite::Refuse, None).unwrap();
        let got = NpyFile::open(&out).unwrap();
        let (fs, ts) = (from.itemsize(), to.itemsize());
        let mut want = vec![0u8; got.bytes().len()];
        for idx in indices(&shape) {
            let p = position(&idx, &shape, src_order);
            let q = position(&idx, &shape, got.order());
            let one = mmnpy::ops::cast::cast_naive(&input.bytes()[p * fs..(p + 1) * fs], from, to, CastMode::Unsafe).unwrap();
            want[q * ts..(q + 1) * ts].copy_from_slice(&one);
        }
        proptest::prop_assert!(same_elements(got.bytes(), &want, to));
    }
}

#[test]
fn raw_export_converts_and_fortran_raw_imports() {
    let dir = tempfile::tempdir().unwrap();
    // export as big-endian int32 in Fortran order, then import those bytes back
    let bin = dir.path().join("x.raw");
    mmnpy()
        .arg("convert")
        .arg(fixture("raw/u2_5x6.npy"))
        .arg("-o")
        .arg(&bin)
        .args(["--dtype", ">i4", "--order", "F", "--progress", "always"])
        .assert()
        .success();
    let bytes = std::fs::read(&bin).unwrap();
    assert_eq!(bytes.len(), 30 * 4);
    // element (1, 0) = 6 comes second in Fortran order
    assert_eq!(&bytes[4..8], &6i32.to_be_bytes());
    let back = dir.path().join("back.npy");
    mmnpy()
        .arg("convert")
        .arg(&bin)
        .arg("-o")
        .arg(&back)
        .args(["--dtype", ">i4", "--shape", "5,6", "--order", "F"])
        .assert()
        .success();
    let c = dir.path().join("c.npy");
    mmnpy()
        .arg("convert")
        .arg(&back)
        .arg("-o")
        .arg(&c)
        .args(["--dtype", "<u2", "--order", "C"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&c).unwrap(),
        std::fs::read(fixture("raw/u2_5x6.npy")).unwrap()
    );
}

#[test]
fn tiled_transpose_of_a_matrix_both_ways_with_cast_and_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (n, m) = (600, 700); // several 512 x 256 tiles, partial at both edges
    for src_order in [Order::C, Order::Fortran] {
        let src = dir.path().join("m.npy");
        let mut a = NpyArray::<f64>::create(&src, &[n, m], src_order).unwrap();
        a.view_mut()
            .unwrap()
            .indexed_iter_mut()
            .for_each(|(idx, x)| *x = (idx[0] * m + idx[1]) as f64);
        a.persist().unwrap();
        drop(a);
        let input = NpyFile::open(&src).unwrap();
        let other = match src_order {
            Order::C => Order::Fortran,
            Order::Fortran => Order::C,
        };
        let out = dir.path().join("t.npy");
        let opts = NpyOptions {
            order: Some(other),
            dtype: Some(DType::parse("<i4").unwrap()),
            ..NpyOptions::default()
        };
        npy_to_npy(&input, &out, &opts, Overwrite::Replace, None).unwrap();
        let t = NpyArray::<i32>::open(&out).unwrap();
        assert_eq!(t.file().order(), other);
        for (idx, x) in t.view().indexed_iter() {
            assert_eq!(*x as usize, idx[0] * m + idx[1], "{src_order:?} {idx:?}");
        }
        drop((t, input));
        // two bad values: (599, 3) comes first in F memory order, (10, 650) in C order
        let mut a = NpyFile::open_rw(&src).unwrap().into_typed::<f64>().unwrap();
        {
            let mut v = a.view_mut().unwrap();
            v[[599, 3]] = 0.5;
            v[[10, 650]] = f64::NAN;
        }
        a.flush().unwrap();
        drop(a);
        let input = NpyFile::open(&src).unwrap();
        let bad = dir.path().join("bad.npy");
        let e = npy_to_npy(&input, &bad, &opts, Overwrite::Refuse, None).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("nan at index {}", 10 * m + 650)),
            "{e}"
        );
        assert!(!bad.exists());
    }
}
