//! The public page `/public`: district-level aggregates only, rendered completely on the server so it
//! reads the same with JavaScript off. No person's data ever reaches this page.
use crate::i18n::{t, Msg};
use crate::model::{date_time, PublicReport};
use crate::use_lang;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::{Html, Title};

#[server(input = GetUrl, endpoint = "public")]
pub async fn load_public() -> Result<PublicReport, ServerFnError> {
    crate::backend::public_report()
}

#[component]
pub fn PublicPage() -> impl IntoView {
    let lang = use_lang();
    let report = Resource::new(|| (), |_| load_public());
    view! {
        <Html attr:lang=lang.html_tag() attr:class="page-html" />
        <Title text=t(lang, Msg::PublicTitle) />
        <main class="page public">
            <h1>{t(lang, Msg::PublicTitle)}</h1>
            <p>{t(lang, Msg::PublicIntro)}</p>
            <Suspense fallback=move || view! { <p>{t(lang, Msg::Loading)}</p> }>
                <ErrorBoundary fallback=move |errors| view! { <super::wall::ErrorNote lang errors /> }>
                    {move || Suspend::new(async move {
                        report.await.map(|r| view! {
                            <table id="districts" class="table">
                                <caption>{r.city.clone()}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">{t(lang, Msg::PublicDistrict)}</th>
                                        <th scope="col">{t(lang, Msg::PublicReported30)}</th>
                                        <th scope="col">{t(lang, Msg::PublicClosed30)}</th>
                                        <th scope="col">{t(lang, Msg::PublicOpen)}</th>
                                        <th scope="col">{t(lang, Msg::PublicGrids)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {r.rows.into_iter().map(|row| view! {
                                        <tr data-code=row.code>
                                            <th scope="row">{row.name}</th>
                                            <td>{row.reported_30d}</td>
                                            <td>{row.closed_30d}</td>
                                            <td>{row.open}</td>
                                            <td>{row.grids}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="as-of">{t(lang, Msg::DataAsOf)} " " {date_time(r.as_of)} " · " {t(lang, Msg::PublicNote)}</p>
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </main>
    }
}
