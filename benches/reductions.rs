//! Criterion benches of the reduction kernels on seeded data in a temporary file: whole-array
//! stats (float64 and float32), per-column stats along axis 0 of an (N, 64) float32 table,
//! and a histogram.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mmnpy::engine::{PassOptions, histogram, stats, stats_axis};
use mmnpy::{DType, NpyFile, Order, Scalar};

/// A seeded xorshift stream mapped to [-1, 1).
fn values(n: usize, mut seed: u64) -> impl Iterator<Item = f64> {
    std::iter::repeat_with(move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
    .take(n)
}

fn make(dir: &tempfile::TempDir, name: &str, scalar: Scalar, shape: &[usize]) -> NpyFile {
    let path = dir.path().join(name);
    let mut f = NpyFile::create(&path, DType::native(scalar), shape, Order::C).unwrap();
    let n: usize = shape.iter().product();
    let bytes = f.bytes_mut().unwrap();
    match scalar {
        Scalar::F32 => {
            let xs: Vec<f32> = values(n, 7).map(|x| x as f32).collect();
            bytes.copy_from_slice(bytemuck::cast_slice(&xs));
        }
        _ => {
            let xs: Vec<f64> = values(n, 7).collect();
            bytes.copy_from_slice(bytemuck::cast_slice(&xs));
        }
    }
    f.persist().unwrap();
    drop(f);
    NpyFile::open(&path).unwrap()
}

fn reductions(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let whole = make(&dir, "f8.npy", Scalar::F64, &[1 << 24]);
    let table = make(&dir, "f4.npy", Scalar::F32, &[1 << 18, 64]);
    let options = PassOptions::new();

    let mut g = c.benchmark_group("reductions");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(whole.bytes().len() as u64));
    g.bench_function("stats f64 128MiB", |b| {
        b.iter(|| stats(&whole, 0, &options).unwrap())
    });
    g.bench_function("histogram f64 128MiB 100 bins", |b| {
        b.iter(|| histogram(&whole, 100, Some((-1.0, 1.0)), &options).unwrap())
    });
    g.throughput(Throughput::Bytes(table.bytes().len() as u64));
    g.bench_function("stats axis 0 (N, 64) f32 64MiB", |b| {
        b.iter(|| stats_axis(&table, 0, 0, &options).unwrap())
    });
    g.bench_function("stats f32 64MiB", |b| {
        b.iter(|| stats(&table, 0, &options).unwrap())
    });
    g.finish();
}

criterion_group!(benches, reductions);
criterion_main!(benches);
