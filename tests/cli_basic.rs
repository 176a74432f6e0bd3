//! The `mmnpy` binary's first two commands and the contract every command keeps: `info` (human
//! and `--json`), `create` byte-compared with numpy's files, no temporaries left, errors as
//! `error: ...` on stderr naming the file with exit 1, usage errors exit 2, `--help` on every
//! command, and never a panic (exit 101).

use std::path::Path;

use serde_json::Value;

use crate::fixture::mmnpy;
use crate::fixture::{self, dir_entries};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = mmnpy().current_dir(dir).args(args).output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        matches!(run.code, 0..=2),
        "mmnpy {args:?} exited {} (a panic or a signal):\n{}",
        run.code,
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "mmnpy {args:?}: {}",
        run.stderr
    );
    run
}

#[test]
fn info_describes_a_file_for_people() {
    let case = fixture::array("float64_le_f2.npy");
    let path = case.path();
    let run = run_in(Path::new("."), &["info", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for needle in [
        path.to_str().unwrap(),
        "float64 (<f8)",
        "(2, 3)",
        "Fortran",
        "1.0",
        "48 bytes at offset 128",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{:?} lacks {needle:?}",
            run.stdout
        );
    }
}

fn check_info_json(value: &Value, case: &fixture::ArrayCase, path: &str) {
    let obj = value.as_object().expect("an object per file");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "data_offset",
            "descr",
            "dtype",
            "file_len",
            "fortran_order",
            "nbytes",
            "path",
            "shape",
            "version"
        ]
    );
    let file_len = std::fs::metadata(case.path()).unwrap().len();
    let nbytes = file_len - case.data_offset - case.trailing_bytes;
    assert_eq!(obj["path"], path);
    assert_eq!(obj["version"], case.version.as_str());
    assert_eq!(obj["descr"], case.descr.as_str());
    assert_eq!(obj["dtype"], case.dtype_name.as_str());
    let shape: Vec<u64> = obj["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(
        shape,
        case.shape.iter().map(|&n| n as u64).collect::<Vec<_>>()
    );
    assert_eq!(obj["fortran_order"], case.fortran_order);
    assert_eq!(obj["data_offset"].as_u64(), Some(case.data_offset));
    assert_eq!(obj["nbytes"].as_u64(), Some(nbytes));
    assert_eq!(obj["file_len"].as_u64(), Some(file_len));
}

#[test]
fn info_json_has_exactly_the_contract_keys_and_numpys_values() {
    let names = [
        "complex64_be_f2.npy",
        "zerod_c16_be.npy",
        "empty_i4_c3.npy",
        "v3_f8.npy",
        "v2_i2_f.npy",
        "legacy_u2_f2.npy",
        "trailing_i8.npy",
    ];
    let cases: Vec<_> = names.iter().map(|n| fixture::array(n)).collect();
    let dir = fixture::dir();
    // One file: one object.
    let run = run_in(&dir, &["info", "--json", names[0]]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    check_info_json(&doc, cases[0], names[0]);
    // Several: an array, in the order given.
    let mut args = vec!["info", "--json"];
    args.extend(names);
    let run = run_in(&dir, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let items = doc.as_array().expect("a JSON array for several files");
    assert_eq!(items.len(), names.len());
    for ((item, case), name) in items.iter().zip(&cases).zip(names) {
        check_info_json(item, case, name);
    }
}

/// `mmnpy create` arguments that must reproduce a numpy fixture byte for byte.
const CREATE_CASES: &[(&str, &[&str])] = &[
    (
        "full_f8_c.npy",
        &["--dtype", "<f8", "--shape", "3,4", "--fill", "1.5"],
    ),
    (
        "full_i2_be_f.npy",
        &[
            "--dtype", ">i2", "--shape", "2,3", "--fill", "-7", "--order", "F",
        ],
    ),
    (
        "full_c16_1d.npy",
        &["--dtype", "complex128", "--shape", "3", "--fill", "1-2j"],
    ),
    (
        "full_b1_0d.npy",
        &["--dtype", "bool", "--shape", "", "--fill", "True"],
    ),
    (
        "full_u8_max.npy",
        &[
            "--dtype",
            "u8",
            "--shape",
            "(2, 2)",
            "--fill",
            "18446744073709551615",
        ],
    ),
    (
        "full_f2_nan.npy",
        &["--dtype", "float16", "--shape", "4,", "--fill", "nan"],
    ),
    (
        "full_f4_midpoint.npy",
        &[
            "--dtype",
            "f4",
            "--shape",
            "2",
            "--fill",
            "1.000000059604644775390625001",
        ],
    ),
    ("zeros_u1_empty.npy", &["--dtype", "|u1", "--shape", "0,5"]),
    (
        "zeros_f4_v2_f.npy",
        &[
            "--dtype",
            "f4",
            "--shape",
            "2,3,2",
            "--order",
            "F",
            "--version",
            "2",
        ],
    ),
    (
        "zeros_i4_v3.npy",
        &["--dtype", "int32", "--shape", "5", "--version", "3.0"],
    ),
];

#[test]
fn create_writes_what_numpy_writes_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    for (name, options) in CREATE_CASES {
        let mut args = vec!["create", name];
        args.extend_from_slice(options);
        let run = run_in(dir.path(), &args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty() && run.stderr.is_empty(), "{args:?}");
        let ours = std::fs::read(dir.path().join(name)).unwrap();
        let numpys = std::fs::read(fixture::array(name).path()).unwrap();
        assert!(ours == numpys, "{name}: mmnpy create differs from numpy");
    }
    let mut expected: Vec<String> = CREATE_CASES.iter().map(|(n, _)| n.to_string()).collect();
    expected.sort();
    assert_eq!(dir_entries(dir.path()), expected);
}

#[test]
fn create_refuses_an_existing_output_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("out.npy"), b"precious").unwrap();
    let args = ["create", "out.npy", "--dtype", "f8", "--shape", "2"];
    let run = run_in(dir.path(), &args);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("out.npy") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(dir.path().join("out.npy")).unwrap(),
        b"precious"
    );
    assert_eq!(dir_entries(dir.path()), ["out.npy"]);

    let mut forced = args.to_vec();
    forced.push("--force");
    let run = run_in(dir.path(), &forced);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = mmnpy::NpyArray::<f64>::open(dir.path().join("out.npy")).unwrap();
    assert_eq!(file.as_slice(), &[0.0, 0.0]);
    assert_eq!(dir_entries(dir.path()), ["out.npy"]);
}

#[test]
fn runtime_errors_exit_1_with_an_error_line_naming_the_file() {
    let fixtures = fixture::dir();
    for case in &fixture::manifest().malformed {
        let run = run_in(&fixtures, &["info", &case.file]);
        assert_eq!(run.code, 1, "{}: {}", case.file, run.stderr);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert!(
            run.stderr.contains(&case.file),
            "{}: {}",
            case.file,
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stdout.is_empty());
        let run = run_in(&fixtures, &["info", "--json", "v1_f8.npy", &case.file]);
        assert_eq!(run.code, 1);
        assert!(run.stdout.is_empty(), "partial output for {}", case.file);
    }
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["info", "missing.npy"][..],
        &["info", "."],
        &["info", "/dev/null"],
    ] {
        let run = run_in(dir.path(), args);
        assert_eq!(run.code, 1, "{args:?}");
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(args[1]), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn bad_create_arguments_fail_cleanly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let cases: &[&[&str]] = &[
        &["--dtype", "f8", "--shape", "4294967296,4294967296"],
        &["--dtype", "f8", "--shape", "99999999999999999999999"],
        &["--dtype", "f8", "--shape", "-1"],
        &["--dtype", "f8", "--shape", "3,,4"],
        &["--dtype", "f8", "--shape", "x"],
        &["--dtype", "<U4", "--shape", "3"],
        &["--dtype", "object", "--shape", "3"],
        &["--dtype", "", "--shape", "3"],
        &["--dtype", "<f16", "--shape", "3"],
        &["--dtype", "i4", "--shape", "3", "--fill", "nan"],
        &["--dtype", "i4", "--shape", "3", "--fill", "1.5"],
        &["--dtype", "u1", "--shape", "3", "--fill", "256"],
        &["--dtype", "u1", "--shape", "3", "--fill", "-1"],
        &["--dtype", "b1", "--shape", "3", "--fill", "maybe"],
        &["--dtype", "f8", "--shape", "3", "--order", "X"],
        &["--dtype", "f8", "--shape", "3", "--version", "4"],
        &["--dtype", "f8", "--shape", "3", "--threads", "0"],
    ];
    for options in cases {
        let mut args = vec!["create", "out.npy"];
        args.extend_from_slice(options);
        let run = run_in(dir.path(), &args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: "),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            dir_entries(dir.path()),
            ["sub"],
            "{args:?} left files behind"
        );
    }
    // Outputs that cannot be written name the output.
    for out in ["sub", "nowhere/out.npy", "sub/"] {
        let run = run_in(
            dir.path(),
            &["create", out, "--dtype", "f8", "--shape", "3", "--force"],
        );
        assert_eq!(run.code, 1, "{out}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: ") && run.stderr.contains(out.trim_end_matches('/')),
            "{out}: {}",
            run.stderr
        );
    }
    assert_eq!(dir_entries(dir.path()), ["sub"]);
    assert!(dir_entries(&dir.path().join("sub")).is_empty());
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &[][..],
        &["frobnicate"],
        &["info"],
        &["info", "--bogus", "x.npy"],
        &["create", "out.npy"],
        &["create", "out.npy", "--dtype", "f8"],
        &["create", "--shape", "3", "--dtype", "f8"],
        &["--threads", "many", "info", "x.npy"],
    ] {
        let run = run_in(dir.path(), args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        // With no arguments at all, clap shows the help (on stderr) instead of an error line.
        if !args.is_empty() {
            assert!(
                run.stderr.starts_with("error: "),
                "{args:?}: {}",
                run.stderr
            );
        }
        assert!(run.stderr.contains("--help"), "{args:?}: {}", run.stderr);
    }
    assert!(dir_entries(dir.path()).is_empty());
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["info", "--help"],
        &["create", "--help"],
        &["help", "create"],
        &["--version"],
    ] {
        let run = run_in(Path::new("."), args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stdout.is_empty(), "{args:?}");
    }
    let run = run_in(Path::new("."), &["create", "--help"]);
    for flag in [
        "--dtype",
        "--shape",
        "--fill",
        "--order",
        "--version",
        "--force",
    ] {
        assert!(run.stdout.contains(flag), "create --help lacks {flag}");
    }
}

#[test]
fn info_on_more_files_than_the_descriptor_limit() {
    // Regression: info held every file open until it printed, so `mmnpy info dir/*.npy`
    // failed with "Too many open files" past the (often 1024) descriptor limit.
    let bin = assert_cmd::cargo::cargo_bin("mmnpy");
    let script = format!(
        "ulimit -n 64 && exec '{}' info --json $(for i in $(seq 200); do printf 'v1_f8.npy '; done)",
        bin.display()
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(fixture::dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.as_array().map(Vec::len), Some(200));
}
