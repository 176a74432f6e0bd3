//! The hostile-input corpus: bad files of every kind — truncated at every interesting offset,
//! lying length fields, shapes that overflow, unsupported dtypes, non-UTF-8 headers, numpy's
//! own malformed cases, a directory, a FIFO, an unreadable file — run through every command
//! that reads a file. Each run must exit 1 with an `error:` line naming the bad file: never a
//! panic (101), never a signal, never a hang (a timeout kills it and fails the test), never an
//! output file or a temporary left behind, never a change to a file it was asked to grow.
//!
//! A file that shrinks under a running command is in [`shrinking_file`]: a cooperating writer
//! (one that takes the advisory lock) cannot shrink it under a reader, while a non-cooperating
//! one can, and the reader may die of SIGBUS — the hazard SAFETY.md documents.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mmnpy::{DType, Header, Order, Scalar};

use crate::fixture::dir_entries;

/// Longer than any of these runs takes on a loaded machine; a run still going is a hang.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How one run of the binary ended.
struct Outcome {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

/// Run `mmnpy args`, killing it after [`TIMEOUT`] (then `status` is `None`).
fn run(args: &[OsString]) -> Outcome {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("mmnpy"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Outcome {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The bytes of an `.npy` file: preamble of `version`, the header text as given (not
/// validated, not padded), then `data`.
fn npy_bytes(version: u8, text: &[u8], data: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY".to_vec();
    bytes.extend_from_slice(&[version, 0]);
    if version == 1 {
        bytes.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(text);
    bytes.extend_from_slice(data);
    bytes
}

/// A header dictionary as numpy writes it, padded so the data is 64-byte aligned.
fn dict(descr: &str, shape: &str, version: u8) -> Vec<u8> {
    let mut text = format!("{{'descr': {descr}, 'fortran_order': False, 'shape': {shape}, }}");
    let preamble = if version == 1 { 10 } else { 12 };
    while (preamble + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    text.into_bytes()
}

/// The valid array the bad files are made from: `(3, 4)` float64, 0..12.
fn good_bytes(version: u8) -> Vec<u8> {
    let data: Vec<u8> = (0..12).flat_map(|i| f64::to_le_bytes(i as f64)).collect();
    npy_bytes(version, &dict("'<f8'", "(3, 4)", version), &data)
}

/// Write every bad `.npy` into `dir`; returns their paths.
fn bad_npy_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let v1 = good_bytes(1);
    let header_end = Header::parse(&v1, 10_000).unwrap().data_offset() as usize;
    assert_eq!(header_end, 128);
    // Inside the magic, the version, the length field, the header text, and the data.
    for cut in [
        0, 1, 5, 6, 7, 8, 9, 10, 11, 64, 126, 127, 128, 129, 200, 223,
    ] {
        files.push((format!("cut_v1_{cut}.npy"), v1[..cut].to_vec()));
    }
    let v2 = good_bytes(2);
    let v3 = good_bytes(3);
    for cut in [9, 11, 12, 100] {
        files.push((format!("cut_v2_{cut}.npy"), v2[..cut].to_vec()));
        files.push((format!("cut_v3_{cut}.npy"), v3[..cut].to_vec()));
    }
    // Length fields that lie: past the end of the file, into the data, short of the dict,
    // over the size ceiling, zero.
    let mut lie = |name: &str, base: &[u8], version: u8, len: u32| {
        let mut bytes = base.to_vec();
        if version == 1 {
            bytes[8..10].copy_from_slice(&(len as u16).to_le_bytes());
        } else {
            bytes[8..12].copy_from_slice(&len.to_le_bytes());
        }
        files.push((name.to_string(), bytes));
    };
    lie("len_past_end.npy", &v1, 1, 1000);
    lie("len_into_data.npy", &v1, 1, 150);
    lie("len_short.npy", &v1, 1, 40);
    lie("len_zero.npy", &v1, 1, 0);
    lie("len_max_v1.npy", &v1, 1, 0xffff);
    lie("len_max_v2.npy", &v2, 2, u32::MAX);
    lie("len_ceiling_v3.npy", &v3, 3, 10_001);
    // Shapes whose element or byte count overflows, or that the file cannot hold.
    for (name, shape) in [
        ("shape_u64_max.npy", "(18446744073709551615,)"),
        ("shape_i64_max_f8.npy", "(9223372036854775807,)"),
        ("shape_bytes_overflow.npy", "(4611686018427387904, 4)"),
        ("shape_product_overflow.npy", "(4294967296, 4294967296, 2)"),
        ("shape_huge.npy", "(1000000000000,)"),
        ("shape_negative.npy", "(-3, 4)"),
        ("shape_float.npy", "(3.0, 4)"),
        ("shape_bigint.npy", "(100000000000000000000000000000,)"),
    ] {
        files.push((
            name.into(),
            npy_bytes(1, &dict("'<f8'", shape, 1), &[0; 96]),
        ));
    }
    // dtypes mmnpy does not handle.
    for (name, descr) in [
        ("dtype_object.npy", "'|O'"),
        ("dtype_unicode.npy", "'<U5'"),
        ("dtype_datetime.npy", "'<M8[ns]'"),
        ("dtype_longdouble.npy", "'<f16'"),
        ("dtype_void.npy", "'|V8'"),
        ("dtype_record.npy", "[('a', '<f8')]"),
        ("dtype_bogus.npy", "'<q9'"),
        ("dtype_int.npy", "8"),
    ] {
        files.push((
            name.into(),
            npy_bytes(1, &dict(descr, "(3, 4)", 1), &[0; 400]),
        ));
    }
    // A v3 header that is not UTF-8, and a v1 (latin-1) header with a non-ASCII descr.
    let mut text = dict("'<f8'", "(3, 4)", 3);
    text[11] = 0xff;
    files.push(("v3_not_utf8.npy".into(), npy_bytes(3, &text, &[0; 96])));
    let mut text = dict("'<f8'", "(3, 4)", 1);
    text[12] = 0xe9;
    files.push(("v1_latin1_descr.npy".into(), npy_bytes(1, &text, &[0; 96])));
    // A nesting bomb just inside the size ceiling.
    let bomb = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': {}",
        "(".repeat(9000)
    );
    files.push((
        "nesting_bomb.npy".into(),
        npy_bytes(2, bomb.as_bytes(), &[]),
    ));
    // numpy's own malformed cases (tests/fixtures/npy/malformed).
    let malformed = crate::fixture::dir().join("malformed");
    for name in dir_entries(&malformed) {
        files.push((
            format!("numpy_{name}"),
            std::fs::read(malformed.join(&name)).unwrap(),
        ));
    }
    let mut paths = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(&name);
        std::fs::write(&path, bytes).unwrap();
        paths.push(path);
    }
    paths.extend(special_files(dir, "npy"));
    paths
}

/// A directory, a FIFO and (unless we run as root) an unreadable file, named `*.EXT`.
fn special_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let directory = dir.join(format!("a_directory.{ext}"));
    std::fs::create_dir(&directory).unwrap();
    paths.push(directory);
    let fifo = dir.join(format!("a_fifo.{ext}"));
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo failed");
    paths.push(fifo);
    let unreadable = dir.join(format!("unreadable.{ext}"));
    std::fs::write(&unreadable, good_bytes(1)).unwrap();
    std::fs::set_permissions(
        &unreadable,
        std::os::unix::fs::PermissionsExt::from_mode(0o000),
    )
    .unwrap();
    if std::fs::File::open(&unreadable).is_ok() {
        // root (CAP_DAC_OVERRIDE) reads a mode-000 file anyway: nothing to test here.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "hostile: running as root, a mode-000 file is readable; that case is skipped"
            );
        });
        std::fs::remove_file(&unreadable).unwrap();
    } else {
        paths.push(unreadable);
    }
    paths
}

/// The fixed inputs the commands pair a bad file with.
struct Fixed {
    good: PathBuf,
    indices: PathBuf,
}

/// How a command uses the bad file, and what it is given besides.
#[derive(Clone, Copy)]
enum Role {
    /// Read-only input: `args(bad, job_dir)`.
    Input(fn(&Fixed, &Path, &Path) -> Vec<OsString>),
    /// The file `append` grows: a copy of the bad file in the job directory (when it is a
    /// regular file) must be left byte-identical.
    AppendTarget,
    /// A bad source for `append` to a copy of the good file, which must be left unchanged.
    AppendSource,
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_os_string()).collect()
}

/// Every command that reads an `.npy` file, with the bad file in each position it can take.
fn npy_commands() -> Vec<(&'static str, Role)> {
    vec![
        ("info", Role::Input(|_, bad, _| os(&[&"info", &bad]))),
        (
            "info --json",
            Role::Input(|_, bad, _| os(&[&"info", &"--json", &bad])),
        ),
        ("stats", Role::Input(|_, bad, _| os(&[&"stats", &bad]))),
        (
            "stats --axis 0",
            Role::Input(|_, bad, _| os(&[&"stats", &"--axis", &"0", &bad])),
        ),
        (
            "hist",
            Role::Input(|_, bad, _| os(&[&"hist", &"--bins", &"4", &bad])),
        ),
        (
            "slice",
            Role::Input(|_, bad, out| os(&[&"slice", &bad, &"0", &"-o", &out.join("s.npy")])),
        ),
        (
            "take (input)",
            Role::Input(|f, bad, out| {
                os(&[
                    &"take",
                    &bad,
                    &"--indices",
                    &f.indices,
                    &"-o",
                    &out.join("t.npy"),
                ])
            }),
        ),
        (
            "take (indices)",
            Role::Input(|f, bad, out| {
                os(&[
                    &"take",
                    &f.good,
                    &"--indices",
                    &bad,
                    &"-o",
                    &out.join("t.npy"),
                ])
            }),
        ),
        (
            "convert npy",
            Role::Input(|_, bad, out| os(&[&"convert", &bad, &"-o", &out.join("c.npy")])),
        ),
        (
            "convert npy --dtype",
            Role::Input(|_, bad, out| {
                os(&[
                    &"convert",
                    &bad,
                    &"-o",
                    &out.join("c.npy"),
                    &"--dtype",
                    &"f4",
                ])
            }),
        ),
        (
            "convert csv",
            Role::Input(|_, bad, out| os(&[&"convert", &bad, &"-o", &out.join("c.csv")])),
        ),
        (
            "convert raw",
            Role::Input(|_, bad, out| os(&[&"convert", &bad, &"-o", &out.join("c.raw")])),
        ),
        (
            "convert parquet",
            Role::Input(|_, bad, out| os(&[&"convert", &bad, &"-o", &out.join("c.parquet")])),
        ),
        (
            "cat (first)",
            Role::Input(|f, bad, out| os(&[&"cat", &bad, &f.good, &"-o", &out.join("j.npy")])),
        ),
        (
            "cat (second)",
            Role::Input(|f, bad, out| os(&[&"cat", &f.good, &bad, &"-o", &out.join("j.npy")])),
        ),
        ("append (target)", Role::AppendTarget),
        ("append (source)", Role::AppendSource),
    ]
}

/// One run of one command on one bad file; returns a description of what went wrong.
fn check_one(fixed: &Fixed, bad: &Path, command: &str, role: Role, job: &Path) -> Option<String> {
    std::fs::create_dir(job).unwrap();
    let regular = std::fs::symlink_metadata(bad).is_ok_and(|m| m.is_file());
    // Files the command may touch in place, with the bytes they must keep.
    let mut kept: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let (args, named) = match role {
        Role::Input(make) => (make(fixed, bad, job), bad.to_path_buf()),
        Role::AppendTarget => {
            let target = if regular {
                let copy = job.join(bad.file_name().unwrap());
                std::fs::copy(bad, &copy).unwrap();
                kept.push((copy.clone(), std::fs::read(&copy).unwrap()));
                copy
            } else {
                bad.to_path_buf()
            };
            (os(&[&"append", &target, &fixed.good]), target)
        }
        Role::AppendSource => {
            let target = job.join("good.npy");
            std::fs::copy(&fixed.good, &target).unwrap();
            kept.push((target.clone(), std::fs::read(&target).unwrap()));
            (os(&[&"append", &target, &bad]), bad.to_path_buf())
        }
    };
    let outcome = run(&args);
    let what = format!("`mmnpy {command}` on {}", bad.display());
    let Some(status) = outcome.status else {
        return Some(format!("{what}: still running after {TIMEOUT:?} (a hang)"));
    };
    let name = named.file_name().unwrap().to_string_lossy().into_owned();
    let error_line = outcome
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or("");
    let mut problems = Vec::new();
    if status.code() != Some(1) {
        problems.push(format!("exited with {status} (want 1)"));
    }
    if outcome.stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    if !error_line.contains(&name) {
        problems.push(format!("no `error:` line naming {name}"));
    }
    for (path, bytes) in &kept {
        if std::fs::read(path).unwrap() != *bytes {
            problems.push(format!("changed {}", path.display()));
        }
    }
    let mut left = dir_entries(job);
    left.retain(|n| {
        !kept
            .iter()
            .any(|(p, _)| p.file_name().unwrap() == n.as_str())
    });
    if !left.is_empty() {
        problems.push(format!("left {left:?}"));
    }
    for (path, _) in kept {
        std::fs::remove_file(path).unwrap();
    }
    std::fs::remove_dir(job).unwrap();
    (!problems.is_empty()).then(|| {
        format!(
            "{what}: {}\n  stderr: {}",
            problems.join("; "),
            outcome.stderr.trim()
        )
    })
}

/// One check, run in its own scratch directory; returns what went wrong, if anything.
type Job<'a> = Box<dyn Fn(&Path) -> Option<String> + Send + Sync + 'a>;

/// Run `jobs` on a few threads (each job is mostly waiting for a short-lived process).
fn run_jobs(jobs: Vec<Job<'_>>, scratch: &Path) {
    let next = AtomicUsize::new(0);
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(k) else { break };
                    if let Some(problem) = job(&scratch.join(format!("job{k}"))) {
                        failed.lock().unwrap().push(problem);
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} runs misbehaved:\n{}",
        failed.len(),
        jobs.len(),
        failed.join("\n")
    );
    eprintln!(
        "hostile: {} runs, each exited 1 with an error naming the file",
        jobs.len()
    );
}

fn write_fixed(dir: &Path) -> Fixed {
    let good = dir.join("good.npy");
    std::fs::write(&good, good_bytes(1)).unwrap();
    let indices = dir.join("idx.npy");
    let data: Vec<u8> = [0i64, 2].iter().flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(&indices, npy_bytes(1, &dict("'<i8'", "(2,)", 1), &data)).unwrap();
    Fixed { good, indices }
}

#[test]
fn every_command_refuses_every_bad_npy_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let bad_dir = dir.path().join("bad");
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&bad_dir).unwrap();
    std::fs::create_dir(&scratch).unwrap();
    let fixed = write_fixed(dir.path());
    let bad = bad_npy_files(&bad_dir);
    let commands = npy_commands();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for file in &bad {
        for &(command, role) in &commands {
            let fixed = &fixed;
            jobs.push(Box::new(move |job: &Path| {
                check_one(fixed, file, command, role, job)
            }));
        }
    }
    run_jobs(jobs, &scratch);
}

/// Index files that are valid `.npy` but bad as indices: out of bounds either way, not
/// integers, extreme values.
#[test]
fn take_refuses_bad_index_values_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let fixed = write_fixed(dir.path());
    let ints = |name: &str, values: &[i64]| {
        let path = dir.path().join(name);
        let data: Vec<u8> = values.iter().flat_map(|i| i.to_le_bytes()).collect();
        let shape = format!("({},)", values.len());
        std::fs::write(&path, npy_bytes(1, &dict("'<i8'", &shape, 1), &data)).unwrap();
        path
    };
    let mut bad = vec![
        ints("idx_past_end.npy", &[0, 4]),
        ints("idx_before_start.npy", &[-5]),
        ints("idx_i64_min.npy", &[i64::MIN]),
        ints("idx_i64_max.npy", &[1, i64::MAX]),
    ];
    let floats = dir.path().join("idx_float.npy");
    let data: Vec<u8> = [0.0f64, 1.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&floats, npy_bytes(1, &dict("'<f8'", "(2,)", 1), &data)).unwrap();
    bad.push(floats);
    let big = dir.path().join("idx_u64_big.npy");
    let data: Vec<u8> = [u64::MAX].iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&big, npy_bytes(1, &dict("'<u8'", "(1,)", 1), &data)).unwrap();
    bad.push(big);
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for file in &bad {
        for axis in ["0", "1"] {
            let fixed = &fixed;
            jobs.push(Box::new(move |job: &Path| {
                std::fs::create_dir(job).unwrap();
                let out = job.join("t.npy");
                let args = os(&[
                    &"take",
                    &fixed.good,
                    &"--indices",
                    file,
                    &"--axis",
                    &axis,
                    &"-o",
                    &out,
                ]);
                let outcome = run(&args);
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                let ok = outcome.status.and_then(|s| s.code()) == Some(1)
                    && outcome.stderr.starts_with("error: ")
                    && (outcome.stderr.contains(&name) || outcome.stderr.contains("good.npy"))
                    && dir_entries(job).is_empty();
                std::fs::remove_dir_all(job).unwrap();
                (!ok).then(|| {
                    format!(
                        "take --indices {name} --axis {axis}: {:?} {}",
                        outcome.status, outcome.stderr
                    )
                })
            }));
        }
    }
    run_jobs(jobs, &scratch);
}

/// The other input formats `convert` reads (and `info` for npz): garbage content, a
/// directory, a FIFO, an unreadable file.
#[test]
fn convert_refuses_bad_csv_npz_parquet_and_raw_inputs_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let mut cases: Vec<(PathBuf, Vec<OsString>)> = Vec::new();
    for (ext, garbage, extra) in [
        ("csv", &b"1,2,3\n4,x,6\n"[..], &[][..]),
        ("tsv", &b"1\t2\n3\n"[..], &[][..]),
        (
            "npz",
            &b"PK\x03\x04 this is not a zip archive"[..],
            &["--member", "a"][..],
        ),
        ("parquet", &b"PAR1 this is not parquet PAR1"[..], &[][..]),
        ("raw", &b"seven b"[..], &["--dtype", "f8"][..]),
    ] {
        let sub = dir.path().join(ext);
        std::fs::create_dir(&sub).unwrap();
        let garbage_path = sub.join(format!("garbage.{ext}"));
        std::fs::write(&garbage_path, garbage).unwrap();
        let mut inputs = special_files(&sub, ext);
        inputs.push(garbage_path);
        for input in inputs {
            let mut args = os(&[&"convert", &input]);
            args.extend(extra.iter().map(OsString::from));
            cases.push((input.clone(), args));
            if ext == "npz" {
                cases.push((input.clone(), os(&[&"info", &input])));
            }
        }
    }
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (input, args) in &cases {
        jobs.push(Box::new(move |job: &Path| {
            std::fs::create_dir(job).unwrap();
            let mut args = args.clone();
            if args[0] == "convert" {
                args.extend(os(&[&"-o", &job.join("out.npy")]));
            }
            let outcome = run(&args);
            let name = input.file_name().unwrap().to_string_lossy().into_owned();
            let ok = outcome.status.and_then(|s| s.code()) == Some(1)
                && outcome.stderr.starts_with("error: ")
                && outcome.stderr.contains(&name)
                && dir_entries(job).is_empty();
            std::fs::remove_dir_all(job).unwrap();
            (!ok).then(|| format!("mmnpy {args:?}: {:?} {}", outcome.status, outcome.stderr))
        }));
    }
    run_jobs(jobs, &scratch);
}

/// `(rows, 8)` float64 whose element `k` is `k`: big enough that a pass takes a while.
fn write_counting(path: &Path, rows: usize) -> Vec<u8> {
    let header = Header::new(DType::native(Scalar::F64), &[rows, 8], Order::C).unwrap();
    let mut bytes = header.to_bytes().unwrap();
    bytes.extend((0..rows * 8).flat_map(|k| (k as f64).to_le_bytes()));
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// A file that shrinks between the header check and the mapping (and during the pass).
///
/// What this proves: (1) against a *cooperating* writer — one that takes the exclusive
/// advisory lock before it truncates, as mmnpy's own writers do — every `stats` run either
/// reports the full array's statistics or exits 1 naming the file (the lock, or a length
/// check), never a signal: mmnpy's shared lock covers the whole window from the length check
/// through the last read. (2) Against a *non-cooperating* writer (no lock), a run still gives
/// the right answer or a clean error, or dies of SIGBUS: that residual hazard of mapping is
/// what SAFETY.md documents; so is a wrong answer, when a page that the truncation cut in
/// the middle is read as zeros before the writer puts it back. Neither may hang.
#[test]
fn shrinking_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shrinks.npy");
    let rows = 32_768; // 2 MiB of data
    let full = write_counting(&path, rows);
    let n = (rows * 8) as f64;
    let want_sum = n * (n - 1.0) / 2.0;
    let sum_of = |stdout: &str| {
        let json: serde_json::Value = serde_json::from_str(stdout).unwrap();
        json["sum"].as_f64().unwrap()
    };
    for cooperating in [true, false] {
        let stop = AtomicBool::new(false);
        let (mut ok, mut wrong, mut refused, mut sigbus) = (0, 0, 0, 0);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                let mut cut = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if cooperating && file.try_lock().is_err() {
                        std::thread::sleep(Duration::from_micros(200));
                        continue;
                    }
                    cut = (cut + 97_531) % full.len() as u64;
                    file.set_len(cut).unwrap();
                    std::thread::sleep(Duration::from_micros(300));
                    // Put the tail back (bytes past `cut` were dropped by the truncation).
                    std::os::unix::fs::FileExt::write_all_at(&file, &full[cut as usize..], cut)
                        .unwrap();
                    if cooperating {
                        file.unlock().unwrap();
                    }
                    std::thread::sleep(Duration::from_micros(300));
                }
            });
            for _ in 0..25 {
                let outcome = run(&os(&[&"stats", &"--json", &path]));
                let status = outcome.status.expect("stats hung on a shrinking file");
                match status.code() {
                    Some(0) if sum_of(&outcome.stdout) == want_sum => ok += 1,
                    Some(0) => {
                        assert!(
                            !cooperating,
                            "a wrong answer under the lock: {}",
                            outcome.stdout
                        );
                        wrong += 1;
                    }
                    Some(1) => {
                        assert!(outcome.stderr.contains("shrinks.npy"), "{}", outcome.stderr);
                        refused += 1;
                    }
                    _ => {
                        use std::os::unix::process::ExitStatusExt;
                        assert!(
                            !cooperating && status.signal() == Some(libc::SIGBUS),
                            "cooperating={cooperating}: {status} {}",
                            outcome.stderr
                        );
                        sigbus += 1;
                    }
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
        // The writer restored the file before stopping: a final run sees all of it.
        let mut check = Command::new(assert_cmd::cargo::cargo_bin("mmnpy"));
        let out = check.args(["stats", "--json"]).arg(&path).output().unwrap();
        assert_eq!(sum_of(&String::from_utf8_lossy(&out.stdout)), want_sum);
        eprintln!(
            "shrinking file, cooperating={cooperating}: {ok} right answers, {refused} clean \
             refusals, {wrong} wrong answers, {sigbus} SIGBUS"
        );
    }
}

/// A valid but empty array whose other axis is huge, `(0, 4294967295)` (found by the `open`
/// fuzz target): reducing along the empty axis, or writing a column per entry, would allocate
/// for billions of results backed by no data. The commands used to abort (SIGABRT) on the
/// failed allocation; they must refuse cleanly, and the commands that need no such allocation
/// still work.
#[test]
fn empty_arrays_with_a_huge_axis_are_refused_where_they_would_allocate() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.npy");
    std::fs::write(&wide, dict_file("(0, 4294967295)")).unwrap();
    let out = |name: &str| dir.path().join(name);
    for args in [
        os(&[&"stats", &"--axis", &"0", &wide]),
        os(&[&"convert", &wide, &"-o", &out("w.parquet")]),
        os(&[&"convert", &wide, &"--header", &"-o", &out("w.csv")]),
    ] {
        let outcome = run(&args);
        assert_eq!(
            outcome.status.and_then(|s| s.code()),
            Some(1),
            "{args:?}: {}",
            outcome.stderr
        );
        assert!(
            outcome.stderr.starts_with("error: ") && outcome.stderr.contains("wide.npy"),
            "{}",
            outcome.stderr
        );
        assert_eq!(dir_entries(dir.path()), ["wide.npy"]);
    }
    for args in [
        os(&[&"stats", &"--axis", &"1", &wide]),
        os(&[&"stats", &wide]),
        os(&[&"info", &wide]),
    ] {
        let outcome = run(&args);
        assert_eq!(
            outcome.status.and_then(|s| s.code()),
            Some(0),
            "{args:?}: {}",
            outcome.stderr
        );
    }
}

/// A `<f8` file with this shape and no data bytes.
fn dict_file(shape: &str) -> Vec<u8> {
    npy_bytes(1, &dict("'<f8'", shape, 1), &[])
}
