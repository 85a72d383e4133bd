//! The protobuf wire format, written by hand: varints, field keys, and fields of each wire type.
//! The protobuf exposition (`exposition::protobuf`) and remote write (`remote`) both encode a
//! handful of fixed messages with these, so the binary needs no protobuf runtime or generated code.

/// The wire type of varint fields (integers, enums, booleans).
pub const VARINT: u8 = 0;
/// The wire type of 64-bit fields (`double`, `fixed64`).
pub const FIXED64: u8 = 1;
/// The wire type of length-delimited fields (strings, bytes, messages).
pub const LENGTH: u8 = 2;

/// A field's key: its number and wire type.
pub fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
    varint(out, u64::from(field) << 3 | u64::from(wire));
}

/// An unsigned varint.
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// How many bytes [`varint`] writes for `v`.
pub fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// A varint field (`int64` and `uint64` alike; a negative `int64` is its two's complement).
pub fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, VARINT);
    varint(out, v);
}

/// A `sint32` or `sint64` field: zigzag-encoded.
pub fn sint_field(out: &mut Vec<u8>, field: u32, v: i64) {
    key(out, field, VARINT);
    varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// A `double` field.
pub fn double_field(out: &mut Vec<u8>, field: u32, v: f64) {
    key(out, field, FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

/// A length-delimited field holding `bytes` (a string, bytes, or an encoded message).
pub fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, LENGTH);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_are_protobufs() {
        let encoded = |v: u64| {
            let mut out = Vec::new();
            varint(&mut out, v);
            out
        };
        assert_eq!(encoded(1), [1]);
        assert_eq!(encoded(300), [0xac, 0x02]);
        assert_eq!(encoded(u64::MAX).len(), 10);
        for v in [0, 1, 127, 128, 300, 16_383, 16_384, u64::MAX] {
            assert_eq!(varint_len(v), encoded(v).len(), "{v}");
        }
        let zigzag = |v: i64| {
            let mut out = Vec::new();
            sint_field(&mut out, 1, v);
            out[1..].to_vec()
        };
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)], [[0], [1], [2], [3]]);
    }
}
