//! Element casts between every pair of supported dtypes, in either byte order, with numpy's
//! `astype` results ([`CastMode::Unsafe`]) or a value check ([`CastMode::Safe`]).
//!
//! This module works on byte slices only: it knows nothing of files, blocks or threads, so the
//! streaming code (`ops::stream`, private) can run it on any block and the tests can run it on
//! plain bytes. [`cast_naive`] is its sequential reference, written independently (through
//! `i128` and `f64`), and property tests compare the two.
//!
//! # The safe rule (value-based, unlike numpy's dtype-based `casting='safe'`)
//! numpy's `astype(t, casting='safe')` refuses a whole dtype pair (`f8 -> f4` is never
//! "safe"). mmnpy instead checks each *value*: a cast is refused when a value would not
//! survive it, and the error names the first such flat index (C order). A value survives when
//! - into an integer: it is finite, has no fractional part, lies in the target's range (so a
//!   negative value never goes into an unsigned type), and a complex value has a zero
//!   imaginary part;
//! - into `bool`: it is exactly 0 or 1 (complex: imaginary part 0);
//! - into a float: a finite value stays finite (overflow to infinity is refused); rounding to
//!   the nearest representable value is accepted, since that is what narrowing means; NaN and
//!   infinities pass through; a complex value needs a zero imaginary part;
//! - into a complex type: each part follows the float rule.
//!
//! # The unsafe rule: numpy's `astype` on x86-64
//! - integer -> integer wraps (keeps the low bits); anything -> `bool` is "non-zero" (NaN is
//!   true); `bool` -> anything is 0 or 1;
//! - integer -> float rounds to nearest even; float narrowing (`f8 -> f4 -> f2`) rounds to
//!   nearest even, overflowing to infinity;
//! - float -> integer truncates toward zero. Out of range, NaN and infinities give what
//!   numpy's compiled C casts give on x86-64 (SSE `cvttsd2si`, which returns the "integer
//!   indefinite" `MIN` value): `int32`/`int64` get `INT_MIN`/`INT64_MIN`; `int8`, `int16`,
//!   `uint8`, `uint16` get the low bits of the `int32` result (so NaN -> 0, 300.7 -> 44 as
//!   `int8`); `uint64` (and `uint32` from `f4`/`f8`) subtract 2^63 (2^31) from values at or
//!   above it, convert signed, and flip the top bit back, so NaN -> 2^63 as `uint64`; `uint32`
//!   from `f2` takes the low 32 bits of the `int64` result (NaN -> 0). numpy itself is not
//!   consistent for NaN/out-of-range into `uint32` from `f4`/`f8`/complex: its SIMD loop
//!   (long arrays) gives the value above, its scalar loop (arrays of a few elements and the
//!   tail of longer ones) gives the `int64` low bits (NaN -> 0); mmnpy gives the SIMD
//!   loop's value everywhere. These were measured with numpy 2.4 (see
//!   `scripts/make_convert_fixtures.py`) and are checked against its results in the tests;
//! - complex -> real drops the imaginary part (numpy warns, and does the same).

use std::fmt;

use half::f16;
use num_complex::Complex;

use crate::dtype::{Bool, ByteOrder, DType, Element, Scalar, f16_from_f64};

/// What to do with values that do not fit the target dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CastMode {
    /// Refuse them: the cast fails naming the first offending index (the default).
    #[default]
    Safe,
    /// Convert them as numpy's `astype` does (wrap, truncate, `INT_MIN` for NaN...).
    Unsafe,
}

impl CastMode {
    /// Parse `safe` or `unsafe`.
    pub fn parse(s: &str) -> crate::Result<CastMode> {
        match s {
            "safe" => Ok(CastMode::Safe),
            "unsafe" => Ok(CastMode::Unsafe),
            _ => Err(crate::Error::invalid(format!(
                "unknown cast mode {s:?} (expected safe or unsafe)"
            ))),
        }
    }
}

/// A value that did not survive a safe cast: its position in the slice and its text.
#[derive(Clone, Debug, PartialEq)]
pub struct Unfit {
    /// Position of the element in the slice that was cast.
    pub position: usize,
    /// The value, as numpy would print it.
    pub value: String,
}

/// One element in a type-neutral form, through which every cast goes. The generic kernel is
/// monomorphised per (source, target) pair, so the enum is resolved at compile time and
/// never exists in the hot loop.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Repr {
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// A float (f4 or f8; both convert to integers alike).
    Float(f64),
    /// A float16 value: numpy converts it to `uint32` through `int64` (all loops).
    Half(f64),
    Complex(f64, f64),
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Repr::Bool(b) => write!(f, "{}", if b { "True" } else { "False" }),
            Repr::Int(v) => write!(f, "{v}"),
            Repr::UInt(v) => write!(f, "{v}"),
            Repr::Float(x) | Repr::Half(x) => write!(f, "{}", float_text(x)),
            Repr::Complex(re, im) => {
                let sign = if im.is_sign_negative() && !im.is_nan() {
                    '-'
                } else {
                    '+'
                };
                write!(f, "({}{sign}{}j)", float_text(re), float_text(im.abs()))
            }
        }
    }
}

fn float_text(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        format!("{x:?}")
    }
}

/// numpy's (x86-64) float -> int32 conversion: truncation, `i32::MIN` when out of range/NaN.
fn cvtt32(x: f64) -> i32 {
    if x > -2_147_483_649.0 && x < 2_147_483_648.0 {
        x as i32
    } else {
        i32::MIN
    }
}

/// numpy's (x86-64) float -> int64 conversion: truncation, `i64::MIN` when out of range/NaN.
fn cvtt64(x: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// True when `x` is an integer value within `[lo, hi]` (both exactly representable or the
/// bounds of a half-open power of two, see callers).
fn integral_in(x: f64, lo: f64, hi_exclusive: f64) -> bool {
    x.trunc() == x && x >= lo && x < hi_exclusive
}

/// A Rust element type that casts: to and from [`Repr`], plus its byte swap.
trait Castable: Element {
    fn to_repr(self) -> Repr;
    /// The cast value (numpy's `astype`) and whether it satisfies the safe rule.
    fn from_repr(r: Repr) -> (Self, bool);
    fn swapped(self) -> Self;
}

macro_rules! castable_int {
    ($($t:ty, $variant:ident, $wide:ty, $lo:expr, $hi:expr, $float:expr);* $(;)?) => {$(
        impl Castable for $t {
            #[inline(always)]
            fn to_repr(self) -> Repr {
                Repr::$variant(self as $wide)
            }
            #[inline(always)]
            fn from_repr(r: Repr) -> (Self, bool) {
                match r {
                    Repr::Bool(b) => (b as $t, true),
                    Repr::Int(v) => (v as $t, <$t>::try_from(v).is_ok()),
                    Repr::UInt(v) => (v as $t, <$t>::try_from(v).is_ok()),
                    Repr::Float(x) => ($float(x, false), integral_in(x, $lo, $hi)),
                    Repr::Half(x) => ($float(x, true), integral_in(x, $lo, $hi)),
                    Repr::Complex(re, im) => ($float(re, false), im == 0.0 && integral_in(re, $lo, $hi)),
                }
            }
            #[inline(always)]
            fn swapped(self) -> Self {
                self.swap_bytes()
            }
        }
    )*};
}

const TWO_31: f64 = 2_147_483_648.0;
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

castable_int!(
    i8, Int, i64, -128.0, 128.0, |x, _| cvtt32(x) as i8;
    i16, Int, i64, -32768.0, 32768.0, |x, _| cvtt32(x) as i16;
    i32, Int, i64, -TWO_31, TWO_31, |x, _| cvtt32(x);
    i64, Int, i64, -TWO_63, TWO_63, |x, _| cvtt64(x);
    u8, UInt, u64, 0.0, 256.0, |x, _| cvtt32(x) as u8;
    u16, UInt, u64, 0.0, 65536.0, |x, _| cvtt32(x) as u16;
    u32, UInt, u64, 0.0, 4_294_967_296.0, |x: f64, via_i64: bool| if via_i64 {
        cvtt64(x) as u32
    } else if x >= TWO_31 {
        (cvtt32(x - TWO_31) as u32) ^ 0x8000_0000
    } else {
        cvtt32(x) as u32
    };
    u64, UInt, u64, 0.0, 2.0 * TWO_63, |x: f64, _| if x >= TWO_63 {
        (cvtt64(x - TWO_63) as u64) ^ (1 << 63)
    } else {
        cvtt64(x) as u64
    };
);

impl Castable for Bool {
    #[inline(always)]
    fn to_repr(self) -> Repr {
        Repr::Bool(self.get())
    }
    #[inline(always)]
    fn from_repr(r: Repr) -> (Self, bool) {
        let (v, fits) = match r {
            Repr::Bool(b) => (b, true),
            Repr::Int(v) => (v != 0, v == 0 || v == 1),
            Repr::UInt(v) => (v != 0, v <= 1),
            Repr::Float(x) | Repr::Half(x) => (x != 0.0, x == 0.0 || x == 1.0),
            Repr::Complex(re, im) => (
                re != 0.0 || im != 0.0,
                im == 0.0 && (re == 0.0 || re == 1.0),
            ),
        };
        (Bool::from(v), fits)
    }
    #[inline(always)]
    fn swapped(self) -> Self {
        self
    }
}

/// The real value of a repr for a float target, and whether the imaginary part is zero.
#[inline(always)]
fn real_part(r: Repr) -> (f64, bool) {
    match r {
        Repr::Bool(b) => (f64::from(u8::from(b)), true),
        Repr::Int(v) => (v as f64, true),
        Repr::UInt(v) => (v as f64, true),
        Repr::Float(x) | Repr::Half(x) => (x, true),
        Repr::Complex(re, im) => (re, im == 0.0),
    }
}

/// Finite stays finite: the float rule of the safe cast.
#[inline(always)]
fn kept_finite(from: f64, to_is_infinite: bool) -> bool {
    !to_is_infinite || !from.is_finite()
}

impl Castable for f64 {
    #[inline(always)]
    fn to_repr(self) -> Repr {
        Repr::Float(self)
    }
    #[inline(always)]
    fn from_repr(r: Repr) -> (Self, bool) {
        let (x, real) = real_part(r);
        (x, real)
    }
    #[inline(always)]
    fn swapped(self) -> Self {
        f64::from_bits(self.to_bits().swap_bytes())
    }
}

impl Castable for f32 {
    #[inline(always)]
    fn to_repr(self) -> Repr {
        Repr::Float(f64::from(self))
    }
    #[inline(always)]
    fn from_repr(r: Repr) -> (Self, bool) {
        // Integers convert directly (one rounding), as numpy's C casts do.
        let (y, x, real) = match r {
            Repr::Int(v) => (v as f32, v as f64, true),
            Repr::UInt(v) => (v as f32, v as f64, true),
            other => {
                let (x, real) = real_part(other);
                (x as f32, x, real)
            }
        };
        (y, real && kept_finite(x, y.is_infinite()))
    }
    #[inline(always)]
    fn swapped(self) -> Self {
        f32::from_bits(self.to_bits().swap_bytes())
    }
}

impl Castable for f16 {
    #[inline(always)]
    fn to_repr(self) -> Repr {
        Repr::Half(self.to_f64())
    }
    #[inline(always)]
    fn from_repr(r: Repr) -> (Self, bool) {
        let (x, real) = real_part(r);
        let y = f16_from_f64(x);
        (y, real && kept_finite(x, y.is_infinite()))
    }
    #[inline(always)]
    fn swapped(self) -> Self {
        f16::from_bits(self.to_bits().swap_bytes())
    }
}

macro_rules! castable_complex {
    ($($part:ty),*) => {$(
        impl Castable for Complex<$part> {
            #[inline(always)]
            fn to_repr(self) -> Repr {
                Repr::Complex(f64::from(self.re), f64::from(self.im))
            }
            #[inline(always)]
            fn from_repr(r: Repr) -> (Self, bool) {
                let (re, im) = match r {
                    Repr::Complex(re, im) => (re, im),
                    other => (real_part(other).0, 0.0),
                };
                let (a, b) = (re as $part, im as $part);
                let fits = kept_finite(re, a.is_infinite()) && kept_finite(im, b.is_infinite());
                // Integers convert directly into the part type (one rounding).
                let a = match r {
                    Repr::Int(v) => v as $part,
                    Repr::UInt(v) => v as $part,
                    _ => a,
                };
                (Complex::new(a, b), fits)
            }
            #[inline(always)]
            fn swapped(self) -> Self {
                Complex::new(self.re.swapped(), self.im.swapped())
            }
        }
    )*};
}

castable_complex!(f32, f64);

/// Cast `src` (elements of `from`, back to back, any byte order) into `dst` (elements of `to`,
/// which must have exactly room for them). In [`CastMode::Safe`] a value that does not fit
/// stops the cast with the position of the first one; `dst` is then unspecified.
pub fn cast_bytes(
    src: &[u8],
    from: DType,
    dst: &mut [u8],
    to: DType,
    mode: CastMode,
) -> Result<(), Unfit> {
    let count = src.len() / from.itemsize();
    assert_eq!(src.len(), count * from.itemsize(), "partial source element");
    assert_eq!(dst.len(), count * to.itemsize(), "target size mismatch");
    let swap_in = !from.is_native();
    let swap_out = !to.is_native();
    crate::dispatch_scalar!(from.scalar(), S => {
        crate::dispatch_scalar!(to.scalar(), D => {
            cast_typed::<S, D>(src, swap_in, dst, swap_out, mode)
        })
    })
}

/// Elements per step of the kernel: a stack buffer for unaligned or byte-swapped input.
const STEP: usize = 1024;

fn cast_typed<S: Castable, D: Castable>(
    src: &[u8],
    swap_in: bool,
    dst: &mut [u8],
    swap_out: bool,
    mode: CastMode,
) -> Result<(), Unfit> {
    let ssize = size_of::<S>();
    let dsize = size_of::<D>();
    let mut done = 0;
    let mut in_buf = [S::zeroed(); STEP];
    let mut out_buf = [D::zeroed(); STEP];
    for (src_step, dst_step) in src.chunks(STEP * ssize).zip(dst.chunks_mut(STEP * dsize)) {
        let n = src_step.len() / ssize;
        let input: &[S] = match bytemuck::try_cast_slice(src_step) {
            Ok(s) if !swap_in => s,
            _ => {
                bytemuck::cast_slice_mut::<S, u8>(&mut in_buf[..n]).copy_from_slice(src_step);
                if swap_in {
                    in_buf[..n].iter_mut().for_each(|v| *v = v.swapped());
                }
                &in_buf[..n]
            }
        };
        let direct = !swap_out && bytemuck::try_cast_slice_mut::<u8, D>(dst_step).is_ok();
        let output: &mut [D] = if direct {
            bytemuck::cast_slice_mut(dst_step)
        } else {
            &mut out_buf[..n]
        };
        let all_fit = convert(input, output);
        if mode == CastMode::Safe && !all_fit {
            let position = input
                .iter()
                .position(|&s| !D::from_repr(s.to_repr()).1)
                .unwrap_or(0);
            return Err(Unfit {
                position: done + position,
                value: input[position].to_repr().to_string(),
            });
        }
        if !direct {
            if swap_out {
                out_buf[..n].iter_mut().for_each(|v| *v = v.swapped());
            }
            dst_step.copy_from_slice(bytemuck::cast_slice(&out_buf[..n]));
        }
        done += n;
    }
    Ok(())
}

/// The hot loop: branch-free so it vectorises; the fit flags are folded into one boolean.
#[inline(always)]
fn convert<S: Castable, D: Castable>(input: &[S], output: &mut [D]) -> bool {
    let mut all_fit = true;
    for (d, &s) in output.iter_mut().zip(input) {
        let (v, fits) = D::from_repr(s.to_repr());
        *d = v;
        all_fit &= fits;
    }
    all_fit
}

/// Text of the element at `index` of `bytes` (elements of `dtype`), for error messages.
pub fn value_text(bytes: &[u8], dtype: DType, index: usize) -> String {
    let size = dtype.itemsize();
    let element = &bytes[index * size..(index + 1) * size];
    crate::dispatch_scalar!(dtype.scalar(), S => {
        let mut v: S = bytemuck::pod_read_unaligned(element);
        if !dtype.is_native() {
            v = v.swapped();
        }
        v.to_repr().to_string()
    })
}

/// The sequential reference for [`cast_bytes`], written independently: every value goes
/// through `i128` (integers, bool) or `f64` pairs (floats, complex) and the rules of the
/// module docs are applied one by one. Slow; for tests.
pub fn cast_naive(src: &[u8], from: DType, to: DType, mode: CastMode) -> Result<Vec<u8>, Unfit> {
    let mut out = Vec::with_capacity(src.len() / from.itemsize() * to.itemsize());
    for (i, element) in src.chunks_exact(from.itemsize()).enumerate() {
        let value = naive::read(element, from);
        let (bytes, fits) = naive::write(value, to);
        if mode == CastMode::Safe && !fits {
            return Err(Unfit {
                position: i,
                value: value_text(src, from, i),
            });
        }
        out.extend_from_slice(&bytes);
    }
    Ok(out)
}

mod naive {
    use super::*;

    #[derive(Clone, Copy)]
    pub(super) enum Value {
        Int(i128),
        Float { x: f64, half: bool },
        Complex(f64, f64),
    }

    fn ordered<const N: usize>(bytes: &[u8], order: ByteOrder) -> [u8; N] {
        let mut a: [u8; N] = bytes.try_into().expect("element size");
        if order == ByteOrder::Big {
            a.reverse();
        }
        a
    }

    fn le<const N: usize>(mut a: [u8; N], order: ByteOrder) -> Vec<u8> {
        if order == ByteOrder::Big {
            a.reverse();
        }
        a.to_vec()
    }

    pub(super) fn read(b: &[u8], dtype: DType) -> Value {
        let o = dtype.byte_order();
        let f = |x: f64| Value::Float { x, half: false };
        match dtype.scalar() {
            Scalar::Bool => Value::Int(i128::from(b[0] != 0)),
            Scalar::I8 => Value::Int(i128::from(b[0] as i8)),
            Scalar::U8 => Value::Int(i128::from(b[0])),
            Scalar::I16 => Value::Int(i16::from_le_bytes(ordered(b, o)).into()),
            Scalar::U16 => Value::Int(u16::from_le_bytes(ordered(b, o)).into()),
            Scalar::I32 => Value::Int(i32::from_le_bytes(ordered(b, o)).into()),
            Scalar::U32 => Value::Int(u32::from_le_bytes(ordered(b, o)).into()),
            Scalar::I64 => Value::Int(i64::from_le_bytes(ordered(b, o)).into()),
            Scalar::U64 => Value::Int(u64::from_le_bytes(ordered(b, o)).into()),
            Scalar::F16 => Value::Float {
                x: f16::from_le_bytes(ordered(b, o)).to_f64(),
                half: true,
            },
            Scalar::F32 => f(f32::from_le_bytes(ordered(b, o)).into()),
            Scalar::F64 => f(f64::from_le_bytes(ordered(b, o))),
            Scalar::C64 => Value::Complex(
                f32::from_le_bytes(ordered(&b[..4], o)).into(),
                f32::from_le_bytes(ordered(&b[4..], o)).into(),
            ),
            Scalar::C128 => Value::Complex(
                f64::from_le_bytes(ordered(&b[..8], o)),
                f64::from_le_bytes(ordered(&b[8..], o)),
            ),
        }
    }

    /// numpy's float -> integer of `bits` bits on x86-64, as an unbounded integer to wrap.
    fn float_to_int(x: f64, signed: bool, bits: u32, via_i64: bool) -> i128 {
        let i32_or_min = |v: f64| {
            if v.is_nan() || v.trunc() < -2f64.powi(31) || v.trunc() >= 2f64.powi(31) {
                i128::from(i32::MIN)
            } else {
                v.trunc() as i128
            }
        };
        let i64_or_min = |v: f64| {
            if v.is_nan() || v.trunc() < -2f64.powi(63) || v.trunc() >= 2f64.powi(63) {
                i128::from(i64::MIN)
            } else {
                v.trunc() as i128
            }
        };
        match (signed, bits) {
            (_, 8 | 16) | (true, 32) => i32_or_min(x),
            (true, 64) => i64_or_min(x),
            (false, 32) if via_i64 => i64_or_min(x),
            (false, 32) => {
                if x >= 2f64.powi(31) {
                    i32_or_min(x - 2f64.powi(31)) ^ (1 << 31)
                } else {
                    i32_or_min(x)
                }
            }
            _ => {
                if x >= 2f64.powi(63) {
                    (i64_or_min(x - 2f64.powi(63)) as u64 ^ (1 << 63)).into()
                } else {
                    i64_or_min(x)
                }
            }
        }
    }

    /// Keep the low `bits` bits of `v`, signed or not (two's complement wrap).
    fn wrap(v: i128, signed: bool, bits: u32) -> i128 {
        let m = v.rem_euclid(1i128 << bits);
        if signed && m >= 1i128 << (bits - 1) {
            m - (1i128 << bits)
        } else {
            m
        }
    }

    pub(super) fn write(v: Value, dtype: DType) -> (Vec<u8>, bool) {
        let o = dtype.byte_order();
        let s = dtype.scalar();
        let bits = 8 * s.size() as u32;
        match s {
            Scalar::Bool => {
                let (truth, fits) = match v {
                    Value::Int(i) => (i != 0, i == 0 || i == 1),
                    Value::Float { x, .. } => (x != 0.0, x == 0.0 || x == 1.0),
                    Value::Complex(re, im) => (
                        re != 0.0 || im != 0.0,
                        im == 0.0 && (re == 0.0 || re == 1.0),
                    ),
                };
                (vec![u8::from(truth)], fits)
            }
            _ if s.is_integer() => {
                let signed = s.kind_char() == 'i';
                let (lo, hi) = if signed {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                } else {
                    (0, (1i128 << bits) - 1)
                };
                let (wide, fits) = match v {
                    Value::Int(i) => (i, lo <= i && i <= hi),
                    Value::Float { x, half } => {
                        let ok = x.is_finite() && x.fract() == 0.0 && {
                            let t = x as i128;
                            lo <= t && t <= hi
                        };
                        (float_to_int(x, signed, bits, half), ok)
                    }
                    Value::Complex(re, im) => {
                        let ok = im == 0.0 && re.is_finite() && re.fract() == 0.0 && {
                            let t = re as i128;
                            lo <= t && t <= hi
                        };
                        (float_to_int(re, signed, bits, false), ok)
                    }
                };
                let w = wrap(wide, signed, bits) as u128;
                let le_bytes = w.to_le_bytes();
                let mut out = le_bytes[..s.size()].to_vec();
                if o == ByteOrder::Big {
                    out.reverse();
                }
                (out, fits)
            }
            _ => {
                let (re, im, real) = match v {
                    Value::Int(i) => (i as f64, 0.0, true),
                    Value::Float { x, .. } => (x, 0.0, true),
                    Value::Complex(re, im) => (re, im, im == 0.0),
                };
                let finite_kept = |from: f64, to_inf: bool| !(from.is_finite() && to_inf);
                match s {
                    Scalar::F16 => {
                        let y = f16_from_f64(re);
                        (
                            le(y.to_le_bytes(), o),
                            real && finite_kept(re, y.is_infinite()),
                        )
                    }
                    Scalar::F32 => {
                        // integers round once, straight from the integer
                        let y = match v {
                            Value::Int(i) => i as f32,
                            _ => re as f32,
                        };
                        (
                            le(y.to_le_bytes(), o),
                            real && finite_kept(re, y.is_infinite()),
                        )
                    }
                    Scalar::F64 => (le(re.to_le_bytes(), o), real),
                    Scalar::C64 => {
                        let a = match v {
                            Value::Int(i) => i as f32,
                            _ => re as f32,
                        };
                        let b = im as f32;
                        let mut out = le(a.to_le_bytes(), o);
                        out.extend(le(b.to_le_bytes(), o));
                        let fits =
                            finite_kept(re, a.is_infinite()) && finite_kept(im, b.is_infinite());
                        (out, fits)
                    }
                    _ => {
                        let mut out = le(re.to_le_bytes(), o);
                        out.extend(le(im.to_le_bytes(), o));
                        (out, true)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_dtypes() -> Vec<DType> {
        Scalar::ALL
            .into_iter()
            .flat_map(|s| {
                [
                    DType::new(s, ByteOrder::Little),
                    DType::new(s, ByteOrder::Big),
                ]
            })
            .collect()
    }

    fn fast(src: &[u8], from: DType, to: DType, mode: CastMode) -> Result<Vec<u8>, Unfit> {
        let mut out = vec![0u8; src.len() / from.itemsize() * to.itemsize()];
        cast_bytes(src, from, &mut out, to, mode).map(|()| out)
    }

    /// Interesting element values for every dtype: edges, NaN, inf, fractions.
    fn special_bytes(dtype: DType) -> Vec<u8> {
        let texts = [
            "0",
            "1",
            "-1",
            "2",
            "127",
            "128",
            "-129",
            "255",
            "256",
            "65535",
            "65536",
            "-32769",
            "2147483647",
            "2147483648",
            "-2147483649",
            "4294967296",
            "1e20",
            "-1e20",
            "0.5",
            "-0.5",
            "2.5",
            "nan",
            "inf",
            "-inf",
            "3e9",
            "65504",
            "65520",
            "1.0000001",
            "9223372036854775807",
            "18446744073709551615",
            "1+1j",
            "-0.0",
        ];
        texts
            .iter()
            .filter_map(|t| dtype.encode_value(t).ok())
            .flatten()
            .collect()
    }

    #[test]
    fn fast_kernel_matches_the_naive_reference_on_edge_values() {
        for from in all_dtypes() {
            let src = special_bytes(from);
            for to in all_dtypes() {
                for mode in [CastMode::Safe, CastMode::Unsafe] {
                    assert_eq!(
                        fast(&src, from, to, mode),
                        cast_naive(&src, from, to, mode),
                        "{from} -> {to} {mode:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn numpy_x86_float_to_int_results() {
        let src: Vec<u8> = [
            f64::NAN,
            f64::INFINITY,
            1e20,
            300.7,
            -300.7,
            3e9,
            -3e9,
            1.8e19,
        ]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
        let f8 = DType::parse("<f8").unwrap();
        let u4: Vec<u32> = bytemuck::cast_slice(
            &fast(&src, f8, DType::parse("<u4").unwrap(), CastMode::Unsafe).unwrap(),
        )
        .to_vec();
        assert_eq!(
            u4,
            [2147483648, 0, 0, 300, 4294966996, 3000000000, 2147483648, 0]
        );
        let i1 = fast(&src, f8, DType::parse("i1").unwrap(), CastMode::Unsafe).unwrap();
        assert_eq!(i1, [0, 0, 0, 44, (-44i8) as u8, 0, 0, 0]);
    }

    #[test]
    fn safe_cast_names_the_first_unfit_value() {
        let f8 = DType::parse("<f8").unwrap();
        let src: Vec<u8> = [1.0f64, 2.0, 2.5, f64::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let e = fast(&src, f8, DType::parse("<i4").unwrap(), CastMode::Safe).unwrap_err();
        assert_eq!(
            e,
            Unfit {
                position: 2,
                value: "2.5".into()
            }
        );
        let big: Vec<u8> = [1.0f64, 1e300]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let e = fast(&big, f8, DType::parse("<f4").unwrap(), CastMode::Safe).unwrap_err();
        assert_eq!(e.position, 1);
        // narrowing that only rounds is fine
        assert!(fast(&src[..16], f8, DType::parse("<f2").unwrap(), CastMode::Safe).is_ok());
    }

    proptest! {
        #[test]
        fn fast_equals_naive_for_random_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..3000),
            from in 0usize..28, to in 0usize..28, safe in any::<bool>(),
        ) {
            let dtypes = all_dtypes();
            let (from, to) = (dtypes[from], dtypes[to]);
            let n = bytes.len() / from.itemsize() * from.itemsize();
            let mode = if safe { CastMode::Safe } else { CastMode::Unsafe };
            let a = fast(&bytes[..n], from, to, mode);
            let b = cast_naive(&bytes[..n], from, to, mode);
            // NaN payloads may differ in bits; compare NaN-insensitively via the naive reader
            match (&a, &b) {
                (Ok(x), Ok(y)) if x != y => {
                    let same = x.chunks(to.itemsize()).zip(y.chunks(to.itemsize())).all(|(p, q)| {
                        p == q || (value_text(p, to, 0).contains("nan") && value_text(q, to, 0).contains("nan"))
                    });
                    prop_assert!(same, "{} -> {}", from, to);
                }
                _ => prop_assert_eq!(a.is_ok(), b.is_ok(), "{} -> {}", from, to),
            }
            if let (Err(x), Err(y)) = (&a, &b) {
                prop_assert_eq!(x.position, y.position);
            }
        }
    }
}
