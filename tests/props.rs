//! Property tests of the format: anything mmnpy writes reads back identically (and npyz, an
//! independent parser, reads the same header); any bytes at all, and valid headers with
//! random damage, give an `Error` or a consistent header, never a panic; the header parser
//! stays fast on nesting bombs.

use std::time::{Duration, Instant};

use mmnpy::dtype::swap_bytes_in_place;
use mmnpy::header::{DEFAULT_MAX_HEADER_SIZE, MAGIC};
use mmnpy::{
    ByteOrder, DType, Element, Header, Mode, NpyFile, OpenOptions, Order, Scalar, Version,
    dispatch_scalar,
};
use proptest::prelude::*;

use crate::fixture::fortran_to_c_index;

fn dtypes() -> impl Strategy<Value = DType> {
    (
        prop::sample::select(Scalar::ALL.to_vec()),
        prop::sample::select(vec![ByteOrder::Little, ByteOrder::Big]),
    )
        .prop_map(|(s, o)| DType::new(s, o))
}

fn shapes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..5, 0..4)
}

fn orders() -> impl Strategy<Value = Order> {
    prop::sample::select(vec![Order::C, Order::Fortran])
}

fn versions() -> impl Strategy<Value = Option<Version>> {
    prop::sample::select(vec![
        None,
        Some(Version::V1),
        Some(Version::V2),
        Some(Version::V3),
    ])
}

/// Deterministic pseudo-random bytes (splitmix64), so data need not be a strategy of its own.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// `read_array` must give the file's elements in C order, in native byte order.
fn check_read_array<T: Element>(path: &std::path::Path, expected_native_c: &[u8]) {
    let owned = mmnpy::read_array::<T>(path).unwrap();
    let logical: Vec<T> = owned.iter().copied().collect();
    assert_eq!(bytemuck::cast_slice::<T, u8>(&logical), expected_native_c);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn written_arrays_read_back_identically_and_npyz_agrees(
        dtype in dtypes(),
        shape in shapes(),
        order in orders(),
        version in versions(),
        seed in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let mut file = match version {
            Some(v) => NpyFile::create_with_version(&path, dtype, &shape, order, v),
            None => NpyFile::create(&path, dtype, &shape, order),
        }
        .unwrap();
        let data = noise(seed, file.bytes().len());
        file.bytes_mut().unwrap().copy_from_slice(&data);
        file.persist().unwrap();
        let written = file.header().clone();
        drop(file);

        let back = NpyFile::open(&path).unwrap();
        prop_assert_eq!(back.header(), &written);
        prop_assert_eq!(back.header().version(), version.unwrap_or(Version::V1));
        prop_assert_eq!(back.shape(), shape.as_slice());
        prop_assert_eq!(back.dtype(), dtype);
        prop_assert_eq!(back.bytes(), data.as_slice());
        prop_assert_eq!(back.header().data_offset() % 64, 0);
        // numpy's rule: Fortran only when the layouts differ.
        let layouts_differ = shape.iter().filter(|&&n| n > 1).count() > 1 && !shape.contains(&0);
        prop_assert_eq!(back.header().fortran_order(), order == Order::Fortran && layouts_differ);
        drop(back);

        // An independent parser reads the same header.
        let bytes = std::fs::read(&path).unwrap();
        let theirs = npyz::NpyFile::new(&bytes[..]).unwrap();
        prop_assert_eq!(theirs.dtype(), npyz::DType::Plain(dtype.descr().parse().unwrap()));
        let their_shape: Vec<usize> = theirs.shape().iter().map(|&n| n as usize).collect();
        prop_assert_eq!(their_shape, shape.clone());
        prop_assert_eq!(theirs.order() == npyz::Order::Fortran, written.fortran_order());
        prop_assert_eq!(theirs.into_inner().len(), data.len());

        // read_array: logical C order, native byte order.
        let size = dtype.itemsize();
        let mut native_c = if written.fortran_order() {
            let mut c = vec![0u8; data.len()];
            for (pos, &ci) in fortran_to_c_index(&shape).iter().enumerate() {
                c[ci * size..(ci + 1) * size].copy_from_slice(&data[pos * size..(pos + 1) * size]);
            }
            c
        } else {
            data.clone()
        };
        if !dtype.is_native() {
            swap_bytes_in_place(dtype.scalar(), &mut native_c);
        }
        dispatch_scalar!(dtype.scalar(), T => check_read_array::<T>(&path, &native_c));
    }

    #[test]
    fn damaged_files_open_as_an_error_or_a_consistent_array_in_every_mode(
        dtype in dtypes(),
        shape in shapes(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let header = Header::new(dtype, &shape, Order::C).unwrap();
        let mut bytes = header.to_bytes().unwrap();
        bytes.extend(noise(7, header.nbytes() as usize));
        for (at, byte) in damage {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.npy");
        std::fs::write(&path, &bytes).unwrap();
        for mode in [Mode::ReadOnly, Mode::ReadWrite, Mode::CopyOnWrite] {
            match OpenOptions::new().mode(mode).open_untyped(&path) {
                Ok(file) => {
                    let h = file.header();
                    prop_assert!(h.end().unwrap() <= bytes.len() as u64);
                    prop_assert_eq!(file.bytes().len() as u64, h.nbytes());
                    prop_assert_eq!(h.len(), h.shape().iter().product::<usize>());
                    let start = h.data_offset() as usize;
                    prop_assert_eq!(file.bytes(), &bytes[start..start + file.bytes().len()]);
                }
                Err(e) => {
                    let msg = e.to_string();
                    prop_assert_eq!(e.path(), Some(path.as_path()));
                    prop_assert!(msg.len() < 300, "message too long: {}", msg);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_an_error_or_a_consistent_header(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_parse_total(&bytes);
    }

    #[test]
    fn arbitrary_header_text_is_an_error_or_a_consistent_header(
        version in prop::sample::select(vec![(1u8, 0u8), (2, 0), (3, 0)]),
        text in "[{}()\\[\\]'\": ,0-9a-zA-Z<>|=.L\n-]{0,120}",
    ) {
        check_parse_total(&preamble_and(version, text.as_bytes()));
    }

    #[test]
    fn valid_headers_with_random_damage_never_panic(
        dtype in dtypes(),
        shape in shapes(),
        order in orders(),
        version in versions(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = Header::with_version(dtype, &shape, order, version)
            .unwrap()
            .to_bytes()
            .unwrap();
        for (at, byte) in damage {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        check_parse_total(&bytes);
    }

    #[test]
    fn growing_the_growth_axis_keeps_the_header_length(
        dtype in dtypes(),
        shape in prop::collection::vec(2usize..5, 1..4),
        order in orders(),
        version in versions(),
        digits in 1u32..19,
    ) {
        // numpy pads the header so the appendable axis (first for C, last for Fortran) can
        // reach 21 digits without moving the data; Rust caps arrays at isize::MAX bytes.
        let header = Header::with_version(dtype, &shape, order, version).unwrap();
        let mut grown = shape.clone();
        let axis = if header.fortran_order() { shape.len() - 1 } else { 0 };
        grown[axis] = 10usize.pow(digits) / (16 * 5 * 5);
        if grown[axis] >= shape[axis] {
            let bigger = header.with_shape(&grown).unwrap();
            prop_assert_eq!(bigger.data_offset(), header.data_offset());
            prop_assert_eq!(bigger.version(), header.version());
        }
    }

    #[test]
    fn element_values_encode_as_rust_writes_them(i in any::<i64>(), u in any::<u64>(), f in any::<f64>()) {
        let le = |d: &str| DType::parse(d).unwrap();
        prop_assert_eq!(le("<i8").encode_value(&i.to_string()).unwrap(), i.to_le_bytes().to_vec());
        prop_assert_eq!(le(">u8").encode_value(&u.to_string()).unwrap(), u.to_be_bytes().to_vec());
        let encoded = le("<f8").encode_value(&format!("{f:?}")).unwrap();
        prop_assert_eq!(encoded, f.to_le_bytes().to_vec());
    }
}

fn preamble_and(version: (u8, u8), text: &[u8]) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&[version.0, version.1]);
    if version.0 == 1 {
        bytes.extend_from_slice(&(text.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(text);
    bytes
}

/// `Header::parse` returns: an error with a short message, or a header that describes an
/// addressable array and re-encodes.
fn check_parse_total(bytes: &[u8]) {
    match Header::parse(bytes, DEFAULT_MAX_HEADER_SIZE) {
        Ok(h) => {
            assert_eq!(h.len(), h.shape().iter().product::<usize>());
            assert_eq!(h.nbytes(), (h.len() * h.dtype().itemsize()) as u64);
            assert!(h.data_offset() <= bytes.len() as u64);
            Header::new(h.dtype(), h.shape(), h.order()).unwrap();
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.len() < 300, "message too long: {msg}");
        }
    }
}

#[test]
fn nesting_bombs_are_refused_quickly() {
    let started = Instant::now();
    let openers = ["[", "(", "{", "[(", "({[", "(0,"];
    let prefixes = [
        "",
        "{",
        "{'descr': ",
        "{'descr': '<f8', 'fortran_order': False, 'shape': ",
        "{'descr': '<f8', 'fortran_order': ",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1, ",
    ];
    for opener in openers {
        for prefix in prefixes {
            for depth in [25, 1000, 3000] {
                let text = format!("{prefix}{}", opener.repeat(depth));
                let text = &text[..text.len().min(DEFAULT_MAX_HEADER_SIZE as usize)];
                for version in [(1, 0), (2, 0), (3, 0)] {
                    let err = Header::parse(
                        &preamble_and(version, text.as_bytes()),
                        DEFAULT_MAX_HEADER_SIZE,
                    )
                    .expect_err(text);
                    assert!(err.to_string().len() < 300, "{err}");
                }
            }
        }
    }
    // 324 parses of up to 10 kB each; npyz 0.9.1 takes over a minute on one 25-deep `[`.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn files_npyz_writes_open_with_the_same_values(shape in shapes(), fortran in any::<bool>()) {
        use npyz::WriterBuilder;
        let len: usize = shape.iter().product();
        let values: Vec<i32> = (0..len as i32).map(|i| i * 7 - 3).collect();
        let mut bytes = Vec::new();
        let shape_u64: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
        let mut writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape_u64)
            .order(if fortran { npyz::Order::Fortran } else { npyz::Order::C })
            .writer(&mut bytes)
            .begin_nd()
            .unwrap();
        writer.extend(values.iter().copied()).unwrap();
        writer.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("npyz.npy");
        std::fs::write(&path, &bytes).unwrap();
        let a = mmnpy::NpyArray::<i32>::open(&path).unwrap();
        prop_assert_eq!(a.shape(), shape.as_slice());
        prop_assert_eq!(a.header().fortran_order(), fortran);
        // npyz writes the values in the file's memory order.
        prop_assert_eq!(a.as_slice(), values.as_slice());
    }
}
