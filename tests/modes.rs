//! numpy's four `mmap_mode`s and what each promises: `c` writes never reach the file, `r+`
//! writes do (after `flush`), `w+` files appear only on `persist` and leave nothing behind
//! when dropped, conflicting opens fail at once on the advisory lock, empty and 0-d arrays
//! work everywhere, and typed opens refuse what they cannot view safely.

use std::path::{Path, PathBuf};

use mmnpy::{DType, ErrorKind, Mode, NpyArray, NpyFile, OpenOptions, Order, Overwrite, Scalar};
use ndarray::{IxDyn, arr2};

use crate::fixture::{self, dir_entries};

/// A private copy of a fixture in a fresh directory (tests must not lock or write the
/// committed files).
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::copy(fixture::array(name).path(), &path).unwrap();
    (dir, path)
}

fn open_mode(path: &Path, mode: Mode) -> mmnpy::Result<NpyFile> {
    OpenOptions::new().mode(mode).open_untyped(path)
}

#[test]
fn copy_on_write_writes_never_reach_the_file() {
    let (_dir, path) = copy_fixture("float64_le_c2.npy");
    let before = std::fs::read(&path).unwrap();
    let mut a = NpyArray::<f64>::open_copy_on_write(&path).unwrap();
    a.view_mut().unwrap().fill(7.0);
    a.flush().unwrap();
    assert!(a.view().iter().all(|&x| x == 7.0));
    // A reader at the same time (shared locks) sees the file, not this process's copy.
    let reader = NpyArray::<f64>::open(&path).unwrap();
    assert!(reader.view().iter().all(|&x| x != 7.0));
    drop(reader);
    drop(a);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn read_write_writes_reach_the_file_after_flush() {
    let (_dir, path) = copy_fixture("int32_le_c2.npy");
    let mut a = NpyArray::<i32>::open_rw(&path).unwrap();
    let data_offset = a.header().data_offset() as usize;
    a.view_mut_as::<ndarray::Ix2>().unwrap()[[1, 2]] = 0x0102_0304;
    a.flush().unwrap();
    let on_disk = std::fs::read(&path).unwrap();
    let at = data_offset + 5 * 4;
    assert_eq!(&on_disk[at..at + 4], &0x0102_0304i32.to_le_bytes());
    drop(a);
    let fresh = NpyArray::<i32>::open(&path).unwrap();
    assert_eq!(
        fresh.view_as::<ndarray::Ix2>().unwrap()[[1, 2]],
        0x0102_0304
    );
    assert_eq!(
        fresh.view_as::<ndarray::Ix2>().unwrap()[[0, 0]],
        i32::MIN,
        "other elements unchanged"
    );
}

#[test]
fn read_only_handles_refuse_writes() {
    let (_dir, path) = copy_fixture("int32_le_c2.npy");
    let mut a = NpyArray::<i32>::open(&path).unwrap();
    for err in [
        a.view_mut().map(drop).unwrap_err(),
        a.as_slice_mut().map(drop).unwrap_err(),
        a.fill(1).unwrap_err(),
    ] {
        assert!(matches!(err.kind(), ErrorKind::ReadOnly), "{err}");
        assert_eq!(err.path(), Some(path.as_path()));
    }
    a.flush().unwrap(); // nothing to flush, not an error
}

#[test]
fn conflicting_opens_fail_at_once_with_locked() {
    let (_dir, path) = copy_fixture("uint16_le_c2.npy");
    use Mode::{CopyOnWrite as C, ReadOnly as R, ReadWrite as RW};
    for (first, second, conflict) in [
        (RW, RW, true),
        (RW, R, true),
        (RW, C, true),
        (R, RW, true),
        (C, RW, true),
        (R, R, false),
        (R, C, false),
        (C, C, false),
    ] {
        let held = open_mode(&path, first).unwrap();
        let started = std::time::Instant::now();
        let second_open = open_mode(&path, second);
        match (conflict, second_open) {
            (true, Err(err)) => {
                assert!(matches!(err.kind(), ErrorKind::Locked { .. }), "{err}");
                let msg = err.to_string();
                assert!(msg.contains("another process holds"), "{msg}");
                assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            }
            (false, Ok(_)) => {}
            (_, other) => panic!(
                "{} then {}: expected conflict={conflict}, got {other:?}",
                first.as_str(),
                second.as_str()
            ),
        }
        // "At once": a lock wait would take until the test harness killed us.
        assert!(started.elapsed().as_secs() < 5);
        drop(held);
        // Released with the handle.
        open_mode(&path, second).unwrap();
    }
}

#[test]
fn a_created_file_stays_locked_by_its_creator_after_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.npy");
    let mut a = NpyArray::<f32>::create(&path, &[4], Order::C).unwrap();
    a.persist().unwrap();
    assert_eq!(a.file().mode(), Mode::ReadWrite);
    let err = NpyFile::open(&path).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Locked { .. }), "{err}");
    drop(a);
    NpyFile::open(&path).unwrap();
}

#[test]
fn creating_over_a_file_being_read_replaces_it_by_rename() {
    let (dir, path) = copy_fixture("float64_le_c2.npy");
    let reader = NpyArray::<f64>::open(&path).unwrap();
    let old: Vec<f64> = reader.view().iter().copied().collect();
    let mut new = NpyArray::<f64>::create(&path, &[3], Order::C).unwrap();
    new.fill(2.0).unwrap();
    new.persist().unwrap();
    drop(new);
    // The reader keeps the old inode, intact; a fresh open sees the new file.
    let still: Vec<f64> = reader.view().iter().copied().collect();
    assert_eq!(
        bytemuck::cast_slice::<f64, u8>(&still),
        bytemuck::cast_slice::<f64, u8>(&old)
    );
    drop(reader);
    let fresh = NpyArray::<f64>::open(&path).unwrap();
    assert_eq!(fresh.as_slice(), &[2.0, 2.0, 2.0]);
    assert_eq!(dir_entries(dir.path()), ["float64_le_c2.npy"]);
}

#[test]
fn create_dropped_unfinished_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.npy");
    let mut a = NpyArray::<i64>::create(&path, &[10, 10], Order::Fortran).unwrap();
    a.fill(5).unwrap();
    assert!(!path.exists(), "visible before persist");
    assert_eq!(dir_entries(dir.path()).len(), 1, "the temporary");
    drop(a);
    assert!(
        dir_entries(dir.path()).is_empty(),
        "{:?}",
        dir_entries(dir.path())
    );

    // Over an existing file: the old one is untouched.
    let (dir, path) = copy_fixture("int8_na_c2.npy");
    let before = std::fs::read(&path).unwrap();
    let a = NpyFile::create(&path, DType::native(Scalar::U8), &[100], Order::C).unwrap();
    drop(a);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(dir_entries(dir.path()), ["int8_na_c2.npy"]);
}

#[test]
fn persist_can_refuse_to_replace_an_existing_file() {
    let (dir, path) = copy_fixture("int8_na_c2.npy");
    let before = std::fs::read(&path).unwrap();
    let mut a = NpyFile::create(&path, DType::native(Scalar::I8), &[2], Order::C).unwrap();
    let err = a.persist_with(Overwrite::Refuse).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::OutputExists), "{err}");
    assert_eq!(err.path(), Some(path.as_path()));
    assert_eq!(a.mode(), Mode::Create, "still unfinished");
    drop(a);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(dir_entries(dir.path()), ["int8_na_c2.npy"]);
}

#[test]
fn empty_and_zero_dimensional_arrays_work_in_every_mode() {
    let dir = tempfile::tempdir().unwrap();
    for (i, shape) in [vec![], vec![0], vec![3, 0], vec![0, 2, 2]]
        .into_iter()
        .enumerate()
    {
        for order in [Order::C, Order::Fortran] {
            let path = dir.path().join(format!("a{i}{order:?}.npy"));
            let len: usize = shape.iter().product();
            // w+
            let mut a = NpyArray::<f64>::create(&path, &shape, order).unwrap();
            assert_eq!(a.view().shape(), shape.as_slice());
            a.view_mut().unwrap().fill(2.5);
            a.persist().unwrap();
            drop(a);
            let expected_len = a_file_len(&path);
            // r
            let a = NpyArray::<f64>::open(&path).unwrap();
            assert_eq!((a.len(), a.view().shape()), (len, shape.as_slice()));
            assert!(a.view().iter().all(|&x| x == 2.5));
            drop(a);
            // r+
            let mut a = NpyArray::<f64>::open_rw(&path).unwrap();
            a.view_mut().unwrap().fill(-1.0);
            a.flush().unwrap();
            drop(a);
            // c
            let mut a = NpyArray::<f64>::open_copy_on_write(&path).unwrap();
            a.view_mut().unwrap().fill(9.0);
            drop(a);
            let a = NpyFile::open(&path).unwrap();
            assert_eq!(a.bytes().len(), len * 8);
            assert_eq!(a.file_len(), expected_len);
            let values: Vec<f64> = bytemuck::pod_collect_to_vec(a.bytes());
            assert!(values.iter().all(|&x| x == -1.0), "{shape:?}: {values:?}");
            if shape.is_empty() {
                assert_eq!(values, [-1.0]);
            }
            drop(a);
            let read = mmnpy::read_array::<f64>(&path).unwrap();
            assert_eq!(read.shape(), shape.as_slice());
        }
    }
}

fn a_file_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn typed_open_refuses_another_dtype_and_says_what_to_do() {
    let case = fixture::array("float64_le_c2.npy");
    let err = NpyArray::<f32>::open(case.path()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DTypeMismatch { .. }),
        "{err}"
    );
    let msg = err.to_string();
    for needle in ["float64", "float32", "untyped", "float64_le_c2.npy"] {
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
    let err = NpyArray::<u8>::open(fixture::array("bool_na_c2.npy").path()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DTypeMismatch { .. }),
        "{err}"
    );
    let err = mmnpy::read_array::<i64>(case.path()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::DTypeMismatch { .. }),
        "{err}"
    );
}

#[test]
fn typed_open_refuses_big_endian_files_which_open_untyped() {
    let case = fixture::array("float64_be_c2.npy");
    let err = NpyArray::<f64>::open(case.path()).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::NonNativeByteOrder { .. }),
        "{err}"
    );
    let msg = err.to_string();
    for needle in [">f8", "open it untyped", "convert", "float64_be_c2.npy"] {
        assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    }
    let file = NpyFile::open(case.path()).unwrap();
    assert_eq!(file.bytes(), case.file_data_bytes());
    drop(file);
    // read_array converts to native order.
    let owned = mmnpy::read_array::<f64>(case.path()).unwrap();
    assert_eq!(owned[IxDyn(&[0, 1])], f64::INFINITY);
}

/// A v1 file of `<descr>` data whose data starts at `data_offset` (any value from 75 on),
/// which numpy never writes but a hand-made or foreign file may have.
fn file_at_offset(path: &Path, descr: &str, shape: usize, data_offset: usize, data: &[u8]) {
    let mut text = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape},), }}");
    while 10 + text.len() + 1 < data_offset {
        text.push(' ');
    }
    text.push('\n');
    assert_eq!(10 + text.len(), data_offset);
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(text.len() as u16).to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn typed_open_refuses_misaligned_data_which_opens_untyped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.npy");
    let values = [1.5f64, -2.0, f64::NAN];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    for offset in [75usize, 76, 81] {
        file_at_offset(&path, "<f8", 3, offset, &data);
        let err = NpyArray::<f64>::open(&path).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Misaligned { align: 8, .. }),
            "{offset}: {err}"
        );
        let msg = err.to_string();
        assert!(msg.contains(&format!("offset {offset}")), "{msg}");
        for mode in [Mode::ReadOnly, Mode::ReadWrite, Mode::CopyOnWrite] {
            let file = open_mode(&path, mode).unwrap();
            assert_eq!(file.header().data_offset(), offset as u64);
            assert_eq!(file.bytes(), data.as_slice());
        }
        let owned = mmnpy::read_array::<f64>(&path).unwrap();
        assert_eq!(owned[1], -2.0);
    }
    // One-byte elements are aligned anywhere.
    file_at_offset(&path, "|u1", 3, 77, &[7, 8, 9]);
    assert_eq!(NpyArray::<u8>::open(&path).unwrap().as_slice(), &[7, 8, 9]);
    // An offset aligned for i16 but not i32.
    file_at_offset(&path, "<i2", 2, 78, &[1, 0, 2, 0]);
    assert_eq!(NpyArray::<i16>::open(&path).unwrap().as_slice(), &[1, 2]);
}

#[test]
fn fortran_files_give_f_strided_views_whose_writes_land_in_f_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.npy");
    let mut a = NpyArray::<i32>::create(&path, &[2, 3], Order::Fortran).unwrap();
    a.view_mut_as::<ndarray::Ix2>()
        .unwrap()
        .assign(&arr2(&[[0, 1, 2], [10, 11, 12]]));
    assert_eq!(a.as_slice(), &[0, 10, 1, 11, 2, 12]);
    a.persist().unwrap();
    drop(a);
    let a = NpyArray::<i32>::open(&path).unwrap();
    assert_eq!(a.header().order(), Order::Fortran);
    assert_eq!(
        a.view_as::<ndarray::Ix2>().unwrap(),
        arr2(&[[0, 1, 2], [10, 11, 12]])
    );
    let err = a.view_as::<ndarray::Ix3>().unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ShapeMismatch(_)), "{err}");
    assert!(err.to_string().contains("2 dimensions"), "{err}");
}

#[test]
fn filled_creations_match_numpys_full() {
    let dir = tempfile::tempdir().unwrap();
    let case = fixture::array("full_f8_c.npy");
    let out = dir.path().join("x.npy");
    let mut a = NpyArray::<f64>::create(&out, &case.shape, case.order()).unwrap();
    a.fill(1.5).unwrap();
    a.persist().unwrap();
    drop(a);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(case.path()).unwrap()
    );
}

#[test]
fn opening_what_is_not_an_npy_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.npy");
    let err = NpyFile::open(&missing).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing.npy"), "{err}");
    let err = NpyFile::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
    let err = mmnpy::read_array::<f64>(dir.path()).unwrap_err();
    assert!(err.path().is_some(), "{err}");
    let err = OpenOptions::new()
        .mode(Mode::Create)
        .open_untyped(dir.path().join("x.npy"))
        .unwrap_err();
    assert!(err.to_string().contains("create"), "{err}");
}

#[test]
fn filling_with_zero_after_writing_gives_zeros_in_every_writable_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.npy");
    let mut a = NpyArray::<i32>::create(&path, &[3], Order::C).unwrap();
    a.fill(5).unwrap();
    a.fill(0).unwrap();
    assert_eq!(a.as_slice(), &[0, 0, 0], "w+");
    a.fill(5).unwrap();
    a.persist().unwrap();
    drop(a);
    for mode in [Mode::ReadWrite, Mode::CopyOnWrite] {
        let mut a = OpenOptions::new().mode(mode).open::<i32>(&path).unwrap();
        a.fill(0).unwrap();
        assert_eq!(a.as_slice(), &[0, 0, 0], "{}", mode.as_str());
    }
}

/// Run `f` on a thread and fail (instead of hanging the suite) if it blocks.
fn within_seconds<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .expect("blocked: opening a FIFO must not wait for a writer")
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.npy");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let p = fifo.clone();
    let err = within_seconds(10, move || NpyFile::open(&p).unwrap_err().to_string());
    assert!(err.contains("not a regular file"), "{err}");
    let p = fifo.clone();
    let err = within_seconds(10, move || {
        mmnpy::read_array::<f64>(&p).unwrap_err().to_string()
    });
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn releasing_pages_never_loses_writes() {
    // MADV_DONTNEED drops a private (copy-on-write) page's only copy of this process's
    // writes; on shared mappings the page cache keeps them. Check both stay intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.npy");
    let n = 3 * 4096;
    let mut a = NpyArray::<u8>::create(&path, &[n], Order::C).unwrap();
    a.persist().unwrap();
    drop(a);
    for mode in [Mode::ReadWrite, Mode::CopyOnWrite] {
        let mut a = OpenOptions::new().mode(mode).open::<u8>(&path).unwrap();
        a.as_slice_mut().unwrap().fill(7);
        a.file().release(0, n);
        a.file().will_need(0, n);
        a.file().advise_sequential();
        assert!(a.as_slice().iter().all(|&b| b == 7), "{}", mode.as_str());
        // Out-of-range advice is clamped, not an error or a crash.
        a.file().release(n - 1, usize::MAX);
        a.file().will_need(usize::MAX, 10);
        assert!(a.as_slice().iter().all(|&b| b == 7), "{}", mode.as_str());
    }
    // The r+ writes reached the file; the c writes went nowhere, over them.
    assert!(std::fs::read(&path).unwrap()[128..].iter().all(|&b| b == 7));
}

#[test]
fn after_persist_the_handle_is_read_write_on_the_final_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.npy");
    let mut a = NpyArray::<u16>::create(&path, &[4], Order::C).unwrap();
    a.as_slice_mut().unwrap()[0] = 1;
    a.persist().unwrap();
    a.persist().unwrap(); // idempotent
    a.as_slice_mut().unwrap()[3] = 4;
    a.flush().unwrap();
    // lock(false) is how a non-locking reader looks while the writer holds its lock.
    let peek = OpenOptions::new().lock(false).open::<u16>(&path).unwrap();
    assert_eq!(peek.as_slice(), &[1, 0, 0, 4]);
    drop(peek);
    drop(a);
    assert_eq!(
        NpyArray::<u16>::open(&path).unwrap().as_slice(),
        &[1, 0, 0, 4]
    );
    assert_eq!(dir_entries(dir.path()), ["p.npy"]);
}
