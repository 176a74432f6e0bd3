//! Criterion benches for the file-to-file operations: a strided slice copy and a gather of
//! random rows, on a seeded (N, 64) float32 file of 128 MiB in a temporary directory
//! (on /dev/shm when it exists, so that the outputs' fsync is not what is measured).
//! (The side-by-side comparison with numpy on a multi-GiB file is
//! `scripts/bench_vs_numpy.py --sections take,slice`.)

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mmnpy::ops::{Indices, OutputOptions, SliceExpr, slice_to_file, take_to_file};
use mmnpy::{NpyArray, NpyFile, Order};

const ROWS: usize = 512 * 1024;
const COLS: usize = 64;

fn setup(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("big.npy");
    let mut a = NpyArray::<f32>::create(&path, &[ROWS, COLS], Order::C).unwrap();
    for (i, x) in a.as_slice_mut().unwrap().iter_mut().enumerate() {
        *x = (i % 1009) as f32;
    }
    a.persist().unwrap();
    path
}

fn random_rows(n: usize) -> Vec<i64> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % ROWS as u64) as i64
        })
        .collect()
}

fn ops(c: &mut Criterion) {
    // On a tmpfs when there is one: on a disk, the fsync of every output would be measured.
    let dir = tempfile::tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap();
    let path = setup(dir.path());
    let input = NpyFile::open(&path).unwrap();
    let out = dir.path().join("out.npy");
    let mut group = c.benchmark_group("ops");
    group.sample_size(10);
    for expr in ["::7", "::-1, ::2", ":, 3"] {
        let sel = SliceExpr::parse(expr)
            .unwrap()
            .resolve(input.shape())
            .unwrap();
        group.throughput(Throughput::Bytes((sel.len() * 4) as u64));
        group.bench_with_input(BenchmarkId::new("slice_to_file", expr), &sel, |b, sel| {
            b.iter(|| slice_to_file(&input, sel, &out, &OutputOptions::new()).unwrap())
        });
    }
    let idx = Indices::new(random_rows(100_000));
    group.throughput(Throughput::Elements(idx.len() as u64));
    group.bench_function("take_100k_random_rows", |b| {
        b.iter(|| take_to_file(&input, &idx, 0, &out, &OutputOptions::new()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, ops);
criterion_main!(benches);
