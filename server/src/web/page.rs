//! The frame of the server-rendered pages (sign-in, password, administration, device activation): one
//! head, one stylesheet, the language tag, so that each page writes only its own body.
use super::AppState;
use app::i18n::{t, Lang, Msg};

/// A whole page: `<title>` is `title · product`, `<main class="page {class}">` holds `body`.
pub(crate) fn shell(state: &AppState, lang: Lang, title: &str, class: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="{tag}" class="page-html"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {product}</title><link rel="stylesheet" href="{css}"><link rel="icon" href="/favicon.svg"></head>
<body><main class="page {class}">{body}</main></body></html>"#,
        tag = lang.html_tag(),
        title = super::access::esc(title),
        product = t(lang, Msg::Product),
        css = state.assets.css,
    )
}

/// The language a form posts back ("en" or "zh").
pub(crate) fn lang_code(lang: Lang) -> &'static str {
    if lang == Lang::En {
        "en"
    } else {
        "zh"
    }
}
