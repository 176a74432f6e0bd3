//! Slicing and take against numpy's own answers (fixtures written by
//! `scripts/make_slice_fixtures.py`): the library API, the CLI, every dtype and byte order,
//! C and Fortran inputs, and the error paths (exit 1, no output, no temporaries).

use std::path::{Path, PathBuf};

use crate::fixture::{dir_entries as listing, mmnpy};
use mmnpy::ops::{Indices, OutputOptions, SliceExpr, slice_to_file, take_to_file};
use mmnpy::{NpyArray, NpyFile, OpenOptions, Order, Overwrite};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ops")
        .join(name)
}

fn table(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn shape_of(entry: &Value) -> Vec<usize> {
    entry["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

fn values_of(entry: &Value) -> Vec<i64> {
    entry["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

/// Shape and values (C order) of an int64 file. Opened without the advisory lock: a CLI test
/// running in parallel forks children that briefly inherit the (close-on-exec) descriptor of a
/// just-written file, and with it its exclusive flock.
fn read_i64(path: &Path) -> (Vec<usize>, Vec<i64>) {
    let a = OpenOptions::new().lock(false).open::<i64>(path).unwrap();
    (a.shape().to_vec(), a.view().iter().copied().collect())
}

/// descr, shape and the element bytes in C order, whatever the file's memory order.
fn logical_bytes(path: &Path) -> (String, Vec<usize>, Vec<u8>) {
    let f = OpenOptions::new().lock(false).open_untyped(path).unwrap();
    let isz = f.dtype().itemsize();
    let shape = f.shape().to_vec();
    let bytes = f.bytes();
    let out = if f.order() == Order::C || shape.len() < 2 {
        bytes.to_vec()
    } else {
        let n = f.len();
        let mut out = Vec::with_capacity(n * isz);
        for flat in 0..n {
            let (mut rem, mut offset, mut stride) = (flat, 0, 1);
            let mut index = vec![0; shape.len()];
            for k in (0..shape.len()).rev() {
                index[k] = rem % shape[k];
                rem /= shape[k];
            }
            for k in 0..shape.len() {
                offset += index[k] * stride;
                stride *= shape[k];
            }
            out.extend_from_slice(&bytes[offset * isz..(offset + 1) * isz]);
        }
        out
    };
    (f.header().descr().to_string(), shape, out)
}

#[test]
fn slice_views_and_files_equal_numpy_for_the_expression_table() {
    let dir = tempfile::tempdir().unwrap();
    for order in ["C", "F"] {
        let src = fixture(&format!("arange_{order}.npy"));
        let array = NpyArray::<i64>::open(&src).unwrap();
        for (n, entry) in table("slices.json").iter().enumerate() {
            let expr = entry["expr"].as_str().unwrap();
            let resolved = SliceExpr::parse(expr).and_then(|e| e.resolve(array.shape()));
            if entry.get("error").is_some() {
                assert!(resolved.is_err(), "{expr:?} should fail like numpy");
                assert!(array.slice(expr).is_err());
                continue;
            }
            let selection = resolved.unwrap_or_else(|e| panic!("{expr:?}: {e}"));
            let view = array.slice(expr).unwrap();
            assert_eq!(
                view.shape(),
                shape_of(entry).as_slice(),
                "view {expr:?} {order}"
            );
            let got: Vec<i64> = view.iter().copied().collect();
            assert_eq!(got, values_of(entry), "view {expr:?} {order}");

            let out = dir.path().join(format!("out_{order}_{n}.npy"));
            let written =
                slice_to_file(array.file(), &selection, &out, &OutputOptions::new()).unwrap();
            // Empty arrays and those with at most one axis longer than 1 are both C and F
            // contiguous: the header says C for them, as numpy does.
            let shape = written.shape();
            if !shape.contains(&0) && shape.iter().filter(|&&d| d > 1).count() > 1 && order == "F" {
                assert_eq!(
                    written.order(),
                    Order::Fortran,
                    "{expr:?} keeps Fortran order"
                );
            }
            drop(written);
            let (shape, values) = read_i64(&out);
            assert_eq!(shape, shape_of(entry), "file {expr:?} {order}");
            assert_eq!(values, values_of(entry), "file {expr:?} {order}");
        }
    }
}

#[test]
fn slices_spanning_many_windows_and_blocks_equal_the_view_with_1_and_3_threads() {
    // 88 MiB of int64, C and Fortran: each selection streams through two or three windows of
    // output, many blocks each, whose input spans are released behind the readers.
    let dir = tempfile::tempdir().unwrap();
    for order in [Order::C, Order::Fortran] {
        let src = dir.path().join("big.npy");
        let mut a = NpyArray::<i64>::create(&src, &[10_000, 1100], order).unwrap();
        for (i, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
            *x = i as i64;
        }
        a.persist().unwrap();
        for expr in ["::-1, 1::3", "9000:100:-2, ::-2"] {
            let want: Vec<i64> = a.slice(expr).unwrap().iter().copied().collect();
            let selection = SliceExpr::parse(expr)
                .and_then(|e| e.resolve(a.shape()))
                .unwrap();
            for threads in [1, 3] {
                let out = dir.path().join("out.npy");
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let options = OutputOptions::new().overwrite(Overwrite::Replace);
                pool.install(|| slice_to_file(a.file(), &selection, &out, &options))
                    .unwrap();
                let (_, got) = read_i64(&out);
                assert!(got == want, "{expr:?} {order:?} {threads} threads");
            }
        }
    }
}

#[test]
fn slice_cli_copies_bytes_for_every_dtype_byte_order_and_memory_order() {
    let exprs = ["1:6:2, ::-1", "-1", "..., ::-4", "::-3, 2"];
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(fixture("")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(stem) = name
            .strip_prefix("dtype_")
            .and_then(|s| s.strip_suffix(".npy"))
        else {
            continue;
        };
        if stem.contains("__") {
            continue;
        }
        for (k, expr) in exprs.iter().enumerate() {
            let out = dir.path().join(format!("{stem}__{k}.npy"));
            mmnpy()
                .arg("slice")
                .arg(fixture(&name))
                .arg(expr)
                .arg("-o")
                .arg(&out)
                .assert()
                .success();
            let want = logical_bytes(&fixture(&format!("dtype_{stem}__{k}.npy")));
            assert_eq!(logical_bytes(&out), want, "{name} [{expr}]");
            checked += 1;
        }
    }
    assert_eq!(checked, 18 * 2 * exprs.len());
}

#[test]
fn take_equals_numpy_for_every_index_dtype_and_axis() {
    let dir = tempfile::tempdir().unwrap();
    for order in ["C", "F"] {
        let src = NpyFile::open(fixture(&format!("arange_{order}.npy"))).unwrap();
        for (n, entry) in table("takes.json").iter().enumerate() {
            let idx_name = entry["indices"].as_str().unwrap();
            let axis = entry["axis"].as_u64().unwrap() as usize;
            let out = dir.path().join(format!("take_{order}_{n}.npy"));
            let result = Indices::read(fixture(idx_name))
                .and_then(|idx| take_to_file(&src, &idx, axis, &out, &OutputOptions::new()));
            if entry.get("error").is_some() {
                let e = result.expect_err(idx_name).to_string();
                assert!(e.contains("out of bounds") || e.contains("integers"), "{e}");
                assert!(!out.exists());
                continue;
            }
            result.unwrap_or_else(|e| panic!("{idx_name} axis {axis}: {e}"));
            let (shape, values) = read_i64(&out);
            assert_eq!(shape, shape_of(entry), "{idx_name} axis {axis} {order}");
            assert_eq!(values, values_of(entry), "{idx_name} axis {axis} {order}");
        }
    }
}

#[test]
fn take_cli_gathers_rows_of_a_big_endian_fortran_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.npy");
    mmnpy()
        .args(["take", "--axis", "1", "--indices"])
        .arg(fixture("idx_u1.npy"))
        .arg(fixture("dtype_bef8_F.npy"))
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let (descr, shape, bytes) = logical_bytes(&out);
    let (_, src_shape, src) = logical_bytes(&fixture("dtype_bef8_F.npy"));
    assert_eq!(
        (descr.as_str(), shape.as_slice()),
        (">f8", &[7usize, 3][..])
    );
    // numpy.take(a, [1, 0, 3], axis=1), element by element.
    for r in 0..7 {
        for (j, c) in [1usize, 0, 3].into_iter().enumerate() {
            let s = (r * src_shape[1] + c) * 8;
            assert_eq!(&bytes[(r * 3 + j) * 8..][..8], &src[s..s + 8]);
        }
    }
}

/// Regression (found by the interop suite): `take --axis -1` was refused by the argument
/// parser ("unexpected argument '-1'"), while numpy.take and `mmnpy cat` count negative axes
/// from the end.
#[test]
fn take_cli_negative_axis_counts_from_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let gather = |axis: &str, name: &str| {
        let out = dir.path().join(name);
        mmnpy()
            .args(["take", "--axis", axis, "--indices"])
            .arg(fixture("idx_u1.npy"))
            .arg(fixture("dtype_bef8_F.npy"))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        std::fs::read(out).unwrap()
    };
    assert_eq!(gather("-1", "last.npy"), gather("1", "one.npy"));
    let assert = mmnpy()
        .args(["take", "--axis", "-3", "--indices"])
        .arg(fixture("idx_u1.npy"))
        .arg(fixture("dtype_bef8_F.npy"))
        .arg("-o")
        .arg(dir.path().join("bad.npy"))
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("axis -3 is out of bounds for an array of dimension 2"),
        "{stderr}"
    );
}

#[test]
fn errors_exit_1_and_leave_no_output_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("a.npy");
    std::fs::copy(fixture("arange_C.npy"), &src).unwrap();
    let idx = dir.path().join("idx.npy");
    std::fs::copy(fixture("idx_oob.npy"), &idx).unwrap();
    let out = dir.path().join("out.npy");
    let before = listing(dir.path());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["slice", "a.npy", "1:2:3:4", "-o", "out.npy"],
            "invalid index expression",
        ),
        (
            vec!["slice", "a.npy", "0, 9", "-o", "out.npy"],
            "index 9 is out of bounds for axis 1",
        ),
        (
            vec!["slice", "a.npy", "::0", "-o", "out.npy"],
            "step cannot be zero",
        ),
        (
            vec!["take", "a.npy", "--indices", "idx.npy", "-o", "out.npy"],
            "index 7 at position 2",
        ),
        (
            vec![
                "take",
                "a.npy",
                "--indices",
                "idx.npy",
                "--axis",
                "3",
                "-o",
                "out.npy",
            ],
            "axis 3",
        ),
        (
            vec!["slice", "a.npy", ":", "-o", "a.npy", "--force"],
            "the output is the input",
        ),
        (
            vec!["take", "a.npy", "--indices", "a.npy", "-o", "a.npy"],
            "out of bounds",
        ),
    ];
    for (args, message) in cases {
        let assert = mmnpy().current_dir(dir.path()).args(&args).assert().code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.starts_with("error: ") && stderr.contains(message),
            "{args:?}: {stderr}"
        );
        assert!(!out.exists(), "{args:?} left an output");
        assert_eq!(listing(dir.path()), before, "{args:?} left a temporary");
    }
    assert_eq!(
        read_i64(&src).1,
        (0..120).collect::<Vec<i64>>(),
        "input untouched"
    );
}

#[test]
fn existing_output_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    std::fs::write(&out, b"keep me").unwrap();
    let run = |force: bool| {
        let mut cmd = mmnpy();
        cmd.arg("slice")
            .arg(fixture("arange_C.npy"))
            .arg("::-1, 0")
            .arg("-o")
            .arg(&out);
        if force {
            cmd.arg("--force");
        }
        cmd.assert()
    };
    let stderr = run(false).code(1).get_output().stderr.clone();
    assert!(String::from_utf8_lossy(&stderr).contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    run(true).success();
    assert_eq!(read_i64(&out).0, vec![6, 4]);
    assert_eq!(listing(dir.path()), vec!["out.npy".to_string()]);
}

#[test]
fn library_refuses_existing_output_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.npy");
    std::fs::write(&out, b"x").unwrap();
    let src = NpyFile::open(fixture("arange_C.npy")).unwrap();
    let sel = SliceExpr::parse("1").unwrap().resolve(src.shape()).unwrap();
    let options = OutputOptions::new().overwrite(Overwrite::Refuse);
    let e = slice_to_file(&src, &sel, &out, &options).unwrap_err();
    assert!(matches!(e.kind(), mmnpy::ErrorKind::OutputExists), "{e}");
    assert_eq!(listing(dir.path()), vec!["o.npy".to_string()]);
}
