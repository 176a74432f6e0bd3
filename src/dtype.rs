//! Element types: the runtime [`DType`] read from a header (scalar type + byte order) and the
//! compile-time [`Element`] trait that ties a Rust type to the descr it is stored as.
//!
//! Only fixed-size numeric types are supported; everything else is refused by name at parse
//! time, so no other module ever sees an unsupported dtype.

use std::fmt;

use half::f16;
use num_complex::Complex;

use crate::error::{Error, ErrorKind, Result};

/// Byte order of a multi-byte element, as the first character of a descr.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `<`
    Little,
    /// `>`
    Big,
    /// `|`: one-byte types, where order means nothing.
    NotApplicable,
}

impl ByteOrder {
    /// The byte order of this machine.
    pub const NATIVE: ByteOrder = if cfg!(target_endian = "little") {
        ByteOrder::Little
    } else {
        ByteOrder::Big
    };

    fn symbol(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }
}

/// The scalar type of an element, without its byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Scalar {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    F32,
    F64,
    C64,
    C128,
}

impl Scalar {
    /// Every supported scalar type, in numpy's usual order.
    pub const ALL: [Scalar; 14] = [
        Scalar::Bool,
        Scalar::I8,
        Scalar::I16,
        Scalar::I32,
        Scalar::I64,
        Scalar::U8,
        Scalar::U16,
        Scalar::U32,
        Scalar::U64,
        Scalar::F16,
        Scalar::F32,
        Scalar::F64,
        Scalar::C64,
        Scalar::C128,
    ];

    /// Size of one element in bytes.
    pub const fn size(self) -> usize {
        match self {
            Scalar::Bool | Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 | Scalar::F16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 | Scalar::C64 => 8,
            Scalar::C128 => 16,
        }
    }

    /// Alignment the Rust element type needs (complex numbers align like their parts).
    pub const fn align(self) -> usize {
        match self {
            Scalar::C64 => 4,
            Scalar::C128 => 8,
            s => s.size(),
        }
    }

    /// numpy's kind character: `b`, `i`, `u`, `f` or `c`.
    pub const fn kind_char(self) -> char {
        match self {
            Scalar::Bool => 'b',
            Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64 => 'i',
            Scalar::U8 | Scalar::U16 | Scalar::U32 | Scalar::U64 => 'u',
            Scalar::F16 | Scalar::F32 | Scalar::F64 => 'f',
            Scalar::C64 | Scalar::C128 => 'c',
        }
    }

    /// numpy's name for the type: `float64`, `int16`, `bool`, `complex64`...
    pub const fn name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I8 => "int8",
            Scalar::I16 => "int16",
            Scalar::I32 => "int32",
            Scalar::I64 => "int64",
            Scalar::U8 => "uint8",
            Scalar::U16 => "uint16",
            Scalar::U32 => "uint32",
            Scalar::U64 => "uint64",
            Scalar::F16 => "float16",
            Scalar::F32 => "float32",
            Scalar::F64 => "float64",
            Scalar::C64 => "complex64",
            Scalar::C128 => "complex128",
        }
    }

    /// True for `f2`, `f4`, `f8`.
    pub const fn is_float(self) -> bool {
        matches!(self, Scalar::F16 | Scalar::F32 | Scalar::F64)
    }

    /// True for `c8`, `c16`.
    pub const fn is_complex(self) -> bool {
        matches!(self, Scalar::C64 | Scalar::C128)
    }

    /// True for signed and unsigned integers (not bool).
    pub const fn is_integer(self) -> bool {
        matches!(self.kind_char(), 'i' | 'u')
    }

    fn from_kind_size(kind: char, size: usize) -> Option<Scalar> {
        Scalar::ALL
            .into_iter()
            .find(|s| s.kind_char() == kind && s.size() == size)
    }
}

/// A runtime dtype: a supported scalar type and its byte order, as read from a header.
///
/// Values of this type only ever describe supported dtypes; one-byte types always carry
/// [`ByteOrder::NotApplicable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DType {
    scalar: Scalar,
    order: ByteOrder,
}

impl DType {
    /// The native-byte-order dtype of a scalar type.
    pub const fn native(scalar: Scalar) -> DType {
        DType::new(scalar, ByteOrder::NATIVE)
    }

    /// A dtype of the given scalar type and byte order (ignored for one-byte types).
    pub const fn new(scalar: Scalar, order: ByteOrder) -> DType {
        let order = if scalar.size() == 1 {
            ByteOrder::NotApplicable
        } else if matches!(order, ByteOrder::NotApplicable) {
            ByteOrder::NATIVE
        } else {
            order
        };
        DType { scalar, order }
    }

    /// Parse a descr as numpy accepts it in a header: `<f8`, `>i4`, `|b1`, `=u2`, `f4` (native),
    /// or a numpy name such as `float64`. Anything unsupported is an error naming it.
    pub fn parse(descr: &str) -> Result<DType> {
        let unsupported = |why: &'static str| {
            Error::new(ErrorKind::UnsupportedDType {
                descr: descr.chars().take(40).collect(),
                why,
            })
        };
        if let Some(s) = Scalar::ALL.into_iter().find(|s| s.name() == descr) {
            return Ok(DType::native(s));
        }
        let (order, rest) = match descr.as_bytes().first() {
            Some(b'<') => (ByteOrder::Little, &descr[1..]),
            Some(b'>') => (ByteOrder::Big, &descr[1..]),
            Some(b'|') => (ByteOrder::NotApplicable, &descr[1..]),
            Some(b'=') => (ByteOrder::NATIVE, &descr[1..]),
            _ => (ByteOrder::NATIVE, descr),
        };
        let mut chars = rest.chars();
        let kind = chars.next().ok_or_else(|| unsupported("empty dtype"))?;
        let digits = chars.as_str();
        match kind {
            'b' | 'i' | 'u' | 'f' | 'c' => {}
            'O' => {
                return Err(unsupported(
                    "object arrays hold Python objects, not numbers",
                ));
            }
            'S' | 'a' | 'U' => return Err(unsupported("string dtypes are not supported")),
            'M' | 'm' => {
                return Err(unsupported(
                    "datetime and timedelta dtypes are not supported",
                ));
            }
            'V' => return Err(unsupported("void and record dtypes are not supported")),
            _ => return Err(unsupported("not a numeric dtype")),
        }
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
            return Err(unsupported("not a numeric dtype"));
        }
        let size: usize = digits
            .parse()
            .map_err(|_| unsupported("not a numeric dtype"))?;
        let scalar = Scalar::from_kind_size(kind, size).ok_or_else(|| match (kind, size) {
            ('f', 12 | 16) => unsupported("long double is platform-specific and not supported"),
            ('c', 24 | 32) => {
                unsupported("complex long double is platform-specific and not supported")
            }
            _ => unsupported("no such numeric type"),
        })?;
        Ok(DType::new(scalar, order))
    }

    /// The scalar type.
    pub const fn scalar(self) -> Scalar {
        self.scalar
    }

    /// The byte order.
    pub const fn byte_order(self) -> ByteOrder {
        self.order
    }

    /// Size of one element in bytes.
    pub const fn itemsize(self) -> usize {
        self.scalar.size()
    }

    /// numpy's name for the type (byte order aside): `float64`, `bool`...
    pub const fn name(self) -> &'static str {
        self.scalar.name()
    }

    /// True when elements can be used in place on this machine.
    pub fn is_native(self) -> bool {
        self.order == ByteOrder::NotApplicable || self.order == ByteOrder::NATIVE
    }

    /// The same scalar type in another byte order.
    pub const fn with_byte_order(self, order: ByteOrder) -> DType {
        DType::new(self.scalar, order)
    }

    /// Parse a value written as text (`1.5`, `-3`, `true`, `nan`, `-inf`, `1+2j`) into the bytes
    /// of one element of this dtype, in this dtype's byte order. Out-of-range integers are
    /// an error naming the value.
    pub fn encode_value(self, text: &str) -> Result<Vec<u8>> {
        let t = text.trim();
        let bad = || Error::invalid(format!("cannot read {t:?} as {}", self.name()));
        fn int<T: TryFrom<i128> + bytemuck::Pod>(t: &str, name: &str) -> Result<Vec<u8>> {
            let wide: i128 = t
                .parse()
                .map_err(|_| Error::invalid(format!("cannot read {t:?} as {name}")))?;
            let v = T::try_from(wide)
                .map_err(|_| Error::invalid(format!("value {t} does not fit in {name}")))?;
            Ok(bytemuck::bytes_of(&v).to_vec())
        }
        let name = self.name();
        let mut bytes = match self.scalar {
            Scalar::Bool => match t {
                "true" | "True" | "1" => vec![1],
                "false" | "False" | "0" => vec![0],
                _ => return Err(bad()),
            },
            Scalar::I8 => int::<i8>(t, name)?,
            Scalar::I16 => int::<i16>(t, name)?,
            Scalar::I32 => int::<i32>(t, name)?,
            Scalar::I64 => int::<i64>(t, name)?,
            Scalar::U8 => int::<u8>(t, name)?,
            Scalar::U16 => int::<u16>(t, name)?,
            Scalar::U32 => int::<u32>(t, name)?,
            Scalar::U64 => int::<u64>(t, name)?,
            Scalar::F16 => {
                let v: f64 = t.parse().map_err(|_| bad())?;
                f16_from_f64(v).to_ne_bytes().to_vec()
            }
            // Through f64, as numpy converts a Python float: parsing straight to f32 rounds
            // differently when the decimal lies near the midpoint of two f32 values.
            Scalar::F32 => (t.parse::<f64>().map_err(|_| bad())? as f32)
                .to_ne_bytes()
                .to_vec(),
            Scalar::F64 => t.parse::<f64>().map_err(|_| bad())?.to_ne_bytes().to_vec(),
            Scalar::C64 | Scalar::C128 => {
                let (re, im) = parse_complex(t).ok_or_else(bad)?;
                if self.scalar == Scalar::C64 {
                    bytemuck::bytes_of(&Complex::new(re as f32, im as f32)).to_vec()
                } else {
                    bytemuck::bytes_of(&Complex::new(re, im)).to_vec()
                }
            }
        };
        if !self.is_native() {
            swap_bytes_in_place(self.scalar, &mut bytes);
        }
        Ok(bytes)
    }

    /// The descr numpy writes for this dtype: `<f8`, `|b1`, `>i2`...
    pub fn descr(self) -> String {
        format!(
            "{}{}{}",
            self.order.symbol(),
            self.scalar.kind_char(),
            self.scalar.size()
        )
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.descr())
    }
}

impl std::str::FromStr for DType {
    type Err = Error;
    fn from_str(s: &str) -> Result<DType> {
        DType::parse(s)
    }
}

/// numpy's `bool`: one byte, stored as 0 or 1.
///
/// Rust's `bool` cannot be used for mapped data: a file byte of 2 would be undefined behaviour,
/// and checking every byte at open would cost a pass over the file (and a writer could change
/// it afterwards). `Bool` accepts any byte and, like numpy, treats every non-zero byte as true.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(transparent)]
pub struct Bool(pub u8);

impl Bool {
    /// The truth value: any non-zero byte is true.
    pub const fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for Bool {
    fn from(b: bool) -> Bool {
        Bool(b as u8)
    }
}

impl From<Bool> for bool {
    fn from(b: Bool) -> bool {
        b.get()
    }
}

impl fmt::Debug for Bool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// A Rust type that can be an element of a typed array: plain old data with a known dtype.
///
/// Implemented for [`Bool`], every integer width, [`half::f16`], `f32`, `f64`,
/// `Complex<f32>` and `Complex<f64>`.
pub trait Element: bytemuck::Pod + Send + Sync + fmt::Debug + PartialEq + 'static {
    /// The scalar type stored in files.
    const SCALAR: Scalar;
    /// The native-byte-order dtype of this element.
    const DTYPE: DType = DType::native(Self::SCALAR);
}

macro_rules! impl_element {
    ($($t:ty => $s:ident),* $(,)?) => {
        $(impl Element for $t { const SCALAR: Scalar = Scalar::$s; })*
    };
}

impl_element!(
    Bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    f16 => F16, f32 => F32, f64 => F64,
    Complex<f32> => C64, Complex<f64> => C128,
);

/// Run generic code for the Rust element type of a runtime [`Scalar`]: inside `body`, the
/// identifier `T` names that type. The one place where runtime dtypes meet generic code.
///
/// ```
/// use mmnpy::{dispatch_scalar, Element, Scalar};
/// let size = dispatch_scalar!(Scalar::F32, T => std::mem::size_of::<T>());
/// assert_eq!(size, 4);
/// ```
#[macro_export]
macro_rules! dispatch_scalar {
    ($scalar:expr, $T:ident => $body:expr) => {{
        use $crate::Scalar as __S;
        match $scalar {
            __S::Bool => {
                type $T = $crate::Bool;
                $body
            }
            __S::I8 => {
                type $T = i8;
                $body
            }
            __S::I16 => {
                type $T = i16;
                $body
            }
            __S::I32 => {
                type $T = i32;
                $body
            }
            __S::I64 => {
                type $T = i64;
                $body
            }
            __S::U8 => {
                type $T = u8;
                $body
            }
            __S::U16 => {
                type $T = u16;
                $body
            }
            __S::U32 => {
                type $T = u32;
                $body
            }
            __S::U64 => {
                type $T = u64;
                $body
            }
            __S::F16 => {
                type $T = $crate::f16;
                $body
            }
            __S::F32 => {
                type $T = f32;
                $body
            }
            __S::F64 => {
                type $T = f64;
                $body
            }
            __S::C64 => {
                type $T = $crate::Complex<f32>;
                $body
            }
            __S::C128 => {
                type $T = $crate::Complex<f64>;
                $body
            }
        }
    }};
}

/// Parse `a`, `bj`, `a+bj`, `a-bj`, optionally in parentheses, as Python writes complex numbers.
pub(crate) fn parse_complex(t: &str) -> Option<(f64, f64)> {
    let t = t.trim().trim_start_matches('(').trim_end_matches(')');
    let Some(body) = t.strip_suffix('j').or_else(|| t.strip_suffix('J')) else {
        return Some((t.parse().ok()?, 0.0));
    };
    // The imaginary part starts at the last sign that is not the first character and does not
    // follow an exponent marker.
    let bytes = body.as_bytes();
    let split = (1..bytes.len())
        .rev()
        .find(|&i| matches!(bytes[i], b'+' | b'-') && !matches!(bytes[i - 1], b'e' | b'E'));
    match split {
        Some(i) => Some((body[..i].parse().ok()?, body[i..].parse().ok()?)),
        None => Some((0.0, body.parse().ok()?)),
    }
}

/// `x` rounded to the nearest `f16`, ties to even: numpy's `astype(float16)` of a float64.
///
/// `half`'s `f16::from_f64` rounds to `f32` first and then to `f16`, and that double rounding
/// is one unit off for values just past halfway between two `f16`: `1 + 2^-11 + 2^-30` gave
/// `1.0` instead of numpy's `1.001`, and `65520 - 2^-30` gave infinity instead of `65504`.
/// Here the first rounding is to odd (toward zero, the last bit set when anything was cut
/// off): with the 13 bits `f32` carries beyond `f16`, the second rounding is then exact.
pub(crate) fn f16_from_f64(x: f64) -> f16 {
    let near = x as f32;
    if !near.is_finite() || f64::from(near) == x {
        // Exact, NaN, or beyond f32's range (and so beyond f16's).
        return f16::from_f32(near);
    }
    let mut bits = near.to_bits();
    if f64::from(near).abs() > x.abs() {
        // Rounded away from zero: one unit back toward zero (the sign bit is apart).
        bits -= 1;
    }
    f16::from_f32(f32::from_bits(bits | 1))
}

/// Reverse the byte order of every element in `bytes` (elements of `scalar`, back to back).
/// Complex numbers swap their two parts separately, as numpy does.
pub fn swap_bytes_in_place(scalar: Scalar, bytes: &mut [u8]) {
    let part = if scalar.is_complex() {
        scalar.size() / 2
    } else {
        scalar.size()
    };
    if part > 1 {
        bytes.chunks_exact_mut(part).for_each(<[u8]>::reverse);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The nearest `f16` to `x` by definition: between the two finite `f16` around `x`,
    /// compared with their midpoint (exact in `f64`), ties to the even one; from the midpoint
    /// of the largest `f16` and the next power of two on, infinity.
    fn nearest_f16(x: f64) -> f16 {
        if x.is_nan() {
            return f16::NAN;
        }
        let magnitude = x.abs();
        let sign = |h: f16| if x.is_sign_negative() { -h } else { h };
        if magnitude >= 65520.0 {
            return sign(f16::INFINITY);
        }
        // The largest non-negative f16 not above the magnitude (bits are ordered like values).
        let below = (0..0x7c00u16)
            .rev()
            .find(|&b| f16::from_bits(b).to_f64() <= magnitude)
            .unwrap_or(0);
        let (a, b) = (f16::from_bits(below), f16::from_bits(below + 1));
        let mid = (a.to_f64() + b.to_f64()) / 2.0;
        let pick = if magnitude < mid || (magnitude == mid && below % 2 == 0) {
            a
        } else {
            b
        };
        sign(pick)
    }

    proptest! {
        #[test]
        fn f16_from_f64_rounds_to_nearest_even(
            bits in 0u16..0x7c00,
            nudge in prop_oneof![Just(0.0), Just(1.0), Just(-1.0), -1.0..1.0f64, -1e6..1e6f64],
            negative in any::<bool>(),
        ) {
            // Around the midpoint of two neighbouring f16, by a few units of f64 (or a
            // millionth of an f16 unit, or more).
            let (a, b) = (f16::from_bits(bits).to_f64(), f16::from_bits(bits + 1).to_f64());
            let mid = (a + b) / 2.0;
            let x = mid + nudge * mid.max(f64::MIN_POSITIVE) * f64::EPSILON * 4.0;
            let x = if negative { -x } else { x };
            prop_assert_eq!(f16_from_f64(x).to_bits(), nearest_f16(x).to_bits(), "{:e}", x);
        }
    }

    #[test]
    fn f16_from_f64_is_not_rounded_twice() {
        // Each just past halfway, where rounding to f32 first lands on the midpoint itself.
        let cases = [
            (1.0 + 2f64.powi(-11) + 2f64.powi(-30), 1.0009765625),
            (2f64.powi(-25) + 2f64.powi(-50), 2f64.powi(-24)),
            (65520.0 - 2f64.powi(-30), 65504.0),
            (-(1.0 + 2f64.powi(-11) + 2f64.powi(-30)), -1.0009765625),
        ];
        for (x, want) in cases {
            assert_eq!(f16_from_f64(x).to_f64(), want, "{x:e}");
        }
        assert!(f16_from_f64(65520.0).is_infinite());
        assert!(f16_from_f64(f64::NAN).is_nan());
        assert_eq!(f16_from_f64(-1e-300).to_bits(), 0x8000);
    }

    #[test]
    fn parses_every_supported_descr_in_every_order() {
        for s in Scalar::ALL {
            for prefix in ["<", ">", "|", "=", ""] {
                let descr = format!("{prefix}{}{}", s.kind_char(), s.size());
                let d = DType::parse(&descr).unwrap();
                assert_eq!(d.scalar(), s, "{descr}");
                if s.size() == 1 {
                    assert_eq!(d.byte_order(), ByteOrder::NotApplicable);
                }
            }
            assert_eq!(DType::parse(s.name()).unwrap(), DType::native(s));
        }
        assert_eq!(DType::parse(">f8").unwrap().descr(), ">f8");
        assert_eq!(DType::parse("<i1").unwrap().descr(), "|i1");
        assert_eq!(DType::parse("=f4").unwrap().descr(), "<f4");
    }

    #[test]
    fn refuses_unsupported_dtypes_by_name() {
        for bad in [
            "|O",
            "<U10",
            "|S5",
            "<M8[ns]",
            "<m8",
            "|V16",
            "<f16",
            "<f12",
            "<c32",
            "<i3",
            "",
            "<",
            "<f",
            "zz",
            "<f8x",
            "<i99999999999",
        ] {
            let e = DType::parse(bad).unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::UnsupportedDType { .. }),
                "{bad}: {e}"
            );
        }
        let e = DType::parse("<f16").unwrap_err().to_string();
        assert!(e.contains("<f16") && e.contains("long double"), "{e}");
    }

    #[test]
    fn encodes_values_in_the_dtype_byte_order() {
        let be = DType::parse(">i4").unwrap();
        assert_eq!(be.encode_value("258").unwrap(), vec![0, 0, 1, 2]);
        assert_eq!(
            DType::parse("<i2").unwrap().encode_value("-2").unwrap(),
            vec![0xfe, 0xff]
        );
        assert!(DType::parse("|u1").unwrap().encode_value("256").is_err());
        assert!(DType::parse("<i8").unwrap().encode_value("1.5").is_err());
        assert_eq!(
            DType::parse("|b1").unwrap().encode_value("True").unwrap(),
            vec![1]
        );
        let c = DType::parse("<c16")
            .unwrap()
            .encode_value("1.5-2e-3j")
            .unwrap();
        let c: Complex<f64> = bytemuck::pod_read_unaligned(&c);
        assert_eq!((c.re, c.im), (1.5, -2e-3));
        assert_eq!(parse_complex("(2j)"), Some((0.0, 2.0)));
        assert_eq!(parse_complex("-3"), Some((-3.0, 0.0)));
        let nan = DType::parse("<f4").unwrap().encode_value("nan").unwrap();
        assert!(f32::from_le_bytes(nan.try_into().unwrap()).is_nan());
    }

    #[test]
    fn element_dtypes_match_their_rust_types() {
        fn check<T: Element>() {
            assert_eq!(std::mem::size_of::<T>(), T::SCALAR.size());
            assert_eq!(std::mem::align_of::<T>(), T::SCALAR.align());
        }
        for s in Scalar::ALL {
            dispatch_scalar!(s, T => check::<T>());
        }
    }
}
