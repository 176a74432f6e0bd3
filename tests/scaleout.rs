//! Scale-out formats: Dask npy-stacks and Zarr arrays written by the real dask and zarr-python
//! (tests/fixtures/scaleout, made by scripts/make_scaleout_fixtures.py), round trips through
//! the CLI, the restricted pickle reader against hostile input, atomic output directories, and
//! partitioned statistics bit-identical to the single-file ones at every thread count.

use std::path::{Path, PathBuf};

use mmnpy::engine::{PassOptions, Source, histogram, stats, stats_axis};
use mmnpy::partitioned::npy_stack::{self, read_info};
use mmnpy::partitioned::pickle::write_info;
use mmnpy::partitioned::{Layout, Partitioned, detect};
use mmnpy::{DType, NpyArray, NpyFile, Order, Overwrite, read_array};

use crate::fixture::{dir_entries, in_pool, mmnpy};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scaleout")
        .join(name)
}

fn stdout(args: &[&str]) -> String {
    let out = mmnpy().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mmnpy {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stderr_of_failure(args: &[&str]) -> String {
    let out = mmnpy().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "mmnpy {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `mmnpy convert NPY -o STACK --format npy-stack --chunk-rows N`, which must succeed.
fn to_npy_stack(npy: &Path, stack: &Path, chunk_rows: usize) {
    stdout(&[
        "convert",
        s(npy),
        "-o",
        s(stack),
        "--format",
        "npy-stack",
        "--chunk-rows",
        &chunk_rows.to_string(),
    ]);
}

/// A (rows, cols) float64 array with NaNs and a run of zeros, saved by mmnpy.
fn make_table(dir: &Path, rows: usize, cols: usize) -> PathBuf {
    let path = dir.join("t.npy");
    let mut a = NpyArray::<f64>::create(&path, &[rows, cols], Order::C).unwrap();
    for (i, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *x = match i % 97 {
            13 => f64::NAN,
            20..=30 => 0.0,
            k => ((i * 7919) % 1000) as f64 / 7.0 - k as f64,
        };
    }
    a.persist().unwrap();
    path
}

// ---- npy-stacks written by dask ----

#[test]
fn dask_stack_reads_as_the_array_numpy_saved() {
    let stack = Partitioned::open(fixture("stack_f8")).unwrap();
    assert_eq!(stack.layout(), Layout::NpyStack);
    assert_eq!(stack.shape(), &[10, 3]);
    assert_eq!(stack.num_shards(), 3);
    let npy = NpyFile::open(fixture("table_f8.npy")).unwrap();
    assert_eq!(&*stack.data(0..240), npy.bytes());
    // A range straddling the shards (rows 3..5 cross 4) is assembled in order.
    assert_eq!(&*stack.data(72..120), &npy.bytes()[72..120]);
}

#[test]
fn dask_info_pickles_are_written_byte_for_byte() {
    for name in ["stack_f8/info", "stack_i4be/info", "big_info.pickle"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let info = read_info(&bytes).unwrap();
        assert_eq!(write_info(&info), bytes, "{name}");
    }
    let big = read_info(&std::fs::read(fixture("big_info.pickle")).unwrap()).unwrap();
    assert_eq!(
        &big.chunks[0][..8],
        &[0, 1, 255, 256, 65535, 65536, (1 << 31) - 1, 1 << 31]
    );
    assert_eq!(big.chunks[0].len(), 12_008);
    assert_eq!(big.chunks[1..], [vec![7], vec![1]]);
    assert_eq!(big.dtype, DType::parse("<c16").unwrap());
    let be = read_info(&std::fs::read(fixture("stack_i4be/info")).unwrap()).unwrap();
    assert_eq!(be.dtype, DType::parse(">i4").unwrap());
}

#[test]
fn stats_of_a_stack_and_a_zarr_equal_stats_of_the_npy() {
    let npy = fixture("table_f8.npy");
    for args in [
        &["--json"][..],
        &["--json", "--axis", "0"],
        &["--json", "--axis", "1"],
    ] {
        let expected = stdout(&[&["stats", s(&npy)], args].concat());
        for dir in ["stack_f8", "table_none.zarr"] {
            let got = stdout(&[&["stats", s(&fixture(dir))], args].concat());
            assert_eq!(got, expected, "{dir} {args:?}");
        }
    }
    let expected = stdout(&["hist", s(&npy), "--bins", "5", "--range", "-2,2", "--json"]);
    let got = stdout(&[
        "hist",
        s(&fixture("stack_f8")),
        "--bins",
        "5",
        "--range",
        "-2,2",
        "--json",
    ]);
    assert_eq!(got, expected);
    let vector = stdout(&["stats", s(&fixture("vector_i4be.npy")), "--json"]);
    assert_eq!(
        stdout(&["stats", s(&fixture("stack_i4be")), "--json"]),
        vector
    );
}

#[test]
fn zarr_arrays_from_zarr_python_convert_to_the_npy() {
    let dir = tempfile::tempdir().unwrap();
    let expected = read_array::<f64>(fixture("table_f8.npy")).unwrap();
    for name in ["table_none.zarr", "table_zstd.zarr", "table_v2.zarr"] {
        let out = dir.path().join(format!("{name}.npy"));
        stdout(&["convert", s(&fixture(name)), "-o", s(&out)]);
        let got = read_array::<f64>(&out).unwrap();
        assert_eq!(got.shape(), expected.shape());
        for (x, y) in got.iter().zip(expected.iter()) {
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "{name}"
            );
        }
    }
}

#[test]
fn info_describes_stacks_and_zarr_arrays() {
    let doc: serde_json::Value =
        serde_json::from_str(&stdout(&["info", s(&fixture("stack_f8")), "--json"])).unwrap();
    assert_eq!(doc["format"], "npy-stack");
    assert_eq!(doc["shape"], serde_json::json!([10, 3]));
    assert_eq!(doc["chunks"], serde_json::json!([4, 4, 2]));
    let doc: serde_json::Value =
        serde_json::from_str(&stdout(&["info", s(&fixture("table_zstd.zarr")), "--json"])).unwrap();
    assert_eq!(doc["format"], "zarr");
    assert_eq!(doc["zarr_format"], 3);
    assert_eq!(doc["chunks"], serde_json::json!([4, 2]));
    assert_eq!(doc["codecs"], serde_json::json!(["bytes", "zstd"]));
}

#[test]
fn compressed_zarr_in_stats_is_a_clear_error() {
    let err = stderr_of_failure(&["stats", s(&fixture("table_zstd.zarr"))]);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("table_zstd.zarr"), "{err}");
    assert!(err.contains("--compress none"), "{err}");
    // Uncompressed but with chunks that split the rows: also refused, saying why.
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 20, 4);
    let zarr = dir.path().join("cols.zarr");
    stdout(&["convert", s(&npy), "-o", s(&zarr), "--chunks", "5,2"]);
    let err = stderr_of_failure(&["stats", s(&zarr)]);
    assert!(
        err.contains("cols.zarr") && err.contains("whole-row"),
        "{err}"
    );
    // A Zarr v2 array is converted, not mapped.
    let err = stderr_of_failure(&["hist", s(&fixture("table_v2.zarr")), "--bins", "3"]);
    assert!(err.contains("v2") && err.contains("convert"), "{err}");
}

// ---- round trips through the CLI ----

#[test]
fn npy_to_stack_and_back_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 1000, 5);
    let stack = dir.path().join("stack");
    let back = dir.path().join("back.npy");
    to_npy_stack(&npy, &stack, 300);
    assert_eq!(
        dir_entries(&stack),
        ["0.npy", "1.npy", "2.npy", "3.npy", "info"]
    );
    let info = npy_stack::read_info_file(&stack).unwrap();
    assert_eq!(info.chunks, [vec![300, 300, 300, 100], vec![5]]);
    assert_eq!(detect(&stack), Some(Layout::NpyStack));
    stdout(&["convert", s(&stack), "-o", s(&back)]);
    assert_eq!(std::fs::read(&npy).unwrap(), std::fs::read(&back).unwrap());
    // --from npy-stack works too.
    let again = dir.path().join("again.npy");
    stdout(&["convert", s(&stack), "--from", "npy-stack", "-o", s(&again)]);
    assert_eq!(std::fs::read(&npy).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn npy_to_zarr_and_back_is_identical_in_every_layout() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 1000, 5);
    let cases: [&[&str]; 4] = [
        &[],
        &["--chunks", "300,5"],
        &["--chunks", "128,2", "--compress", "zstd"],
        &["--compress", "zstd"],
    ];
    for (k, extra) in cases.iter().enumerate() {
        let zarr = dir.path().join(format!("z{k}.zarr"));
        let back = dir.path().join(format!("z{k}.npy"));
        stdout(&[&["convert", s(&npy), "-o", s(&zarr)], *extra].concat());
        assert!(zarr.join("zarr.json").is_file());
        stdout(&["convert", s(&zarr), "-o", s(&back)]);
        assert_eq!(
            std::fs::read(&npy).unwrap(),
            std::fs::read(&back).unwrap(),
            "{extra:?}"
        );
    }
    // Default chunk key encoding: c/<row chunk>/<col chunk>.
    assert!(dir.path().join("z1.zarr/c/3/0").is_file());
    assert!(dir.path().join("z2.zarr/c/7/2").is_file());
}

#[test]
fn zarr_written_by_mmnpy_has_default_whole_row_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 100, 4);
    let zarr = dir.path().join("x.zarr");
    stdout(&["convert", s(&npy), "-o", s(&zarr)]);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(zarr.join("zarr.json")).unwrap()).unwrap();
    assert_eq!(meta["zarr_format"], 3);
    assert_eq!(meta["data_type"], "float64");
    assert_eq!(
        meta["chunk_grid"]["configuration"]["chunk_shape"],
        serde_json::json!([100, 4])
    );
    assert_eq!(meta["codecs"][0]["name"], "bytes");
    // Uncompressed: readable in place.
    let expected = stdout(&["stats", s(&npy), "--json"]);
    assert_eq!(stdout(&["stats", s(&zarr), "--json"]), expected);
}

#[test]
fn big_endian_and_other_dtypes_round_trip_through_zarr_and_stacks() {
    let dir = tempfile::tempdir().unwrap();
    for (k, descr) in ["<i2", ">f4", "|b1", "<c8", ">u8", "<f2"]
        .into_iter()
        .enumerate()
    {
        let dtype = DType::parse(descr).unwrap();
        let npy = dir.path().join(format!("a{k}.npy"));
        let mut f = NpyFile::create(&npy, dtype, &[7, 3], Order::C).unwrap();
        for (i, b) in f.bytes_mut().unwrap().iter_mut().enumerate() {
            *b = if descr == "|b1" {
                (i % 3 == 0) as u8
            } else {
                (i * 37 % 251) as u8 & 0x3f
            };
        }
        f.persist().unwrap();
        drop(f);
        let zarr = dir.path().join(format!("a{k}.zarr"));
        let stack = dir.path().join(format!("a{k}.stack"));
        stdout(&["convert", s(&npy), "-o", s(&zarr), "--chunks", "2,2"]);
        stdout(&[
            "convert",
            s(&npy),
            "-o",
            s(&stack),
            "--format",
            "npy-stack",
            "--chunk-rows",
            "3",
        ]);
        let from_zarr = dir.path().join(format!("a{k}.z.npy"));
        let from_stack = dir.path().join(format!("a{k}.s.npy"));
        stdout(&["convert", s(&zarr), "-o", s(&from_zarr)]);
        stdout(&["convert", s(&stack), "-o", s(&from_stack)]);
        // The stack keeps the byte order; zarrs decodes to native order.
        assert_eq!(
            std::fs::read(&npy).unwrap(),
            std::fs::read(&from_stack).unwrap(),
            "{descr}"
        );
        let a = NpyFile::open(&npy).unwrap();
        let z = NpyFile::open(&from_zarr).unwrap();
        let mut native = a.bytes().to_vec();
        if !a.dtype().is_native() {
            mmnpy::dtype::swap_bytes_in_place(a.dtype().scalar(), &mut native);
        }
        assert_eq!(z.bytes(), native.as_slice(), "{descr}");
        assert_eq!(z.dtype().scalar(), a.dtype().scalar());
    }
}

#[test]
fn empty_and_one_dimensional_arrays_convert() {
    let dir = tempfile::tempdir().unwrap();
    for shape in [&[0usize, 3][..], &[5], &[0]] {
        let npy = dir.path().join("e.npy");
        let f = NpyFile::create(&npy, DType::parse("<i8").unwrap(), shape, Order::C).unwrap();
        let mut f = f;
        f.persist().unwrap();
        drop(f);
        for (out, extra) in [
            ("e.zarr", &[][..]),
            (
                "e.stack",
                &["--format", "npy-stack", "--chunk-rows", "2"][..],
            ),
        ] {
            let out = dir.path().join(out);
            let back = dir.path().join("back.npy");
            stdout(&[&["convert", s(&npy), "-o", s(&out), "--force"], extra].concat());
            stdout(&["convert", s(&out), "-o", s(&back), "--force"]);
            assert_eq!(
                std::fs::read(&npy).unwrap(),
                std::fs::read(&back).unwrap(),
                "{shape:?}"
            );
        }
    }
}

// ---- atomicity and refusals ----

#[test]
fn existing_outputs_are_refused_without_force_and_replaced_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 50, 2);
    let zarr = dir.path().join("x.zarr");
    std::fs::create_dir(&zarr).unwrap();
    std::fs::write(zarr.join("keep"), b"mine").unwrap();
    let err = stderr_of_failure(&["convert", s(&npy), "-o", s(&zarr)]);
    assert!(
        err.starts_with("error: ") && err.contains("x.zarr"),
        "{err}"
    );
    assert_eq!(dir_entries(&zarr), ["keep"]);
    stdout(&["convert", s(&npy), "-o", s(&zarr), "--force"]);
    assert!(zarr.join("zarr.json").is_file() && !zarr.join("keep").exists());
    assert_eq!(dir_entries(dir.path()), ["t.npy", "x.zarr"]);
}

#[test]
fn a_failed_conversion_leaves_no_target_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 50, 2);
    // A chunk shape of the wrong rank fails after the output was planned.
    let err = stderr_of_failure(&[
        "convert",
        s(&npy),
        "-o",
        s(&dir.path().join("x.zarr")),
        "--chunks",
        "5",
    ]);
    assert!(err.starts_with("error: "), "{err}");
    let err = stderr_of_failure(&[
        "convert",
        s(&npy),
        "-o",
        s(&dir.path().join("st")),
        "--format",
        "npy-stack",
        "--chunk-rows",
        "0",
    ]);
    assert!(err.contains("--chunk-rows"), "{err}");
    // An npy-stack whose shard is missing fails mid-read: no output .npy.
    let stack = dir.path().join("stack");
    to_npy_stack(&npy, &stack, 20);
    std::fs::remove_file(stack.join("1.npy")).unwrap();
    let err = stderr_of_failure(&["convert", s(&stack), "-o", s(&dir.path().join("y.npy"))]);
    assert!(err.contains("1.npy"), "{err}");
    assert_eq!(dir_entries(dir.path()), ["stack", "t.npy"]);
}

#[test]
fn atomic_dir_is_removed_when_dropped_unfinished() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.zarr");
    {
        let building = mmnpy::partitioned::AtomicDir::new(&target).unwrap();
        std::fs::write(building.path().join("half"), b"x").unwrap();
        assert!(!target.exists());
    }
    assert!(dir_entries(dir.path()).is_empty());
    let mut done = mmnpy::partitioned::AtomicDir::new(&target).unwrap();
    std::fs::write(done.path().join("whole"), b"x").unwrap();
    done.commit(Overwrite::Refuse).unwrap();
    assert_eq!(dir_entries(&target), ["whole"]);
    let mut again = mmnpy::partitioned::AtomicDir::new(&target).unwrap();
    assert!(again.commit(Overwrite::Refuse).is_err());
    drop(again);
    assert_eq!(dir_entries(dir.path()), ["out.zarr"]);
}

#[test]
fn hostile_info_pickles_are_refused_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 10, 2);
    let stack = dir.path().join("stack");
    to_npy_stack(&npy, &stack, 5);
    let canary = dir.path().join("pwned");
    // pickle.dumps of a reduce calling os.system (what dask's pickle.load would run).
    let command = format!("touch {}", canary.display());
    let mut evil = vec![0x80, 4, 0x8c, 5];
    evil.extend_from_slice(b"posix");
    evil.extend_from_slice(&[0x8c, 6]);
    evil.extend_from_slice(b"system");
    evil.push(0x93);
    evil.extend_from_slice(&[0x8c, command.len() as u8]);
    evil.extend_from_slice(command.as_bytes());
    evil.extend_from_slice(&[0x85, b'R', b'.']);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (evil, "refusing global posix.system"),
        (
            b"\x80\x04cbuiltins\neval\n.".to_vec(),
            "refusing global builtins.eval",
        ),
        // A protocol-0 pickle and an unknown opcode.
        (b"(dp0\n.".to_vec(), "not allowed"),
        // The dict, but with an extra key.
        (b"\x80\x04}(\x8c\x01x\x94K\x01u.".to_vec(), "unexpected key"),
        // Deeply nested tuples.
        (
            [&[0x80u8, 4][..], &[b'('; 100], &[b't'; 100], b"."].concat(),
            "too deep",
        ),
        (Vec::new(), "ends early"),
    ];
    for (bytes, needle) in cases {
        std::fs::write(stack.join("info"), &bytes).unwrap();
        for cmd in ["info", "stats"] {
            let err = stderr_of_failure(&[cmd, s(&stack)]);
            assert!(err.starts_with("error: "), "{err}");
            assert!(err.contains("info"), "{err}");
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }
    assert!(!canary.exists());
}

#[test]
fn reader_never_panics_on_mutated_pickles() {
    let good = std::fs::read(fixture("stack_f8/info")).unwrap();
    for i in 0..good.len() {
        for v in [0u8, 1, 0x7f, 0x80, 0xff, b'R', b'b', 0x93, b'h'] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = read_info(&bad);
        }
    }
}

#[test]
fn stacks_with_inconsistent_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let npy = make_table(dir.path(), 10, 2);
    let stack = dir.path().join("stack");
    to_npy_stack(&npy, &stack, 5);
    let mut wrong = NpyFile::create(
        stack.join("x.npy"),
        DType::parse("<f8").unwrap(),
        &[4, 2],
        Order::C,
    )
    .unwrap();
    wrong.persist().unwrap();
    drop(wrong);
    std::fs::rename(stack.join("x.npy"), stack.join("1.npy")).unwrap();
    let err = stderr_of_failure(&["stats", s(&stack)]);
    assert!(err.contains("1.npy") && err.contains("shape"), "{err}");
}

// ---- determinism ----

#[test]
fn partitioned_stats_are_bit_identical_to_the_npy_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let npy_path = make_table(dir.path(), 3001, 7);
    let stack = dir.path().join("stack");
    let zarr = dir.path().join("x.zarr");
    to_npy_stack(&npy_path, &stack, 333);
    stdout(&["convert", s(&npy_path), "-o", s(&zarr), "--chunks", "250,7"]);
    let npy = NpyFile::open(&npy_path).unwrap();
    // Small blocks and windows, so blocks straddle shards and the driver streams windows.
    let options = PassOptions::new().block_units(1000).window_blocks(3);
    let expected = (
        stats(&npy, 1, &options).unwrap(),
        stats_axis(&npy, 0, 0, &options).unwrap(),
        stats_axis(&npy, 1, 0, &options).unwrap(),
        histogram(&npy, 17, Some((-150.0, 150.0)), &options).unwrap(),
    );
    for path in [&stack, &zarr] {
        let part = Partitioned::open(path).unwrap();
        for threads in [1, 2, 3] {
            let got = in_pool(threads, || {
                (
                    stats(&part, 1, &options).unwrap(),
                    stats_axis(&part, 0, 0, &options).unwrap(),
                    stats_axis(&part, 1, 0, &options).unwrap(),
                    histogram(&part, 17, Some((-150.0, 150.0)), &options).unwrap(),
                )
            });
            // Debug formatting shows every bit of the floats (NaN aside, none here).
            assert_eq!(
                format!("{got:?}"),
                format!("{expected:?}"),
                "{path:?} {threads}"
            );
        }
    }
}
