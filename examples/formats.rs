//! Convert between `.npy` and CSV / npz / Parquet with the library's format functions, and
//! print what the conversion did. (`scripts/bench_vs_numpy.py` times the same conversions through `mmnpy convert`.)
//!
//! ```text
//! cargo run --release --example formats -- csv-to-npy IN.csv OUT.npy [f8]
//! cargo run --release --example formats -- npy-to-csv IN.npy OUT.csv
//! cargo run --release --example formats -- npz-extract IN.npz MEMBER OUT.npy
//! cargo run --release --example formats -- parquet-to-npy IN.parquet OUT.npy [f8]
//! cargo run --release --example formats -- npy-to-parquet IN.npy OUT.parquet
//! ```

use std::path::Path;
use std::time::Instant;

use mmnpy::convert::csv::{CsvReadOptions, CsvWriteOptions, csv_to_npy, npy_to_csv};
use mmnpy::convert::npz::extract_member;
use mmnpy::{DType, NpyFile, Overwrite};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> Result<&str, String> {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing argument {i}; see the example's docs"))
    };
    let dtype =
        |i: usize| -> mmnpy::Result<DType> { DType::parse(args.get(i).map_or("f8", |s| s)) };
    let start = Instant::now();
    let report = match arg(0)? {
        "csv-to-npy" => {
            let input = Path::new(arg(1)?);
            let delimiter = if input.extension().is_some_and(|e| e == "tsv") {
                b'\t'
            } else {
                b','
            };
            let opts = CsvReadOptions {
                delimiter,
                header: None,
                dtype: dtype(3)?,
            };
            csv_to_npy(input, Path::new(arg(2)?), &opts, Overwrite::Replace)?
        }
        "npy-to-csv" => {
            let input = NpyFile::open(arg(1)?)?;
            npy_to_csv(
                &input,
                Path::new(arg(2)?),
                &CsvWriteOptions::default(),
                Overwrite::Replace,
            )?
        }
        "npz-extract" => extract_member(
            Path::new(arg(1)?),
            arg(2)?,
            Path::new(arg(3)?),
            Overwrite::Replace,
        )?,
        #[cfg(feature = "parquet")]
        "parquet-to-npy" => mmnpy::convert::parquet::parquet_to_npy(
            Path::new(arg(1)?),
            Path::new(arg(2)?),
            None,
            dtype(3)?,
            Overwrite::Replace,
        )?,
        #[cfg(feature = "parquet")]
        "npy-to-parquet" => {
            let input = NpyFile::open(arg(1)?)?;
            mmnpy::convert::parquet::npy_to_parquet(
                &input,
                Path::new(arg(2)?),
                None,
                Overwrite::Replace,
            )?
        }
        other => return Err(format!("unknown conversion {other:?}").into()),
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} rows, {} bytes in, {} bytes out, {secs:.3} s ({:.0} MB/s of input)",
        report.rows,
        report.bytes_in,
        report.bytes_out,
        report.bytes_in as f64 / secs / 1e6
    );
    Ok(())
}
