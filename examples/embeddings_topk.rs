//! Cosine similarity of a query against every row of a (rows, 64) float32 embedding table,
//! keeping the top k: each chunk keeps its own best k, and the chunk results are merged in
//! chunk order (ties broken by row), so the answer is the same with any number of threads.
//!
//! `cargo run --release --example embeddings_topk [-- --rows 10000000]`

mod common;

use std::time::Instant;

use mmnpy::NpyArray;
use ndarray::{Array1, Ix2};

const DIM: usize = 64;
const K: usize = 10;

/// The best `K` (score, row) pairs, best first; equal scores keep the lower row first.
fn keep_best(mut hits: Vec<(f32, usize)>) -> Vec<(f32, usize)> {
    hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.truncate(K);
    hits
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows = common::rows_arg(300_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("embeddings.npy");
    common::make_table(&path, rows, DIM)?;
    let a = NpyArray::<f32>::open(&path)?;

    // The query: row 4242 (or the last row) plus a little noise.
    let target = 4242.min(rows - 1);
    let v = a.view_as::<Ix2>()?;
    let query: Array1<f32> = v
        .row(target)
        .iter()
        .enumerate()
        .map(|(c, &x)| x + 0.05 * common::normalish(usize::MAX - 1, c) as f32)
        .collect();
    let query = &query / query.dot(&query).sqrt();

    let start = Instant::now();
    let best = a.row_chunks_as::<Ix2>(4096)?.fold(
        Vec::new,
        |mut hits, first, chunk| {
            for (k, row) in chunk.outer_iter().enumerate() {
                let norm = row.dot(&row).sqrt();
                let score = if norm > 0.0 {
                    row.dot(&query) / norm
                } else {
                    0.0
                };
                hits.push((score, first + k));
                if hits.len() >= 4 * K {
                    hits = keep_best(hits);
                }
            }
            keep_best(hits)
        },
        |mut a, b| {
            a.extend(b);
            keep_best(a)
        },
    );
    let elapsed = start.elapsed();
    let gb = (rows * DIM * 4) as f64 / 1e9;
    println!(
        "top {K} of {rows} rows by cosine similarity ({gb:.2} GB in {:.3} s, {:.2} GB/s):",
        elapsed.as_secs_f64(),
        gb / elapsed.as_secs_f64()
    );
    for (score, row) in &best {
        println!("  row {row:>10}  cosine {score:.5}");
    }
    assert_eq!(
        best[0].1, target,
        "the noisy copy's source should rank first"
    );
    Ok(())
}
