//! What crosses a slow link: compressed answers, and files a returning browser does not
//! download again.

use crate::util::Server;

#[tokio::test]
async fn the_client_and_the_api_are_compressed_and_files_revalidate_with_etags() {
    let s = Server::start().await;
    let http = reqwest::Client::new();

    let plain = http.get(s.url("/assets/app.js")).send().await.expect("get");
    assert_eq!(plain.status(), 200);
    assert!(plain.headers().get("content-encoding").is_none(), "nothing asked, nothing compressed");
    let etag = plain.headers().get("etag").expect("an ETag").to_str().expect("ascii").to_owned();
    let size = plain.bytes().await.expect("body").len();

    for (asked, got) in [("gzip", "gzip"), ("br", "br"), ("br, gzip", "br")] {
        let r = http.get(s.url("/assets/app.js")).header("accept-encoding", asked).send().await.expect("get");
        assert_eq!(r.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some(got), "{asked}");
        let sent = r.bytes().await.expect("body").len();
        assert!(sent * 3 < size, "{asked}: {sent} bytes sent for {size}");
    }

    // A browser that has the file asks with its ETag and gets 304 with nothing in it.
    let again = http.get(s.url("/assets/app.js")).header("if-none-match", &etag).send().await.expect("get");
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());
    let other = http.get(s.url("/assets/style.css")).header("if-none-match", &etag).send().await.expect("get");
    assert_eq!(other.status(), 200, "another file's ETag does not match");
    let index = http.get(s.url("/")).send().await.expect("get");
    assert!(index.headers().get("etag").is_some());

    // JSON answers too.
    let r = http.get(s.api("/config")).header("accept-encoding", "gzip").send().await.expect("get");
    assert_eq!(r.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
}
