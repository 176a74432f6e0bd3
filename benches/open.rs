//! What it costs to get at an array: parsing a header (mmnpy's guarded parser, and npyz's for
//! comparison), encoding one, and opening a small file in each way the library offers.
//!
//! `cargo bench --bench open`; `cargo bench --no-run` keeps it compiling.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mmnpy::header::DEFAULT_MAX_HEADER_SIZE;
use mmnpy::{DType, Header, NpyArray, NpyFile, Order, Scalar};

fn header_bench(c: &mut Criterion) {
    let f8 = DType::native(Scalar::F64);
    let typical = Header::new(f8, &[1000, 8], Order::C)
        .unwrap()
        .to_bytes()
        .unwrap();
    let three_d = Header::new(f8, &[1 << 20, 300, 7], Order::Fortran)
        .unwrap()
        .to_bytes()
        .unwrap();
    // The longest header the default ceiling admits: a valid dict padded with spaces.
    let mut text = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }".to_string();
    text.extend(std::iter::repeat_n(' ', 9_900));
    let mut longest = b"\x93NUMPY\x01\x00".to_vec();
    longest.extend_from_slice(&(text.len() as u16).to_le_bytes());
    longest.extend_from_slice(text.as_bytes());

    let mut group = c.benchmark_group("header");
    group.bench_function("parse 2-d (128 B)", |b| {
        b.iter(|| Header::parse(black_box(&typical), DEFAULT_MAX_HEADER_SIZE).unwrap())
    });
    group.bench_function("parse 3-d fortran", |b| {
        b.iter(|| Header::parse(black_box(&three_d), DEFAULT_MAX_HEADER_SIZE).unwrap())
    });
    group.bench_function("parse 10 kB of padding", |b| {
        b.iter(|| Header::parse(black_box(&longest), DEFAULT_MAX_HEADER_SIZE).unwrap())
    });
    group.bench_function("npyz parse 2-d (comparison)", |b| {
        b.iter(|| npyz::NpyHeader::from_reader(black_box(&typical[..])).unwrap())
    });
    group.bench_function("encode 2-d", |b| {
        b.iter(|| {
            Header::new(f8, black_box(&[1000, 8]), Order::C)
                .unwrap()
                .to_bytes()
                .unwrap()
        })
    });
    group.finish();
}

fn open_bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.npy");
    let mut a = NpyArray::<f64>::create(&path, &[1000, 8], Order::C).unwrap();
    for (i, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *x = i as f64;
    }
    a.persist().unwrap();
    drop(a);

    let mut group = c.benchmark_group("open 64 KiB file");
    group.bench_function("untyped r (open+lock+header+mmap+close)", |b| {
        b.iter(|| NpyFile::open(black_box(&path)).unwrap())
    });
    group.bench_function("untyped r+", |b| {
        b.iter(|| NpyFile::open_rw(black_box(&path)).unwrap())
    });
    group.bench_function("typed r + view sum", |b| {
        b.iter(|| {
            let a = NpyArray::<f64>::open(black_box(&path)).unwrap();
            a.view().sum()
        })
    });
    group.bench_function("read_array (owned copy)", |b| {
        b.iter(|| mmnpy::read_array::<f64>(black_box(&path)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, header_bench, open_bench);
criterion_main!(benches);
