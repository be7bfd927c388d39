//! AWS event-stream framing (`application/vnd.amazon.eventstream`) for Bedrock
//! ConverseStream and InvokeModelWithResponseStream, plus the base64 the latter needs.
//!
//! Frame: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes, headers,
//! payload, CRC32 of everything before it. A header is name length (u8), name, type (u8,
//! 7 = string), value length (u16 BE), value. Written by hand from the format description
//! (PROTOCOLS.md §4.3) and checked by the decoder in the tests; not checked against an AWS SDK.

/// CRC-32 (IEEE 802.3, reflected, as zlib).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            #[allow(clippy::cast_possible_truncation)]
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for &b in data {
        c = TABLE[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

/// One event-stream message with string headers.
pub(crate) fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        #[allow(clippy::cast_possible_truncation)]
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        #[allow(clippy::cast_possible_truncation)]
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    #[allow(clippy::cast_possible_truncation)]
    out.extend_from_slice(&(total as u32).to_be_bytes());
    #[allow(clippy::cast_possible_truncation)]
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// An `event` message (`:event-type` = `event_type`, JSON payload).
pub(crate) fn event(event_type: &str, payload: &[u8]) -> Vec<u8> {
    frame(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

/// Standard base64 with padding.
pub(crate) fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// One decoded event-stream message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage {
    /// String headers (`:event-type`, `:message-type`, `:content-type`…), in order.
    pub headers: Vec<(String, String)>,
    /// The payload (JSON for Bedrock).
    pub payload: Vec<u8>,
}

impl EventMessage {
    /// A header's value.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `:event-type` (`messageStart`, `contentBlockDelta`, `chunk`…).
    #[must_use]
    pub fn event_type(&self) -> Option<&str> {
        self.header(":event-type")
    }
}

/// Decodes a buffer of frames, checking both CRCs.
pub(crate) fn decode(mut buf: &[u8]) -> Result<Vec<EventMessage>, String> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        if buf.len() < 16 {
            return Err("short frame".into());
        }
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let total = be(&buf[0..4]);
        let hlen = be(&buf[4..8]);
        if total > buf.len() || total < 16 + hlen {
            return Err(format!("bad lengths {total}/{hlen}"));
        }
        if crc32(&buf[..8]) as usize != be(&buf[8..12]) {
            return Err("prelude crc".into());
        }
        if crc32(&buf[..total - 4]) as usize != be(&buf[total - 4..total]) {
            return Err("message crc".into());
        }
        let mut h = &buf[12..12 + hlen];
        let mut headers = Vec::new();
        while !h.is_empty() {
            let nl = h[0] as usize;
            let name = String::from_utf8_lossy(&h[1..=nl]).into_owned();
            if h[1 + nl] != 7 {
                return Err("non-string header".into());
            }
            let vl = u16::from_be_bytes([h[2 + nl], h[3 + nl]]) as usize;
            let value = String::from_utf8_lossy(&h[4 + nl..4 + nl + vl]).into_owned();
            headers.push((name, value));
            h = &h[4 + nl + vl..];
        }
        out.push(EventMessage {
            headers,
            payload: buf[12 + hlen..total - 4].to_vec(),
        });
        buf = &buf[total..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base64_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn frames_round_trip() {
        let mut buf = event("messageStart", br#"{"role":"assistant"}"#);
        buf.extend(event("messageStop", br#"{"stopReason":"end_turn"}"#));
        let d = decode(&buf).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].event_type(), Some("messageStart"));
        assert_eq!(d[1].payload, br#"{"stopReason":"end_turn"}"#);
        // An empty frame has the well-known prelude CRC of 16 zero-header bytes.
        let empty = frame(&[], b"");
        assert_eq!(empty.len(), 16);
        buf[20] ^= 1;
        assert!(decode(&buf).is_err());
    }
}
