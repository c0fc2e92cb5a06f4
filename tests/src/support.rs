//! Paths and JSON helpers.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fake_fal::FakeFalConfig;
use fake_fal::schemas::Schemas;

use serde_json::Value;
use xtask::workspace_root;

/// The directory of third-party reference material: `$FAL_SHARED_DIR`, else
/// `../shared` beside the workspace.
///
/// # Panics
///
/// When the directory does not exist: tests that need it must not pass
/// silently without it.
pub fn shared_dir() -> PathBuf {
    let dir =
        std::env::var_os("FAL_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("../shared"));
    assert!(
        dir.is_dir(),
        "reference material not found at {}: clone the project beside `shared/` or set FAL_SHARED_DIR",
        dir.display()
    );
    dir
}

/// The vendored OpenAPI document of an endpoint.
///
/// # Panics
///
/// When the schema is missing or not JSON.
pub fn vendored_schema(endpoint_id: &str) -> Value {
    let path = workspace_root().join(format!("schemas/{endpoint_id}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Resolves a local `$ref` (`#/components/schemas/X`) in `doc`.
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(target) => current = target,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

/// The vendored OpenAPI documents (`schemas/`), as the fake fal server reads them.
///
/// # Panics
///
/// When `schemas/` cannot be read.
pub fn vendored_schemas() -> Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| Schemas::load(workspace_root().join("schemas")).unwrap_or_else(|e| panic!("{e}"))).clone()
}

/// A fake fal server configuration that validates every vendored endpoint's
/// submit and run bodies against its input schema (fal's 422), as fal does.
pub fn fake_config() -> FakeFalConfig {
    FakeFalConfig::new().schemas(vendored_schemas())
}

/// An output of `endpoint_id` built from its vendored schema's examples
/// ([`Schemas::example_output`]): the response fal's docs show, and what the
/// fake fal server returns in tests.
///
/// # Panics
///
/// When the endpoint is not vendored or its document has no result schema.
pub fn output_from_schema_examples(endpoint_id: &str) -> Value {
    vendored_schemas().example_output(endpoint_id).unwrap_or_else(|| panic!("{endpoint_id}: no result schema"))
}

/// `(endpoint id, path of the older copy, older copy, newer copy)` for every file in
/// `fal-openapi/alt/` of the shared directory (read in place), sorted by path. The newer
/// copy is the document of the same name in `fal-openapi/`.
///
/// # Panics
///
/// When the directory is missing, a file is not JSON, or there are fewer than 10 pairs.
pub fn alt_pairs() -> Vec<(String, PathBuf, Value, Value)> {
    let dir = shared_dir().join("fal-openapi");
    let mut pairs = Vec::new();
    for entry in std::fs::read_dir(dir.join("alt")).expect("alt/") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let Some((stem, _)) = name.split_once(".alt") else { continue };
        let read =
            |p: &Path| -> Value { serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("JSON") };
        let (old, new) = (read(&path), read(&dir.join(format!("{stem}.json"))));
        let id = new["info"]["x-fal-metadata"]["endpointId"].as_str().expect("endpoint id").to_owned();
        assert_eq!(id.replace('/', "__"), stem);
        pairs.push((id, path, old, new));
    }
    pairs.sort_by(|a, b| a.1.cmp(&b.1));
    assert!(pairs.len() >= 10, "expected the alt/ copies, found {}", pairs.len());
    pairs
}

/// Every file under `dir` (but `.git`), by its path relative to `dir`, with
/// its bytes: a before/after picture of a directory for tests that check that
/// a command wrote nothing.
///
/// # Panics
///
/// When the directory cannot be read.
pub fn snapshot_dir(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, base: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.insert(path.strip_prefix(base).expect("under the base").to_owned(), bytes);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// One request received by [`raw_http_server`]: the request line's method
/// and target (path and query), the header block as text (lower-case names
/// are not enforced) and the body (read by its `Content-Length`).
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// `GET`, `POST`, `PUT`, …
    pub method: String,
    /// The request target, such as `/fal-ai/x/requests/r1/status?logs=1`.
    pub target: String,
    /// The header lines, `\r\n`-separated.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

impl RawRequest {
    /// The target without its query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// An HTTP/1.1 server on `127.0.0.1` that hands every request, read whole,
/// to `answer` with the connection, and closes the connection when `answer`
/// returns: `answer` writes the response bytes itself, so it can send
/// anything (an endless chunked body, a cut response, a lie in
/// `Content-Length`). Answers should say `connection: close`. Returns the
/// base URL, `http://127.0.0.1:<port>`.
///
/// # Panics
///
/// When no port can be bound.
pub async fn raw_http_server<F, Fut>(answer: F) -> String
where
    F: Fn(RawRequest, tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { continue };
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buffer = [0u8; 8192];
                let end = loop {
                    if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at;
                    }
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buffer[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&data[..end]).into_owned();
                let length = head
                    .lines()
                    .filter_map(|line| line.split_once(':'))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, value)| value.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                let mut body = data[end + 4..].to_vec();
                while body.len() < length {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => body.extend_from_slice(&buffer[..n]),
                    }
                }
                let mut words = head.lines().next().unwrap_or_default().split(' ');
                let method = words.next().unwrap_or_default().to_owned();
                let target = words.next().unwrap_or_default().to_owned();
                answer(RawRequest { method, target, head, body }, socket).await;
            });
        }
    });
    url
}
