//! The snapshot body as stored: insta's normalisation, shared by the file format
//! ([`super::format`]) and the header's summary of the samples ([`super::info`]) so that
//! neither has to import the other.

/// insta's body normalisation: trailing whitespace trimmed, CRLF → LF. Also applied to
/// `\r\r\n` and the like until no CRLF is left, so the text reads back exactly as stored.
pub fn normalize_body(text: &str) -> String {
    let mut s = text.trim_end().to_string();
    while s.contains("\r\n") {
        s = s.replace("\r\n", "\n");
    }
    s
}
