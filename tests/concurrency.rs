//! Concurrent access: the advisory locks between processes (a second writer, or a reader
//! against a writer, fails at once with the lock error), readers running `mmnpy stats` while
//! another process appends (every answer is the statistics of a complete array, old or new,
//! never torn), and many threads reading one mapping.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mmnpy::{ErrorKind, NpyArray, NpyFile, Order};

fn mmnpy(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin("mmnpy"))
        .args(args)
        .output()
        .unwrap()
}

/// `(rows, cols)` float64 with element `k` (C order) equal to `first + k`.
fn write_counting(path: &Path, rows: usize, cols: usize, first: f64) {
    let mut a = NpyArray::<f64>::create(path, &[rows, cols], Order::C).unwrap();
    for (k, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *x = first + k as f64;
    }
    a.persist().unwrap();
}

/// Run `mmnpy args`, which must fail at once (well under a blocking wait) with the lock error.
fn assert_refused_by_lock(args: &[&std::ffi::OsStr]) {
    let started = Instant::now();
    let out = mmnpy(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("conflicting lock"), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}: did it wait for the lock?",
        started.elapsed()
    );
}

#[test]
fn a_second_writer_or_a_reader_of_a_file_open_for_writing_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.npy");
    let more = dir.path().join("more.npy");
    write_counting(&path, 10, 3, 0.0);
    write_counting(&more, 2, 3, 100.0);
    let before = std::fs::read(&path).unwrap();

    // This process holds it r+: another process can neither read nor grow it.
    let writer = NpyFile::open_rw(&path).unwrap();
    assert_refused_by_lock(&["stats".as_ref(), path.as_os_str()]);
    assert_refused_by_lock(&["append".as_ref(), path.as_os_str(), more.as_os_str()]);
    // ... nor can a second handle in this process (locks belong to open files, not processes).
    let err = NpyFile::open_rw(&path).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Locked { .. }), "{err}");
    let err = NpyFile::open(&path).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Locked { .. }), "{err}");
    drop(writer);
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // Readers share: two readers are fine, and a writer is refused while they read.
    let reader = NpyFile::open(&path).unwrap();
    let out = mmnpy(&["stats".as_ref(), path.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_refused_by_lock(&["append".as_ref(), path.as_os_str(), more.as_os_str()]);
    drop(reader);
    let out = mmnpy(&["append".as_ref(), path.as_os_str(), more.as_os_str()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(NpyFile::open(&path).unwrap().shape(), &[12, 3]);
}

#[test]
fn a_file_being_created_is_absent_then_locked_then_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.npy");
    let mut created = NpyArray::<f64>::create(&path, &[100, 4], Order::C).unwrap();
    created.fill(2.5).unwrap();
    // Built at a temporary name: a reader finds nothing at the path.
    let out = mmnpy(&["stats".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("new.npy"));
    // Persisted, it stays open for writing (r+): readers are refused until it is closed.
    created.persist().unwrap();
    assert_refused_by_lock(&["stats".as_ref(), path.as_os_str()]);
    drop(created);
    let out = mmnpy(&["stats".as_ref(), "--json".as_ref(), path.as_os_str()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["sum"].as_f64(), Some(1000.0));
}

#[test]
fn readers_during_appends_see_a_whole_array_never_a_torn_one() {
    const COLS: usize = 4;
    const BASE_ROWS: usize = 500;
    const ADD_ROWS: usize = 300;
    const APPENDS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("grows.npy");
    let source = dir.path().join("src.npy");
    write_counting(&target, BASE_ROWS, COLS, 0.0);
    write_counting(&source, ADD_ROWS, COLS, 1e6);
    // The statistics of every complete state: the base and the base plus i appends.
    let tri = |n: usize| (n * (n - 1) / 2) as f64;
    let base_sum = tri(BASE_ROWS * COLS);
    let add_sum = 1e6 * (ADD_ROWS * COLS) as f64 + tri(ADD_ROWS * COLS);
    let valid = |count: u64, sum: f64, max: f64| {
        (0..=APPENDS).any(|i| {
            count == ((BASE_ROWS + i * ADD_ROWS) * COLS) as u64
                && sum == base_sum + i as f64 * add_sum
                && max
                    == if i == 0 {
                        (BASE_ROWS * COLS - 1) as f64
                    } else {
                        1e6 + (ADD_ROWS * COLS - 1) as f64
                    }
        })
    };

    let done = AtomicBool::new(false);
    let (seen, lock_refusals, append_retries) = std::thread::scope(|scope| {
        let appender = scope.spawn(|| {
            let mut retries = 0;
            for _ in 0..APPENDS {
                loop {
                    let out = mmnpy(&["append".as_ref(), target.as_os_str(), source.as_os_str()]);
                    if out.status.success() {
                        break;
                    }
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        stderr.contains("conflicting lock"),
                        "append failed: {stderr}"
                    );
                    retries += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            done.store(true, Ordering::Relaxed);
            retries
        });
        let readers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let (mut seen, mut refused) = (Vec::new(), 0);
                    while !done.load(Ordering::Relaxed) {
                        let out = mmnpy(&["stats".as_ref(), "--json".as_ref(), target.as_os_str()]);
                        if !out.status.success() {
                            let stderr = String::from_utf8_lossy(&out.stderr);
                            assert!(
                                stderr.contains("conflicting lock"),
                                "stats failed: {stderr}"
                            );
                            refused += 1;
                            continue;
                        }
                        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                        let count = json["count"].as_u64().unwrap();
                        let sum = json["sum"].as_f64().unwrap();
                        let max = json["max"].as_f64().unwrap();
                        assert!(valid(count, sum, max), "torn read: {json}");
                        seen.push(count);
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    (seen, refused)
                })
            })
            .collect();
        let retries = appender.join().unwrap();
        let mut seen = Vec::new();
        let mut refused = 0;
        for r in readers {
            let (s, n) = r.join().unwrap();
            seen.extend(s);
            refused += n;
        }
        (seen, refused, retries)
    });
    let states: std::collections::BTreeSet<u64> = seen.iter().copied().collect();
    eprintln!(
        "appends: {} reads saw {} distinct complete states; {lock_refusals} reads and \
         {append_retries} appends met the other's lock",
        seen.len(),
        states.len()
    );
    assert!(!seen.is_empty(), "no reader ever got through");
    let a = NpyArray::<f64>::open(&target).unwrap();
    assert_eq!(a.shape(), &[BASE_ROWS + APPENDS * ADD_ROWS, COLS]);
    assert_eq!(a.file().file_len(), a.header().end().unwrap());
    let values = a.as_slice();
    for (k, x) in values[..BASE_ROWS * COLS].iter().enumerate() {
        assert_eq!(*x, k as f64);
    }
    for chunk in values[BASE_ROWS * COLS..].chunks(ADD_ROWS * COLS) {
        for (k, x) in chunk.iter().enumerate() {
            assert_eq!(*x, 1e6 + k as f64);
        }
    }
}

#[test]
fn many_threads_reading_random_rows_of_one_mapping_see_the_written_values() {
    const ROWS: usize = 20_000;
    const COLS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.npy");
    let value = |row: usize, col: usize| (row * 1000 + col) as f64 * 0.25;
    let mut a = NpyArray::<f64>::create(&path, &[ROWS, COLS], Order::C).unwrap();
    {
        let mut view = a.view_mut_as::<ndarray::Ix2>().unwrap();
        for ((row, col), x) in view.indexed_iter_mut() {
            *x = value(row, col);
        }
    }
    a.persist().unwrap();
    drop(a);
    for mode in ["r", "c"] {
        let a = if mode == "r" {
            NpyArray::<f64>::open(&path).unwrap()
        } else {
            NpyArray::<f64>::open_copy_on_write(&path).unwrap()
        };
        let view = a.view_as::<ndarray::Ix2>().unwrap();
        std::thread::scope(|scope| {
            for seed in 1..=8u64 {
                let view = &view;
                scope.spawn(move || {
                    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    for _ in 0..5_000 {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        let row = (state % ROWS as u64) as usize;
                        for (col, x) in view.row(row).iter().enumerate() {
                            assert_eq!(*x, value(row, col), "mode {mode}, row {row}");
                        }
                    }
                });
            }
        });
    }
}
