//! What each fuzz target does with one input, shared by the `cargo fuzz` targets
//! (`fuzz/fuzz_targets/*.rs`) and by the stable-Rust replay of kept crashes
//! (`tests/regressions.rs`), so a kept input goes through exactly the code that found it.
//!
//! Each function takes a scratch directory (empty on entry, left empty on return) and the raw
//! input. Errors from mmnpy are fine; a panic — from mmnpy, or from an invariant asserted here —
//! is a finding. The invariants are the ones a user relies on: what opens is consistent with the
//! bytes it was opened from, a failed conversion leaves no output and no temporary behind.

use std::path::Path;

use mmnpy::convert::csv::{CsvReadOptions, csv_to_npy};
use mmnpy::convert::npz::{NpzArchive, extract_member};
use mmnpy::engine::{PassOptions, histogram, stats, stats_axis};
use mmnpy::ops::SliceExpr;
use mmnpy::partitioned::pickle::{read_info, write_info};
use mmnpy::{DType, Header, Mode, NpyFile, OpenOptions, Overwrite, Scalar, dispatch_scalar};

/// numpy's default header-size ceiling, which every mmnpy reader uses.
const MAX_HEADER: u64 = 10_000;

/// One scratch directory per fuzzing process, emptied by the harness functions after every
/// input. The fuzz targets use it; the replay in `tests/regressions.rs` gives each input its
/// own directory instead.
#[allow(dead_code)]
pub(crate) fn scratch() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch dir"))
        .path()
}

/// The entries of `dir`, which must be empty after every harness function.
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .expect("read scratch dir")
        .map(|e| e.expect("dir entry").file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The header reader on arbitrary bytes: an error, or a header that is consistent with the
/// bytes and re-encodes to a header with the same array.
pub(crate) fn header(data: &[u8]) {
    let Ok(h) = Header::parse(data, MAX_HEADER) else {
        return;
    };
    assert!(h.data_offset() <= data.len() as u64);
    assert_eq!(h.len(), h.shape().iter().product::<usize>());
    assert_eq!(h.nbytes(), (h.len() * h.dtype().itemsize()) as u64);
    if let Ok(bytes) = h.to_bytes() {
        let again = Header::parse(&bytes, u64::MAX).expect("a re-encoded header parses");
        assert_eq!(again.shape(), h.shape());
        assert_eq!(again.dtype(), h.dtype());
        assert_eq!(again.order(), h.order());
        assert_eq!(again.data_offset(), bytes.len() as u64);
    }
}

/// The whole open path on arbitrary file contents, in modes `r`, `c` and `r+`: open untyped,
/// check the mapping against the bytes, open typed and view, run the statistics, an axis
/// reduction and a histogram. A copy-on-write write must not reach the file.
pub(crate) fn open(dir: &Path, data: &[u8]) {
    let path = dir.join("f.npy");
    std::fs::write(&path, data).expect("write input");
    for mode in [Mode::ReadOnly, Mode::CopyOnWrite, Mode::ReadWrite] {
        let Ok(mut file) = OpenOptions::new().mode(mode).open_untyped(&path) else {
            continue;
        };
        let header = file.header().clone();
        let start = header.data_offset() as usize;
        let end = header.end().expect("an opened file's end fits") as usize;
        assert!(
            end <= data.len(),
            "opened a file shorter than its header says"
        );
        assert_eq!(file.bytes(), &data[start..end]);
        let options = PassOptions::new();
        let _ = stats(&file, 0, &options);
        let _ = stats(&file, 1, &options);
        if file.ndim() > 0 {
            let _ = stats_axis(&file, 0, 0, &options);
            let _ = stats_axis(&file, file.ndim() - 1, 1, &options);
        }
        let _ = histogram(&file, 7, None, &options);
        let _ = histogram(&file, 3, Some((-1.0, 1.0)), &options);
        if mode == Mode::CopyOnWrite
            && let Ok(bytes) = file.bytes_mut()
        {
            bytes.iter_mut().for_each(|b| *b = !*b);
        }
        let scalar = file.dtype().scalar();
        dispatch_scalar!(scalar, T => {
            if let Ok(a) = file.into_typed::<T>() {
                let view = a.view();
                assert_eq!(view.shape(), header.shape());
                std::hint::black_box(view.iter().count());
            }
        });
    }
    assert_eq!(
        std::fs::read(&path).expect("read back"),
        data,
        "the file changed"
    );
    std::fs::remove_file(&path).expect("remove input");
}

/// A small array shape from the first bytes of the input (at most 4 axes of at most 7).
fn small_shape(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let ndim = usize::from(n % 5).min(rest.len());
    let shape = rest[..ndim].iter().map(|&d| usize::from(d % 8)).collect();
    (shape, &rest[ndim..])
}

/// The slice-expression parser: a shape from the first bytes, an expression from the rest.
/// A parsed expression prints as text that parses back to it; a resolved selection applied to
/// an array of that shape selects exactly the elements its axes name, in order.
pub(crate) fn slice_expr(data: &[u8]) {
    let (shape, text) = small_shape(data);
    let text = String::from_utf8_lossy(text);
    let Ok(expr) = SliceExpr::parse(&text) else {
        return;
    };
    let printed = expr.to_string();
    assert_eq!(
        SliceExpr::parse(&printed).as_ref().ok(),
        Some(&expr),
        "{printed:?} does not parse back"
    );
    let Ok(selection) = expr.resolve(&shape) else {
        return;
    };
    assert_eq!(selection.axes().len(), shape.len());
    let len: usize = shape.iter().product();
    let array = ndarray::ArrayD::from_shape_vec(shape.clone(), (0..len).collect::<Vec<usize>>())
        .expect("shape and length agree");
    let view = selection.apply(array.view());
    assert_eq!(view.shape(), selection.shape().as_slice());
    assert_eq!(view.len(), selection.len());
    // The naive gather: every combination of the selected indices, in C order.
    let mut expected = vec![0usize];
    for (axis, sel) in selection.axes().iter().enumerate() {
        let stride: usize = shape[axis + 1..].iter().product();
        let indices: Vec<usize> = sel.indices().collect();
        assert_eq!(indices.len(), sel.len);
        assert!(indices.iter().all(|&i| i < shape[axis]));
        expected = expected
            .iter()
            .flat_map(|base| indices.iter().map(move |i| base + i * stride))
            .collect();
    }
    assert_eq!(view.iter().copied().collect::<Vec<_>>(), expected);
}

/// The dtypes the CSV target converts to, chosen by a byte of the input.
const CSV_DTYPES: [Scalar; 8] = [
    Scalar::F64,
    Scalar::F32,
    Scalar::F16,
    Scalar::I64,
    Scalar::I8,
    Scalar::U16,
    Scalar::Bool,
    Scalar::C128,
];

/// The CSV importer on arbitrary text; the first byte picks the delimiter, header mode and
/// dtype. Success gives a 2-D file with the reported rows; failure leaves no output.
pub(crate) fn csv(dir: &Path, data: &[u8]) {
    let Some((&choice, text)) = data.split_first() else {
        return;
    };
    let input = dir.join("in.csv");
    let output = dir.join("out.npy");
    std::fs::write(&input, text).expect("write input");
    let opts = CsvReadOptions {
        delimiter: [b',', b'\t', b';', b' '][usize::from(choice & 3)],
        header: [None, Some(true), Some(false), None][usize::from((choice >> 2) & 3)],
        dtype: DType::native(CSV_DTYPES[usize::from(choice >> 4) % CSV_DTYPES.len()]),
    };
    match csv_to_npy(&input, &output, &opts, Overwrite::Refuse) {
        Ok(report) => {
            let out = NpyFile::open(&output).expect("the output opens");
            assert_eq!(out.ndim(), 2);
            assert_eq!(out.shape()[0] as u64, report.rows);
            assert_eq!(out.dtype(), opts.dtype);
            drop(out);
            std::fs::remove_file(&output).expect("remove output");
        }
        Err(e) => assert!(e.path().is_some(), "error names no file: {e}"),
    }
    std::fs::remove_file(&input).expect("remove input");
    assert_empty(dir);
}

/// The npz reader on arbitrary bytes: list the members, read each into memory, map the
/// stored ones, extract each to an `.npy` (which must then open with the member's header).
pub(crate) fn npz(dir: &Path, data: &[u8]) {
    let input = dir.join("in.npz");
    let output = dir.join("out.npy");
    std::fs::write(&input, data).expect("write input");
    if let Ok(archive) = NpzArchive::open(&input) {
        for member in archive.members() {
            let name = member.name();
            let scalar = member.header().dtype().scalar();
            dispatch_scalar!(scalar, T => {
                if let Ok(a) = archive.read_member::<T>(name) {
                    assert_eq!(a.shape(), member.header().shape());
                }
            });
            if let Ok(file) = archive.open_member(name) {
                assert_eq!(file.shape(), member.header().shape());
                std::hint::black_box(file.bytes().iter().fold(0u8, |a, &b| a ^ b));
            }
            match extract_member(&input, name, &output, Overwrite::Refuse) {
                Ok(_) => {
                    let out = NpyFile::open(&output).expect("an extracted member opens");
                    assert_eq!(out.shape(), member.header().shape());
                    drop(out);
                    std::fs::remove_file(&output).expect("remove output");
                }
                Err(_) => assert!(!output.exists(), "a failed extraction left its output"),
            }
        }
    }
    std::fs::remove_file(&input).expect("remove input");
    assert_empty(dir);
}

/// The npy-stack `info` reader (a restricted pickle reader) on arbitrary bytes: an error, or a
/// description whose shape is representable and which re-pickles to bytes that read back the
/// same.
pub(crate) fn npy_stack_info(data: &[u8]) {
    let Ok(info) = read_info(data) else {
        return;
    };
    assert!(info.axis < info.chunks.len());
    let shape = info.shape();
    assert_eq!(shape.len(), info.chunks.len());
    let again = read_info(&write_info(&info)).expect("a re-pickled info reads back");
    assert_eq!(again, info);
}
