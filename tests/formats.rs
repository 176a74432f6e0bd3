//! Foreign formats: CSV/TSV, npz and Parquet against files numpy, pandas and pyarrow wrote
//! (tests/fixtures/formats, made by scripts/make_format_fixtures.py), round trips, and every
//! error case (an error naming file and problem, and nothing left behind).

use std::path::{Path, PathBuf};

use crate::fixture::dir_entries as listing;
use mmnpy::convert::csv::{CsvReadOptions, CsvWriteOptions, csv_to_npy, npy_to_csv};
use mmnpy::convert::npz::{NpzArchive, extract_member};
use mmnpy::{DType, ErrorKind, NpyArray, NpyFile, Order, Overwrite, Scalar, read_array};
use ndarray::{Array2, ArrayD};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

/// Bit-exact equality, any NaN equal to any NaN.
fn same_f64(a: &ArrayD<f64>, b: &ArrayD<f64>) {
    assert_eq!(a.shape(), b.shape());
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert!(
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            "element {i}: {x:e} != {y:e}"
        );
    }
}

fn f64_opts() -> CsvReadOptions {
    CsvReadOptions::default()
}

fn read_csv(input: &Path, opts: &CsvReadOptions) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    csv_to_npy(input, &out, opts, Overwrite::Refuse).unwrap();
    (dir, out)
}

#[test]
fn csv_written_by_numpy_and_pandas_reads_bit_exact() {
    for (csv, delimiter, expected) in [
        ("savetxt_default.csv", b',', "savetxt_default.expected.npy"),
        ("savetxt_repr.tsv", b'\t', "savetxt_repr.expected.npy"),
        ("pandas_header.csv", b',', "pandas_header.expected.npy"),
        (
            "pandas_quoted_crlf.csv",
            b',',
            "pandas_quoted_crlf.expected.npy",
        ),
    ] {
        let opts = CsvReadOptions {
            delimiter,
            ..f64_opts()
        };
        let (_dir, out) = read_csv(&fixture(csv), &opts);
        let got = read_array::<f64>(&out).unwrap();
        let want = read_array::<f64>(fixture(expected)).unwrap();
        same_f64(&got, &want);
        // The file is what np.save would write for the same array.
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(fixture(expected)).unwrap(),
            "{csv}: not the bytes np.save wrote"
        );
    }
}

#[test]
fn csv_to_float32_and_int64_matches_numpy() {
    let opts = CsvReadOptions {
        dtype: DType::native(Scalar::F32),
        ..f64_opts()
    };
    let (_dir, out) = read_csv(&fixture("savetxt_default.csv"), &opts);
    let got = read_array::<f32>(&out).unwrap();
    let want = read_array::<f32>(fixture("savetxt_default.expected_f4.npy")).unwrap();
    assert_eq!(
        got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );

    let opts = CsvReadOptions {
        dtype: DType::native(Scalar::I64),
        ..f64_opts()
    };
    let (_dir, out) = read_csv(&fixture("pandas_ints.csv"), &opts);
    assert_eq!(
        read_array::<i64>(&out).unwrap(),
        read_array::<i64>(fixture("pandas_ints.expected.npy")).unwrap()
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn csv_header_detection_forcing_blank_lines_and_special_values() {
    let dir = tempfile::tempdir().unwrap();
    let numeric = write(
        dir.path(),
        "n.csv",
        "1,2\n\n3.5,NaN\r\n  -inf , Infinity\n\"4\",+5\n",
    );
    let (_d, out) = read_csv(&numeric, &f64_opts());
    let a = read_array::<f64>(&out).unwrap();
    assert_eq!(a.shape(), &[4, 2]);
    let v: Vec<f64> = a.iter().copied().collect();
    assert_eq!(&v[..3], &[1.0, 2.0, 3.5]);
    assert!(v[3].is_nan());
    assert_eq!(&v[4..], &[f64::NEG_INFINITY, f64::INFINITY, 4.0, 5.0]);

    let forced = CsvReadOptions {
        header: Some(true),
        ..f64_opts()
    };
    let (_d, out) = read_csv(&numeric, &forced);
    assert_eq!(read_array::<f64>(&out).unwrap().shape(), &[3, 2]);

    // A quoted header name holding the delimiter and a newline.
    let quoted = write(dir.path(), "q.csv", "\"a,\nb\",c\n1,2\n");
    let (_d, out) = read_csv(&quoted, &f64_opts());
    assert_eq!(read_array::<f64>(&out).unwrap().shape(), &[1, 2]);

    let empty = write(dir.path(), "e.csv", "");
    let (_d, out) = read_csv(&empty, &f64_opts());
    assert_eq!(read_array::<f64>(&out).unwrap().shape(), &[0, 0]);
    let header_only = write(dir.path(), "h.csv", "x,y,z\n");
    let (_d, out) = read_csv(&header_only, &f64_opts());
    assert_eq!(read_array::<f64>(&out).unwrap().shape(), &[0, 3]);
}

#[test]
fn csv_across_many_parallel_chunks_keeps_row_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("a,b,c\n");
    let rows = 150_000;
    for i in 0..rows {
        text.push_str(&format!("{i},{i}.25,\"{}\"\r\n", -(i as i64)));
    }
    let input = write(dir.path(), "big.csv", &text);
    assert!(text.len() > 3 * mmnpy::convert::csv::CHUNK_BYTES);
    let (_d, out) = read_csv(&input, &f64_opts());
    let a = read_array::<f64>(&out).unwrap();
    assert_eq!(a.shape(), &[rows, 3]);
    for i in [0, 1, 77_777, rows - 1] {
        assert_eq!(a[[i, 0]], i as f64);
        assert_eq!(a[[i, 2]], -(i as f64));
    }

    // An error near the end names its line (header is line 1).
    text.push_str("1,2\n");
    let bad = write(dir.path(), "bad.csv", &text);
    let out = dir.path().join("bad.npy");
    let e = csv_to_npy(&bad, &out, &f64_opts(), Overwrite::Refuse).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Parse { line, .. } if *line == rows as u64 + 2),
        "{e}"
    );
    assert!(!out.exists());
}

/// Every CSV error: the message names the file, the line and the problem, and the output
/// directory holds nothing new.
#[test]
fn csv_errors_name_file_line_and_problem_and_leave_nothing() {
    let input_dir = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let ints = CsvReadOptions {
        dtype: DType::native(Scalar::I32),
        ..f64_opts()
    };
    for (name, text, opts, line, needle) in [
        (
            "ragged.csv",
            "a,b\n1,2\n3,4\n5\n",
            f64_opts(),
            4,
            "expected 2 fields, found 1",
        ),
        ("ragged_long.csv", "1,2\n3,4,5\n", f64_opts(), 2, "found 3"),
        (
            "empty_int.csv",
            "1,2\n3,\n",
            ints,
            2,
            "empty field in column 2",
        ),
        (
            "junk.csv",
            "1,2\n3,4\n\n5,x7\n",
            f64_opts(),
            4,
            "\"x7\" in column 2",
        ),
        (
            "overflow.csv",
            "1,2\n3,99999999999\n",
            ints,
            2,
            "column 2 as int32",
        ),
        ("float_int.csv", "1,2.5\n", ints, 1, "\"2.5\" in column 2"),
        ("quote.csv", "1,2\n3,\"4\n", f64_opts(), 2, "unterminated"),
    ] {
        let input = write(input_dir.path(), name, text);
        let out = out_dir.path().join("out.npy");
        let e = csv_to_npy(&input, &out, &opts, Overwrite::Refuse).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e.kind(), ErrorKind::Parse { line: l, .. } if *l == line),
            "{name}: {msg}"
        );
        assert!(msg.contains(name) && msg.contains(needle), "{name}: {msg}");
        assert!(listing(out_dir.path()).is_empty(), "{name} left files");
    }
}

#[test]
fn csv_refuses_to_overwrite_or_write_onto_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", "1,2\n");
    let out = write(dir.path(), "out.npy", "keep");
    let e = csv_to_npy(&input, &out, &f64_opts(), Overwrite::Refuse).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::OutputExists), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep");
    let e = csv_to_npy(&input, &input, &f64_opts(), Overwrite::Replace).unwrap_err();
    assert!(e.to_string().contains("input"), "{e}");
    csv_to_npy(&input, &out, &f64_opts(), Overwrite::Replace).unwrap();
    assert_eq!(read_array::<f64>(&out).unwrap().shape(), &[1, 2]);
    assert_eq!(listing(dir.path()), ["in.csv", "out.npy"]);
}

#[test]
fn npy_to_csv_prints_python_repr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let input = NpyFile::open(fixture("to_csv_input.npy")).unwrap();
    let report = npy_to_csv(&input, &out, &CsvWriteOptions::default(), Overwrite::Refuse).unwrap();
    assert_eq!(report.rows, 6);
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(fixture("to_csv_expected.csv")).unwrap()
    );
}

fn round_trip<T: mmnpy::Element>(
    array: &ArrayD<T>,
    order: Order,
    dtype: DType,
    header: bool,
) -> ArrayD<T> {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("in.npy");
    let mut f = NpyFile::create(&npy, dtype, array.shape(), order).unwrap();
    {
        // Write elements in the file's memory and byte order.
        let bytes = f.bytes_mut().unwrap();
        let size = dtype.itemsize();
        let logical: Vec<T> = match order {
            Order::C => array.iter().copied().collect(),
            Order::Fortran => array.t().iter().copied().collect(),
        };
        for (i, v) in logical.iter().enumerate() {
            let mut b = bytemuck::bytes_of(v).to_vec();
            if !dtype.is_native() {
                b.reverse();
            }
            bytes[i * size..(i + 1) * size].copy_from_slice(&b);
        }
    }
    f.persist().unwrap();
    let csv = dir.path().join("out.tsv");
    let opts = CsvWriteOptions {
        delimiter: b'\t',
        header,
    };
    npy_to_csv(&f, &csv, &opts, Overwrite::Refuse).unwrap();
    let back = dir.path().join("back.npy");
    let read = CsvReadOptions {
        delimiter: b'\t',
        header: Some(header),
        dtype: DType::native(T::SCALAR),
    };
    csv_to_npy(&csv, &back, &read, Overwrite::Refuse).unwrap();
    read_array::<T>(&back).unwrap()
}

#[test]
fn npy_csv_round_trips_every_kind_order_and_byte_order() {
    let f32s = Array2::from_shape_fn((50, 3), |(i, j)| ((i * 3 + j) as f32).sqrt() / 7.0 - 1e-3)
        .into_dyn();
    assert_eq!(
        round_trip(&f32s, Order::C, DType::native(Scalar::F32), true),
        f32s
    );
    assert_eq!(
        round_trip(&f32s, Order::Fortran, DType::native(Scalar::F32), false),
        f32s
    );
    let f64s = f32s.mapv(|v| f64::from(v) * std::f64::consts::PI);
    let be = DType::parse(">f8").unwrap();
    assert_eq!(round_trip(&f64s, Order::C, be, false), f64s);
    let ints =
        Array2::from_shape_fn((20, 4), |(i, j)| i as i64 * 1_000_000_007 - j as i64 * 3).into_dyn();
    assert_eq!(
        round_trip(&ints, Order::C, DType::native(Scalar::I64), true),
        ints
    );
    let one_d = ndarray::Array1::from_iter((0..30u16).map(|i| i * 2000)).into_dyn();
    let back = round_trip(&one_d, Order::C, DType::native(Scalar::U16), false);
    assert_eq!(back.shape(), &[30, 1]);
    assert_eq!(
        back.iter().copied().collect::<Vec<_>>(),
        one_d.iter().copied().collect::<Vec<_>>()
    );
    let bools =
        Array2::from_shape_fn((5, 2), |(i, j)| mmnpy::Bool::from((i + j) % 2 == 0)).into_dyn();
    assert_eq!(
        round_trip(&bools, Order::C, DType::native(Scalar::Bool), false),
        bools
    );
    let c = Array2::from_shape_fn((4, 2), |(i, j)| {
        mmnpy::Complex::new(i as f64 / 3.0, -(j as f64) - 0.5)
    })
    .into_dyn();
    assert_eq!(
        round_trip(&c, Order::C, DType::native(Scalar::C128), false),
        c
    );
    let halves = Array2::from_shape_fn((6, 2), |(i, j)| {
        mmnpy::f16::from_f32(i as f32 / 7.0 + j as f32)
    })
    .into_dyn();
    assert_eq!(
        round_trip(&halves, Order::C, DType::native(Scalar::F16), false),
        halves
    );
}

#[test]
fn npy_to_csv_refuses_three_dimensions() {
    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("cube.npy");
    let mut a = NpyArray::<f64>::create(&npy, &[2, 2, 2], Order::C).unwrap();
    a.persist().unwrap();
    let out = dir.path().join("cube.csv");
    let e = npy_to_csv(
        a.file(),
        &out,
        &CsvWriteOptions::default(),
        Overwrite::Refuse,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("cube.npy") && e.to_string().contains("1-D and 2-D"),
        "{e}"
    );
    assert_eq!(listing(dir.path()), ["cube.npy"]);
}

#[test]
fn npz_lists_members_of_savez_and_savez_compressed() {
    for (archive, compressed) in [("stored.npz", false), ("compressed.npz", true)] {
        let npz = NpzArchive::open(fixture(archive)).unwrap();
        let names: Vec<&str> = npz.members().iter().map(|m| m.name()).collect();
        assert_eq!(names, ["x", "y", "z", "w"]);
        for m in npz.members() {
            assert_eq!(m.is_compressed(), compressed);
            assert_eq!(m.entry_name(), format!("{}.npy", m.name()));
            let expected =
                NpyFile::open(fixture(&format!("npz_{}.expected.npy", m.name()))).unwrap();
            assert_eq!(m.header(), expected.header());
            assert_eq!(m.size(), expected.file_len());
            assert_eq!(m.archive_offset().is_some(), !compressed);
        }
    }
}

#[test]
fn npz_stored_members_map_zero_copy_and_compressed_ones_stream() {
    let stored = NpzArchive::open(fixture("stored.npz")).unwrap();
    let compressed = NpzArchive::open(fixture("compressed.npz")).unwrap();
    for name in ["x", "y.npy", "z", "w"] {
        let bare = name.trim_end_matches(".npy");
        let expected = NpyFile::open(fixture(&format!("npz_{bare}.expected.npy"))).unwrap();
        let mapped = stored.open_member(name).unwrap();
        assert_eq!(mapped.bytes(), expected.bytes(), "{name}");
        assert_eq!(mapped.header(), expected.header());
        let e = compressed.open_member(name).unwrap_err();
        assert!(e.to_string().contains("compressed"), "{e}");
    }
    let x = read_array::<f64>(fixture("npz_x.expected.npy")).unwrap();
    assert_eq!(compressed.read_member::<f64>("x").unwrap(), x);
    assert_eq!(stored.read_member::<f64>("x.npy").unwrap(), x);
    let z = read_array::<f32>(fixture("npz_z.expected.npy")).unwrap();
    assert_eq!(compressed.read_member::<f32>("z").unwrap(), z);
    let w = compressed.read_member::<i64>("w").unwrap();
    assert_eq!(
        w.iter().copied().collect::<Vec<_>>(),
        (0..6).collect::<Vec<i64>>()
    );
    let e = compressed.read_member::<f64>("y").unwrap_err();
    assert!(e.to_string().contains("dtype mismatch"), "{e}");

    // Typed zero-copy access when the member's data is aligned; refused (not copied) if not.
    let m = stored.member("x").unwrap();
    let typed = stored.open_member("x").unwrap().into_typed::<f64>();
    match m.data_offset_in_archive().unwrap() % 8 {
        0 => assert_eq!(typed.unwrap().view(), x.view()),
        _ => assert!(matches!(
            typed.unwrap_err().kind(),
            ErrorKind::Misaligned { .. }
        )),
    }
}

#[test]
fn npz_extract_member_is_byte_identical_to_np_save() {
    let dir = tempfile::tempdir().unwrap();
    for archive in ["stored.npz", "compressed.npz"] {
        for name in ["x", "y", "z.npy", "w"] {
            let out = dir.path().join(format!("{archive}-{name}.npy"));
            let report = extract_member(&fixture(archive), name, &out, Overwrite::Refuse).unwrap();
            let bare = name.trim_end_matches(".npy");
            let expected = std::fs::read(fixture(&format!("npz_{bare}.expected.npy"))).unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), expected, "{archive} {name}");
            assert_eq!(report.bytes_out, expected.len() as u64);
        }
    }
}

#[test]
fn npz_errors_name_archive_and_member() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let e =
        extract_member(&fixture("compressed.npz"), "nope", &out, Overwrite::Refuse).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("compressed.npz") && msg.contains("\"nope\"") && msg.contains("x, y, z, w"),
        "{msg}"
    );
    let not_zip = write(dir.path(), "fake.npz", "this is not a zip file at all");
    let e = NpzArchive::open(&not_zip).unwrap_err();
    assert!(
        e.to_string().contains("fake.npz") && e.to_string().contains("zip"),
        "{e}"
    );
    let e = extract_member(&not_zip, "x", &out, Overwrite::Refuse).unwrap_err();
    assert!(e.to_string().contains("fake.npz"), "{e}");
    assert_eq!(listing(dir.path()), ["fake.npz"]);
}

#[test]
fn info_lists_npz_members_as_json() {
    let out = assert_cmd::Command::cargo_bin("mmnpy")
        .unwrap()
        .args(["info", "--json"])
        .arg(fixture("compressed.npz"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members = doc.as_array().expect("an array of members");
    assert_eq!(members.len(), 4);
    assert_eq!(members[0]["member"], "x");
    assert_eq!(members[0]["shape"], serde_json::json!([4, 6]));
    assert_eq!(members[0]["descr"], "<f8");
    assert_eq!(members[0]["compressed"], true);
    assert_eq!(members[2]["fortran_order"], true);
    assert_eq!(members[3]["descr"], ">i8");
    for key in [
        "path",
        "version",
        "dtype",
        "data_offset",
        "nbytes",
        "file_len",
        "compressed_size",
    ] {
        assert!(members[1].get(key).is_some(), "{key}");
    }
    let human = assert_cmd::Command::cargo_bin("mmnpy")
        .unwrap()
        .arg("info")
        .arg(fixture("stored.npz"))
        .output()
        .unwrap();
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(
        text.contains("stored.npz:x") && text.contains("(4, 6)") && text.contains("stored"),
        "{text}"
    );
}

#[cfg(feature = "parquet")]
mod parquet {
    use super::*;
    use mmnpy::convert::parquet::{npy_to_parquet, parquet_to_npy};

    #[test]
    fn pyarrow_file_imports_numeric_columns_with_nulls_as_nan() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.npy");
        let report = parquet_to_npy(
            &fixture("pyarrow.parquet"),
            &out,
            None,
            DType::native(Scalar::F64),
            Overwrite::Refuse,
        )
        .unwrap();
        assert_eq!(report.rows, 50);
        let got = read_array::<f64>(&out).unwrap();
        same_f64(
            &got,
            &read_array::<f64>(fixture("pyarrow.expected.npy")).unwrap(),
        );
        assert!(got[[17, 4]].is_nan());

        let cols = ["u8".to_string(), "i32".to_string()];
        let out2 = dir.path().join("ints.npy");
        parquet_to_npy(
            &fixture("pyarrow.parquet"),
            &out2,
            Some(&cols),
            DType::native(Scalar::I32),
            Overwrite::Refuse,
        )
        .unwrap();
        let ints = read_array::<i32>(&out2).unwrap();
        assert_eq!(ints.shape(), &[50, 2]);
        assert_eq!(ints[[21, 0]], 21);
        assert_eq!(ints[[21, 1]], 1);
    }

    #[test]
    fn parquet_errors_name_column_and_row_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.npy");
        let input = fixture("pyarrow.parquet");
        let i64 = DType::native(Scalar::I64);
        for (cols, dtype, needles) in [
            (vec!["name"], i64, vec!["\"name\"", "not a number"]),
            (vec!["missing"], i64, vec!["no column \"missing\""]),
            (vec!["f64", "i64_null"], i64, vec!["\"f64\""]),
            (
                vec!["i64_null"],
                i64,
                vec!["\"i64_null\"", "row 33", "null"],
            ),
        ] {
            let cols: Vec<String> = cols.into_iter().map(String::from).collect();
            let e =
                parquet_to_npy(&input, &out, Some(&cols), dtype, Overwrite::Refuse).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("pyarrow.parquet"), "{msg}");
            for n in needles {
                assert!(msg.contains(n), "{n}: {msg}");
            }
            assert!(listing(dir.path()).is_empty());
        }
    }

    #[test]
    fn npy_parquet_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("a.npy");
        let mut a = NpyArray::<f32>::create(&npy, &[1000, 3], Order::Fortran).unwrap();
        for (i, v) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
            *v = i as f32 * 0.37 - 100.0;
        }
        a.persist().unwrap();
        let pq = dir.path().join("a.parquet");
        let names = ["x".to_string(), "y".to_string(), "z".to_string()];
        npy_to_parquet(a.file(), &pq, Some(&names), Overwrite::Refuse).unwrap();
        let back = dir.path().join("back.npy");
        parquet_to_npy(
            &pq,
            &back,
            Some(&["z".to_string(), "x".to_string()]),
            DType::native(Scalar::F32),
            Overwrite::Refuse,
        )
        .unwrap();
        let b = read_array::<f32>(&back).unwrap();
        let v = a.view();
        for i in [0, 1, 500, 999] {
            assert_eq!(b[[i, 0]], v[[i, 2]]);
            assert_eq!(b[[i, 1]], v[[i, 0]]);
        }

        let ints = dir.path().join("i.npy");
        let mut i = NpyArray::<i64>::create(&ints, &[10], Order::C).unwrap();
        i.as_slice_mut()
            .unwrap()
            .iter_mut()
            .enumerate()
            .for_each(|(k, v)| *v = k as i64 * -3_000_000_000);
        i.persist().unwrap();
        let ipq = dir.path().join("i.parquet");
        npy_to_parquet(i.file(), &ipq, None, Overwrite::Refuse).unwrap();
        let iback = dir.path().join("iback.npy");
        parquet_to_npy(
            &ipq,
            &iback,
            Some(&["c0".to_string()]),
            DType::native(Scalar::I64),
            Overwrite::Refuse,
        )
        .unwrap();
        assert_eq!(
            read_array::<i64>(&iback)
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            i.as_slice()
        );

        let c = dir.path().join("c.npy");
        let mut cf = NpyArray::<mmnpy::Complex<f64>>::create(&c, &[2], Order::C).unwrap();
        cf.persist().unwrap();
        let e = npy_to_parquet(
            cf.file(),
            &dir.path().join("c.parquet"),
            None,
            Overwrite::Refuse,
        )
        .unwrap_err();
        assert!(e.to_string().contains("complex128"), "{e}");
        assert!(!dir.path().join("c.parquet").exists());
    }
}

#[test]
fn csv_import_reports_every_input_byte_as_progress_and_progress_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("pandas_header.csv");
    let plain = dir.path().join("plain.npy");
    let watched = dir.path().join("watched.npy");
    csv_to_npy(
        &input,
        &plain,
        &CsvReadOptions::default(),
        Overwrite::Refuse,
    )
    .unwrap();
    let seen = std::sync::atomic::AtomicU64::new(0);
    let hook = |n: u64| {
        seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    mmnpy::convert::csv::csv_to_npy_with_progress(
        &input,
        &watched,
        &CsvReadOptions::default(),
        Overwrite::Refuse,
        &hook,
    )
    .unwrap();
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        std::fs::read(&watched).unwrap()
    );
    // Every byte, the header line's included, is reported exactly once: the bar over the
    // file's length ends full.
    let len = std::fs::metadata(&input).unwrap().len();
    let reported = seen.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(reported, len);

    // The CLI with a progress bar asked for writes the same file and nothing on stdout.
    let cli = dir.path().join("cli.npy");
    let out = crate::fixture::mmnpy()
        .args(["--progress", "always", "convert"])
        .arg(&input)
        .arg("-o")
        .arg(&cli)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&plain).unwrap(), std::fs::read(&cli).unwrap());
}

#[cfg(feature = "parquet")]
#[test]
fn complex_arrays_have_no_parquet_type_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("z.npy");
    let mut a = NpyFile::create(&input, DType::parse("<c16").unwrap(), &[3, 2], Order::C).unwrap();
    a.persist().unwrap();
    drop(a);
    let output = dir.path().join("z.parquet");
    let err = mmnpy::convert::parquet::npy_to_parquet(
        &NpyFile::open(&input).unwrap(),
        &output,
        None,
        Overwrite::Refuse,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("complex128 has no parquet type"),
        "{err}"
    );
    assert_eq!(listing(dir.path()), ["z.npy"]);
}
