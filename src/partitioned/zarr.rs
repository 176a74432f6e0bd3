//! Zarr arrays through the [`zarrs`] crate: `.npy` -> Zarr v3 (chunks written in parallel, one
//! per task, into a temporary directory renamed into place when complete), Zarr v3 or v2 ->
//! `.npy`, and [`open_mapped`], which maps the chunk files of an uncompressed v3 array (the
//! `bytes` codec alone, so each chunk file is raw data) as a [`Partitioned`] array.
//!
//! The format itself (metadata, codecs, chunk keys) is zarrs' business; this module only reads
//! `zarr.json` itself to decide whether the chunk files can be mapped as they are.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value as Json;
use zarrs::array::{Array, ArrayBuilder, ArrayBytes, ArraySubset};
use zarrs::filesystem::FilesystemStore;

use crate::array::open_raw;
use crate::convert::Report;
use crate::dtype::{ByteOrder, DType, Scalar, swap_bytes_in_place};
use crate::engine::Source;
use crate::error::{Error, Result, ResultExt};
use crate::header::{Header, Order};
use crate::ops::Progress;
use crate::partitioned::{AtomicDir, Layout, Partitioned, Shard};
use crate::write::Overwrite;

/// Target size of one default chunk: whole rows, in the 64-128 MiB range Dask recommends.
pub const DEFAULT_CHUNK_BYTES: usize = 96 << 20;

/// Compression of the chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compress {
    /// The `bytes` codec alone: chunk files are raw data, mappable by `stats`.
    #[default]
    None,
    /// `bytes` then `zstd` at this level.
    Zstd(i32),
}

impl Compress {
    /// Parse `none` or `zstd` (level 3) or `zstd:N`.
    pub fn parse(s: &str) -> Result<Compress> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compress::None),
            "zstd" => Ok(Compress::Zstd(3)),
            other => match other.strip_prefix("zstd:").map(str::parse::<i32>) {
                Some(Ok(level)) => Ok(Compress::Zstd(level)),
                _ => Err(Error::invalid(format!(
                    "unknown compression {s:?} (expected none, zstd or zstd:LEVEL)"
                ))),
            },
        }
    }
}

/// Options of an `.npy` -> Zarr conversion.
#[derive(Clone, Debug, Default)]
pub struct ZarrOptions {
    /// Chunk shape (one entry per dimension); default whole rows of about
    /// [`DEFAULT_CHUNK_BYTES`].
    pub chunks: Option<Vec<u64>>,
    /// Chunk compression.
    pub compress: Compress,
}

/// The default chunk shape of an array: whole rows, about [`DEFAULT_CHUNK_BYTES`] per chunk.
pub fn default_chunks(shape: &[usize], itemsize: usize) -> Vec<u64> {
    let Some((&rows, rest)) = shape.split_first() else {
        return Vec::new();
    };
    let row_bytes = rest.iter().product::<usize>().max(1) * itemsize;
    let per_chunk = (DEFAULT_CHUNK_BYTES / row_bytes.max(1)).clamp(1, rows.max(1));
    std::iter::once(per_chunk as u64)
        .chain(rest.iter().map(|&d| d.max(1) as u64))
        .collect()
}

fn zarr_err(e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("zarr: {e}"))
}

/// Write `input` as a Zarr v3 array at `path` (a directory): `zarr.json` and one file per
/// chunk under `c/`, default chunk key encoding, little-endian `bytes` codec. Chunks are
/// encoded and written in parallel; chunks holding only zeros (the fill value) are not
/// stored, as zarr-python does by default.
pub fn write(
    input: &dyn Source,
    path: &Path,
    options: &ZarrOptions,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let shape = input.shape().to_vec();
    let dtype = input.dtype();
    let itemsize = dtype.itemsize();
    if input.order() != Order::C && !crate::ops::stream::orders_coincide(&shape) {
        return Err(
            Error::invalid("Zarr output needs C order: convert with --order C first")
                .with_path(input.path()),
        );
    }
    let chunks = match &options.chunks {
        Some(c) => {
            if c.len() != shape.len() || c.contains(&0) {
                return Err(Error::invalid(format!(
                    "--chunks {c:?} must give one positive size per dimension of shape {shape:?}"
                ))
                .with_path(path));
            }
            c.clone()
        }
        None => default_chunks(&shape, itemsize),
    };
    let mut out = AtomicDir::new(path)?;
    let store = FilesystemStore::new(out.path())
        .map_err(zarr_err)
        .at(path)?;
    let mut builder = ArrayBuilder::new(
        shape.iter().map(|&d| d as u64).collect::<Vec<_>>(),
        chunks.clone(),
        dtype.name(),
        zarrs::array::FillValue::new(vec![0u8; itemsize]),
    );
    if let Compress::Zstd(level) = options.compress {
        builder.bytes_to_bytes_codecs(vec![Arc::new(zarrs::array::codec::ZstdCodec::new(
            level, false,
        ))]);
    }
    let array = builder
        .build(Arc::new(store), "/")
        .map_err(zarr_err)
        .at(path)?;
    array.store_metadata().map_err(zarr_err).at(path)?;
    let grid: Vec<u64> = shape
        .iter()
        .zip(&chunks)
        .map(|(&d, &c)| (d as u64).div_ceil(c))
        .collect();
    let num_chunks: u64 = grid.iter().product();
    let native_little = dtype.byte_order() != ByteOrder::Big;
    let row_bytes = shape.iter().skip(1).product::<usize>() * itemsize;
    (0..num_chunks)
        .into_par_iter()
        .try_for_each(|flat| -> Result<()> {
            let index = unflatten(flat, &grid);
            let data = gather_chunk(input, &index, &chunks);
            let mut data = data;
            if !native_little {
                swap_bytes_in_place(dtype.scalar(), data.to_mut());
            }
            if let Some(p) = progress {
                // An edge chunk is padded to the full chunk shape: count only the part inside
                // the array, so the reports add up to the array's size.
                p(bytes_inside(&index, &chunks, &shape, itemsize));
            }
            array
                .store_chunk(&index, ArrayBytes::new_flen(data))
                .map_err(zarr_err)
                .at(path)?;
            // Drop the input pages this chunk read, so a pass keeps memory bounded.
            if let Some(rows) = whole_rows_of(&index, &chunks, &shape) {
                input.release(rows.start * row_bytes..rows.end * row_bytes);
            }
            Ok(())
        })?;
    out.commit(overwrite)?;
    let bytes = (input.len() * itemsize) as u64;
    Ok(Report {
        rows: shape.first().copied().unwrap_or(1) as u64,
        bytes_in: bytes,
        bytes_out: bytes,
    })
}

/// The rows a chunk covers when it spans whole rows (or is the last chunk of its rows).
fn whole_rows_of(index: &[u64], chunks: &[u64], shape: &[usize]) -> Option<std::ops::Range<usize>> {
    let (&first, rest) = index.split_first()?;
    let last_in_row = rest
        .iter()
        .zip(&chunks[1..])
        .zip(&shape[1..])
        .all(|((&i, &c), &d)| ((i + 1) * c) as usize >= d);
    last_in_row.then(|| {
        let start = (first * chunks[0]) as usize;
        start..(start + chunks[0] as usize).min(shape[0])
    })
}

/// C-order multi-index of flat position `flat` in a grid of shape `grid`.
fn unflatten(mut flat: u64, grid: &[u64]) -> Vec<u64> {
    let mut index = vec![0; grid.len()];
    for (i, &g) in grid.iter().enumerate().rev() {
        index[i] = flat % g.max(1);
        flat /= g.max(1);
    }
    index
}

/// The bytes of one whole chunk (edge chunks padded with zeros to the full chunk shape), in the
/// input's byte order. Whole-row chunks inside the array are borrowed from the mapping.
/// The bytes of chunk `index` that lie inside an array of `shape` (less than a whole chunk at
/// the array's far edges).
fn bytes_inside(index: &[u64], chunks: &[u64], shape: &[usize], itemsize: usize) -> u64 {
    let elements: u64 = index
        .iter()
        .zip(chunks)
        .zip(shape)
        .map(|((&i, &c), &d)| c.min((d as u64).saturating_sub(i * c)))
        .product();
    elements * itemsize as u64
}

fn gather_chunk<'a>(input: &'a dyn Source, index: &[u64], chunks: &[u64]) -> Cow<'a, [u8]> {
    let shape = input.shape();
    let itemsize = input.dtype().itemsize();
    let n = shape.len();
    if n == 0 {
        return input.data(0..itemsize);
    }
    let start: Vec<usize> = index
        .iter()
        .zip(chunks)
        .map(|(&i, &c)| (i * c) as usize)
        .collect();
    let valid: Vec<usize> = (0..n)
        .map(|d| (chunks[d] as usize).min(shape[d] - start[d]))
        .collect();
    let chunk_elems: usize = chunks.iter().map(|&c| c as usize).product();
    let row_elems: usize = shape[1..].iter().product();
    let whole_rows = (1..n).all(|d| chunks[d] as usize == shape[d]);
    if whole_rows && valid[0] == chunks[0] as usize {
        let first = start[0] * row_elems * itemsize;
        return input.data(first..first + chunk_elems * itemsize);
    }
    let mut out = vec![0u8; chunk_elems * itemsize];
    // Strides (in elements) of the array and of the chunk buffer.
    let strides = |dims: &mut dyn Iterator<Item = usize>| -> Vec<usize> {
        let dims: Vec<usize> = dims.collect();
        let mut s = vec![1; dims.len()];
        for d in (0..dims.len().saturating_sub(1)).rev() {
            s[d] = s[d + 1] * dims[d + 1];
        }
        s
    };
    let a_strides = strides(&mut shape.iter().copied());
    let c_strides = strides(&mut chunks.iter().map(|&c| c as usize));
    let span = valid[n - 1] * itemsize;
    // Odometer over the leading dimensions of the valid region.
    let mut pos = vec![0usize; n - 1];
    if valid.contains(&0) {
        return Cow::Owned(out);
    }
    loop {
        let src: usize = (0..n - 1)
            .map(|d| (start[d] + pos[d]) * a_strides[d])
            .sum::<usize>()
            + start[n - 1];
        let dst: usize = (0..n - 1).map(|d| pos[d] * c_strides[d]).sum();
        let bytes = input.data(src * itemsize..src * itemsize + span);
        out[dst * itemsize..dst * itemsize + span].copy_from_slice(&bytes);
        let mut d = n - 1;
        loop {
            if d == 0 {
                return Cow::Owned(out);
            }
            d -= 1;
            pos[d] += 1;
            if pos[d] < valid[d] {
                break;
            }
            pos[d] = 0;
        }
    }
}

/// The dtype of a Zarr array from its metadata (`zarr.json`'s `data_type`, or `.zarray`'s
/// `dtype`), as decoded by zarrs: native byte order.
fn metadata_dtype(path: &Path) -> Result<DType> {
    let (meta, key) = if path.join("zarr.json").is_file() {
        (read_json(&path.join("zarr.json"))?, "data_type")
    } else {
        (read_json(&path.join(".zarray"))?, "dtype")
    };
    let name = meta
        .get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| Error::invalid(format!("zarr: no string {key:?} in the metadata")))
        .at(path)?;
    DType::parse(name)
        .map(|d| DType::native(d.scalar()))
        .at(path)
}

fn read_json(path: &Path) -> Result<Json> {
    let text = std::fs::read(path)
        .map_err(|e| Error::io("read", e))
        .at(path)?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::invalid(format!("zarr metadata is not valid JSON: {e}")))
        .at(path)
}

/// Read the Zarr array at `path` (v3, or v2 with codecs zarrs supports) into a new `.npy` at
/// `output`, one row of chunks per task, in parallel.
pub fn to_npy(
    path: &Path,
    output: &Path,
    overwrite: Overwrite,
    progress: Progress<'_>,
) -> Result<Report> {
    let dtype = metadata_dtype(path)?;
    let store = FilesystemStore::new(path).map_err(zarr_err).at(path)?;
    let array = Array::open(Arc::new(store), "/")
        .map_err(zarr_err)
        .at(path)?;
    let shape: Vec<usize> = array.shape().iter().map(|&d| d as usize).collect();
    let mut file = crate::array::NpyFile::create(output, dtype, &shape, Order::C)?;
    let itemsize = dtype.itemsize();
    if shape.is_empty() {
        let bytes: ArrayBytes = array
            .retrieve_array_subset(&array.subset_all())
            .map_err(zarr_err)
            .at(path)?;
        let bytes = bytes.into_fixed().map_err(zarr_err).at(path)?;
        file.bytes_mut()?.copy_from_slice(&bytes);
    } else if !file.is_empty() {
        let rows_per_task = array
            .chunk_shape(&vec![0; shape.len()])
            .map_err(zarr_err)
            .at(path)?[0]
            .get() as usize;
        let row_bytes = shape[1..].iter().product::<usize>() * itemsize;
        let rest: Vec<std::ops::Range<u64>> = shape[1..].iter().map(|&d| 0..d as u64).collect();
        file.bytes_mut()?
            .par_chunks_mut(rows_per_task * row_bytes)
            .enumerate()
            .try_for_each(|(k, piece)| -> Result<()> {
                let first = (k * rows_per_task) as u64;
                let rows = (piece.len() / row_bytes) as u64;
                let ranges: Vec<std::ops::Range<u64>> = std::iter::once(first..first + rows)
                    .chain(rest.iter().cloned())
                    .collect();
                let bytes: ArrayBytes = array
                    .retrieve_array_subset(&ArraySubset::new_with_ranges(&ranges))
                    .map_err(zarr_err)
                    .at(path)?;
                let bytes = bytes.into_fixed().map_err(zarr_err).at(path)?;
                if bytes.len() != piece.len() {
                    return Err(zarr_err("decoded chunk has the wrong size")).at(path);
                }
                piece.copy_from_slice(&bytes);
                if let Some(p) = progress {
                    p(piece.len() as u64);
                }
                Ok(())
            })?;
    }
    file.persist_with(overwrite)?;
    let bytes = (file.len() * itemsize) as u64;
    Ok(Report {
        rows: shape.first().copied().unwrap_or(1) as u64,
        bytes_in: bytes,
        bytes_out: bytes,
    })
}

/// What [`describe`] reports about a Zarr array's storage.
#[derive(Clone, Debug, PartialEq)]
pub struct ZarrInfo {
    /// 2 or 3.
    pub zarr_format: u64,
    /// The logical shape.
    pub shape: Vec<u64>,
    /// The chunk shape.
    pub chunks: Vec<u64>,
    /// The element type (as zarrs decodes it: native byte order).
    pub dtype: DType,
    /// Codec names, in order.
    pub codecs: Vec<String>,
}

/// Shape, chunks, dtype and codecs of the Zarr array at `path`, from its metadata.
pub fn describe(path: &Path) -> Result<ZarrInfo> {
    let dtype = metadata_dtype(path)?;
    if path.join("zarr.json").is_file() {
        let meta = read_json(&path.join("zarr.json"))?;
        let v3 = V3::parse(&meta).at(path)?;
        Ok(ZarrInfo {
            zarr_format: 3,
            shape: v3.shape,
            chunks: v3.chunks,
            dtype,
            codecs: v3.codecs.iter().map(|(n, _)| n.clone()).collect(),
        })
    } else {
        let meta = read_json(&path.join(".zarray"))?;
        let list = |key: &str| -> Vec<u64> {
            meta.get(key)
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_u64).collect())
                .unwrap_or_default()
        };
        let mut codecs = Vec::new();
        if let Some(c) = meta
            .get("compressor")
            .and_then(|c| c.get("id"))
            .and_then(Json::as_str)
        {
            codecs.push(c.to_string());
        }
        Ok(ZarrInfo {
            zarr_format: 2,
            shape: list("shape"),
            chunks: list("chunks"),
            dtype,
            codecs,
        })
    }
}

/// The parts of a v3 `zarr.json` that decide whether chunk files are mappable.
struct V3 {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    scalar: Scalar,
    codecs: Vec<(String, Json)>,
    separator: String,
    v2_keys: bool,
    fill_value: Json,
}

impl V3 {
    fn parse(meta: &Json) -> Result<V3> {
        let bad = |what: &str| Error::invalid(format!("zarr.json: {what}"));
        if meta.get("zarr_format").and_then(Json::as_u64) != Some(3) {
            return Err(bad("zarr_format is not 3"));
        }
        if meta.get("node_type").and_then(Json::as_str) != Some("array") {
            return Err(bad("node_type is not \"array\" (a group?)"));
        }
        let dims = |v: Option<&Json>, what: &str| -> Result<Vec<u64>> {
            v.and_then(Json::as_array)
                .ok_or_else(|| bad(what))?
                .iter()
                .map(|d| d.as_u64().ok_or_else(|| bad(what)))
                .collect()
        };
        let shape = dims(meta.get("shape"), "shape is not a list of sizes")?;
        let grid = meta.get("chunk_grid").ok_or_else(|| bad("no chunk_grid"))?;
        if grid.get("name").and_then(Json::as_str) != Some("regular") {
            return Err(bad("only the regular chunk grid is supported"));
        }
        let chunks = dims(
            grid.get("configuration").and_then(|c| c.get("chunk_shape")),
            "chunk_shape is not a list of sizes",
        )?;
        if chunks.len() != shape.len() || chunks.contains(&0) {
            return Err(bad("chunk_shape does not match shape"));
        }
        let name = meta
            .get("data_type")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("data_type is not a string"))?;
        let scalar = Scalar::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| bad(&format!("data type {name:?} is not supported")))?;
        let codecs = meta
            .get("codecs")
            .and_then(Json::as_array)
            .ok_or_else(|| bad("no codecs"))?
            .iter()
            .map(|c| {
                let name = c
                    .get("name")
                    .and_then(Json::as_str)
                    .unwrap_or("?")
                    .to_string();
                (name, c.get("configuration").cloned().unwrap_or(Json::Null))
            })
            .collect();
        let cke = meta.get("chunk_key_encoding");
        let cke_name = cke
            .and_then(|c| c.get("name"))
            .and_then(Json::as_str)
            .unwrap_or("default");
        let separator = cke
            .and_then(|c| c.get("configuration"))
            .and_then(|c| c.get("separator"))
            .and_then(Json::as_str)
            .unwrap_or(if cke_name == "v2" { "." } else { "/" })
            .to_string();
        Ok(V3 {
            shape,
            chunks,
            scalar,
            codecs,
            separator,
            v2_keys: cke_name == "v2",
            fill_value: meta.get("fill_value").cloned().unwrap_or(Json::Null),
        })
    }

    /// The storage key of chunk `index`.
    fn key(&self, index: &[u64]) -> String {
        let parts: Vec<String> = index.iter().map(u64::to_string).collect();
        if self.v2_keys {
            if parts.is_empty() {
                "0".to_string()
            } else {
                parts.join(&self.separator)
            }
        } else {
            std::iter::once("c".to_string())
                .chain(parts)
                .collect::<Vec<_>>()
                .join(&self.separator)
        }
    }
}

/// The fill value of a v3 array as one element's bytes in `dtype`'s byte order.
fn fill_bytes(fill: &Json, dtype: DType) -> Result<Vec<u8>> {
    let unsupported = || Error::invalid(format!("zarr.json: fill_value {fill} is not supported"));
    let integer = !dtype.scalar().is_float() && !dtype.scalar().is_complex();
    let text = |v: &Json| -> Option<String> {
        match v {
            Json::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
            Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Some(i.to_string()),
                (_, Some(u), _) => Some(u.to_string()),
                (_, _, Some(f)) if integer && f.fract() == 0.0 => Some(format!("{}", f as i128)),
                (_, _, Some(f)) => Some(format!("{f:?}")),
                _ => None,
            },
            Json::String(s) => match s.as_str() {
                "NaN" => Some("nan".to_string()),
                "Infinity" => Some("inf".to_string()),
                "-Infinity" => Some("-inf".to_string()),
                _ => None,
            },
            Json::Null => Some("0".to_string()),
            _ => None,
        }
    };
    if dtype.scalar().is_complex() {
        let part = DType::new(
            if dtype.scalar() == Scalar::C64 {
                Scalar::F32
            } else {
                Scalar::F64
            },
            dtype.byte_order(),
        );
        let (re, im) = match fill {
            Json::Array(parts) if parts.len() == 2 => (text(&parts[0]), text(&parts[1])),
            other => (text(other), Some("0".to_string())),
        };
        let (re, im) = re.zip(im).ok_or_else(unsupported)?;
        let mut bytes = part.encode_value(&re)?;
        bytes.extend(part.encode_value(&im)?);
        return Ok(bytes);
    }
    dtype.encode_value(&text(fill).ok_or_else(unsupported)?)
}

/// Open an uncompressed Zarr v3 array (`bytes` codec only, whole-row chunks) as a partitioned
/// array whose shards are its mapped chunk files (chunks never written read as the fill value).
/// Anything else is an error that says how to get a mappable array.
pub fn open_mapped(path: &Path) -> Result<Partitioned> {
    let json = path.join("zarr.json");
    if !json.is_file() {
        return Err(Error::invalid(
            "a Zarr v2 array cannot be mapped: convert it to .npy first (mmnpy convert X.zarr -o X.npy)",
        ))
        .at(path);
    }
    let meta = read_json(&json)?;
    let v3 = V3::parse(&meta).at(&json)?;
    let endian = match v3.codecs.as_slice() {
        [(name, config)] if name == "bytes" => config
            .get("endian")
            .and_then(Json::as_str)
            .unwrap_or("little")
            .to_string(),
        _ => {
            let names: Vec<&str> = v3.codecs.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::invalid(format!(
                "chunks are encoded with codecs {names:?}: only uncompressed arrays (the bytes \
                 codec alone) are read in place; write one with `mmnpy convert X.npy -o X.zarr \
                 --compress none`, or convert this one to .npy first"
            )))
            .at(path);
        }
    };
    if meta
        .get("storage_transformers")
        .and_then(Json::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        return Err(Error::invalid("storage transformers are not supported")).at(path);
    }
    let order = match endian.as_str() {
        "big" => ByteOrder::Big,
        _ => ByteOrder::Little,
    };
    let dtype = DType::new(v3.scalar, order);
    let shape: Vec<usize> = v3
        .shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| Error::invalid("shape overflows")))
        .collect::<Result<_>>()
        .at(path)?;
    let n = shape.len();
    if (1..n).any(|d| v3.chunks[d] != v3.shape[d]) {
        return Err(Error::invalid(format!(
            "chunks {:?} split the rows of shape {:?}: only whole-row chunks are read in place; \
             rewrite with `mmnpy convert` and the default --chunks, or convert to .npy",
            v3.chunks, v3.shape
        )))
        .at(path);
    }
    let fill = fill_bytes(&v3.fill_value, dtype).at(&json)?;
    let itemsize = dtype.itemsize();
    let row_elems: usize = shape.iter().skip(1).product();
    let mut shards = Vec::new();
    let rows = shape.first().copied().unwrap_or(1);
    let chunk_rows = v3.chunks.first().copied().unwrap_or(1) as usize;
    let count = if n == 0 { 1 } else { rows.div_ceil(chunk_rows) };
    for c in 0..count {
        let valid = if n == 0 {
            1
        } else {
            chunk_rows.min(rows - c * chunk_rows)
        };
        let mut index = vec![0u64; n];
        let mut shard_shape = shape.clone();
        if n > 0 {
            index[0] = c as u64;
            shard_shape[0] = valid;
        }
        let file = path.join(v3.key(&index));
        if file.is_file() {
            let header = Header::new(dtype, &shard_shape, Order::C).at(&file)?;
            shards.push(Shard::Mapped(open_raw(&file, header)?));
        } else {
            shards.push(Shard::Fill {
                element: fill.clone(),
                len: valid * row_elems * itemsize,
            });
        }
    }
    Partitioned::new(path, Layout::Zarr, dtype, shape, shards)
}
