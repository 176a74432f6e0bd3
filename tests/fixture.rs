//! The numpy-written fixtures under `tests/fixtures/npy/` and their manifest, as written by
//! `scripts/make_fixtures.py`: where they are, what numpy says they hold, and the exact bytes
//! that means — element values in C order and in the file's own order and byte order.

use std::path::PathBuf;
use std::sync::OnceLock;

use mmnpy::dtype::swap_bytes_in_place;
use mmnpy::{ByteOrder, Complex, DType, Order, Scalar, Version, f16};
use serde_json::Value;

/// The fixture directory.
pub(crate) fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy")
}

/// The `mmnpy` binary built by cargo, ready for arguments.
pub(crate) fn mmnpy() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("mmnpy").unwrap()
}

/// The names in a directory, sorted (to check what a command left behind).
pub(crate) fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `f()` on a rayon pool of exactly `threads` threads (for determinism tests).
pub(crate) fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// One array file numpy wrote, as the manifest describes it.
#[derive(Debug, Clone)]
pub(crate) struct ArrayCase {
    pub(crate) file: String,
    pub(crate) descr: String,
    /// numpy's dtype name (`float64`, `bool`, ...).
    pub(crate) dtype_name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) fortran_order: bool,
    pub(crate) version: String,
    pub(crate) data_offset: u64,
    /// `np.save`, `write_array(version=(2, 0))`, `legacy-16`, `np.save+trailing`.
    pub(crate) writer: String,
    pub(crate) trailing_bytes: u64,
    values: Vec<Value>,
}

/// Header bytes numpy writes for one dtype/shape/order/version.
#[derive(Debug, Clone)]
pub(crate) struct HeaderCase {
    pub(crate) descr: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) fortran_order: bool,
    pub(crate) version: String,
    pub(crate) bytes: Vec<u8>,
}

/// A file numpy refuses, and numpy's message for it.
#[derive(Debug, Clone)]
pub(crate) struct MalformedCase {
    pub(crate) file: String,
    pub(crate) numpy_error: String,
}

/// A header too long for version 1.0 (or just short enough): only its ends are kept.
#[derive(Debug, Clone)]
pub(crate) struct LongHeaderCase {
    /// The shape is this many axes of length 1 (`<f8`, C order).
    pub(crate) ones: usize,
    /// The version numpy chose.
    pub(crate) version: String,
    /// Length of preamble + header.
    pub(crate) len: usize,
    pub(crate) preamble: Vec<u8>,
    /// The first and last 80 bytes of the header text.
    pub(crate) head: String,
    pub(crate) tail: String,
}

pub(crate) struct Manifest {
    pub(crate) arrays: Vec<ArrayCase>,
    pub(crate) headers: Vec<HeaderCase>,
    pub(crate) long_headers: Vec<LongHeaderCase>,
    pub(crate) malformed: Vec<MalformedCase>,
}

/// The parsed manifest (read once per test binary).
pub(crate) fn manifest() -> &'static Manifest {
    static MANIFEST: OnceLock<Manifest> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let text = std::fs::read_to_string(dir().join("manifest.json")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let str_of = |v: &Value| v.as_str().unwrap().to_string();
        let arrays = doc["arrays"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| ArrayCase {
                file: str_of(&a["file"]),
                descr: str_of(&a["descr"]),
                dtype_name: str_of(&a["dtype"]),
                shape: a["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_u64().unwrap() as usize)
                    .collect(),
                fortran_order: a["fortran_order"].as_bool().unwrap(),
                version: str_of(&a["version"]),
                data_offset: a["data_offset"].as_u64().unwrap(),
                writer: str_of(&a["writer"]),
                trailing_bytes: a["trailing_bytes"].as_u64().unwrap(),
                values: a["values"].as_array().unwrap().clone(),
            })
            .collect();
        let headers = doc["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| HeaderCase {
                descr: str_of(&h["descr"]),
                shape: h["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap().parse().unwrap())
                    .collect(),
                fortran_order: h["fortran_order"].as_bool().unwrap(),
                version: str_of(&h["version"]),
                bytes: [
                    hex(h["preamble"].as_str().unwrap()),
                    h["text"].as_str().unwrap().as_bytes().to_vec(),
                ]
                .concat(),
            })
            .collect();
        let long_headers = doc["long_headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| LongHeaderCase {
                ones: h["ones"].as_u64().unwrap() as usize,
                version: str_of(&h["version"]),
                len: h["len"].as_u64().unwrap() as usize,
                preamble: hex(h["preamble"].as_str().unwrap()),
                head: str_of(&h["head"]),
                tail: str_of(&h["tail"]),
            })
            .collect();
        let malformed = doc["malformed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| MalformedCase {
                file: str_of(&m["file"]),
                numpy_error: str_of(&m["numpy_error"]),
            })
            .collect();
        Manifest {
            arrays,
            headers,
            long_headers,
            malformed,
        }
    })
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A named array fixture.
pub(crate) fn array(file: &str) -> &'static ArrayCase {
    manifest()
        .arrays
        .iter()
        .find(|a| a.file == file)
        .unwrap_or_else(|| panic!("no fixture {file} in the manifest"))
}

impl ArrayCase {
    pub(crate) fn path(&self) -> PathBuf {
        dir().join(&self.file)
    }

    pub(crate) fn dtype(&self) -> DType {
        DType::parse(&self.descr).unwrap()
    }

    pub(crate) fn order(&self) -> Order {
        if self.fortran_order {
            Order::Fortran
        } else {
            Order::C
        }
    }

    pub(crate) fn version(&self) -> Version {
        Version::parse(&self.version).unwrap()
    }

    /// True when typed (zero-copy) access is possible on this machine.
    pub(crate) fn is_native(&self) -> bool {
        self.dtype().is_native()
    }

    /// The elements in C (logical) order, in this machine's byte order.
    pub(crate) fn native_c_bytes(&self) -> Vec<u8> {
        let scalar = self.dtype().scalar();
        self.values
            .iter()
            .flat_map(|v| element_bytes(scalar, v))
            .collect()
    }

    /// The data bytes exactly as they must appear in the file: in the file's memory order
    /// and byte order.
    pub(crate) fn file_data_bytes(&self) -> Vec<u8> {
        let dtype = self.dtype();
        let size = dtype.itemsize();
        let c = self.native_c_bytes();
        let mut out = if self.fortran_order {
            fortran_to_c_index(&self.shape)
                .into_iter()
                .flat_map(|i| c[i * size..(i + 1) * size].to_vec())
                .collect()
        } else {
            c
        };
        if dtype.byte_order() != ByteOrder::NATIVE && dtype.byte_order() != ByteOrder::NotApplicable
        {
            swap_bytes_in_place(dtype.scalar(), &mut out);
        }
        out
    }
}

/// For each position of a Fortran-ordered buffer, the C-order index of the same element.
pub(crate) fn fortran_to_c_index(shape: &[usize]) -> Vec<usize> {
    let len: usize = shape.iter().product();
    let mut index = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        let c = index.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i);
        out.push(c);
        // Increment the multi-index with the first axis fastest.
        for (i, &n) in index.iter_mut().zip(shape) {
            *i += 1;
            if *i < n {
                break;
            }
            *i = 0;
        }
    }
    out
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string value, got {v}"))
}

fn complex_parts(v: &Value) -> (f64, f64, &str, &str) {
    let parts = v.as_array().unwrap();
    let (re, im) = (text(&parts[0]), text(&parts[1]));
    (re.parse().unwrap(), im.parse().unwrap(), re, im)
}

/// The native bytes of one manifest value. Floats are parsed from Python's repr, which
/// round-trips exactly; `nan` is numpy's default quiet NaN in every width.
pub(crate) fn element_bytes(scalar: Scalar, v: &Value) -> Vec<u8> {
    match scalar {
        Scalar::Bool => vec![u8::from(v.as_bool().unwrap())],
        Scalar::I8 => text(v).parse::<i8>().unwrap().to_ne_bytes().to_vec(),
        Scalar::I16 => text(v).parse::<i16>().unwrap().to_ne_bytes().to_vec(),
        Scalar::I32 => text(v).parse::<i32>().unwrap().to_ne_bytes().to_vec(),
        Scalar::I64 => text(v).parse::<i64>().unwrap().to_ne_bytes().to_vec(),
        Scalar::U8 => text(v).parse::<u8>().unwrap().to_ne_bytes().to_vec(),
        Scalar::U16 => text(v).parse::<u16>().unwrap().to_ne_bytes().to_vec(),
        Scalar::U32 => text(v).parse::<u32>().unwrap().to_ne_bytes().to_vec(),
        Scalar::U64 => text(v).parse::<u64>().unwrap().to_ne_bytes().to_vec(),
        Scalar::F16 => f16::from_f64(text(v).parse().unwrap())
            .to_ne_bytes()
            .to_vec(),
        Scalar::F32 => text(v).parse::<f32>().unwrap().to_ne_bytes().to_vec(),
        Scalar::F64 => text(v).parse::<f64>().unwrap().to_ne_bytes().to_vec(),
        Scalar::C64 => {
            let (_, _, re, im) = complex_parts(v);
            let c = Complex::new(re.parse::<f32>().unwrap(), im.parse::<f32>().unwrap());
            bytemuck::bytes_of(&c).to_vec()
        }
        Scalar::C128 => {
            let (re, im, _, _) = complex_parts(v);
            bytemuck::bytes_of(&Complex::new(re, im)).to_vec()
        }
    }
}
