//! Interop with the real Python libraries: runs the pytest suite under `tests/interop/`
//! (numpy, zarr-python, dask, pandas, pyarrow) against the mmnpy binary cargo built for this
//! test run.
//!
//! The Python comes from `MMNPY_PYTHON`, else the project's `.venv-interop/bin/python`
//! (made by `scripts/interop_env.sh`). Without one that imports every package, the test says
//! it was skipped and why, and passes: plain `cargo test` must not need Python. With
//! `MMNPY_REQUIRE_INTEROP=1` (what `.ci/run` sets) a missing Python or package is a failure,
//! and so is a Zarr or npy-stack test the mmnpy build cannot run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages the suite imports; a Python without any of them cannot run it.
const PACKAGES: [&str; 6] = ["numpy", "zarr", "dask.array", "pandas", "pyarrow", "pytest"];

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn required() -> bool {
    std::env::var("MMNPY_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
}

/// The Python to run the suite with, or why there is none that can.
fn find_python() -> Result<PathBuf, String> {
    let python = match std::env::var_os("MMNPY_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            let venv = manifest_dir().join(".venv-interop/bin/python");
            if !venv.exists() {
                return Err("no MMNPY_PYTHON and no .venv-interop".to_string());
            }
            venv
        }
    };
    // One import per line so the error names the first missing package.
    let script: String = PACKAGES.iter().map(|p| format!("import {p}\n")).collect();
    match Command::new(&python).arg("-c").arg(&script).output() {
        Err(e) => Err(format!("cannot run {}: {e}", python.display())),
        Ok(out) if !out.status.success() => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let why = match stderr.lines().last() {
                Some(last) => last.to_string(),
                None => format!("`import` exited with {}", out.status),
            };
            Err(format!("{} lacks a package: {why}", python.display()))
        }
        Ok(_) => Ok(python),
    }
}

#[test]
fn interop_suite_against_real_numpy_zarr_dask() {
    let python = match find_python() {
        Ok(p) => p,
        Err(why) => {
            assert!(
                !required(),
                "MMNPY_REQUIRE_INTEROP=1 but {why}; run scripts/interop_env.sh"
            );
            println!("skipped: {why}; run scripts/interop_env.sh");
            return;
        }
    };
    let suite = manifest_dir().join("tests/interop");
    let out = Command::new(&python)
        .args(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"])
        .arg(&suite)
        .current_dir(manifest_dir())
        .env("MMNPY_BIN", env!("CARGO_BIN_EXE_mmnpy"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytest");
    // Shown by `cargo test -- --nocapture`, and on failure.
    println!("{}", String::from_utf8_lossy(&out.stdout));
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the interop suite failed ({}); rerun it with: MMNPY_BIN={} {} -m pytest {}",
        out.status,
        env!("CARGO_BIN_EXE_mmnpy"),
        python.display(),
        suite.display()
    );
}
