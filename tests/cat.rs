//! `mmnpy cat`: numpy's concatenate, against files numpy wrote.

use crate::convert_npy::{fixture, listing, mmnpy};

fn cat_matches(inputs: &[&str], args: &[&str], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    mmnpy()
        .arg("cat")
        .args(inputs.iter().map(|i| fixture(i)))
        .arg("-o")
        .arg(&out)
        .args(args)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(fixture(expected)).unwrap(),
        "{inputs:?} {args:?}"
    );
}

#[test]
fn concatenates_like_numpy_along_any_axis() {
    cat_matches(
        &["cat/x.npy", "cat/y.npy", "cat/z_big.npy"],
        &["--axis", "1"],
        "cat/xyz_axis1.npy",
    );
    cat_matches(
        &["cat/x.npy", "cat/x.npy"],
        &["--axis", "-1"],
        "cat/xx_axis2.npy",
    );
    cat_matches(
        &["cat/p_fortran.npy", "cat/q_fortran.npy"],
        &[],
        "cat/pq_axis0.npy",
    );
    cat_matches(&["cat/base.npy", "cat/more.npy"], &[], "cat/base_more.npy");
}

#[test]
fn mismatched_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let cases = [
        (["cat/x.npy", "cat/y.npy"], "0", "y.npy"),
        (["cat/x.npy", "cat/base.npy"], "0", "base.npy"),
        (["cat/x.npy", "cat/x.npy"], "3", "out of bounds"),
    ];
    for (inputs, axis, expect) in cases {
        let assert = mmnpy()
            .arg("cat")
            .args(inputs.iter().map(|i| fixture(i)))
            .arg("-o")
            .arg(&out)
            .args(["--axis", axis])
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(err.starts_with("error:") && err.contains(expect), "{err}");
    }
    assert!(listing(dir.path()).is_empty());
}
