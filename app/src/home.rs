//! The landing page: where each audience goes.
use crate::i18n::{t, Msg};
use crate::use_lang;
use leptos::prelude::*;
use leptos_meta::Html;

#[component]
pub fn Home() -> impl IntoView {
    let lang = use_lang();
    view! {
        <Html attr:lang=lang.html_tag() attr:class="page-html" />
        <main class="page home">
            <h1>{t(lang, Msg::Product)}</h1>
            <p>{t(lang, Msg::HomeIntro)}</p>
            <ul class="views">
                <li><a href="/wall">{t(lang, Msg::OpenWall)}</a></li>
                <li><a href="/wall?scene=flow">{t(lang, Msg::OpenWall)} " · " {t(lang, Msg::SceneFlow)}</a></li>
                <li><a href="/desk">{t(lang, Msg::OpenDesk)}</a></li>
                <li><a href="/public">{t(lang, Msg::OpenPublic)}</a></li>
            </ul>
        </main>
    }
}
