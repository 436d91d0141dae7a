//! The public page `/public`: district-level aggregates only, rendered completely on the server so it
//! reads the same with JavaScript off. No person's data ever reaches this page.
use crate::i18n::{t, Msg};
use crate::i18n::Lang;
use crate::model::{date_time, Level, PublicReport, PublicRow};
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
                        report.await.map(|r| {
                            let districts: Vec<PublicRow> = r.rows.iter().filter(|x| x.level == Level::District).cloned().collect();
                            let towns: Vec<PublicRow> = r.rows.iter().filter(|x| x.level == Level::Town).cloned().collect();
                            view! {
                                {table("districts", r.city.clone(), lang, t(lang, Msg::PublicDistrict), districts)}
                                {table("towns", t(lang, Msg::PublicTowns).to_string(), lang, t(lang, Msg::PublicTown), towns)}
                                <p class="as-of">
                                    {t(lang, Msg::DataAsOf)} " " {date_time(r.as_of)} " · " {t(lang, Msg::PublicNote)}
                                </p>
                                <p class="downloads">
                                    {t(lang, Msg::PublicDownloads)} " "
                                    <a href="/public/stats.csv">"CSV"</a> " · "
                                    <a href="/public/stats.json">"JSON"</a> " · "
                                    <a href="/public/stats.geojson">"GeoJSON"</a>
                                </p>
                                <p class="record-link"><a href="/public/record">{t(lang, Msg::PublicRecordLink)}</a></p>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Suspense>
        </main>
    }
}

fn table(id: &'static str, caption: String, lang: Lang, first: &'static str, rows: Vec<PublicRow>) -> impl IntoView {
    view! {
        <table id=id class="table">
            <caption>{caption}</caption>
            <thead>
                <tr>
                    <th scope="col">{first}</th>
                    <th scope="col">{t(lang, Msg::PublicReported30)}</th>
                    <th scope="col">{t(lang, Msg::PublicClosed30)}</th>
                    <th scope="col">{t(lang, Msg::PublicOpen)}</th>
                    <th scope="col">{t(lang, Msg::PublicGrids)}</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|row| {
                        view! {
                            <tr data-code=row.code data-parent=row.parent.unwrap_or_default()>
                                <th scope="row">{row.name}</th>
                                <td>{row.reported_30d.text()}</td>
                                <td>{row.closed_30d.text()}</td>
                                <td>{row.open.text()}</td>
                                <td>{row.grids}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
