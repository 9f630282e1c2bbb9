//! The console page's three files. They are not in the wasm: they live in `assets/admin/` and
//! are uploaded beside the Worker (Workers Static Assets, `[assets]` in wrangler.toml). The
//! platform never serves them itself (`run_worker_first = true`): the Worker reads them through
//! the assets binding and answers with its own headers, the same as every other console answer.

use async_trait::async_trait;

use crate::http::HttpResponse;

/// The files uploaded beside the Worker (the `ASSETS` binding at the edge).
#[async_trait(?Send)]
pub trait StaticAssets {
    /// The bytes of the file at `path` (e.g. `/admin/console.js`); `Ok(None)` when there is none.
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
}

/// One file of the page: where it is in the assets directory and how it is served.
#[derive(Debug, PartialEq)]
pub struct ConsoleFile {
    pub asset_path: &'static str,
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// The page itself is never cached (it is tiny, and a stale page could load a newer script).
const PAGE: ConsoleFile = ConsoleFile {
    asset_path: "/admin/index.html",
    content_type: "text/html; charset=utf-8",
    cache_control: "no-store",
};
const SCRIPT: ConsoleFile = ConsoleFile {
    asset_path: "/admin/console.js",
    content_type: "text/javascript; charset=utf-8",
    cache_control: "no-cache",
};
const STYLE: ConsoleFile = ConsoleFile {
    asset_path: "/admin/console.css",
    content_type: "text/css; charset=utf-8",
    cache_control: "no-cache",
};

/// The file a path under `/admin` names (`rest` is what follows `/admin/`), if any. Nothing else
/// in the assets directory is reachable: `/admin/index.html` is not a route.
pub fn file_for(rest: &[&str]) -> Option<&'static ConsoleFile> {
    match rest {
        [] | [""] => Some(&PAGE),
        ["console.js"] => Some(&SCRIPT),
        ["console.css"] => Some(&STYLE),
        _ => None,
    }
}

fn unavailable(why: String) -> HttpResponse {
    HttpResponse::error(503, "console_unavailable", why).with_header("cache-control", "no-store")
}

/// The file with its type and caching; a clear 503 when the deployment lacks its assets.
pub async fn serve(file: &ConsoleFile, assets: Option<&dyn StaticAssets>) -> HttpResponse {
    let Some(assets) = assets else {
        return unavailable(
            "the console's files are not deployed with this worker: wrangler.toml needs its [assets] section \
             (directory = \"assets\", binding = \"ASSETS\")"
                .into(),
        );
    };
    match assets.get(file.asset_path).await {
        Ok(Some(body)) => HttpResponse {
            status: 200,
            headers: vec![
                ("content-type".into(), file.content_type.into()),
                ("cache-control".into(), file.cache_control.into()),
            ],
            body,
        },
        Ok(None) => {
            unavailable(format!("the deployed assets have no {}: deploy with the assets directory", file.asset_path))
        }
        Err(e) => unavailable(format!("the console's files could not be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;

    /// The assets directory as deployed, read from disk (what the binding serves).
    struct Directory;

    #[async_trait(?Send)]
    impl StaticAssets for Directory {
        async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
            let file =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets").join(path.trim_start_matches('/'));
            Ok(std::fs::read(file).ok())
        }
    }

    struct Broken;

    #[async_trait(?Send)]
    impl StaticAssets for Broken {
        async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Err("the assets binding answered 500 for /admin/console.css".into())
        }
    }

    #[test]
    fn the_three_urls_name_the_three_files_and_nothing_else_is_reachable() {
        assert_eq!(file_for(&[]), Some(&PAGE));
        assert_eq!(file_for(&[""]), Some(&PAGE));
        assert_eq!(file_for(&["console.js"]).map(|f| f.asset_path), Some("/admin/console.js"));
        assert_eq!(file_for(&["console.css"]).map(|f| f.asset_path), Some("/admin/console.css"));
        for other in [
            &["index.html"][..],
            &["console.js", ""],
            &["..", "console.js"],
            &["admin", "console.js"],
            &[".assetsignore"],
        ] {
            assert_eq!(file_for(other), None, "{other:?}");
        }
    }

    #[test]
    fn each_file_is_served_from_the_assets_directory_with_its_type_and_caching() {
        for (rest, file_name, content_type, cache) in [
            (&[][..], "index.html", "text/html; charset=utf-8", "no-store"),
            (&["console.js"][..], "console.js", "text/javascript; charset=utf-8", "no-cache"),
            (&["console.css"][..], "console.css", "text/css; charset=utf-8", "no-cache"),
        ] {
            let response = block_on(serve(file_for(rest).unwrap(), Some(&Directory)));
            assert_eq!(response.status, 200, "{file_name}");
            let on_disk = std::fs::read(format!("{}/assets/admin/{file_name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            assert_eq!(response.body, on_disk, "{file_name}");
            assert_eq!(response.header("content-type"), Some(content_type), "{file_name}");
            assert_eq!(response.header("cache-control"), Some(cache), "{file_name}");
        }
    }

    #[test]
    fn a_deployment_without_its_assets_gets_a_503_that_says_what_to_fix() {
        let missing = block_on(serve(&PAGE, None));
        assert_eq!(missing.status, 503);
        let text = String::from_utf8(missing.body).unwrap();
        assert!(text.contains("console_unavailable") && text.contains("[assets]"), "{text}");

        let no_file = block_on(serve(&SCRIPT, Some(&Empty)));
        assert_eq!(no_file.status, 503);
        assert!(String::from_utf8(no_file.body).unwrap().contains("/admin/console.js"));

        let broken = block_on(serve(&STYLE, Some(&Broken)));
        assert_eq!(broken.status, 503);
        assert!(String::from_utf8(broken.body).unwrap().contains("answered 500"));
    }

    struct Empty;

    #[async_trait(?Send)]
    impl StaticAssets for Empty {
        async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Ok(None)
        }
    }
}
