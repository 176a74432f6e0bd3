//! `mmnpy append` and the streaming writer: in-place growth gives exactly what np.save of
//! the concatenation gives.

use mmnpy::ops::NpyWriter;
use mmnpy::{DType, NpyArray, Overwrite, Scalar};

use crate::convert_npy::{fixture, listing, mmnpy};

#[test]
fn append_in_place_equals_np_save_of_the_concatenation() {
    for (base, more, expected) in [
        ("cat/base.npy", "cat/more.npy", "cat/base_more.npy"),
        ("cat/fbase.npy", "cat/fmore.npy", "cat/fbase_fmore.npy"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.npy");
        std::fs::copy(fixture(base), &target).unwrap();
        mmnpy()
            .arg("append")
            .arg(&target)
            .arg(fixture(more))
            .assert()
            .success();
        assert_eq!(
            std::fs::read(&target).unwrap(),
            std::fs::read(fixture(expected)).unwrap(),
            "{base} + {more}"
        );
        assert_eq!(listing(dir.path()), ["t.npy"]);
    }
}

#[test]
fn mismatches_leave_the_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.npy");
    std::fs::copy(fixture("cat/base.npy"), &target).unwrap();
    let before = std::fs::read(&target).unwrap();
    for (src, expect) in [
        (fixture("cat/x.npy"), "x.npy"),         // dtype f4 vs f8
        (fixture("cat/fmore.npy"), "fmore.npy"), // (4, 2) vs rows of 4... shape
        (target.clone(), "itself"),
    ] {
        let assert = mmnpy()
            .arg("append")
            .arg(&target)
            .arg(&src)
            .assert()
            .code(1);
        let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(err.starts_with("error:") && err.contains(expect), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), before);
    }
    assert_eq!(listing(dir.path()), ["t.npy"]);
}

#[test]
fn a_header_without_room_is_rewritten_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.npy");
    // A valid 64-byte header with no growth padding (as some other writers make).
    let text = "{'descr':'<f8','fortran_order':False,'shape':(3,4)}";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&54u16.to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
    bytes.resize(63, b' ');
    bytes.push(b'\n');
    let base: Vec<f64> = (0..12).map(f64::from).collect();
    bytes.extend(base.iter().flat_map(|x| x.to_le_bytes()));
    std::fs::write(&target, &bytes).unwrap();
    mmnpy()
        .arg("append")
        .arg(&target)
        .arg(fixture("cat/more.npy"))
        .assert()
        .success();
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(fixture("cat/base_more.npy")).unwrap()
    );
    assert_eq!(listing(dir.path()), ["t.npy"]);
}

#[test]
fn writer_of_unknown_length_equals_np_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.npy");
    let mut w = NpyWriter::create(&path, DType::native(Scalar::F64), &[4]).unwrap();
    let base: Vec<f64> = (0..12).map(f64::from).collect();
    let more: Vec<f64> = (0..8).map(|i| -f64::from(i)).collect();
    w.push(&base[..4]).unwrap();
    assert!(!path.exists(), "nothing at the path before finish");
    w.push(&base[4..]).unwrap();
    assert!(w.push(&more[..3]).is_err(), "partial row");
    w.push(&more).unwrap();
    assert!(w.push(&[1i32; 4]).is_err(), "wrong type");
    assert_eq!(w.rows(), 5);
    w.finish(Overwrite::Refuse).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(fixture("cat/base_more.npy")).unwrap()
    );
    // refusing an existing path leaves no temporary behind
    let mut again = NpyWriter::create(&path, DType::native(Scalar::F64), &[4]).unwrap();
    again.push(&base).unwrap();
    assert!(again.finish(Overwrite::Refuse).is_err());
    assert_eq!(listing(dir.path()), ["w.npy"]);
    // dropping an unfinished writer leaves nothing
    let other = dir.path().join("o.npy");
    let mut w = NpyWriter::create(&other, DType::native(Scalar::I32), &[]).unwrap();
    w.push(&[1i32, 2, 3]).unwrap();
    drop(w);
    assert_eq!(listing(dir.path()), ["w.npy"]);
    let _ = NpyArray::<f64>::open(&path).unwrap();
}
