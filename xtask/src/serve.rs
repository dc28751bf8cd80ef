//! The playground's web server: axum with tower-http's `ServeDir` (percent-decoding, path
//! traversal refused, ranges, conditional requests, MIME types from the extension) and
//! response compression (brotli or gzip, as the browser asks), on 127.0.0.1 only.
//!
//! It serves only what the playground needs: `/` (index.html), `/web/`, `/pkg/` and `/docs/`;
//! everything else in the repository (`.git`, `Cargo.toml`, the sources) is a 404. Every
//! response carries the cross-origin isolation headers (`SharedArrayBuffer`, for behaviour
//! cloning split over Web Workers) and a Content-Security-Policy without `unsafe-eval` or
//! inline scripts (`'wasm-unsafe-eval'` is what compiling WebAssembly needs).

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use std::path::PathBuf;
use std::thread::JoinHandle;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The Content-Security-Policy of every response: scripts, styles, workers and fetches from
/// this origin only; WebAssembly may compile; images also from `data:` and `blob:` URLs (the
/// page's favicon, snapshots); no plugins, no `<base>` rewriting, no form posts elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// The directories the playground serves, by URL prefix (the same name under the root).
const SERVED_DIRS: [&str; 3] = ["web", "pkg", "docs"];

/// A running server; it stops when the process exits.
pub struct Server {
    port: u16,
    thread: JoinHandle<()>,
}

impl Server {
    /// Serves the playground under `root` on 127.0.0.1:`port` (0 picks a free port) from a
    /// background thread running its own tokio runtime.
    pub fn start(root: PathBuf, port: u16) -> Result<Server, String> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
        let app = router(root);
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        if let Err(e) = axum::serve(listener, app).await {
                            crate::say(format!("the server stopped: {e}"));
                        }
                    }
                    Err(e) => crate::say(format!("the server could not start: {e}")),
                }
            });
        });
        Ok(Server { port, thread })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Blocks until the server thread ends (never, in practice).
    pub fn wait(self) {
        let _ = self.thread.join();
    }
}

/// The routes and layers: `/` and the served directories, a plain 404 for anything else,
/// compression, and the headers every response carries.
fn router(root: PathBuf) -> Router {
    let mut app = Router::new().route_service("/", ServeFile::new(root.join("index.html")));
    for dir in SERVED_DIRS {
        app = app.nest_service(&format!("/{dir}"), ServeDir::new(root.join(dir)));
    }
    let headers: [(HeaderName, &'static str); 6] = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-embedder-policy"),
            "require-corp",
        ),
        // Other sites may still embed the player's files.
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "cross-origin",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // A development server: every reload sees the latest build.
        (header::CACHE_CONTROL, "no-cache"),
    ];
    let mut app = app
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(CompressionLayer::new().br(true).gzip(true));
    for (name, value) in headers {
        app = app.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    app
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// One HTTP/1.1 GET with extra request headers; returns the status, the headers (names
    /// lower-cased) and the body as sent (chunked bodies joined).
    fn get(server: &Server, target: &str, extra: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}\r\n"
        )
        .unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8_lossy(&response[..split]).to_string();
        let mut body = response[split + 4..].to_vec();
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
        {
            body = dechunk(&body);
        }
        (status, headers, body)
    }

    /// Joins a chunked transfer encoding's chunks.
    fn dechunk(mut raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let line = raw.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&raw[..line]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                return out;
            }
            out.extend_from_slice(&raw[line + 2..line + 2 + size]);
            raw = &raw[line + 2 + size + 2..];
        }
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn server() -> Server {
        Server::start(crate::root(), 0).unwrap()
    }

    /// Only the playground's files are served: the repository's other files, climbing out
    /// of a served folder (plain, percent-encoded or with encoded slashes) and unknown paths
    /// are 404s; percent-encoded names of served files are decoded.
    #[test]
    fn only_the_playground_is_served_and_nothing_climbs_out() {
        let server = server();
        for target in [
            "/.git/config",
            "/Cargo.toml",
            "/xtask/src/serve.rs",
            "/../",
            "/%2e%2e/Cargo.toml",
            "/web/../Cargo.toml",
            "/web/%2e%2e/Cargo.toml",
            "/web/..%2fCargo.toml",
            "/web/%2e%2e%2fCargo.toml",
            "/web%2ftasks.json",
            "/docs/..%5c..%5cCargo.toml",
            "/nothing-here",
        ] {
            let (status, _, body) = get(&server, target, "");
            assert_eq!(status, 404, "{target}: {}", String::from_utf8_lossy(&body));
        }
        let (status, headers, body) = get(&server, "/web/%74asks.json", "");
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert_eq!(
            body,
            std::fs::read(crate::root().join("web/tasks.json")).unwrap()
        );
        let (status, headers, _) = get(&server, "/", "");
        assert_eq!(status, 200);
        assert!(
            header(&headers, "content-type")
                .unwrap()
                .starts_with("text/html")
        );
    }

    /// Every response carries the isolation headers and the CSP (no `unsafe-eval`, no inline
    /// scripts, but WebAssembly may compile), and scripts and wasm have the MIME types
    /// browsers insist on.
    #[test]
    fn responses_are_isolated_and_carry_a_strict_content_security_policy() {
        let server = server();
        for (target, mime) in [
            ("/web/app.js", "text/javascript"),
            ("/web/style.css", "text/css"),
            ("/nothing-here", ""),
        ] {
            let (_, headers, _) = get(&server, target, "");
            let csp = header(&headers, "content-security-policy").unwrap();
            assert!(
                csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
                "{csp}"
            );
            assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"));
            assert!(!csp.contains("unsafe-inline"), "{csp}");
            assert_eq!(
                header(&headers, "cross-origin-opener-policy"),
                Some("same-origin")
            );
            assert_eq!(
                header(&headers, "cross-origin-embedder-policy"),
                Some("require-corp")
            );
            assert!(
                header(&headers, "content-type")
                    .unwrap_or("")
                    .starts_with(mime),
                "{target}: {headers:?}"
            );
        }
    }

    /// A browser that accepts gzip gets a gzip body that decodes to the file; one that asks
    /// for nothing gets the file as it is.
    #[test]
    fn compressed_responses_decode_to_the_file() {
        let server = server();
        let file = std::fs::read(crate::root().join("web/app.js")).unwrap();
        let (status, headers, body) = get(&server, "/web/app.js", "Accept-Encoding: gzip\r\n");
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
        assert!(
            body.len() < file.len() / 2,
            "{} of {}",
            body.len(),
            file.len()
        );
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, file);
        let (_, headers, body) = get(&server, "/web/app.js", "");
        assert_eq!(header(&headers, "content-encoding"), None);
        assert_eq!(body, file);
        let (_, headers, _) = get(&server, "/web/app.js", "Accept-Encoding: br, gzip\r\n");
        assert_eq!(header(&headers, "content-encoding"), Some("br"));
    }
}
