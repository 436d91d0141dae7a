//! The live ticker: newest cases and oversight actions (督办, 升级, 退回) first, no person's data (place is town and village only).
use super::WallCtx;
use crate::flow::Action;
use crate::i18n;
use crate::model::clock;
use leptos::prelude::*;

#[component]
pub fn Ticker() -> impl IntoView {
    let ctx = expect_context::<WallCtx>();
    let lang = ctx.lang;
    view! {
        <ul id="ticker" class="ticker">
            {move || {
                ctx.current.get().map(|s| {
                    s.ticker
                        .into_iter()
                        .map(|i| {
                            view! {
                                <li data-case=i.case_id.clone() data-action=i.action.as_str()>
                                    <time>{clock(i.at)}</time>
                                    {(i.action != Action::Report).then(|| view! {
                                        <span class=format!("act act-{}", i.action.as_str())>{i18n::action(lang, i.action)}</span>
                                    })}
                                    <span class=format!("cat cat-{}", i.category.as_str())>
                                        {i18n::category(lang, i.category)}
                                    </span>
                                    <span class="src">{i18n::source(lang, i.source)}</span>
                                    <span class="place">{i.place}</span>
                                </li>
                            }
                        })
                        .collect_view()
                })
            }}
        </ul>
    }
}
