//! The one pickle mmnpy speaks: the `info` file of a Dask npy-stack, a dict
//! `{'chunks': ((r0, r1, ...), (c,), ...), 'dtype': numpy.dtype('<f8'), 'axis': 0}`.
//!
//! [`read_info`] is a restricted reader, not an unpickler: it runs a tiny stack machine over
//! the few opcodes that shape of data needs (protocols 2 to 5), knows exactly one global
//! (`numpy.dtype`), lets `REDUCE` call nothing but that and `BUILD` set nothing but a dtype's
//! byte order. Anything else (another global, a reduce on anything else, deep nesting, memo
//! tricks that blow up the size) is an error, never code execution. It works on bytes only,
//! so it can be fuzzed. [`write_info`] produces the very bytes CPython's `pickle.dump` writes
//! (protocol 4) for the same dict.

use std::rc::Rc;

use crate::dtype::{ByteOrder, DType};
use crate::error::{Error, Result};

/// What an npy-stack `info` file says: the chunk sizes along each axis, the dtype and the
/// axis the stack is split along.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackInfo {
    /// Chunk sizes along every axis (Dask's `chunks`): `chunks[axis]` lists the shards' lengths,
    /// the other axes have one chunk each, their full length.
    pub chunks: Vec<Vec<u64>>,
    /// The element type.
    pub dtype: DType,
    /// The axis the shards are stacked along.
    pub axis: usize,
}

impl StackInfo {
    /// The logical shape: the sum of the chunk sizes along each axis.
    pub fn shape(&self) -> Vec<u64> {
        self.chunks.iter().map(|c| c.iter().sum()).collect()
    }
}

/// Largest `info` file accepted (a stack of millions of shards stays far below it).
pub const MAX_INFO_BYTES: usize = 64 << 20;
/// Deepest nesting of tuples accepted (`chunks` needs 2).
const MAX_DEPTH: usize = 4;
/// Most values a tuple may hold, counting nested ones (memo references count in full, so a
/// "billion laughs" of shared tuples is refused before it is walked).
const MAX_NODES: usize = 1 << 24;
/// Most MARKs open at once (the dict's and a tuple's inside it are needed).
const MAX_MARKS: usize = 4;
/// Most memo entries.
const MAX_MEMO: usize = 1 << 24;

#[derive(Debug)]
enum Value {
    None,
    Bool(bool),
    Int(i128),
    Str(String),
    Tuple {
        items: Vec<Rc<Value>>,
        nodes: usize,
        depth: usize,
    },
    Dict(Vec<(Rc<Value>, Rc<Value>)>),
    /// The global `numpy.dtype`.
    DTypeClass,
    /// `numpy.dtype(name, False, True)` before and after `BUILD` set its byte order.
    DType {
        name: String,
        order: Option<char>,
    },
    Mark,
}

impl Value {
    fn nodes(&self) -> usize {
        match self {
            Value::Tuple { nodes, .. } => *nodes,
            _ => 1,
        }
    }
    fn depth(&self) -> usize {
        match self {
            Value::Tuple { depth, .. } => *depth,
            _ => 0,
        }
    }
    fn what(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "a bool",
            Value::Int(_) => "an int",
            Value::Str(_) => "a str",
            Value::Tuple { .. } => "a tuple",
            Value::Dict(_) => "a dict",
            Value::DTypeClass => "numpy.dtype",
            Value::DType { .. } => "a dtype",
            Value::Mark => "a mark",
        }
    }
}

fn bad(msg: impl std::fmt::Display) -> Error {
    Error::invalid(format!("npy-stack info: {msg}"))
}

fn tuple(items: Vec<Rc<Value>>) -> Result<Value> {
    let nodes = items
        .iter()
        .try_fold(1usize, |n, v| n.checked_add(v.nodes()))
        .filter(|&n| n <= MAX_NODES)
        .ok_or_else(|| bad("pickle is too large once expanded"))?;
    let depth = 1 + items.iter().map(|v| v.depth()).max().unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(bad("pickle nests tuples too deeply"));
    }
    Ok(Value::Tuple {
        items,
        nodes,
        depth,
    })
}

/// A cursor over the pickle bytes.
struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad(format!("pickle ends early at byte {}", self.pos)))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().unwrap_or_default(),
        ))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().unwrap_or_default(),
        ))
    }
    fn str(&mut self, n: usize) -> Result<String> {
        let at = self.pos;
        let raw = self.take(n)?;
        String::from_utf8(raw.to_vec()).map_err(|_| bad(format!("invalid UTF-8 at byte {at}")))
    }
    fn line(&mut self) -> Result<String> {
        let rest = &self.bytes[self.pos..];
        let n = memchr::memchr(b'\n', rest).ok_or_else(|| bad("unterminated GLOBAL"))?;
        let s = self.str(n)?;
        self.pos += 1;
        Ok(s)
    }
}

/// Parse an npy-stack `info` pickle. Only the dict Dask writes is accepted: keys `chunks`,
/// `dtype` and `axis`, a `numpy.dtype` of a supported numeric type, non-negative chunk sizes.
pub fn read_info(bytes: &[u8]) -> Result<StackInfo> {
    if bytes.len() > MAX_INFO_BYTES {
        return Err(bad(format!(
            "{} bytes is larger than the {MAX_INFO_BYTES}-byte limit",
            bytes.len()
        )));
    }
    let value = run(bytes)?;
    interpret(&value)
}

/// The stack machine: returns the value left by `STOP`.
fn run(bytes: &[u8]) -> Result<Rc<Value>> {
    let mut input = Input { bytes, pos: 0 };
    let mut stack: Vec<Rc<Value>> = Vec::new();
    let mut memo: Vec<Option<Rc<Value>>> = Vec::new();
    // Open MARKs on the stack: every op that pops one (`t`, `u`) closes it, every other op
    // that meets one fails.
    let mut marks = 0usize;
    let pop = |stack: &mut Vec<Rc<Value>>| stack.pop().ok_or_else(|| bad("stack underflow"));
    // Everything above the topmost mark, and the mark removed.
    let pop_mark = |stack: &mut Vec<Rc<Value>>| -> Result<Vec<Rc<Value>>> {
        let at = stack
            .iter()
            .rposition(|v| matches!(**v, Value::Mark))
            .ok_or_else(|| bad("no MARK on the stack"))?;
        let items = stack.split_off(at + 1);
        stack.pop();
        Ok(items)
    };
    let push_memo = |memo: &mut Vec<Option<Rc<Value>>>, index: usize, v: Rc<Value>| {
        if index >= MAX_MEMO {
            return Err(bad("memo index too large"));
        }
        if index >= memo.len() {
            memo.resize(index + 1, None);
        }
        memo[index] = Some(v);
        Ok(())
    };
    let get_memo = |memo: &Vec<Option<Rc<Value>>>, index: usize| {
        memo.get(index)
            .cloned()
            .flatten()
            .ok_or_else(|| bad(format!("memo entry {index} is not defined")))
    };
    loop {
        let at = input.pos;
        let op = input.u8()?;
        match op {
            0x80 => {
                let proto = input.u8()?;
                if !(2..=5).contains(&proto) {
                    return Err(bad(format!("pickle protocol {proto} is not supported")));
                }
            }
            0x95 => {
                // FRAME: a length hint only.
                input.u64()?;
            }
            b'.' => {
                let top = pop(&mut stack)?;
                if !stack.is_empty() {
                    return Err(bad("values left on the stack at STOP"));
                }
                return Ok(top);
            }
            b'(' => {
                marks += 1;
                if marks > MAX_MARKS {
                    return Err(bad("pickle nests too deep"));
                }
                stack.push(Rc::new(Value::Mark));
            }
            b'N' => stack.push(Rc::new(Value::None)),
            0x88 => stack.push(Rc::new(Value::Bool(true))),
            0x89 => stack.push(Rc::new(Value::Bool(false))),
            b'K' => {
                let v = input.u8()?;
                stack.push(Rc::new(Value::Int(v.into())));
            }
            b'M' => {
                let v = input.u16()?;
                stack.push(Rc::new(Value::Int(v.into())));
            }
            b'J' => {
                let v = input.u32()? as i32;
                stack.push(Rc::new(Value::Int(v.into())));
            }
            0x8a => {
                // LONG1: little-endian two's complement of n bytes; chunk sizes fit in 8.
                let n = input.u8()? as usize;
                if n > 8 {
                    return Err(bad(format!(
                        "integer of {n} bytes at byte {at} is too large"
                    )));
                }
                let raw = input.take(n)?;
                let mut buf = if raw.last().is_some_and(|b| b & 0x80 != 0) {
                    [0xffu8; 16]
                } else {
                    [0u8; 16]
                };
                buf[..n].copy_from_slice(raw);
                stack.push(Rc::new(Value::Int(i128::from_le_bytes(buf))));
            }
            0x8c => {
                let n = input.u8()? as usize;
                stack.push(Rc::new(Value::Str(input.str(n)?)));
            }
            b'X' => {
                let n = input.u32()? as usize;
                stack.push(Rc::new(Value::Str(input.str(n)?)));
            }
            b')' => stack.push(Rc::new(tuple(Vec::new())?)),
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err(bad("stack underflow"));
                }
                let items = stack.split_off(stack.len() - n);
                if items.iter().any(|v| matches!(**v, Value::Mark)) {
                    return Err(bad(format!("MARK inside a tuple at byte {at}")));
                }
                stack.push(Rc::new(tuple(items)?));
            }
            b't' => {
                let items = pop_mark(&mut stack)?;
                marks = marks.saturating_sub(1);
                stack.push(Rc::new(tuple(items)?));
            }
            b'}' => stack.push(Rc::new(Value::Dict(Vec::new()))),
            b's' | b'u' => {
                let items = if op == b's' {
                    if stack.len() < 2 {
                        return Err(bad("stack underflow"));
                    }
                    stack.split_off(stack.len() - 2)
                } else {
                    // Pop first: SETITEMS without a MARK is an error, not an underflow
                    // (found by the npy_stack_info fuzz target).
                    let items = pop_mark(&mut stack)?;
                    marks = marks.saturating_sub(1);
                    items
                };
                if items.iter().any(|v| matches!(**v, Value::Mark)) {
                    return Err(bad(format!("MARK inside dict items at byte {at}")));
                }
                if items.len() % 2 != 0 {
                    return Err(bad(format!("odd number of dict items at byte {at}")));
                }
                let dict = pop(&mut stack)?;
                let Value::Dict(entries) = &*dict else {
                    return Err(bad(format!("SETITEMS on {} at byte {at}", dict.what())));
                };
                let mut entries = entries.clone();
                if entries.len() + items.len() / 2 > 16 {
                    return Err(bad("dict has too many items"));
                }
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    entries.push((k, v));
                }
                stack.push(Rc::new(Value::Dict(entries)));
            }
            0x94 => {
                let top = stack
                    .last()
                    .cloned()
                    .ok_or_else(|| bad("stack underflow"))?;
                let next = memo.len();
                push_memo(&mut memo, next, top)?;
            }
            b'q' | b'r' => {
                let index = if op == b'q' {
                    input.u8()? as usize
                } else {
                    input.u32()? as usize
                };
                let top = stack
                    .last()
                    .cloned()
                    .ok_or_else(|| bad("stack underflow"))?;
                push_memo(&mut memo, index, top)?;
            }
            b'h' | b'j' => {
                let index = if op == b'h' {
                    input.u8()? as usize
                } else {
                    input.u32()? as usize
                };
                stack.push(get_memo(&memo, index)?);
            }
            0x93 | b'c' => {
                let (module, name) = if op == b'c' {
                    (input.line()?, input.line()?)
                } else {
                    let name = pop(&mut stack)?;
                    let module = pop(&mut stack)?;
                    match (&*module, &*name) {
                        (Value::Str(m), Value::Str(n)) => (m.clone(), n.clone()),
                        _ => return Err(bad(format!("STACK_GLOBAL of non-strings at byte {at}"))),
                    }
                };
                if module != "numpy" || name != "dtype" {
                    return Err(bad(format!(
                        "refusing global {module}.{name} at byte {at} (only numpy.dtype is allowed)"
                    )));
                }
                stack.push(Rc::new(Value::DTypeClass));
            }
            b'R' => {
                let args = pop(&mut stack)?;
                let callable = pop(&mut stack)?;
                if !matches!(*callable, Value::DTypeClass) {
                    return Err(bad(format!(
                        "refusing to call {} at byte {at}",
                        callable.what()
                    )));
                }
                let name = match &*args {
                    Value::Tuple { items, .. } => match items.as_slice() {
                        [name, align, copy]
                            if matches!(**align, Value::Bool(false))
                                && matches!(**copy, Value::Bool(true)) =>
                        {
                            match &**name {
                                Value::Str(s) => s.clone(),
                                _ => return Err(bad("numpy.dtype name is not a str")),
                            }
                        }
                        _ => return Err(bad("unexpected numpy.dtype arguments")),
                    },
                    _ => return Err(bad("unexpected numpy.dtype arguments")),
                };
                stack.push(Rc::new(Value::DType { name, order: None }));
            }
            b'b' => {
                let state = pop(&mut stack)?;
                let target = pop(&mut stack)?;
                let Value::DType { name, order: None } = &*target else {
                    return Err(bad(format!(
                        "refusing BUILD on {} at byte {at}",
                        target.what()
                    )));
                };
                let order = dtype_state_order(&state)?;
                stack.push(Rc::new(Value::DType {
                    name: name.clone(),
                    order: Some(order),
                }));
            }
            other => {
                return Err(bad(format!(
                    "opcode 0x{other:02x} at byte {at} is not allowed in an npy-stack info file"
                )));
            }
        }
        if stack.len() > MAX_NODES {
            return Err(bad("pickle stack too large"));
        }
    }
}

/// The byte-order character of numpy's dtype state `(3, '<', None, None, None, -1, -1, 0)`
/// (no subarray, no fields, no names: a plain numeric dtype).
fn dtype_state_order(state: &Value) -> Result<char> {
    let Value::Tuple { items, .. } = state else {
        return Err(bad("dtype state is not a tuple"));
    };
    let refuse = || bad("dtype state describes a structured or unusual dtype");
    match items.iter().map(|v| &**v).collect::<Vec<_>>().as_slice() {
        [
            Value::Int(3 | 4),
            Value::Str(order),
            Value::None,
            Value::None,
            Value::None,
            Value::Int(_),
            Value::Int(_),
            Value::Int(0),
            ..,
        ] if items.len() <= 9 => {
            let mut chars = order.chars();
            match (chars.next(), chars.next()) {
                (Some(c @ ('<' | '>' | '|' | '=')), None) => Ok(c),
                _ => Err(refuse()),
            }
        }
        _ => Err(refuse()),
    }
}

fn interpret(value: &Value) -> Result<StackInfo> {
    let Value::Dict(entries) = value else {
        return Err(bad(format!("expected a dict, found {}", value.what())));
    };
    let (mut chunks, mut dtype, mut axis) = (None, None, None);
    for (key, v) in entries {
        let Value::Str(key) = &**key else {
            return Err(bad("dict key is not a str"));
        };
        match key.as_str() {
            "chunks" => chunks = Some(chunk_sizes(v)?),
            "dtype" => dtype = Some(dtype_of(v)?),
            "axis" => match **v {
                Value::Int(a) if a >= 0 => axis = Some(a),
                _ => return Err(bad("axis is not a non-negative int")),
            },
            other => return Err(bad(format!("unexpected key {other:?}"))),
        }
    }
    let chunks = chunks.ok_or_else(|| bad("no 'chunks' entry"))?;
    let dtype = dtype.ok_or_else(|| bad("no 'dtype' entry"))?;
    let axis = axis.ok_or_else(|| bad("no 'axis' entry"))?;
    if axis >= chunks.len() as i128 {
        return Err(bad(format!(
            "axis {axis} is out of bounds for {} dimensions",
            chunks.len()
        )));
    }
    // The logical shape and byte count must be representable: `StackInfo::shape` sums the
    // chunk sizes, and a hostile `info` could list sizes whose sum overflows.
    let mut bytes = dtype.itemsize() as u64;
    for sizes in &chunks {
        let len = sizes
            .iter()
            .try_fold(0u64, |total, &n| total.checked_add(n))
            .ok_or_else(|| bad("the chunk sizes overflow"))?;
        bytes = bytes
            .checked_mul(len)
            .ok_or_else(|| bad("the array's size overflows"))?;
    }
    Ok(StackInfo {
        chunks,
        dtype,
        axis: axis as usize,
    })
}

fn chunk_sizes(v: &Value) -> Result<Vec<Vec<u64>>> {
    let not = || bad("chunks is not a tuple of tuples of sizes");
    let Value::Tuple { items, .. } = v else {
        return Err(not());
    };
    items
        .iter()
        .map(|axis| match &**axis {
            Value::Tuple { items, .. } => items
                .iter()
                .map(|n| match **n {
                    Value::Int(n) => u64::try_from(n).map_err(|_| not()),
                    _ => Err(not()),
                })
                .collect(),
            _ => Err(not()),
        })
        .collect()
}

fn dtype_of(v: &Value) -> Result<DType> {
    let Value::DType {
        name,
        order: Some(order),
    } = v
    else {
        return Err(bad(format!("dtype is {}, not a numpy.dtype", v.what())));
    };
    DType::parse(&format!("{order}{name}")).map_err(bad)
}

/// The `info` pickle Dask's `to_npy_stack` writes for `info`: byte for byte what CPython's
/// `pickle.dump` (protocol 4, the default of Python 3.8 to 3.13) produces.
pub fn write_info(info: &StackInfo) -> Vec<u8> {
    let mut w = Writer::default();
    w.frame.push(0x7d); // EMPTY_DICT
    w.memoize();
    w.frame.push(b'(');
    w.str("chunks");
    w.boundary();
    let chunks: Vec<Vec<i128>> = info
        .chunks
        .iter()
        .map(|c| c.iter().map(|&n| n as i128).collect())
        .collect();
    w.tuple(chunks.len(), |w, i| w.int_tuple(&chunks[i]));
    w.str("dtype");
    // save_reduce: the global, the args, REDUCE, then the state and BUILD.
    w.boundary();
    w.str("numpy");
    w.str("dtype");
    w.boundary();
    w.frame.push(0x93); // STACK_GLOBAL
    w.memoize();
    let descr = info.dtype.descr();
    let (order, name) = descr.split_at(1);
    let order = match info.dtype.byte_order() {
        ByteOrder::NotApplicable => "|",
        _ => order,
    };
    w.boundary();
    w.frame.extend_from_slice(&[0x8c, name.len() as u8]);
    w.frame.extend_from_slice(name.as_bytes());
    w.memoize();
    w.boundary();
    w.frame.push(0x89); // False
    w.boundary();
    w.frame.push(0x88); // True
    w.frame.push(0x87); // TUPLE3
    w.memoize();
    w.frame.push(b'R');
    w.memoize();
    w.boundary();
    w.frame.push(b'(');
    for (i, item) in [3i128, 0, 0, 0, 0, -1, -1, 0].into_iter().enumerate() {
        w.boundary();
        match i {
            1 => {
                w.frame.extend_from_slice(&[0x8c, 1]);
                w.frame.extend_from_slice(order.as_bytes());
                w.memoize();
            }
            2..=4 => w.frame.push(b'N'),
            _ => w.int(item),
        }
    }
    w.frame.push(b't');
    w.memoize();
    w.frame.push(b'b');
    w.str("axis");
    w.boundary();
    w.int(info.axis as i128);
    w.frame.push(b'u');
    w.frame.push(b'.');
    w.finish()
}

/// CPython's protocol-4 framing: a frame is committed at the start of a value once it holds
/// 64 KiB, and at the end.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
    frame: Vec<u8>,
    memo: u32,
}

impl Writer {
    const FRAME_TARGET: usize = 64 * 1024;

    fn commit(&mut self) {
        if self.frame.len() >= 4 {
            self.out.push(0x95);
            self.out
                .extend_from_slice(&(self.frame.len() as u64).to_le_bytes());
        }
        self.out.append(&mut self.frame);
    }
    fn boundary(&mut self) {
        if self.frame.len() >= Self::FRAME_TARGET {
            self.commit();
        }
    }
    fn memoize(&mut self) {
        self.frame.push(0x94);
        self.memo += 1;
    }
    fn str(&mut self, s: &str) {
        self.boundary();
        self.frame.extend_from_slice(&[0x8c, s.len() as u8]);
        self.frame.extend_from_slice(s.as_bytes());
        self.memoize();
    }
    fn int(&mut self, v: i128) {
        self.boundary();
        if (0..256).contains(&v) {
            self.frame.extend_from_slice(&[b'K', v as u8]);
        } else if (0..65536).contains(&v) {
            self.frame.push(b'M');
            self.frame.extend_from_slice(&(v as u16).to_le_bytes());
        } else if (i32::MIN as i128..=i32::MAX as i128).contains(&v) {
            self.frame.push(b'J');
            self.frame.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            // LONG1: the shortest little-endian two's complement.
            let bytes = v.to_le_bytes();
            let mut n = 16;
            while n > 1 {
                let (last, prev) = (bytes[n - 1], bytes[n - 2]);
                if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
                    n -= 1;
                } else {
                    break;
                }
            }
            self.frame.extend_from_slice(&[0x8a, n as u8]);
            self.frame.extend_from_slice(&bytes[..n]);
        }
    }
    /// A tuple of `n` items, each saved by `item(self, i)`.
    fn tuple(&mut self, n: usize, mut item: impl FnMut(&mut Writer, usize)) {
        self.boundary();
        if n == 0 {
            self.frame.push(b')');
            return;
        }
        if n > 3 {
            self.frame.push(b'(');
        }
        for i in 0..n {
            item(self, i);
        }
        self.frame.push(match n {
            1 => 0x85,
            2 => 0x86,
            3 => 0x87,
            _ => b't',
        });
        self.memoize();
    }
    fn int_tuple(&mut self, values: &[i128]) {
        self.tuple(values.len(), |w, i| w.int(values[i]));
    }
    fn finish(mut self) -> Vec<u8> {
        let mut out = vec![0x80, 4];
        self.commit();
        out.append(&mut self.out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pickle.dumps({'chunks': ((3, 3, 2), (4,)), 'dtype': numpy.dtype('<f8'), 'axis': 0})`
    /// from CPython 3.11 / numpy 2.4.
    const PYTHON: &[u8] = b"\x80\x04\x95c\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x06chunks\x94K\x03K\x03K\x02\x87\x94K\x04\x85\x94\x86\x94\x8c\x05dtype\x94\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94b\x8c\x04axis\x94K\x00u.";

    fn example() -> StackInfo {
        StackInfo {
            chunks: vec![vec![3, 3, 2], vec![4]],
            dtype: DType::parse("<f8").unwrap(),
            axis: 0,
        }
    }

    #[test]
    fn writes_what_python_writes() {
        assert_eq!(write_info(&example()), PYTHON);
    }

    #[test]
    fn reads_what_python_writes() {
        assert_eq!(read_info(PYTHON).unwrap(), example());
    }

    #[test]
    fn round_trips_big_ints_and_many_chunks() {
        let info = StackInfo {
            // Sizes beyond 32 bits (LONG1 in the pickle) whose total still fits in memory
            // sizes: an unrepresentable total is refused (see `refuses_overflowing_sizes`).
            chunks: vec![
                (0..30_000u64)
                    .map(|i| i * 1_000_003)
                    .chain([1 << 40])
                    .collect(),
                vec![7],
            ],
            dtype: DType::parse(">i4").unwrap(),
            axis: 0,
        };
        assert_eq!(read_info(&write_info(&info)).unwrap(), info);
    }

    #[test]
    fn refuses_overflowing_sizes() {
        let info = StackInfo {
            chunks: vec![vec![1 << 40], vec![1 << 40]],
            dtype: DType::parse("<f8").unwrap(),
            axis: 0,
        };
        let err = read_info(&write_info(&info)).unwrap_err().to_string();
        assert!(err.contains("overflows"), "{err}");
    }

    #[test]
    fn refuses_other_globals() {
        let evil = b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x02id\x94\x85\x94R\x94.";
        let err = read_info(evil).unwrap_err().to_string();
        assert!(err.contains("refusing global os.system"), "{err}");
    }

    #[test]
    fn refuses_shared_tuple_bombs() {
        // t0 = (0, 0); t1 = (t0, t0); ... nested 40 deep through the memo.
        let mut p = vec![0x80, 4, b'K', 0, b'K', 0, 0x86, 0x94];
        for i in 0..40u8 {
            p.extend_from_slice(&[b'h', i, b'h', i, 0x86, 0x94]);
        }
        p.push(b'.');
        assert!(read_info(&p).is_err());
    }

    #[test]
    fn never_panics_on_truncations() {
        for n in 0..PYTHON.len() {
            assert!(read_info(&PYTHON[..n]).is_err());
        }
    }
}
