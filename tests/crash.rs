//! Crash tests: `convert`, `append`, `create`, `slice`, `take` and `cat` are killed (SIGKILL)
//! at random moments; each time the target must be absent-or-complete (new files) or hold
//! exactly the old or the new contents (append), with no stray files but temporaries of the
//! documented kind, `.TARGET.XXXXXX.mmnpy-tmp`, which only a kill leaves and which a later
//! run (or the user) may delete.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mmnpy::{NpyArray, NpyFile, Order};

/// A small seeded generator for kill delays (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

const ROWS: usize = 400_000; // x 8 float64 = 25.6 MB
const COLS: usize = 8;

fn make_input(path: &Path, rows: usize, offset: f64) {
    let mut a = NpyArray::<f64>::create(path, &[rows, COLS], Order::C).unwrap();
    for (i, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *x = i as f64 * 0.5 + offset;
    }
    a.persist().unwrap();
}

/// Remove the temporaries a kill leaves, failing on anything else unexpected.
fn sweep(dir: &Path, expected: &[&str]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(mmnpy::TEMP_SUFFIX) {
            std::fs::remove_file(dir.join(&name)).unwrap();
        } else {
            assert!(expected.contains(&name.as_str()), "unexpected file {name}");
        }
    }
}

/// Run `args` to completion once and return how long it took.
fn timed(args: &[&std::ffi::OsStr]) -> Duration {
    let start = Instant::now();
    let status = Command::new(assert_cmd::cargo::cargo_bin("mmnpy"))
        .args(args)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    start.elapsed()
}

/// Start `args`, kill it after `delay`, and wait for it.
fn kill_after(args: &[&std::ffi::OsStr], delay: Duration) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("mmnpy"))
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL; it may have finished already
    child.wait().unwrap();
}

#[test]
fn killed_convert_leaves_no_file_or_the_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let output = dir.path().join("out.npy");
    make_input(&input, ROWS, 0.0);
    let argv: Vec<&std::ffi::OsStr> = vec![
        "convert".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
        "--dtype".as_ref(),
        "float32".as_ref(),
    ];
    let full = timed(&argv);
    std::fs::remove_file(&output).unwrap();
    let mut rng = Rng(0x5eed_1234);
    let (mut absent, mut complete) = (0, 0);
    for _ in 0..20 {
        let delay = Duration::from_micros(rng.below(full.as_micros() as u64 * 6 / 5));
        kill_after(&argv, delay);
        if output.exists() {
            let out = NpyArray::<f32>::open(&output).unwrap();
            assert_eq!(out.shape(), &[ROWS, COLS]);
            for (i, x) in out.as_slice().iter().enumerate() {
                assert_eq!(*x, (i as f64 * 0.5) as f32, "element {i}");
            }
            drop(out);
            std::fs::remove_file(&output).unwrap();
            complete += 1;
        } else {
            absent += 1;
        }
        sweep(dir.path(), &["in.npy"]);
    }
    eprintln!("convert kills: {absent} left no file, {complete} the complete one");
}

#[test]
fn killed_append_leaves_the_old_or_the_new_contents() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src.npy");
    let target = dir.path().join("t.npy");
    let pristine = dir.path().join("pristine.npy");
    let old_rows = 1000;
    make_input(&source, ROWS, 1e9);
    make_input(&pristine, old_rows, 0.0);
    let argv: Vec<&std::ffi::OsStr> =
        vec!["append".as_ref(), target.as_os_str(), source.as_os_str()];
    std::fs::copy(&pristine, &target).unwrap();
    let full = timed(&argv);
    let mut rng = Rng(0xc0ff_ee00);
    let (mut old, mut new) = (0, 0);
    for _ in 0..20 {
        std::fs::copy(&pristine, &target).unwrap();
        let delay = Duration::from_micros(rng.below(full.as_micros() as u64 * 6 / 5));
        kill_after(&argv, delay);
        let file = NpyFile::open(&target).unwrap();
        let rows = file.shape()[0];
        assert!(rows == old_rows || rows == old_rows + ROWS, "{rows} rows");
        let a = file.into_typed::<f64>().unwrap();
        let values = a.as_slice();
        for (i, x) in values[..old_rows * COLS].iter().enumerate() {
            assert_eq!(*x, i as f64 * 0.5);
        }
        for (i, x) in values[old_rows * COLS..].iter().enumerate() {
            assert_eq!(*x, i as f64 * 0.5 + 1e9, "appended element {i}");
        }
        drop(a);
        if rows == old_rows {
            old += 1;
            // Append again over whatever the kill left after the data: the new data
            // replaces it and the file ends exactly where the header says.
            timed(&argv);
            let file = NpyFile::open(&target).unwrap();
            assert_eq!(file.shape()[0], old_rows + ROWS);
            assert_eq!(file.file_len(), file.header().end().unwrap());
            let values = file.into_typed::<f64>().unwrap();
            let last = values.as_slice().last().copied();
            assert_eq!(last, Some((ROWS * COLS - 1) as f64 * 0.5 + 1e9));
        } else {
            new += 1;
        }
        sweep(dir.path(), &["src.npy", "t.npy", "pristine.npy"]);
    }
    eprintln!("append kills: {old} left the old contents, {new} the new");
}

/// Remove the temporaries a kill of a command writing `target` may leave — only of the
/// documented kind, `.TARGET.XXXXXX.mmnpy-tmp` — failing on anything else unexpected.
/// Returns how many there were.
fn sweep_strict(dir: &Path, target: &str, expected: &[&str]) -> usize {
    let mut temporaries = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if expected.contains(&name.as_str()) || name == target {
            continue;
        }
        let random = name
            .strip_prefix(&format!(".{target}."))
            .and_then(|rest| rest.strip_suffix(mmnpy::TEMP_SUFFIX));
        assert!(
            random.is_some_and(|r| !r.is_empty() && !r.contains('.')),
            "unexpected file {name}"
        );
        std::fs::remove_file(dir.join(&name)).unwrap();
        temporaries += 1;
    }
    temporaries
}

/// Kill `argv` at random moments `kills` times; after each, `target` must be absent or pass
/// `complete`, and only documented temporaries may be left.
fn kill_repeatedly(
    dir: &Path,
    argv: &[&std::ffi::OsStr],
    target: &Path,
    expected: &[&str],
    seed: u64,
    kills: usize,
    complete: impl Fn(&Path),
) {
    let full = timed(argv);
    complete(target);
    std::fs::remove_file(target).unwrap();
    let name = target.file_name().unwrap().to_str().unwrap();
    let mut rng = Rng(seed);
    let (mut absent, mut done, mut temporaries) = (0, 0, 0);
    for _ in 0..kills {
        let delay = Duration::from_micros(rng.below(full.as_micros() as u64 * 6 / 5));
        kill_after(argv, delay);
        if target.exists() {
            complete(target);
            std::fs::remove_file(target).unwrap();
            done += 1;
        } else {
            absent += 1;
        }
        temporaries += sweep_strict(dir, name, expected);
    }
    eprintln!(
        "{:?} kills: {absent} left no file, {done} the complete one, {temporaries} temporaries",
        argv[0]
    );
}

const KILLS: usize = 12;

#[test]
fn killed_create_leaves_no_file_or_the_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("made.npy");
    let argv: Vec<&std::ffi::OsStr> = vec![
        "create".as_ref(),
        output.as_os_str(),
        "--dtype".as_ref(),
        "float64".as_ref(),
        "--shape".as_ref(),
        "1000000,4".as_ref(),
        "--fill".as_ref(),
        "1.5".as_ref(),
    ];
    kill_repeatedly(
        dir.path(),
        &argv,
        &output,
        &[],
        0xc4ea_7e00,
        KILLS,
        |path| {
            let a = NpyArray::<f64>::open(path).unwrap();
            assert_eq!(a.shape(), &[1_000_000, 4]);
            assert!(a.as_slice().iter().all(|&x| x == 1.5));
        },
    );
}

#[test]
fn killed_slice_leaves_no_file_or_the_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let output = dir.path().join("sliced.npy");
    make_input(&input, ROWS, 0.0);
    let argv: Vec<&std::ffi::OsStr> = vec![
        "slice".as_ref(),
        input.as_os_str(),
        "::-1, 1:7:2".as_ref(),
        "-o".as_ref(),
        output.as_os_str(),
    ];
    kill_repeatedly(
        dir.path(),
        &argv,
        &output,
        &["in.npy"],
        0x511c_e000,
        KILLS,
        |path| {
            let a = NpyArray::<f64>::open(path).unwrap();
            assert_eq!(a.shape(), &[ROWS, 3]);
            for (k, x) in a.as_slice().iter().enumerate() {
                let (row, col) = (ROWS - 1 - k / 3, 1 + 2 * (k % 3));
                assert_eq!(*x, (row * COLS + col) as f64 * 0.5, "element {k}");
            }
        },
    );
}

#[test]
fn killed_take_leaves_no_file_or_the_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.npy");
    let indices = dir.path().join("idx.npy");
    let output = dir.path().join("taken.npy");
    make_input(&input, ROWS, 0.0);
    let mut rng = Rng(0x7a4e);
    let picked: Vec<i64> = (0..ROWS / 2)
        .map(|_| rng.below(ROWS as u64) as i64)
        .collect();
    let mut idx = NpyArray::<i64>::create(&indices, &[picked.len()], Order::C).unwrap();
    idx.as_slice_mut().unwrap().copy_from_slice(&picked);
    idx.persist().unwrap();
    drop(idx);
    let argv: Vec<&std::ffi::OsStr> = vec![
        "take".as_ref(),
        input.as_os_str(),
        "--indices".as_ref(),
        indices.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
    ];
    let expected = ["in.npy", "idx.npy"];
    kill_repeatedly(
        dir.path(),
        &argv,
        &output,
        &expected,
        0x7a4e_0001,
        KILLS,
        |path| {
            let a = NpyArray::<f64>::open(path).unwrap();
            assert_eq!(a.shape(), &[picked.len(), COLS]);
            for (row, chunk) in a.as_slice().chunks(COLS).enumerate() {
                let first = picked[row] as usize * COLS;
                for (col, x) in chunk.iter().enumerate() {
                    assert_eq!(*x, (first + col) as f64 * 0.5, "row {row}");
                }
            }
        },
    );
}

#[test]
fn killed_cat_leaves_no_file_or_the_complete_one() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a.npy");
    let second = dir.path().join("b.npy");
    let output = dir.path().join("joined.npy");
    make_input(&first, ROWS / 2, 0.0);
    make_input(&second, ROWS / 2, 1e9);
    let argv: Vec<&std::ffi::OsStr> = vec![
        "cat".as_ref(),
        first.as_os_str(),
        second.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
    ];
    let half = ROWS / 2 * COLS;
    kill_repeatedly(
        dir.path(),
        &argv,
        &output,
        &["a.npy", "b.npy"],
        0xca7,
        KILLS,
        |path| {
            let a = NpyArray::<f64>::open(path).unwrap();
            assert_eq!(a.shape(), &[ROWS, COLS]);
            for (k, x) in a.as_slice().iter().enumerate() {
                let want = if k < half {
                    k as f64 * 0.5
                } else {
                    (k - half) as f64 * 0.5 + 1e9
                };
                assert_eq!(*x, want, "element {k}");
            }
        },
    );
}
