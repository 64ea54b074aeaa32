//! The header names of every request on a connection, as the client spelled them.
//!
//! API Gateway hands templates and the REQUEST authorizer event header names as the
//! client sent them (see `apigw::header_names`). hyper lower-cases names as it parses, and
//! the map in which it can keep the original spellings (`preserve_header_case`,
//! `HeaderCaseMap`) is crate-private in hyper 1 ("there is no way to interact with the
//! original cases", its docs say). So this wrapper, hand-written because no library
//! does it, watches the bytes hyper reads: it parses each request head with `httparse`
//! (the parser hyper itself uses), skips the body by its framing (Content-Length, or
//! chunked), and queues each head's names, so keep-alive and pipelined requests stay in
//! step with hyper's. hyper serves one connection's requests in order, so the server
//! takes the queue's front for each request it dispatches.
//!
//! Anything it cannot follow (a head it cannot parse, a transfer coding other than
//! chunked) stops the record for the rest of the connection: those requests fall back
//! to lower-case names, never to another request's.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// hyper's limit on header lines (`max_headers` defaults to 100); a head with more is
/// refused by hyper anyway.
const MAX_HEADERS: usize = 100;
/// The longest head kept while it is incomplete: hyper's read buffer limit (~400 KiB)
/// rounded up. Past it hyper has refused the request.
const MAX_HEAD_BYTES: usize = 512 * 1024;
/// The longest chunk-size or trailer line followed.
const MAX_LINE_BYTES: usize = 8 * 1024;
/// The most heads queued ahead of hyper (pipelining); past it recording stops.
const MAX_QUEUED: usize = 1024;

/// The header names of one request head, in the order the client sent them (duplicates
/// included), as it spelled them. One string, the names each followed by `\n` (which no
/// header name can contain): a head costs one allocation, not one per header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadNames {
    joined: String,
    count: usize,
}

impl HeadNames {
    /// The names, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        // A byte loop: names are short, and `split_terminator`'s memchr set-up per name
        // cost more than the scan (the gateway walks the names several times a request).
        let mut rest = self.joined.as_str();
        std::iter::from_fn(move || {
            let end = rest.bytes().position(|b| b == b'\n')?;
            let (name, after) = rest.split_at(end);
            rest = &after[1..];
            Some(name)
        })
    }

    /// How many names (header lines).
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the head had no header at all.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

impl<'a> FromIterator<&'a str> for HeadNames {
    /// `names` must be header names (no line break in any).
    fn from_iter<I: IntoIterator<Item = &'a str>>(names: I) -> Self {
        let names = names.into_iter();
        // About the length of a typical header name, so a head rarely grows the string.
        let mut joined = String::with_capacity(names.size_hint().0 * 16);
        let mut count = 0;
        for name in names {
            joined.push_str(name);
            joined.push('\n');
            count += 1;
        }
        HeadNames { joined, count }
    }
}

/// The heads recorded on one connection and not yet taken, shared by the connection's
/// IO and its service.
#[derive(Debug, Clone, Default)]
pub struct Heads(Arc<Mutex<VecDeque<HeadNames>>>);

impl Heads {
    /// The names of the next request's head, if it was recorded.
    pub fn take(&self) -> Option<HeadNames> {
        self.lock().pop_front()
    }

    fn push(&self, names: HeadNames) -> bool {
        let mut queue = self.lock();
        if queue.len() >= MAX_QUEUED {
            return false;
        }
        queue.push_back(names);
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<HeadNames>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where the tracker is in the request stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a head (the incomplete part is in `Tracker::buffer`).
    Head,
    /// This many body bytes to skip.
    Body(u64),
    /// A chunked body.
    Chunk(Chunk),
    /// Not following any more.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// The chunk-size line (in `Tracker::buffer`).
    Size,
    /// This many bytes of chunk data to skip.
    Data(u64),
    /// The line end after a chunk's data.
    DataEnd,
    /// Trailer lines, up to an empty line (the current one in `Tracker::buffer`).
    Trailer,
}

/// Follows the request stream of one connection (pure: bytes in, heads out).
#[derive(Debug)]
pub struct Tracker {
    state: State,
    buffer: Vec<u8>,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            state: State::Head,
            buffer: Vec::new(),
        }
    }
}

impl Tracker {
    /// Follows `bytes`, the next ones read from the connection; calls `head` with each
    /// complete head's names (`false` from it stops the record).
    pub fn feed(&mut self, mut bytes: &[u8], head: &mut impl FnMut(HeadNames) -> bool) {
        while !bytes.is_empty() {
            let used = match self.state {
                State::Stopped => return,
                State::Head => self.head(bytes, head),
                State::Body(left) => {
                    let used = skip(bytes, left);
                    self.state = match left - used as u64 {
                        0 => State::Head,
                        left => State::Body(left),
                    };
                    used
                }
                State::Chunk(chunk) => self.chunk(chunk, bytes),
            };
            bytes = &bytes[used..];
        }
    }

    fn stop(&mut self) {
        self.state = State::Stopped;
        self.buffer = Vec::new();
    }

    /// Reads head bytes; returns how many of `bytes` it used.
    fn head(&mut self, bytes: &[u8], head: &mut impl FnMut(HeadNames) -> bool) -> usize {
        // The common case, a whole head in one read, is parsed without a copy.
        let (parsed, from_buffer) = if self.buffer.is_empty() {
            (parse(bytes), 0)
        } else {
            let before = self.buffer.len();
            self.buffer.extend_from_slice(bytes);
            (parse(&self.buffer), before)
        };
        match parsed {
            Parsed::Partial => {
                if self.buffer.is_empty() {
                    self.buffer.extend_from_slice(bytes);
                }
                if self.buffer.len() > MAX_HEAD_BYTES {
                    self.stop();
                }
                bytes.len()
            }
            Parsed::Invalid => {
                self.stop();
                bytes.len()
            }
            Parsed::Complete { len, names, body } => {
                self.buffer.clear();
                if !head(names) {
                    self.stop();
                    return bytes.len();
                }
                self.state = match body {
                    Framing::None => State::Head,
                    Framing::Length(n) => State::Body(n),
                    Framing::Chunked => State::Chunk(Chunk::Size),
                    Framing::Unknown => State::Stopped,
                };
                // What of this read lies past the head.
                len - from_buffer
            }
        }
    }

    /// Reads chunked-body bytes; returns how many of `bytes` it used.
    fn chunk(&mut self, chunk: Chunk, bytes: &[u8]) -> usize {
        match chunk {
            Chunk::Data(left) => {
                let used = skip(bytes, left);
                self.state = State::Chunk(match left - used as u64 {
                    0 => Chunk::DataEnd,
                    left => Chunk::Data(left),
                });
                used
            }
            Chunk::DataEnd => match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.state = State::Chunk(Chunk::Size);
                    i + 1
                }
                None => bytes.len(),
            },
            Chunk::Size | Chunk::Trailer => {
                let Some(line) = self.line(bytes) else {
                    return bytes.len();
                };
                let (used, text) = line;
                let next = if chunk == Chunk::Size {
                    // `1a;ext=1`: the size in hex, then any extensions.
                    let size = text.split(|&b| b == b';').next().unwrap_or_default();
                    let size = std::str::from_utf8(size).ok().map(str::trim);
                    match size.and_then(|s| u64::from_str_radix(s, 16).ok()) {
                        Some(0) => State::Chunk(Chunk::Trailer),
                        Some(n) => State::Chunk(Chunk::Data(n)),
                        None => State::Stopped,
                    }
                } else if text.is_empty() {
                    State::Head
                } else {
                    State::Chunk(Chunk::Trailer)
                };
                self.buffer.clear();
                if next == State::Stopped {
                    self.stop();
                } else {
                    self.state = next;
                }
                used
            }
        }
    }

    /// One line (without its CR LF) once complete, and how many of `bytes` it took;
    /// `None` when `bytes` ends inside the line (kept in the buffer).
    fn line(&mut self, bytes: &[u8]) -> Option<(usize, Vec<u8>)> {
        match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.buffer.extend_from_slice(&bytes[..i]);
                let mut line = std::mem::take(&mut self.buffer);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                Some((i + 1, line))
            }
            None => {
                self.buffer.extend_from_slice(bytes);
                if self.buffer.len() > MAX_LINE_BYTES {
                    self.stop();
                }
                None
            }
        }
    }
}

fn skip(bytes: &[u8], left: u64) -> usize {
    usize::try_from(left).map_or(bytes.len(), |left| left.min(bytes.len()))
}

/// How a request's body is framed (RFC 9112, section 6.3).
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    /// A transfer coding other than chunked last: hyper refuses such a request.
    Unknown,
}

enum Parsed {
    Partial,
    Invalid,
    Complete {
        len: usize,
        names: HeadNames,
        body: Framing,
    },
}

fn parse(bytes: &[u8]) -> Parsed {
    // Uninitialised, as hyper does: zeroing 100 headers cost more than parsing a head.
    let mut headers =
        [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut []);
    let len = match request.parse_with_uninit_headers(bytes, &mut headers) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Invalid,
    };
    let mut body = Framing::None;
    let mut chunked = None;
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // The last coding of the last such header decides.
            let last = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .unwrap_or_default();
            chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if header.name.eq_ignore_ascii_case("content-length") {
            match std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                Some(n) => body = Framing::Length(n),
                None => return Parsed::Invalid,
            }
        }
    }
    // Transfer-Encoding overrides Content-Length.
    match chunked {
        Some(true) => body = Framing::Chunked,
        Some(false) => body = Framing::Unknown,
        None => {}
    }
    Parsed::Complete {
        len,
        names: request.headers.iter().map(|h| h.name).collect(),
        body,
    }
}

/// A connection's IO that records each request head's names into [`Heads`].
#[derive(Debug)]
pub struct Recording<S> {
    inner: S,
    tracker: Tracker,
    heads: Heads,
}

impl<S> Recording<S> {
    /// Wraps `inner`; the heads read through it go to the returned [`Heads`] (none
    /// when not `enabled`: the other servers' connections pass through untouched).
    pub fn new(inner: S, enabled: bool) -> (Self, Heads) {
        let heads = Heads::default();
        let mut tracker = Tracker::default();
        if !enabled {
            tracker.stop();
        }
        let recording = Recording {
            inner,
            tracker,
            heads: heads.clone(),
        };
        (recording, heads)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recording<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let heads = &this.heads;
        this.tracker
            .feed(&buf.filled()[before..], &mut |names| heads.push(names));
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recording<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `step` bytes; the heads recorded.
    fn heads(input: &[u8], step: usize) -> Vec<HeadNames> {
        let mut tracker = Tracker::default();
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            tracker.feed(piece, &mut |names| {
                out.push(names);
                true
            });
        }
        out
    }

    fn names(list: &[&str]) -> HeadNames {
        list.iter().copied().collect()
    }

    #[test]
    fn head_names_keep_each_name_and_their_order() {
        let head = names(&["Host", "X-One", "host"]);
        assert_eq!(head.iter().collect::<Vec<_>>(), ["Host", "X-One", "host"]);
        assert_eq!((head.len(), head.is_empty()), (3, false));
        let none = names(&[]);
        assert_eq!(none.iter().count(), 0);
        assert_eq!((none.len(), none.is_empty()), (0, true));
    }

    const STREAM: &[u8] =
        b"POST /a HTTP/1.1\r\nHost: h\r\nX-One: 1\r\nContent-Length: 5\r\n\r\nhello\
GET /b HTTP/1.1\r\nhost: h\r\nx-ONE: 2\r\n\r\n\
POST /c HTTP/1.1\r\nHOST: h\r\nTransfer-Encoding: chunked\r\n\r\n\
4;ext=1\r\nGET \r\n1a\r\n/d HTTP/1.1\r\nX-Fake: 1\r\n\r\n\r\n0\r\nTrailer-A: x\r\n\r\n\
GET /e HTTP/1.1\r\nX-Last: 1\r\n\r\n";

    fn expected() -> Vec<HeadNames> {
        vec![
            names(&["Host", "X-One", "Content-Length"]),
            names(&["host", "x-ONE"]),
            names(&["HOST", "Transfer-Encoding"]),
            names(&["X-Last"]),
        ]
    }

    #[test]
    fn pipelined_heads_are_recorded_in_order_past_length_and_chunked_bodies() {
        // The chunked body holds text that looks like a head: it is skipped as data.
        assert_eq!(heads(STREAM, STREAM.len()), expected());
    }

    #[test]
    fn heads_split_at_any_byte_are_recorded_the_same() {
        for step in [1, 2, 3, 7, 16, 33] {
            assert_eq!(heads(STREAM, step), expected(), "step {step}");
        }
    }

    #[test]
    fn an_unparseable_head_stops_the_record() {
        let input =
            b"GET / HTTP/1.1\r\nA: 1\r\n\r\nNOT A HEAD\r\n\r\nGET / HTTP/1.1\r\nB: 1\r\n\r\n";
        assert_eq!(heads(input, input.len()), vec![names(&["A"])]);
    }

    #[test]
    fn an_unknown_transfer_coding_stops_the_record() {
        let input = b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx\r\n\r\nGET / HTTP/1.1\r\nB: 1\r\n\r\n";
        assert_eq!(
            heads(input, input.len()),
            vec![names(&["Transfer-Encoding"])]
        );
    }

    #[test]
    fn a_full_queue_stops_the_record_without_losing_step() {
        let heads = Heads::default();
        let mut tracker = Tracker::default();
        let one = b"GET / HTTP/1.1\r\nA: 1\r\n\r\n";
        for _ in 0..MAX_QUEUED + 2 {
            tracker.feed(one, &mut |names| heads.push(names));
        }
        assert_eq!(tracker.state, State::Stopped);
        let mut taken = 0;
        while heads.take().is_some() {
            taken += 1;
        }
        assert_eq!(taken, MAX_QUEUED);
    }
}
