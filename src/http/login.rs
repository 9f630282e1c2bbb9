//! Server-rendered sign-in and consent pages (no JavaScript needed). Every page forbids framing
//! (clickjacking) and caching, and loads nothing from elsewhere.

use super::HttpResponse;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}\
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.error{color:#a00;background:#fee;padding:.5rem}.muted{color:#666;font-size:.9rem}";

fn page(status: u16, title: &str, body: &str) -> HttpResponse {
    HttpResponse::html(
        status,
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
             <title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>",
            escape(title)
        ),
    )
    .with_header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
    .with_header("x-frame-options", "DENY")
    .with_header("cache-control", "no-store")
    // Not `no-referrer`: that makes browsers send `Origin: null` on our own form POSTs.
    .with_header("referrer-policy", "same-origin")
    .with_header("x-content-type-options", "nosniff")
}

pub fn error_page(status: u16, message: &str) -> HttpResponse {
    page(
        status,
        "Cannot sign in",
        &format!("<h1>Cannot continue</h1><p class=\"error\" role=\"alert\">{}</p>", escape(message)),
    )
}

pub struct LoginView<'a> {
    pub client_name: &'a str,
    /// For a client identified by a metadata document URL: that URL's host, its identity.
    pub client_host: Option<&'a str>,
    pub service_label: &'a str,
    pub flow: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

/// ` (from <host>)` after a client's name, when it has a document host.
fn client_host(host: Option<&str>) -> String {
    host.map(|h| format!(" (from <strong id=\"client-host\">{}</strong>)", escape(h))).unwrap_or_default()
}

pub fn login_page(status: u16, view: &LoginView) -> HttpResponse {
    let error = view.error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    page(
        status,
        "Sign in",
        &format!(
            "<h1>Sign in to {service}</h1><p><strong>{client}</strong>{host} wants to connect to {service}.</p>{error}\
             <form method=\"post\" action=\"/authorize/login\">\
             <input type=\"hidden\" name=\"flow\" value=\"{flow}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" value=\"{username}\" autocomplete=\"username\" required autofocus>\
             <label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>",
            service = escape(view.service_label),
            client = escape(view.client_name),
            host = client_host(view.client_host),
            flow = escape(view.flow),
            csrf = escape(view.csrf),
            username = escape(view.username),
        ),
    )
}

pub struct ConsentView<'a> {
    pub client_name: &'a str,
    /// For a client identified by a metadata document URL: that URL's host, its identity.
    pub client_host: Option<&'a str>,
    pub redirect_host: &'a str,
    pub service_label: &'a str,
    pub access: &'a str,
    pub user: &'a str,
    pub flow: &'a str,
    pub csrf: &'a str,
}

pub fn consent_page(view: &ConsentView) -> HttpResponse {
    page(
        200,
        "Allow access?",
        &format!(
            "<h1>Allow access to {service}?</h1>\
             <p><strong id=\"client\">{client}</strong>{client_host} asks to <strong id=\"access\">{access}</strong> in {service} as <strong>{user}</strong>.</p>\
             <p class=\"muted\">After you answer, you are sent back to <strong id=\"redirect-host\">{host}</strong>. \
             Only allow applications you trust; you can revoke access later.</p>\
             <form method=\"post\" action=\"/authorize/consent\">\
             <input type=\"hidden\" name=\"flow\" value=\"{flow}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            service = escape(view.service_label),
            client = escape(view.client_name),
            client_host = client_host(view.client_host),
            access = escape(view.access),
            user = escape(view.user),
            host = escape(view.redirect_host),
            flow = escape(view.flow),
            csrf = escape(view.csrf),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_and_forbid_framing() {
        let r = login_page(
            200,
            &LoginView {
                client_name: "<script>x</script>",
                client_host: Some("app.example.com\"<b>"),
                service_label: "Demo",
                flow: "f",
                csrf: "c",
                username: "\"a",
                error: Some("bad"),
            },
        );
        let html = String::from_utf8(r.body.clone()).unwrap();
        assert!(!html.contains("<script>x"));
        assert!(html.contains("&lt;script&gt;") && html.contains("value=\"&quot;a\""));
        assert!(html.contains("(from <strong id=\"client-host\">app.example.com&quot;&lt;b&gt;</strong>)"));
        assert!(r.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
    }
}
