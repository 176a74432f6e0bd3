//! `mmnpy demo`, the README's main job: its files hold what it says they hold, it checks its
//! own determinism, and without `--dir` it leaves nothing behind.

use assert_cmd::Command;
use mmnpy::engine::{PassOptions, stats};
use mmnpy::{NpyFile, SampleTable, read_array};

fn demo(args: &[&str], tmpdir: &std::path::Path) -> (i32, String, String) {
    let out = Command::cargo_bin("mmnpy")
        .unwrap()
        .env("TMPDIR", tmpdir)
        .arg("demo")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_without_dir_runs_every_step_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = demo(&["--size", "3MiB"], tmp.path());
    assert_eq!(code, 0, "{stderr}");
    for needle in [
        "mmnpy stats demo_table.npy",
        "--axis 0",
        "mmnpy slice",
        "mmnpy hist",
        "mmnpy take",
        "identical",
        "Summary",
        "Removed the demo files",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "demo left {left:?}");
}

#[test]
fn demo_with_dir_keeps_files_that_match_the_sample_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let (code, stdout, stderr) = demo(
        &[
            "--size",
            "1MiB",
            "--cols",
            "5",
            "--dir",
            dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    let table = SampleTable::with_size(1 << 20, 5, 42);
    let a = read_array::<f64>(dir.join("demo_table.npy")).unwrap();
    assert_eq!(a.shape(), &[table.rows, 5]);
    for i in (0..table.rows).step_by(97) {
        for j in 0..5 {
            assert_eq!(a[[i, j]].to_bits(), table.value(i, j).to_bits());
        }
    }
    // The column slice is ":, 3".
    let column = read_array::<f64>(dir.join("demo_column.npy")).unwrap();
    assert_eq!(column.shape(), &[table.rows]);
    for i in 0..table.rows {
        assert_eq!(column[[i]].to_bits(), a[[i, 3]].to_bits());
    }
    // The gather keeps whole rows of the table.
    let rows = read_array::<f64>(dir.join("demo_rows.npy")).unwrap();
    assert_eq!(rows.shape(), &[table.rows, 5]);
    for r in rows.outer_iter().step_by(31) {
        assert!(
            a.outer_iter()
                .any(|row| row == r || r.iter().any(|x| x.is_nan())),
            "gathered row {r} is not a row of the table"
        );
    }
    // The printed count is the engine's.
    let s = stats(
        &NpyFile::open(dir.join("demo_table.npy")).unwrap(),
        0,
        &PassOptions::new(),
    )
    .unwrap();
    assert!(
        stdout.contains(&format!("count {}  nan_count {}", s.count, s.nan_count)),
        "{stdout}"
    );
    assert!(stdout.contains("Kept demo_table.npy"), "{stdout}");
}

#[test]
fn demo_refuses_a_bad_size_as_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["lots", "1XB", "0", "-5MiB"] {
        let (code, _, stderr) = demo(&["--size", bad], tmp.path());
        assert_eq!(code, 2, "--size {bad}: {stderr}");
    }
}
