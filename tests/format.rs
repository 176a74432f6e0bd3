//! The `.npy` format against numpy's own files: every fixture reads back with numpy's header
//! and exact element bits (untyped, typed views, `read_array`), writing the same arrays gives
//! numpy's bytes, numpy's header bytes match for shapes too large to store, and the files
//! numpy refuses are refused with a specific error naming the file.

use mmnpy::header::DEFAULT_MAX_HEADER_SIZE;
use mmnpy::{
    DType, Element, ErrorKind, Header, NpyArray, NpyFile, Order, Version, dispatch_scalar,
    read_array,
};

use crate::fixture::{self, ArrayCase};

#[test]
fn fixture_set_covers_what_the_issue_asks() {
    let arrays = &fixture::manifest().arrays;
    for scalar in mmnpy::Scalar::ALL {
        for big in [false, true] {
            let found = arrays.iter().any(|a| {
                let d = a.dtype();
                d.scalar() == scalar && (scalar.size() == 1 || d.is_native() != big)
            });
            assert!(found, "no fixture for {scalar:?} (big-endian: {big})");
        }
    }
    let has = |f: &dyn Fn(&ArrayCase) -> bool| arrays.iter().any(f);
    assert!(has(&|a| a.shape.is_empty()));
    assert!(has(&|a| a.shape.contains(&0)));
    assert!(has(&|a| a.fortran_order && a.shape.len() == 3));
    for v in ["1.0", "2.0", "3.0"] {
        assert!(has(&|a| a.version == v), "no version {v} fixture");
    }
    assert!(has(&|a| a.writer == "legacy-16" && a.data_offset % 64 != 0));
    assert!(has(&|a| a.trailing_bytes > 0));
}

#[test]
fn every_fixture_opens_untyped_with_numpys_header_and_exact_data_bytes() {
    for case in &fixture::manifest().arrays {
        let file = NpyFile::open(case.path()).unwrap_or_else(|e| panic!("{}: {e}", case.file));
        let h = file.header();
        let what = &case.file;
        assert_eq!(h.descr(), case.descr, "{what}");
        assert_eq!(h.dtype().name(), case.dtype_name, "{what}");
        assert_eq!(h.shape(), case.shape.as_slice(), "{what}");
        assert_eq!(h.fortran_order(), case.fortran_order, "{what}");
        assert_eq!(h.version().as_str(), case.version, "{what}");
        assert_eq!(h.data_offset(), case.data_offset, "{what}");
        assert_eq!(file.len(), case.shape.iter().product::<usize>(), "{what}");
        let on_disk = std::fs::read(case.path()).unwrap();
        assert_eq!(file.file_len(), on_disk.len() as u64, "{what}");
        assert_eq!(
            h.nbytes() + h.data_offset() + case.trailing_bytes,
            file.file_len(),
            "{what}"
        );
        assert_eq!(file.bytes(), case.file_data_bytes(), "{what}: data bytes");
    }
}

/// Typed access: zero-copy views with the manifest's values (bit for bit, NaN included), in
/// C order through the view whatever the file's order, with F strides for Fortran files.
fn check_typed_view<T: Element>(case: &ArrayCase) {
    let what = &case.file;
    let a = NpyArray::<T>::open(case.path()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let view = a.view();
    assert_eq!(view.shape(), case.shape.as_slice(), "{what}");
    let logical: Vec<T> = view.iter().copied().collect();
    assert_eq!(
        bytemuck::cast_slice::<T, u8>(&logical),
        case.native_c_bytes(),
        "{what}: values"
    );
    if a.is_empty() {
        return;
    }
    assert_eq!(
        view.as_ptr(),
        a.as_slice().as_ptr(),
        "{what}: not zero-copy"
    );
    let mut expected_strides = vec![0isize; case.shape.len()];
    let mut step = 1isize;
    let axes: Vec<usize> = if case.fortran_order {
        (0..case.shape.len()).collect()
    } else {
        (0..case.shape.len()).rev().collect()
    };
    for axis in axes {
        expected_strides[axis] = step;
        step *= case.shape[axis] as isize;
    }
    // ndarray normalizes the stride of a length-1 axis; compare only the others.
    for (axis, (&got, &want)) in view.strides().iter().zip(&expected_strides).enumerate() {
        if case.shape[axis] > 1 {
            assert_eq!(got, want, "{what}: stride of axis {axis}");
        }
    }
}

#[test]
fn every_native_fixture_gives_typed_zero_copy_views_with_exact_values() {
    let mut checked = 0;
    for case in fixture::manifest().arrays.iter().filter(|c| c.is_native()) {
        dispatch_scalar!(case.dtype().scalar(), T => check_typed_view::<T>(case));
        checked += 1;
    }
    assert!(checked > 80, "only {checked} native fixtures");
}

fn check_read_array<T: Element>(case: &ArrayCase) {
    let what = &case.file;
    let a = read_array::<T>(case.path()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(a.shape(), case.shape.as_slice(), "{what}");
    let logical: Vec<T> = a.iter().copied().collect();
    assert_eq!(
        bytemuck::cast_slice::<T, u8>(&logical),
        case.native_c_bytes(),
        "{what}: values"
    );
}

#[test]
fn read_array_gives_numpys_values_for_every_fixture_in_either_byte_order() {
    for case in &fixture::manifest().arrays {
        dispatch_scalar!(case.dtype().scalar(), T => check_read_array::<T>(case));
    }
}

#[test]
fn writing_the_fixture_arrays_is_byte_identical_to_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let mut written = 0;
    for case in &fixture::manifest().arrays {
        if case.writer == "legacy-16" {
            continue; // numpy >= 1.14 no longer writes these, nor does mmnpy
        }
        let out = dir.path().join(&case.file);
        // np.save lets numpy choose the version; write_array(version=...) fixes it.
        let mut file = if case.writer.starts_with("write_array") {
            NpyFile::create_with_version(
                &out,
                case.dtype(),
                &case.shape,
                case.order(),
                case.version(),
            )
        } else {
            NpyFile::create(&out, case.dtype(), &case.shape, case.order())
        }
        .unwrap();
        assert_eq!(
            file.header().data_offset(),
            case.data_offset,
            "{}",
            case.file
        );
        file.bytes_mut()
            .unwrap()
            .copy_from_slice(&case.file_data_bytes());
        file.persist().unwrap();
        drop(file);
        let ours = std::fs::read(&out).unwrap();
        let numpys = std::fs::read(case.path()).unwrap();
        let numpys = &numpys[..numpys.len() - case.trailing_bytes as usize];
        assert!(
            ours == numpys,
            "{}: mmnpy wrote {} bytes, numpy {}; first difference at byte {:?}",
            case.file,
            ours.len(),
            numpys.len(),
            ours.iter().zip(numpys).position(|(a, b)| a != b)
        );
        written += 1;
    }
    assert!(written > 100, "only {written} fixtures written");
}

#[test]
fn header_bytes_match_numpy_for_large_shapes_and_every_version() {
    let cases = &fixture::manifest().headers;
    assert!(cases.len() > 90);
    for case in cases {
        let what = format!(
            "{} {:?} F={} v{}",
            case.descr, case.shape, case.fortran_order, case.version
        );
        let order = if case.fortran_order {
            Order::Fortran
        } else {
            Order::C
        };
        let version = Version::parse(&case.version).unwrap();
        let dtype = DType::parse(&case.descr).unwrap();
        let header = Header::with_version(dtype, &case.shape, order, Some(version)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&header.to_bytes().unwrap()),
            String::from_utf8_lossy(&case.bytes),
            "{what}"
        );
        assert_eq!(header.data_offset(), case.bytes.len() as u64, "{what}");
        let parsed = Header::parse(&case.bytes, DEFAULT_MAX_HEADER_SIZE).unwrap();
        assert_eq!(parsed, header, "{what}");
        if version == Version::V1 {
            // numpy's own choice for this header is 1.0 too.
            assert_eq!(
                Header::new(dtype, &case.shape, order).unwrap(),
                header,
                "{what}"
            );
        }
    }
}

#[test]
fn only_versions_1_2_and_3_exist() {
    // numpy's test_write_version: (1, 1), (0, 0), (0, 1), (2, 2), (255, 255) are refused.
    for bad in ["1.1", "0.0", "0.1", "2.2", "255.255", "4", "", "v1"] {
        let err = Version::parse(bad).unwrap_err();
        assert!(
            err.to_string().contains("expected 1, 2 or 3"),
            "{bad}: {err}"
        );
    }
    for (text, v) in [("1", Version::V1), ("2.0", Version::V2), ("3", Version::V3)] {
        assert_eq!(Version::parse(text).unwrap(), v);
    }
}

#[test]
fn the_switch_to_version_2_happens_where_numpys_does() {
    let cases = &fixture::manifest().long_headers;
    assert_eq!(cases.len(), 2);
    for case in cases {
        let f8 = DType::parse("<f8").unwrap();
        let shape = vec![1; case.ones];
        let header = Header::new(f8, &shape, Order::C).unwrap();
        let bytes = header.to_bytes().unwrap();
        let what = format!("{} axes", case.ones);
        assert_eq!(header.version().as_str(), case.version, "{what}");
        assert_eq!(bytes.len(), case.len, "{what}");
        let plen = case.preamble.len();
        assert_eq!(&bytes[..plen], case.preamble.as_slice(), "{what}");
        assert_eq!(&bytes[plen..plen + 80], case.head.as_bytes(), "{what}");
        assert_eq!(&bytes[bytes.len() - 80..], case.tail.as_bytes(), "{what}");
        // numpy's reader, too, needs max_header_size raised for these.
        assert_eq!(Header::parse(&bytes, 1 << 20).unwrap(), header, "{what}");
        if case.version == "2.0" {
            // numpy: "Header length ... too big for version=(1, 0)".
            let err = Header::with_version(f8, &shape, Order::C, Some(Version::V1)).unwrap_err();
            assert!(err.to_string().contains("too big for version 1.0"), "{err}");
        }
    }
}

/// What mmnpy must say about each file numpy refuses: the error kind and a fragment of the
/// message (the message must also name the file).
fn expected_refusal(name: &str) -> (fn(&ErrorKind) -> bool, &'static str) {
    match name {
        n if n.starts_with("bad_magic") => (|k| matches!(k, ErrorKind::BadMagic), "bad magic"),
        n if n.starts_with("bad_version") => (
            |k| matches!(k, ErrorKind::UnsupportedVersion { .. }),
            "unsupported .npy format version",
        ),
        "magic_cut_version"
        | "magic_only"
        | "empty_file"
        | "short_length_field"
        | "short_length_field_v2" => (
            |k| {
                matches!(
                    k,
                    ErrorKind::Truncated {
                        what: "preamble",
                        ..
                    }
                )
            },
            "truncated: preamble",
        ),
        "header_shorter_than_declared" => (
            |k| {
                matches!(
                    k,
                    ErrorKind::Truncated {
                        what: "header",
                        needed: 266,
                        found: 25
                    }
                )
            },
            "header needs 266 bytes but the file has 25",
        ),
        "truncated_empty" => (
            |k| {
                matches!(
                    k,
                    ErrorKind::Truncated {
                        what: "header",
                        needed: 128,
                        found: 127
                    }
                )
            },
            "header needs 128 bytes but the file has 127",
        ),
        "missing_key" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "missing key 'fortran_order'",
        ),
        "extra_key" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "unexpected key \"extrakey\"",
        ),
        "not_a_dict" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "expected '{' opening the header dictionary",
        ),
        "fortran_order_not_bool" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "expected True or False for 'fortran_order'",
        ),
        "shape_not_tuple" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "'shape' is a list; expected a tuple of integers",
        ),
        "negative_dim" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "negative dimension -1",
        ),
        "non_integer_dim" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "dimension is not an integer",
        ),
        "overflowing_shape" => (
            |k| matches!(k, ErrorKind::Overflow(_)),
            "element count of the shape overflows",
        ),
        "overflowing_dim" => (
            |k| matches!(k, ErrorKind::Overflow(_)),
            "a dimension of the shape overflows",
        ),
        "unparsable_header" => (
            |k| matches!(k, ErrorKind::InvalidHeader(_)),
            "at end of header",
        ),
        "truncated_data" | "truncated_data_0d" => (
            |k| matches!(k, ErrorKind::Truncated { what: "data", .. }),
            "truncated: data needs",
        ),
        "huge_header_v2" => (
            |k| {
                matches!(
                    k,
                    ErrorKind::HeaderTooLarge {
                        len: 10003,
                        max: 10_000
                    }
                )
            },
            "exceeds the limit of 10000 bytes",
        ),
        "object_dtype" => (
            |k| matches!(k, ErrorKind::UnsupportedDType { .. }),
            "unsupported dtype \"|O\": object arrays",
        ),
        other => panic!("no expectation for malformed fixture {other}; add one"),
    }
}

#[test]
fn files_numpy_refuses_are_refused_with_a_specific_error_naming_the_file() {
    let cases = &fixture::manifest().malformed;
    assert!(cases.len() >= 25);
    for case in cases {
        let path = fixture::dir().join(&case.file);
        let name = path.file_stem().unwrap().to_str().unwrap();
        let (kind_ok, fragment) = expected_refusal(name);
        let attempts = [
            ("r", NpyFile::open(&path).map(drop)),
            ("r+", NpyFile::open_rw(&path).map(drop)),
            (
                "c",
                mmnpy::OpenOptions::new()
                    .mode(mmnpy::Mode::CopyOnWrite)
                    .open_untyped(&path)
                    .map(drop),
            ),
            ("typed", NpyArray::<f64>::open(&path).map(drop)),
            ("read_array", read_array::<f64>(&path).map(drop)),
        ];
        for (how, result) in attempts {
            let err = result.expect_err(&format!("{name} ({how}) was accepted"));
            let msg = err.to_string();
            assert!(
                kind_ok(err.kind()),
                "{name} ({how}): wrong kind: {msg} (numpy: {})",
                case.numpy_error
            );
            assert!(
                msg.contains(fragment),
                "{name} ({how}): {msg:?} lacks {fragment:?}"
            );
            assert_eq!(err.path(), Some(path.as_path()), "{name} ({how})");
            assert!(
                msg.starts_with(&path.display().to_string()),
                "{name}: {msg}"
            );
            assert!(msg.len() < 300, "{name}: message too long: {msg}");
        }
    }
}

/// A v1 file whose header text is `text` (padded to the usual 64 bytes) followed by `data`.
pub(crate) fn npy_with_header_text(text: &str, data: &[u8]) -> Vec<u8> {
    let mut header = text.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn unsupported_dtypes_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (descr, why) in [
        ("'<U10'", "string"),
        ("'|S5'", "string"),
        ("'<M8[ns]'", "datetime"),
        ("'<m8[s]'", "datetime"),
        ("'|V16'", "void"),
        ("'<f16'", "long double"),
        ("'<f12'", "long double"),
        ("'<c32'", "long double"),
        ("'|O'", "object"),
        ("'<i3'", "no such numeric type"),
        ("[('a', '<f8'), ('b', '<i4')]", "structured"),
    ] {
        let text = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': (2,), }}");
        let path = dir.path().join("x.npy");
        std::fs::write(&path, npy_with_header_text(&text, &[0; 64])).unwrap();
        let err = NpyFile::open(&path).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err.kind(), ErrorKind::UnsupportedDType { .. }),
            "{descr}: {msg}"
        );
        assert!(msg.contains(why), "{descr}: {msg:?} lacks {why:?}");
        if !descr.starts_with('[') {
            assert!(msg.contains(descr.trim_matches('\'')), "{descr}: {msg}");
        }
    }
}

#[test]
fn headers_numpy_accepts_in_other_spellings_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    let data: Vec<u8> = (1..=6u8).collect();
    for (text, shape, fortran) in [
        // Keys in any order, double quotes, no trailing comma, Python 2 longs, extra spaces.
        (
            "{'shape': (2, 3), 'fortran_order': True, 'descr': '|u1'}",
            vec![2, 3],
            true,
        ),
        (
            "{\"descr\":\"|u1\",\"fortran_order\":False,\"shape\":(6,)}",
            vec![6],
            false,
        ),
        (
            "{'descr': '|u1', 'fortran_order': False, 'shape': (3L, 2L), }",
            vec![3, 2],
            false,
        ),
        (
            "{ 'descr' : 'u1' , 'fortran_order' : False , 'shape' : ( 1 , 6 , ) , }",
            vec![1, 6],
            false,
        ),
        (
            "{'descr': 'uint8', 'fortran_order': False, 'shape': (6,), }",
            vec![6],
            false,
        ),
    ] {
        std::fs::write(&path, npy_with_header_text(text, &data)).unwrap();
        let file = NpyFile::open(&path).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(file.shape(), shape.as_slice(), "{text}");
        assert_eq!(file.header().fortran_order(), fortran, "{text}");
        assert_eq!(file.bytes(), data.as_slice(), "{text}");
        drop(file);
    }
}

#[test]
fn equals_sign_and_bare_descrs_mean_native_byte_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    let data: Vec<u8> = [1i16, -2, 300]
        .iter()
        .flat_map(|v| v.to_ne_bytes())
        .collect();
    for descr in ["=i2", "i2", "int16", "<i2"] {
        let text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (3,), }}");
        std::fs::write(&path, npy_with_header_text(&text, &data)).unwrap();
        let a = NpyArray::<i16>::open(&path).unwrap_or_else(|e| panic!("{descr}: {e}"));
        assert_eq!(a.as_slice(), &[1, -2, 300], "{descr}");
        assert_eq!(a.header().descr(), descr, "descr kept as written");
    }
}

#[test]
fn max_header_size_is_checked_before_reading_and_can_be_raised() {
    let case = fixture::array("float64_le_c2.npy");
    let err = mmnpy::OpenOptions::new()
        .max_header_size(64)
        .open_untyped(case.path())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::HeaderTooLarge { len: 118, max: 64 }),
        "{err}"
    );
    let path = fixture::dir().join("malformed/huge_header_v2.npy");
    let err = mmnpy::OpenOptions::new()
        .max_header_size(20_000)
        .open_untyped(&path)
        .unwrap_err();
    // With the ceiling raised, the header is read and found to be an empty dict.
    assert!(matches!(err.kind(), ErrorKind::InvalidHeader(_)), "{err}");
}

#[test]
fn hand_made_fortran_headers_numpy_would_not_write_still_view() {
    // numpy writes fortran_order True only when two axes are longer than 1; other writers
    // may set it on any shape, and typed views must cope.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.npy");
    for shape in [
        vec![],
        vec![0],
        vec![4],
        vec![0, 3],
        vec![3, 0, 2],
        vec![1, 4],
        vec![2, 2],
    ] {
        let len: usize = shape.iter().product();
        let dims: String = shape.iter().map(|n| format!("{n}, ")).collect();
        let text = format!("{{'descr': '<u2', 'fortran_order': True, 'shape': ({dims}), }}");
        let data: Vec<u8> = (0..len as u16).flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&path, npy_with_header_text(&text, &data)).unwrap();
        let a = NpyArray::<u16>::open(&path).unwrap_or_else(|e| panic!("{shape:?}: {e}"));
        let view = a.view();
        assert_eq!(view.shape(), shape.as_slice());
        // Memory order is Fortran: element (i, j) sits at i + j * rows.
        let in_memory_order: Vec<u16> = view.t().iter().copied().collect();
        assert_eq!(
            in_memory_order,
            (0..len as u16).collect::<Vec<_>>(),
            "{shape:?}"
        );
        let owned = read_array::<u16>(&path).unwrap();
        assert_eq!(owned, view, "{shape:?}");
    }
}

#[test]
fn bool_bytes_other_than_0_and_1_read_as_true_like_numpy() {
    // np.frombuffer(b"\x00\x01\x02\xff", bool) -> [False, True, True, True]; a Rust `bool`
    // over these bytes would be undefined behaviour, which is why the element type is `Bool`.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.npy");
    let text = "{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }";
    std::fs::write(&path, npy_with_header_text(text, &[0, 1, 2, 0xff])).unwrap();
    let a = NpyArray::<mmnpy::Bool>::open(&path).unwrap();
    let truth: Vec<bool> = a.as_slice().iter().map(|b| b.get()).collect();
    assert_eq!(truth, [false, true, true, true]);
    let owned = read_array::<mmnpy::Bool>(&path).unwrap();
    assert_eq!(
        owned.iter().map(|&b| bool::from(b)).collect::<Vec<_>>(),
        truth
    );
}
