//! Keeping host-bound secrets out of responses: a bound host that echoes a
//! request (or returns the token in an error message) must not hand the
//! real value to the guest, so every occurrence of it in the response's
//! headers and body is replaced by its placeholder again.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::HeaderValue;
use http_body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::{Error, WasiBody};

/// (placeholder, real value) pairs, values non-empty.
pub(crate) type Pairs = Vec<(String, String)>;

/// `response` with every secret value replaced by its placeholder.
pub(crate) fn redact_response(
    mut response: http::Response<WasiBody>,
    pairs: Pairs,
) -> http::Response<WasiBody> {
    let pairs: Pairs = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    if pairs.is_empty() {
        return response;
    }
    for value in response.headers_mut().values_mut() {
        let (out, changed) = replace_values(value.as_bytes(), &pairs, true);
        if changed && let Ok(v) = HeaderValue::from_bytes(&out) {
            *value = v;
        }
    }
    // The body's length may change.
    response.headers_mut().remove(http::header::CONTENT_LENGTH);
    response.map(|inner| {
        http_body_util::BodyExt::boxed_unsync(RedactBody {
            inner,
            pairs,
            carry: Vec::new(),
            queued: VecDeque::new(),
            done: false,
        })
    })
}

/// Replaces each value in `bytes` by its placeholder. With `complete`
/// false, a tail that could be the start of a value is left out of the
/// output. Returns the output, whether anything changed, and where the
/// left-out tail starts.
fn scan(bytes: &[u8], pairs: &Pairs, complete: bool) -> (Vec<u8>, bool, usize) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    'outer: while i < bytes.len() {
        for (placeholder, value) in pairs {
            if bytes[i..].starts_with(value.as_bytes()) {
                out.extend_from_slice(placeholder.as_bytes());
                i += value.len();
                changed = true;
                continue 'outer;
            }
        }
        let rest = &bytes[i..];
        if !complete
            && pairs
                .iter()
                .any(|(_, v)| rest.len() < v.len() && v.as_bytes().starts_with(rest))
        {
            break;
        }
        out.push(bytes[i]);
        i += 1;
    }
    (out, changed, i)
}

fn replace_values(bytes: &[u8], pairs: &Pairs, complete: bool) -> (Vec<u8>, bool) {
    let (out, changed, _) = scan(bytes, pairs, complete);
    (out, changed)
}

/// A body with the secret values replaced, across chunk boundaries.
struct RedactBody {
    inner: WasiBody,
    pairs: Pairs,
    /// The end of the last chunk that may start a value.
    carry: Vec<u8>,
    /// Frames ready to hand out.
    queued: VecDeque<Frame<Bytes>>,
    done: bool,
}

impl Body for RedactBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        loop {
            if let Some(frame) = self.queued.pop_front() {
                return Poll::Ready(Some(Ok(frame)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        let mut buf = std::mem::take(&mut self.carry);
                        buf.extend_from_slice(&data);
                        let (out, _, kept) = scan(&buf, &self.pairs, false);
                        self.carry = buf[kept..].to_vec();
                        if !out.is_empty() {
                            self.queued.push_back(Frame::data(Bytes::from(out)));
                        }
                    }
                    Err(other) => {
                        let carry = std::mem::take(&mut self.carry);
                        if !carry.is_empty() {
                            self.queued.push_back(Frame::data(Bytes::from(carry)));
                        }
                        self.queued.push_back(other);
                    }
                },
                Poll::Ready(None) => {
                    self.done = true;
                    let carry = std::mem::take(&mut self.carry);
                    if !carry.is_empty() {
                        let (out, _) = replace_values(&carry, &self.pairs, true);
                        self.queued.push_back(Frame::data(Bytes::from(out)));
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.queued.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs() -> Pairs {
        vec![("PH".into(), "secret".into())]
    }

    #[test]
    fn values_are_replaced_across_chunks() {
        let p = pairs();
        let (out, changed, kept) = scan(b"a secret b sec", &p, false);
        assert!(changed);
        assert_eq!(out, b"a PH b ");
        assert_eq!(kept, 11);
        let (out, _, kept) = scan(b"secret tail", &p, false);
        assert_eq!(out, b"PH tail");
        assert_eq!(kept, 11);
        assert_eq!(replace_values(b"sec", &p, true).0, b"sec");
    }

    /// A body made of the given chunks.
    struct Chunks(VecDeque<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = Error;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test]
    async fn a_split_value_is_redacted() {
        use http_body_util::BodyExt;
        let chunks = ["token=sec", "ret; again secret", " end se"]
            .into_iter()
            .map(|s: &'static str| Bytes::from_static(s.as_bytes()))
            .collect();
        let response = http::Response::builder()
            .header("x-echo", "Bearer secret")
            .body(Chunks(chunks).boxed_unsync())
            .unwrap();
        let response = redact_response(response, pairs());
        assert_eq!(response.headers()["x-echo"], "Bearer PH");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"token=PH; again PH end se");
    }
}
