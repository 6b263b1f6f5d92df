//! The content to sign (`alipayplus-apis.md` §3).

use aws_lc_rs::digest::{Context, Digest, SHA256};

/// The bytes that are signed:
/// `<METHOD> <path_and_query>\n<client_id>.<time>.<body bytes>`.
///
/// For a response the method and path are the request's, the client id and time the response's
/// headers. Every part is used exactly as it is (or was) on the wire: the body is never
/// re-serialized and the time never re-formatted.
pub fn content_to_sign(
    method: &str,
    path_and_query: &str,
    client_id: &str,
    time: &str,
    body: &[u8],
) -> Vec<u8> {
    let parts = parts(
        method.as_bytes(),
        path_and_query.as_bytes(),
        client_id.as_bytes(),
        time.as_bytes(),
        body,
    );
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// SHA-256 of [`content_to_sign`], without copying the body: what verification hashes.
pub(crate) fn content_digest(
    method: &[u8],
    path_and_query: &[u8],
    client_id: &[u8],
    time: &[u8],
    body: &[u8],
) -> Digest {
    let mut hasher = Context::new(&SHA256);
    for part in parts(method, path_and_query, client_id, time, body) {
        hasher.update(part);
    }
    hasher.finish()
}

/// The content as its pieces, in order, so building and hashing cannot drift apart.
fn parts<'a>(
    method: &'a [u8],
    path_and_query: &'a [u8],
    client_id: &'a [u8],
    time: &'a [u8],
    body: &'a [u8],
) -> [&'a [u8]; 9] {
    [
        method,
        b" ",
        path_and_query,
        b"\n",
        client_id,
        b".",
        time,
        b".",
        body,
    ]
}
