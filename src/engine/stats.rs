//! Whole-array statistics in one fused, parallel, deterministic pass: count, NaN count,
//! non-zero count, sum, mean, var, std, min, max, argmin and argmax, like numpy's `nan*`
//! functions (NaN is skipped and counted).
//!
//! ```
//! use mmnpy::{NpyArray, NpyFile, Order};
//! use mmnpy::engine::{stats, PassOptions, Value};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("x.npy");
//! let mut a = NpyArray::<f64>::create(&path, &[4], Order::C)?;
//! a.as_slice_mut()?.copy_from_slice(&[1.0, f64::NAN, 3.0, -2.0]);
//! a.persist()?;
//! drop(a); // release the write lock before reading
//! let s = stats(&NpyFile::open(&path)?, 0, &PassOptions::new())?;
//! assert_eq!((s.count, s.nan_count), (3, 1));
//! assert_eq!(s.sum, Value::Float(2.0));
//! assert_eq!(s.argmin, Some(3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use num_complex::Complex;

use crate::dtype::Element;
use crate::engine::elements::{RUN, Real, for_each_run};
use crate::engine::kernel::{IndexMap, Neumaier, Partial, push_run, settle_extremes};
use crate::engine::plan::{ChunkPlan, Driver};
use crate::engine::source::Source;
use crate::error::Result;
use crate::header::Order;

/// One number of a result, typed like numpy would type it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A `bool` (min/max of a bool array).
    Bool(bool),
    /// An exact integer (sums of any integer dtype, min/max of integers).
    Int(i128),
    /// A `float32` value (min/max of a float32 array): printed with float32's shortest digits.
    F32(f32),
    /// A float (sums, means, min/max of float16/float64).
    Float(f64),
    /// A complex number `(re, im)`.
    Complex(f64, f64),
}

impl Value {
    /// The value as `f64` (complex: the real part).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Bool(b) => b as u8 as f64,
            Value::Int(i) => i as f64,
            Value::F32(x) => x as f64,
            Value::Float(x) => x,
            Value::Complex(re, _) => re,
        }
    }
}

/// Statistics of an array (or of one lane along an axis), NaN skipped like numpy's `nan*`
/// functions. Fields that are undefined (no non-NaN values, or meaningless for complex
/// numbers) are `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Number of non-NaN elements.
    pub count: u64,
    /// Number of NaN elements (complex: either part NaN).
    pub nan_count: u64,
    /// `np.count_nonzero` (NaN counts as non-zero); `None` when the pass was asked to leave
    /// it out ([`PassOptions::without_count_nonzero`]).
    pub count_nonzero: Option<u64>,
    /// `np.nansum`: exact [`Value::Int`] for integers and bool, [`Value::Float`] for floats,
    /// [`Value::Complex`] for complex numbers. Zero for an empty array.
    pub sum: Value,
    /// `np.nanmean` ([`Value::Float`] or [`Value::Complex`]).
    pub mean: Option<Value>,
    /// `np.nanvar(ddof=ddof)`: `None` when `count <= ddof` and for complex numbers.
    pub var: Option<f64>,
    /// `np.nanstd(ddof=ddof)`.
    pub std: Option<f64>,
    /// `np.nanmin`.
    pub min: Option<Value>,
    /// `np.nanmax`.
    pub max: Option<Value>,
    /// `np.nanargmin`: the first occurrence, as a flat C-order index (also for Fortran files),
    /// or the index along the axis for axis reductions.
    pub argmin: Option<u64>,
    /// `np.nanargmax`, like [`argmin`](Stats::argmin).
    pub argmax: Option<u64>,
}

impl Stats {
    pub(crate) fn from_partial<T: Real>(p: &Partial<T>, ddof: u64) -> Stats {
        let defined = p.count > 0;
        let var = (p.count > ddof).then(|| p.m2 / (p.count - ddof) as f64);
        Stats {
            count: p.count,
            nan_count: p.nan_count,
            count_nonzero: Some(p.nonzero),
            sum: if T::IS_FLOAT {
                Value::Float(p.fsum.value())
            } else {
                Value::Int(p.isum)
            },
            mean: defined.then(|| Value::Float(p.mean())),
            var,
            std: var.map(f64::sqrt),
            min: p.min.map(|m| m.value.value()),
            max: p.max.map(|m| m.value.value()),
            argmin: p.min.map(|m| m.index),
            argmax: p.max.map(|m| m.index),
        }
    }

    pub(crate) fn from_complex(p: &ComplexPartial) -> Stats {
        let (re, im) = (p.re.value(), p.im.value());
        let n = p.count as f64;
        Stats {
            count: p.count,
            nan_count: p.nan_count,
            count_nonzero: Some(p.nonzero),
            sum: Value::Complex(re, im),
            mean: (p.count > 0).then(|| Value::Complex(re / n, im / n)),
            var: None,
            std: None,
            min: None,
            max: None,
            argmin: None,
            argmax: None,
        }
    }
}

/// Options of a streaming pass: block size (for tests and tuning) and a progress hook.
#[derive(Clone, Copy, Default)]
pub struct PassOptions<'a> {
    block_units: Option<usize>,
    window_blocks: Option<usize>,
    progress: Option<&'a (dyn Fn(u64) + Sync)>,
    without_count_nonzero: bool,
}

impl std::fmt::Debug for PassOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassOptions")
            .field("block_units", &self.block_units)
            .field("window_blocks", &self.window_blocks)
            .field("progress", &self.progress.is_some())
            .field("without_count_nonzero", &self.without_count_nonzero)
            .finish()
    }
}

impl<'a> PassOptions<'a> {
    /// Default blocks ([`ChunkPlan::new`]), no progress.
    pub fn new() -> PassOptions<'a> {
        PassOptions::default()
    }

    /// Blocks of exactly `units` units (elements, or rows for row-wise axis work). Results
    /// depend on the block size in their last bits, never on the thread count.
    pub fn block_units(mut self, units: usize) -> PassOptions<'a> {
        self.block_units = Some(units);
        self
    }

    /// Windows of `blocks` blocks (default: about [`WINDOW_BYTES`](crate::engine::WINDOW_BYTES)).
    /// Never changes results; lets tests stream small data through several windows.
    pub fn window_blocks(mut self, blocks: usize) -> PassOptions<'a> {
        self.window_blocks = Some(blocks);
        self
    }

    /// Call `progress(bytes)` as the pass advances.
    pub fn progress(mut self, progress: &'a (dyn Fn(u64) + Sync)) -> PassOptions<'a> {
        self.progress = Some(progress);
        self
    }

    /// Leave [`Stats::count_nonzero`] out (`None`) of [`stats`] and
    /// [`stats_axis`](crate::engine::stats_axis): numpy's `nan*` figures do not need it, and
    /// its compares were about a fifth of the vector operations of the float scans, whole-array
    /// and per column (`mmnpy stats`, which does not print it, leaves it out). Changes nothing
    /// else.
    pub fn without_count_nonzero(mut self) -> PassOptions<'a> {
        self.without_count_nonzero = true;
        self
    }

    /// Whether the pass counts non-zero elements.
    pub(crate) fn counts_nonzero(&self) -> bool {
        !self.without_count_nonzero
    }

    /// `stats` as these options report it: without the non-zero count when it was left out.
    pub(crate) fn report(&self, stats: Stats) -> Stats {
        Stats {
            count_nonzero: stats.count_nonzero.filter(|_| !self.without_count_nonzero),
            ..stats
        }
    }

    pub(crate) fn plan(&self, units: usize, unit_bytes: usize) -> ChunkPlan {
        self.plan_of_bytes(units, unit_bytes, crate::engine::BLOCK_BYTES)
    }

    /// [`PassOptions::plan`] with default blocks of about `block_bytes` (whole units).
    pub(crate) fn plan_of_bytes(
        &self,
        units: usize,
        unit_bytes: usize,
        block_bytes: usize,
    ) -> ChunkPlan {
        let default_units = (block_bytes / unit_bytes.max(1)).max(1);
        let plan = ChunkPlan::with_block_units(
            units,
            unit_bytes,
            self.block_units.unwrap_or(default_units),
        );
        match self.window_blocks {
            Some(n) => plan.with_window_blocks(n),
            None => plan,
        }
    }

    pub(crate) fn driver<'f>(&self, file: &'f dyn Source) -> Driver<'f>
    where
        'a: 'f,
    {
        let driver = Driver::new(file);
        match self.progress {
            Some(p) => driver.progress(p),
            None => driver,
        }
    }
}

/// Statistics of the whole array in one pass, with `ddof` for var and std (numpy's default
/// is 0). Works for every dtype, both byte orders, C and Fortran order, 0-d and empty arrays.
pub fn stats(file: &dyn Source, ddof: u64, options: &PassOptions<'_>) -> Result<Stats> {
    Ok(
        options.report(crate::dispatch_scalar!(file.dtype().scalar(), T => {
            <T as crate::engine::reducible::Reducible>::stats(file, ddof, options)
        })),
    )
}

/// How argmin/argmax positions of a whole-array pass are reported for `file`.
fn whole_index_map(file: &dyn Source) -> IndexMap {
    let shape = file.shape();
    if file.order() == Order::Fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        IndexMap::FortranToC(shape.to_vec())
    } else {
        IndexMap::Identity
    }
}

/// Partial statistics of the elements in `bytes` (raw, in the file's byte order), the first
/// at memory position `first`; without `NONZERO` a float partial's non-zero count is
/// incomplete ([`push_run`]).
pub(crate) fn partial_of_bytes<T: Real, const NONZERO: bool>(
    bytes: &[u8],
    native: bool,
    first: u64,
    index: &IndexMap,
) -> Partial<T> {
    if !T::IS_FLOAT {
        return crate::engine::simd::integer_partial(bytes, native, first, index);
    }
    partial_of_bytes_baseline::<T, NONZERO>(bytes, native, first, index)
}

/// [`partial_of_bytes`] as compiled for the baseline target: inlined into the AVX2 build
/// ([`simd::integer_partial`](crate::engine::simd::integer_partial)) too.
#[inline(always)]
pub(crate) fn partial_of_bytes_baseline<T: Real, const NONZERO: bool>(
    bytes: &[u8],
    native: bool,
    first: u64,
    index: &IndexMap,
) -> Partial<T> {
    let mut acc = Partial::default();
    for_each_run::<T>(
        bytes,
        native,
        RUN,
        #[inline(always)]
        |k, run| push_run::<T, NONZERO>(&mut acc, run, first + k as u64, index),
    );
    settle_extremes(&mut acc, index, |start, f| {
        let size = std::mem::size_of::<T>();
        let at = (start - first) as usize * size;
        let end = (at + RUN * size).min(bytes.len());
        for_each_run::<T>(&bytes[at..end], native, RUN, |_, run| f(run));
    });
    acc
}

pub(crate) fn stats_real<T: Real>(
    file: &dyn Source,
    ddof: u64,
    options: &PassOptions<'_>,
) -> Stats {
    let native = file.dtype().is_native();
    let index = whole_index_map(file);
    let plan = options.plan(file.len(), T::SCALAR.size());
    let partial = match options.counts_nonzero() {
        true => partial_of_bytes::<T, true>,
        false => partial_of_bytes::<T, false>,
    };
    let total = options.driver(file).fold_blocks(
        &plan,
        |i, bytes| partial(bytes, native, plan.block(i).start as u64, &index),
        Partial::default(),
        |mut acc, block| {
            acc.merge(&block);
            acc
        },
    );
    Stats::from_partial(&total, ddof)
}

/// A complex element type: its two parts as `f64`.
pub(crate) trait ComplexParts: Element {
    fn parts(self) -> (f64, f64);
}

impl ComplexParts for Complex<f32> {
    fn parts(self) -> (f64, f64) {
        (self.re as f64, self.im as f64)
    }
}

impl ComplexParts for Complex<f64> {
    fn parts(self) -> (f64, f64) {
        (self.re, self.im)
    }
}

/// Partial statistics of complex elements: counts and the compensated sum of each part.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ComplexPartial {
    pub(crate) count: u64,
    pub(crate) nan_count: u64,
    pub(crate) nonzero: u64,
    pub(crate) re: Neumaier,
    pub(crate) im: Neumaier,
}

impl ComplexPartial {
    pub(crate) fn push<C: ComplexParts>(&mut self, xs: &[C]) {
        for &x in xs {
            let (re, im) = x.parts();
            self.nonzero += (re != 0.0 || im != 0.0) as u64;
            if re.is_nan() || im.is_nan() {
                self.nan_count += 1;
            } else {
                self.count += 1;
                self.re.add(re);
                self.im.add(im);
            }
        }
    }

    pub(crate) fn merge(&mut self, other: &ComplexPartial) {
        self.count += other.count;
        self.nan_count += other.nan_count;
        self.nonzero += other.nonzero;
        self.re.merge(other.re);
        self.im.merge(other.im);
    }
}

pub(crate) fn complex_partial_of_bytes<C: ComplexParts>(
    bytes: &[u8],
    native: bool,
) -> ComplexPartial {
    let mut acc = ComplexPartial::default();
    for_each_run::<C>(bytes, native, RUN, |_, run| acc.push(run));
    acc
}

pub(crate) fn stats_complex<C: ComplexParts>(
    file: &dyn Source,
    options: &PassOptions<'_>,
) -> Stats {
    let native = file.dtype().is_native();
    let plan = options.plan(file.len(), C::SCALAR.size());
    let total = options.driver(file).fold_blocks(
        &plan,
        |_, bytes| complex_partial_of_bytes::<C>(bytes, native),
        ComplexPartial::default(),
        |mut acc, block| {
            acc.merge(&block);
            acc
        },
    );
    Stats::from_complex(&total)
}
