//! Progress of long jobs. In the library, each conversion's `*_with_progress` hook is called
//! as the work advances, its running sum never passes the job's total and ends exactly at it,
//! and watching changes nothing in the output. In the CLI, every conversion (and `cat`,
//! `append`) draws a bar on stderr under `--progress always`, even when stderr is a pipe,
//! draws nothing under `--progress never` or `--quiet`, never writes to stdout, and leaves
//! byte-identical outputs either way.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::fixture::mmnpy;
use mmnpy::convert::csv::{CsvWriteOptions, npy_to_csv, npy_to_csv_with_progress};
use mmnpy::convert::npz::{NpzArchive, extract_member, extract_member_with_progress};
use mmnpy::{NpyArray, NpyFile, Order, Overwrite};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

/// Every step a progress hook was called with.
#[derive(Default)]
struct Steps(Mutex<Vec<u64>>);

impl Steps {
    fn record(&self, bytes: u64) {
        self.0.lock().unwrap().push(bytes);
    }

    /// Asserts the hook was called, its running sum never passed `total` and ends exactly at
    /// it; returns how many calls there were.
    fn check(&self, total: u64, what: &str) -> usize {
        let steps = self.0.lock().unwrap();
        assert!(!steps.is_empty(), "{what}: progress was never reported");
        let mut sum = 0u64;
        for (i, &step) in steps.iter().enumerate() {
            sum += step;
            assert!(
                sum <= total,
                "{what}: step {i} takes the sum to {sum} > {total}"
            );
        }
        assert_eq!(sum, total, "{what}: progress ends short of the total");
        steps.len()
    }
}

/// A `(rows, columns)` int32 array with varied values.
/// The output written with a progress hook is byte for byte the one written without.
fn assert_same_file(plain: &Path, watched: &Path) {
    let (plain_bytes, watched_bytes) = (
        std::fs::read(plain).unwrap(),
        std::fs::read(watched).unwrap(),
    );
    assert!(
        plain_bytes == watched_bytes,
        "{} and {} differ",
        plain.display(),
        watched.display()
    );
}

fn make_i32(path: &Path, shape: &[usize], order: Order) {
    let mut a = NpyArray::<i32>::create(path, shape, order).unwrap();
    for (i, v) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *v = (i as i32).wrapping_mul(7919) % 2_000_003 - 1_000_000;
    }
    a.persist().unwrap();
}

/// A `(rows, columns)` float64 array with fractions that need many digits.
fn make_f64(path: &Path, shape: &[usize]) {
    let mut a = NpyArray::<f64>::create(path, shape, Order::C).unwrap();
    for (i, v) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *v = i as f64 / 7.0 - 100.0;
    }
    a.persist().unwrap();
}

#[test]
fn csv_export_reports_every_input_byte_window_by_window() {
    let dir = tempfile::tempdir().unwrap();
    // Enough rows for several formatting windows on any thread count up to 4 (a window is
    // 4 * threads blocks of 64 Ki elements).
    let cases = [
        ("c.npy", [1_100_000, 2], Order::C),
        ("f.npy", [1_000, 3], Order::Fortran),
    ];
    for (name, shape, order) in cases {
        let path = dir.path().join(name);
        make_i32(&path, &shape, order);
        let input = NpyFile::open(&path).unwrap();
        let opts = CsvWriteOptions {
            delimiter: b',',
            header: true,
        };
        let plain = dir.path().join(format!("{name}.plain.csv"));
        let watched = dir.path().join(format!("{name}.watched.csv"));
        npy_to_csv(&input, &plain, &opts, Overwrite::Refuse).unwrap();
        let steps = Steps::default();
        let report = npy_to_csv_with_progress(&input, &watched, &opts, Overwrite::Refuse, &|n| {
            steps.record(n)
        })
        .unwrap();
        let calls = steps.check(input.header().nbytes(), name);
        if shape[0] > 1_000 {
            assert!(calls > 1, "{name}: one report for the whole array");
        }
        assert_eq!(report.rows, shape[0] as u64);
        assert_same_file(&plain, &watched);
    }
}

/// `member` zipped into `archive` the way `np.savez` (stored) or `np.savez_compressed`
/// (deflated) does.
fn zip_member(archive: &Path, member: &Path, method: zip::CompressionMethod) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(archive).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    zip.start_file("big.npy", options).unwrap();
    std::io::Write::write_all(&mut zip, &std::fs::read(member).unwrap()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn npz_extraction_reports_every_member_byte_stored_or_compressed() {
    let dir = tempfile::tempdir().unwrap();
    // numpy's archives, and members of several blocks.
    let big = dir.path().join("big.npy");
    make_f64(&big, &[100_000, 3]);
    let stored = dir.path().join("big_stored.npz");
    let deflated = dir.path().join("big_deflated.npz");
    zip_member(&stored, &big, zip::CompressionMethod::Stored);
    zip_member(&deflated, &big, zip::CompressionMethod::Deflated);
    for input in [
        fixture("stored.npz"),
        fixture("compressed.npz"),
        stored,
        deflated,
    ] {
        let archive = input.file_name().unwrap().to_string_lossy().into_owned();
        let members = NpzArchive::open(&input).unwrap();
        for member in members.members() {
            let name = member.name();
            let plain = dir.path().join(format!("{archive}.{name}.plain.npy"));
            let watched = dir.path().join(format!("{archive}.{name}.watched.npy"));
            extract_member(&input, name, &plain, Overwrite::Refuse).unwrap();
            let steps = Steps::default();
            let report =
                extract_member_with_progress(&input, name, &watched, Overwrite::Refuse, &|n| {
                    steps.record(n)
                })
                .unwrap();
            // The header first, then the data a block at a time.
            let calls = steps.check(member.size(), &format!("{archive}:{name}"));
            let least = if name == "big" { 3 } else { 2 };
            assert!(calls >= least, "{archive}:{name}: {calls} reports");
            assert_eq!(report.bytes_out, member.size());
            let bytes = std::fs::read(&watched).unwrap();
            assert_eq!(bytes.len() as u64, member.size());
            assert_eq!(std::fs::read(&plain).unwrap(), bytes);
        }
    }
}

#[cfg(feature = "parquet")]
mod parquet {
    use std::sync::Arc;

    use super::*;
    use arrow_array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};
    use mmnpy::convert::parquet::{
        npy_to_parquet, npy_to_parquet_with_progress, parquet_to_npy, parquet_to_npy_with_progress,
    };
    use mmnpy::{DType, Scalar};

    /// A Parquet file of 1000 rows in row groups of 100, a float column with nulls and an int
    /// column.
    fn many_row_groups(path: &Path) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Int32, false),
        ]));
        let a: ArrayRef = Arc::new(Float64Array::from_iter((0..1000).map(|i| {
            if i % 97 == 0 {
                None
            } else {
                Some(f64::from(i) / 8.0)
            }
        })));
        let b: ArrayRef = Arc::new(Int32Array::from_iter_values(0..1000));
        let batch = RecordBatch::try_new(schema.clone(), vec![a, b]).unwrap();
        let props = ::parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(100))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut writer = ::parquet::arrow::ArrowWriter::try_new(file, schema, Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    #[test]
    fn parquet_import_reports_the_whole_input_file_row_group_by_row_group() {
        let dir = tempfile::tempdir().unwrap();
        let written = dir.path().join("groups.parquet");
        many_row_groups(&written);
        let f64 = DType::native(Scalar::F64);
        let only_b = ["b".to_string()];
        let cases: [(PathBuf, Option<&[String]>, usize); 3] = [
            (fixture("pyarrow.parquet"), None, 1),
            (written.clone(), None, 10),
            (written, Some(&only_b), 10),
        ];
        for (k, (input, columns, groups)) in cases.into_iter().enumerate() {
            let plain = dir.path().join(format!("{k}.plain.npy"));
            let watched = dir.path().join(format!("{k}.watched.npy"));
            parquet_to_npy(&input, &plain, columns, f64, Overwrite::Refuse).unwrap();
            let steps = Steps::default();
            let report = parquet_to_npy_with_progress(
                &input,
                &watched,
                columns,
                f64,
                Overwrite::Refuse,
                &|n| steps.record(n),
            )
            .unwrap();
            let len = std::fs::metadata(&input).unwrap().len();
            let calls = steps.check(len, &input.display().to_string());
            // The footer, then at least one report per window of row groups.
            let threads = rayon::current_num_threads();
            assert!(calls > groups.div_ceil(threads), "{k}: {calls} reports");
            assert_eq!(report.bytes_in, len);
            assert_same_file(&plain, &watched);
        }
    }

    #[test]
    fn parquet_export_reports_every_input_byte_batch_by_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        // Two columns of 300 000 rows: more than one batch of 128 Ki rows.
        make_f64(&path, &[300_000, 2]);
        let input = NpyFile::open(&path).unwrap();
        let plain = dir.path().join("plain.parquet");
        let watched = dir.path().join("watched.parquet");
        npy_to_parquet(&input, &plain, None, Overwrite::Refuse).unwrap();
        let steps = Steps::default();
        npy_to_parquet_with_progress(&input, &watched, None, Overwrite::Refuse, &|n| {
            steps.record(n)
        })
        .unwrap();
        let calls = steps.check(input.header().nbytes(), "x.npy");
        assert!(calls > 1, "{calls} reports");
        assert_same_file(&plain, &watched);
    }
}

#[test]
fn casts_and_cat_report_output_bytes_which_the_cli_bar_counts() {
    use mmnpy::DType;
    use mmnpy::convert::npy::{NpyOptions, npy_to_npy};
    use mmnpy::ops::{CatOptions, concatenate};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    make_f64(&path, &[1_000, 3]);
    let input = NpyFile::open(&path).unwrap();
    for (descr, order) in [
        ("<f4", Order::C),
        ("<i8", Order::Fortran),
        ("<f2", Order::C),
    ] {
        let dtype = DType::parse(descr).unwrap();
        let opts = NpyOptions {
            dtype: Some(dtype),
            order: Some(order),
            cast: mmnpy::ops::CastMode::Unsafe,
            ..NpyOptions::default()
        };
        let steps = Steps::default();
        let out = dir.path().join(format!("cast{}.npy", dtype.itemsize()));
        npy_to_npy(
            &input,
            &out,
            &opts,
            Overwrite::Refuse,
            Some(&|n| steps.record(n)),
        )
        .unwrap();
        steps.check(3_000 * dtype.itemsize() as u64, descr);
    }
    let f4 = DType::parse("<f4").unwrap();
    let opts = CatOptions {
        dtype: Some(f4),
        ..CatOptions::default()
    };
    let steps = Steps::default();
    let files = [NpyFile::open(&path).unwrap(), NpyFile::open(&path).unwrap()];
    let out = dir.path().join("cat.npy");
    concatenate(
        &files,
        &out,
        &opts,
        Overwrite::Refuse,
        Some(&|n| steps.record(n)),
    )
    .unwrap();
    steps.check(2 * 3_000 * 4, "cat --dtype <f4");
}

#[cfg(feature = "zarr")]
#[test]
fn zarr_export_counts_edge_chunks_by_their_part_inside_the_array() {
    use mmnpy::partitioned::zarr::{Compress, ZarrOptions, write};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.npy");
    make_f64(&path, &[1_000, 5]);
    let input = NpyFile::open(&path).unwrap();
    // 300 x 3 chunks: the last row of chunks and the last column are padded.
    for (k, compress) in [Compress::None, Compress::Zstd(1)].into_iter().enumerate() {
        let options = ZarrOptions {
            chunks: Some(vec![300, 3]),
            compress,
        };
        let steps = Steps::default();
        let out = dir.path().join(format!("x{k}.zarr"));
        write(
            &input,
            &out,
            &options,
            Overwrite::Refuse,
            Some(&|n| steps.record(n)),
        )
        .unwrap();
        let calls = steps.check(input.header().nbytes(), "zarr");
        assert_eq!(calls, 8, "one report per chunk");
    }
}

/// Every file under `path` (or `path` itself) with its bytes, in a stable order.
fn contents(path: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    if path.is_file() {
        return vec![(PathBuf::new(), std::fs::read(path).unwrap())];
    }
    let mut all = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap().path();
            if entry.is_dir() {
                pending.push(entry);
            } else {
                let relative = entry.strip_prefix(path).unwrap().to_path_buf();
                all.push((relative, std::fs::read(&entry).unwrap()));
            }
        }
    }
    all.sort();
    all
}

/// One command line, with `{in}`-style placeholders already resolved except the output.
struct Job {
    what: &'static str,
    /// The arguments before `-o OUT` (for `append`, the whole command but the target).
    args: Vec<String>,
    /// The output's extension (`npy`, `zarr`, ...), or `None` for `append` (in place).
    output: Option<&'static str>,
    /// The bar's message.
    message: &'static str,
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn convert(what: &'static str, input: &Path, extra: &[&str], output: &'static str) -> Job {
    let mut args = vec!["convert".to_string(), s(input)];
    args.extend(extra.iter().map(|a| a.to_string()));
    let message = if input.extension().is_some_and(|e| e == "npz") {
        "extract"
    } else {
        "convert"
    };
    Job {
        what,
        args,
        output: Some(output),
        message,
    }
}

/// Run `job` with `flags` before the command; returns the output's contents and stderr.
fn run(
    job: &Job,
    flags: &[&str],
    dir: &Path,
    run: &str,
    append_target: &Path,
) -> (Vec<(PathBuf, Vec<u8>)>, String) {
    let mut cmd = mmnpy();
    cmd.args(flags);
    let output = match job.output {
        Some(ext) => {
            let out = dir.join(format!("{}-{run}.{ext}", job.what));
            cmd.args(&job.args).arg("-o").arg(&out);
            out
        }
        None => {
            let target = dir.join(format!("{}-{run}.npy", job.what));
            std::fs::copy(append_target, &target).unwrap();
            cmd.arg(&job.args[0]).arg(&target).args(&job.args[1..]);
            target
        }
    };
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{} {flags:?}: {stderr}", job.what);
    assert!(
        out.stdout.is_empty(),
        "{} {flags:?} wrote to stdout: {}",
        job.what,
        String::from_utf8_lossy(&out.stdout)
    );
    (contents(&output), stderr)
}

#[test]
fn every_long_job_draws_a_bar_on_stderr_under_progress_always_and_writes_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let npy = d.join("table.npy");
    make_f64(&npy, &[200, 4]);
    let raw = d.join("table.bin");
    let data_offset = NpyFile::open(&npy).unwrap().header().data_offset() as usize;
    std::fs::write(&raw, &std::fs::read(&npy).unwrap()[data_offset..]).unwrap();
    let stack = d.join("stack");
    let zarr = d.join("table.zarr");
    mmnpy()
        .args(["convert", &s(&npy), "-o", &s(&stack)])
        .args(["--format", "npy-stack", "--chunk-rows", "64"])
        .assert()
        .success();
    if cfg!(feature = "zarr") {
        mmnpy()
            .args(["convert", &s(&npy), "-o", &s(&zarr)])
            .assert()
            .success();
    }

    let mut jobs = vec![
        convert("npy-npy", &npy, &["--dtype", "<f4", "--order", "F"], "npy"),
        convert("npy-raw", &npy, &[], "bin"),
        convert(
            "raw-npy",
            &raw,
            &["--dtype", "<f8", "--shape", "-1,4"],
            "npy",
        ),
        convert("csv-npy", &fixture("pandas_header.csv"), &[], "npy"),
        convert("npy-csv", &npy, &["--header"], "csv"),
        convert("npy-tsv", &npy, &[], "tsv"),
        convert(
            "npz-stored",
            &fixture("stored.npz"),
            &["--member", "x"],
            "npy",
        ),
        convert(
            "npz-compressed",
            &fixture("compressed.npz"),
            &["--member", "x"],
            "npy",
        ),
        convert(
            "npy-stack",
            &npy,
            &["--format", "npy-stack", "--chunk-rows", "64"],
            "d",
        ),
        convert("stack-npy", &stack, &[], "npy"),
        Job {
            what: "cat",
            args: vec!["cat".into(), s(&npy), s(&npy)],
            output: Some("npy"),
            message: "cat",
        },
        Job {
            what: "append",
            args: vec!["append".into(), s(&npy), s(&npy)],
            output: None,
            message: "append",
        },
    ];
    if cfg!(feature = "parquet") {
        jobs.push(convert(
            "parquet-npy",
            &fixture("pyarrow.parquet"),
            &[],
            "npy",
        ));
        jobs.push(convert("npy-parquet", &npy, &[], "parquet"));
    }
    if cfg!(feature = "zarr") {
        jobs.push(convert("npy-zarr", &npy, &[], "zarr"));
        jobs.push(convert("zarr-npy", &zarr, &[], "npy"));
    }
    for job in &jobs {
        let (drawn, bar) = run(job, &["--progress", "always"], d, "always", &npy);
        let (plain, nothing) = run(job, &["--progress", "never"], d, "never", &npy);
        let (quiet, silence) = run(job, &["--progress", "always", "--quiet"], d, "quiet", &npy);
        let expected = format!("{} [", job.message);
        assert!(
            bar.contains(&expected),
            "{}: no bar on stderr: {bar:?}",
            job.what
        );
        assert_eq!(nothing, "", "{}: --progress never", job.what);
        assert_eq!(silence, "", "{}: --quiet", job.what);
        assert!(!drawn.is_empty(), "{}: no output", job.what);
        assert!(drawn == plain, "{}: the bar changed the output", job.what);
        assert!(quiet == plain, "{}: --quiet changed the output", job.what);
    }
}

#[test]
fn verbose_reports_rows_and_throughput_for_every_new_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let npy = d.join("table.npy");
    make_f64(&npy, &[200, 4]);
    let mut jobs = vec![
        convert("npy-csv", &npy, &[], "csv"),
        convert("npz", &fixture("compressed.npz"), &["--member", "x"], "npy"),
    ];
    if cfg!(feature = "parquet") {
        jobs.push(convert(
            "parquet-npy",
            &fixture("pyarrow.parquet"),
            &[],
            "npy",
        ));
        jobs.push(convert("npy-parquet", &npy, &[], "parquet"));
    }
    let rows = ["200 rows", "4 rows", "50 rows", "200 rows"];
    for (job, rows) in jobs.iter().zip(rows) {
        let mut verbose = Job {
            what: job.what,
            args: job.args.clone(),
            output: job.output,
            message: job.message,
        };
        verbose.args.push("--verbose".into());
        let (_, stderr) = run(&verbose, &["--progress", "never"], d, "verbose", &npy);
        assert!(
            stderr.contains(rows) && stderr.contains("MB/s"),
            "{}: {stderr:?}",
            job.what
        );
    }
}
