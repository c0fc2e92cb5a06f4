//! Redaction of URLs before they reach an error message, a log line or a
//! `Debug` output.
//!
//! URLs this crate handles can carry secrets outside the `Authorization`
//! header (which is marked sensitive and never printed):
//!
//! - a webhook URL with a token in its query
//!   ([`RequestOptions::webhook_url`](crate::options::RequestOptions::webhook_url),
//!   sent as the `fal_webhook` query parameter of a submit, protocol.md §2, §6);
//! - the signed upload URLs fal's storage returns (the signature is in the
//!   query, protocol.md §5);
//! - a user name and password in a URL given by mistake (a base URL, a
//!   download URL).
//!
//! Every URL the crate shows goes through [`url()`] (or [`url_text()`] when it
//! may not parse): the user name and password are removed, the value of each
//! query parameter becomes `REDACTED` (names are kept, so
//! `?fal_webhook=…&logs=1` shows as `?fal_webhook=REDACTED&logs=REDACTED`),
//! a query piece without `=` becomes `REDACTED` as a whole, and the fragment
//! is dropped. Scheme, host, port and path are kept: they say which call
//! failed. A secret placed in a URL **path** (some webhook services do that)
//! is not recognised; prefer a query token.
//!
//! `reqwest` errors carry the full URL of the request in their `Display`
//! and `Debug`; the crate redacts that URL in place before it stores or logs
//! such an error ([`Error::Transport`](crate::Error::Transport)).
//!
//! ```
//! use fal_ltx::redact;
//!
//! let url = url::Url::parse("https://me:pw@hooks.example/fal?token=s3cret&v=2#frag").unwrap();
//! assert_eq!(redact::url(&url), "https://hooks.example/fal?token=REDACTED&v=REDACTED");
//! assert_eq!(redact::url_text("http://me:pw@[::1"), "http://[::1");
//! ```

use url::Url;

/// What replaces each query value.
pub const REDACTED: &str = "REDACTED";

/// `url` without user name, password, query values or fragment, as shown in
/// this crate's errors, logs and `Debug` output (see the [module docs](self)).
#[must_use]
pub fn url(url: &Url) -> String {
    redacted(url).into()
}

/// [`url()`] for text that may not be a URL at all (a base URL as configured,
/// a webhook URL option): parsed and redacted when it parses as a URL with a
/// host; otherwise, so
/// that nothing secret is echoed, whatever stands between `://` and the last
/// `@` of the authority is removed and everything from the first `?` or `#`
/// is replaced by `?REDACTED`.
#[must_use]
pub fn url_text(text: &str) -> String {
    // A URL without a host (`user:pw@host` parses with scheme `user`) is
    // not what was meant: treat it as text.
    if let Some(parsed) = Url::parse(text).ok().filter(Url::has_host) {
        return url(&parsed);
    }
    let (head, tail) = match text.find(['?', '#']) {
        Some(at) => (&text[..at], Some(())),
        None => (text, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{}", &rest[authority_end..])
        }
        // No authority: an `@` may still hide a password (`user:pw@host`).
        None => head.rsplit_once('@').map_or(head, |(_, host)| host).to_owned(),
    };
    if tail.is_some() {
        out.push('?');
        out.push_str(REDACTED);
    }
    out
}

/// `url` as a [`Url`], redacted as [`url()`] says.
pub(crate) fn redacted(url: &Url) -> Url {
    let mut shown = url.clone();
    // Both only fail for URLs that cannot have credentials anyway.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    if let Some(query) = url.query() {
        let pieces: Vec<String> = query
            .split('&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| match piece.split_once('=') {
                Some((name, _)) => format!("{name}={REDACTED}"),
                None => REDACTED.to_owned(),
            })
            .collect();
        shown.set_query(Some(&pieces.join("&")));
    }
    shown
}

/// `error` with its URL (if any) redacted in place: its `Display` and
/// `Debug` then show only the redacted URL.
pub(crate) fn reqwest_error(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        *url = redacted(url);
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_userinfo_and_fragments_go() {
        let given = Url::parse("https://u:p@cdn.example/up/abc?X-Sig=a%2Bb&exp=1&flag#t=9").unwrap();
        assert_eq!(url(&given), "https://cdn.example/up/abc?X-Sig=REDACTED&exp=REDACTED&REDACTED");
        let plain = Url::parse("http://127.0.0.1:9/fal-ai/x").unwrap();
        assert_eq!(url(&plain), "http://127.0.0.1:9/fal-ai/x");
    }

    #[test]
    fn unparsable_text_loses_credentials_and_query() {
        assert_eq!(url_text("http://user:hunter2@[::1/x"), "http://[::1/x");
        assert_eq!(url_text("https://a:b@c@host:99999/p?token=t"), "https://host:99999/p?REDACTED");
        assert_eq!(url_text("user:pw@host"), "host");
        assert_eq!(url_text("not a url #frag"), "not a url ?REDACTED");
        assert_eq!(url_text("https://ok.example/p?t=1"), "https://ok.example/p?t=REDACTED");
    }
}
