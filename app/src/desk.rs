//! The street official's tablet `/desk` (基层治理工作台): touch-first, 768–1366 px wide. It opens on the
//! official's own street: the map of its communities and grids (the wall's map, live), the cases there
//! that are overdue or due soon, the queue of the official's own governance centre (village, town,
//! county or city) with its load, and a case's detail with its timeline and current holder. From the
//! detail the official supervises (督办, with a note), escalates or acknowledges; each action is a case
//! event on the server (checked by the policy and the state machine, audited) and reaches every wall live.
use crate::i18n::{self, t, Lang, Msg};
use crate::model::{date_time, CaseView, Coverage, DeskQueue, DeskView, GridCount, LastSignIn, WallSnapshot};
use crate::use_lang;
use crate::wall::{load_wall, ErrorNote, WallCtx};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::{Html, Title};

#[server(input = GetUrl, endpoint = "desk")]
pub async fn load_desk(region: Option<String>, queue: Option<DeskQueue>) -> Result<DeskView, ServerFnError> {
    crate::backend::with_viewer_async(move |b, v| async move { b.desk(&v, region.as_deref(), queue.unwrap_or_default()).await }).await
}

/// Early warnings found in the region (None: the viewer's scope), with what the viewer may do on each.
#[server(input = GetUrl, endpoint = "warnings")]
pub async fn load_warnings(region: Option<String>) -> Result<crate::warning::WarningList, ServerFnError> {
    crate::backend::with_viewer_async(move |b, v| async move { b.warnings(&v, region.as_deref()).await }).await
}

/// Grid coverage of the region (None: the viewer's scope): patrols in the last `days` days (default 3).
#[server(input = GetUrl, endpoint = "coverage")]
pub async fn load_coverage(region: Option<String>, days: Option<u32>) -> Result<Coverage, ServerFnError> {
    crate::backend::with_viewer(|b, v| b.coverage(v, region.as_deref(), days.unwrap_or(PATROL_DAYS)))
}

#[cfg(feature = "ssr")]
use crate::model::PATROL_DAYS;

/// The list is re-read this often, and after every action.
#[cfg(feature = "hydrate")]
const REFRESH_SECS: u64 = 30;

/// What the detail sheet shows: the case, and the outcome of the last action taken on it.
#[derive(Clone, Debug, PartialEq)]
struct Selected {
    case: CaseView,
    message: Option<(bool, String)>,
}

#[component]
pub fn Desk() -> impl IntoView {
    let lang = use_lang();
    let region = RwSignal::new(None::<String>);
    let snapshot = Resource::new(|| (), |_| load_wall(None));
    let live = RwSignal::new(None::<WallSnapshot>);
    let online = RwSignal::new(false);
    let lost = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    let current = Signal::derive(move || live.get().or_else(|| snapshot.get().and_then(Result::ok)));
    let server_now = RwSignal::new(None::<i64>);
    provide_context(WallCtx { lang, region, current, scale: RwSignal::new(1.0), server_now });

    let refresh = RwSignal::new(0u32);
    let list = Resource::new(move || (region.get(), refresh.get()), |(r, _)| load_desk(r, None));
    let reports = Resource::new(move || (region.get(), refresh.get()), |(r, _)| load_desk(r, Some(DeskQueue::Residents)));
    let centre = Resource::new(move || (region.get(), refresh.get()), |(r, _)| load_desk(r, Some(DeskQueue::Centre)));
    let referrals = Resource::new(move || (region.get(), refresh.get()), |(r, _)| load_desk(r, Some(DeskQueue::Referrals)));
    let coverage = Resource::new(move || (region.get(), refresh.get()), |(r, _)| load_coverage(r, None));
    let warnings = Resource::new(move || (region.get(), refresh.get()), |(r, _)| load_warnings(r));
    let warning_note = RwSignal::new(String::new());
    let warning_msg = RwSignal::new(None::<(bool, String)>);
    let tab = RwSignal::new(Tab::Cases);
    let selected = RwSignal::new(None::<Selected>);
    let note = RwSignal::new(String::new());
    let csrf = RwSignal::new(None::<String>);
    let last_sign_in = RwSignal::new(None::<LastSignIn>);
    #[cfg(feature = "hydrate")]
    {
        crate::wall::live::connect(region, live, online, lost, server_now);
        if let Ok(h) = set_interval_with_handle(move || refresh.update(|n| *n += 1), std::time::Duration::from_secs(REFRESH_SECS)) {
            on_cleanup(move || h.clear());
        }
        leptos::task::spawn_local(async move {
            if let Some(me) = client::me().await {
                csrf.set(me.csrf);
                last_sign_in.set(me.last_sign_in);
            }
        });
        crate::activity::report(csrf);
        Effect::new(move |_| hydrated.set(true));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (online.write_only(), lost.write_only(), csrf.write_only(), last_sign_in.write_only());

    let open = move |c: CaseView| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            // The full record (unmasked only at sensitive clearance, and then audited) comes from the case API.
            match client::case(&c.feed, &c.case_id).await {
                Ok(full) => selected.set(Some(Selected { case: full, message: None })),
                Err(e) => selected.set(Some(Selected { case: c, message: Some((false, e)) })),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = c;
    };
    // Erased into AnyView in parts: the whole page as one type is too deep for the compiler.
    let head = view! {
            <header class="desk-head">
                <h1>{t(lang, Msg::DeskTitle)}</h1>
                <crate::wall::StaleFeeds id="desk-stale" />
                <span class="live" class:on=move || online.get()>
                    {move || match (online.get(), lost.get()) {
                        (true, _) => t(lang, Msg::Live),
                        (false, true) => t(lang, Msg::Reconnecting),
                        (false, false) => t(lang, Msg::Connecting),
                    }}
                </span>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        list.await.ok().map(|d| view! {
                            <span class="desk-region" id="desk-region">{d.region.name}</span>
                            <span class="as-of">{t(lang, Msg::DataAsOf)} " " {crate::model::clock(d.as_of)}</span>
                        })
                    })}
                </Transition>
                {move || last_sign_in.get().map(|l| {
                    let class = if l.failed_since == 0 { "last-sign-in" } else { "last-sign-in warn" };
                    view! { <span class=class id="last-sign-in">{i18n::last_sign_in(lang, &l)}</span> }
                })}
            </header>
    }
    .into_any();
    let body = view! {
            <section class="desk-body">
                <div class="desk-map">
                    // The map reads the live snapshot: render it once the first one has arrived, as the wall does.
                    <Transition fallback=move || view! { <p class="loading">{t(lang, Msg::Loading)}</p> }>
                        <ErrorBoundary fallback=move |errors| view! { <ErrorNote lang errors /> }>
                            {move || Suspend::new(async move { snapshot.await.map(|_| view! { <crate::wall::map::MapPanel /> }) })}
                        </ErrorBoundary>
                    </Transition>
                </div>
                <div class="desk-list panel">
                    <div class="panel-head tabs" role="tablist">
                        <button role="tab" id="tab-cases" class:on=move || tab.get() == Tab::Cases on:click=move |_| tab.set(Tab::Cases)>
                            {t(lang, Msg::DeskAlerts)}
                        </button>
                        <button role="tab" id="tab-reports" class:on=move || tab.get() == Tab::Reports on:click=move |_| tab.set(Tab::Reports)>
                            {t(lang, Msg::DeskReports)}
                        </button>
                        <button role="tab" id="tab-centre" class:on=move || tab.get() == Tab::Centre on:click=move |_| tab.set(Tab::Centre)>
                            {t(lang, Msg::DeskCentre)}
                        </button>
                        <button role="tab" id="tab-referrals" class:on=move || tab.get() == Tab::Referrals on:click=move |_| tab.set(Tab::Referrals)>
                            {t(lang, Msg::DeskReferrals)}
                        </button>
                        <button role="tab" id="tab-warnings" class:on=move || tab.get() == Tab::Warnings on:click=move |_| tab.set(Tab::Warnings)>
                            {t(lang, Msg::WarningsTab)}
                        </button>
                        <button role="tab" id="tab-coverage" class:on=move || tab.get() == Tab::Coverage on:click=move |_| tab.set(Tab::Coverage)>
                            {t(lang, Msg::CoverageTab)}
                        </button>
                    </div>
                    <Transition fallback=move || view! { <p class="loading">{t(lang, Msg::Loading)}</p> }>
                        <ErrorBoundary fallback=move |errors| view! { <ErrorNote lang errors /> }>
                            {move || {
                                let which = tab.get();
                                Suspend::new(async move {
                                    match which {
                                        Tab::Cases => list.await.map(|d| case_list(lang, d.cases, open)),
                                        Tab::Reports => reports.await.map(|d| case_list(lang, d.cases, open)),
                                        Tab::Centre => centre.await.map(|d| centre_view(lang, d, open)),
                                        Tab::Referrals => referrals.await.map(|d| view! { <div id="desk-referrals">{case_list(lang, d.cases, open)}</div> }.into_any()),
                                        Tab::Coverage => coverage.await.map(|c| coverage_view(lang, c)),
                                        Tab::Warnings => warnings.await.map(|w| view! { <WarningsView lang list=w csrf refresh note=warning_note message=warning_msg /> }.into_any()),
                                    }
                                })
                            }}
                        </ErrorBoundary>
                    </Transition>
                </div>
            </section>
    }
    .into_any();
    view! {
        <Html attr:lang=lang.html_tag() attr:class="desk-html" />
        <Title text=t(lang, Msg::DeskTitle) />
        <main id="desk" class="desk" data-hydrated=move || hydrated.get().to_string()>
            {head}
            {body}
            {move || selected.get().map(|s| view! { <Detail lang selected=s sheet=selected csrf refresh note /> })}
        </main>
    }
}

fn case_list(lang: Lang, cases: Vec<CaseView>, open: impl Fn(CaseView) + Copy + Send + Sync + 'static) -> AnyView {
    if cases.is_empty() {
        return view! { <p class="empty" id="desk-empty">{t(lang, Msg::DeskEmpty)}</p> }.into_any();
    }
    view! {
        <ul class="case-cards" id="desk-cases">
            {cases
                .into_iter()
                .map(|c| {
                    let timeliness = c.timeliness.unwrap_or(crate::flow::Timeliness::OnTime);
                    let class = format!("case-card t-{:?}", timeliness).to_lowercase();
                    let shown = c.clone();
                    view! {
                        <li>
                            <button class=class data-case=c.case_id.clone() data-source=c.source.as_str() data-timeliness=format!("{timeliness:?}") on:click=move |_| open(shown.clone())>
                                <span class="badge">{i18n::timeliness(lang, timeliness)}</span>
                                <span class=format!("cat cat-{}", c.category.as_str())>{i18n::category(lang, c.category)}</span>
                                <strong>{c.summary.clone()}</strong>
                                <span class="place">{c.place.clone()}</span>
                                <span class="deadline">{t(lang, Msg::Deadline)} " " {date_time(c.deadline)}</span>
                                {(c.supervised > 0).then(|| view! { <span class="flag">{t(lang, Msg::Supervised)} " ×" {c.supervised}</span> })}
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// Which list the tablet shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Cases,
    Reports,
    Centre,
    Referrals,
    Coverage,
    Warnings,
}

/// The early warnings found in the region: each with its level, what was found, where, the centre that
/// must act and its record; the steps the viewer may take (the server decides which, and checks again).
#[component]
fn WarningsView(
    lang: Lang,
    list: crate::warning::WarningList,
    csrf: RwSignal<Option<String>>,
    refresh: RwSignal<u32>,
    note: RwSignal<String>,
    message: RwSignal<Option<(bool, String)>>,
) -> impl IntoView {
    use crate::warning::WarningOp;
    let busy = RwSignal::new(false);
    let step = move |id: i64, op: WarningOp| {
        #[cfg(feature = "hydrate")]
        {
            if op.needs_note() && note.get_untracked().trim().is_empty() {
                message.set(Some((false, t(lang, Msg::WarningNoteRequired).to_string())));
                return;
            }
            let Some(token) = csrf.get_untracked() else { return };
            busy.set(true);
            leptos::task::spawn_local(async move {
                let text = if op.needs_note() { note.get_untracked() } else { String::new() };
                let r = client::warning_step(id, op, &text, &token).await;
                busy.set(false);
                match r {
                    Ok(()) => {
                        if op.needs_note() {
                            note.set(String::new());
                        }
                        message.set(Some((true, t(lang, Msg::ActionDone).to_string())));
                        refresh.update(|n| *n += 1);
                    }
                    Err(e) => message.set(Some((false, format!("{}{e}", t(lang, Msg::ActionFailed))))),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (id, op, csrf, refresh);
    };
    if list.warnings.is_empty() {
        return view! { <p class="empty" id="warnings-empty">{t(lang, Msg::WarningsEmpty)}</p> }.into_any();
    }
    let any_ops = list.warnings.iter().any(|w| w.ops.iter().any(|o| o.needs_note()));
    view! {
        <div class="warnings" id="desk-warnings">
            {move || message.get().map(|(ok, m)| view! { <p class=if ok { "msg ok" } else { "msg bad" } id="warning-message" role="status">{m}</p> })}
            {any_ops.then(|| view! {
                <label>
                    {t(lang, Msg::WarningNoteLabel)}
                    <textarea id="warning-note" rows="2" maxlength="500" prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
            })}
            <ul class="warning-cards">
                {list.warnings
                    .into_iter()
                    .map(|w| {
                        let id = w.id;
                        view! {
                            <li class=format!("warning-card w-{}", w.level.as_str()) data-warning=w.id.to_string() data-state=w.state.as_str() data-level=w.level.as_str() data-rule=w.rule.clone()>
                                <span class="badge">{i18n::warning_level(lang, w.level)}</span>
                                <strong>{w.title.clone()}</strong>
                                <span class="state">{i18n::warning_state(lang, w.state)}</span>
                                <span class="place">{w.region.name.clone()}</span>
                                <span class="facts">{i18n::warning_facts(lang, &w)}</span>
                                <span class="route">{t(lang, Msg::WarningRoute)} " " {i18n::centre_name(lang, &w.route.name)}</span>
                                {i18n::warning_escalation(lang, &w).map(|e| view! { <span class="escalation">{e}</span> })}
                                <ol class="timeline">
                                    {w.events.iter().map(|e| view! {
                                        <li data-op=e.op.as_str()>
                                            <time>{date_time(e.at)}</time>
                                            <span class="what">{i18n::warning_op(lang, e.op)}</span>
                                            <span class="who">{if e.actor.starts_with("rule:") { t(lang, Msg::WarningRuleActor).to_string() } else { e.actor.clone() }}</span>
                                            {(!e.note.is_empty() && e.op != WarningOp::Escalate).then(|| view! { <q>{e.note.clone()}</q> })}
                                        </li>
                                    }).collect_view()}
                                </ol>
                                <div class="actions">
                                    {w.ops.iter().map(|&op| view! {
                                        <button class=format!("act warn-{}", op.as_str()) data-op=op.as_str() disabled=move || busy.get() on:click=move |_| step(id, op)>
                                            {i18n::warning_op(lang, op)}
                                        </button>
                                    }).collect_view()}
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// The queue of the official's own centre, under its load.
fn centre_view(lang: Lang, d: DeskView, open: impl Fn(CaseView) + Copy + Send + Sync + 'static) -> AnyView {
    let head = d.centre.map(|c| {
        view! {
            <p class="centre-load" id="centre-load">
                <strong>{i18n::centre_name(lang, &d.region.name)}</strong>
                " · " {t(lang, Msg::CentreHeld)} " " <span id="centre-held">{c.held}</span>
                " · " {t(lang, Msg::CentreOverdue)} " " <span id="centre-overdue">{c.overdue}</span>
                " · " <span id="centre-on-time">{i18n::centre_on_time(lang, c.days, c.on_time, c.due)}</span>
            </p>
        }
    });
    view! { <div class="centre" id="desk-centre">{head}{case_list(lang, d.cases, open)}</div> }.into_any()
}

/// The server refuses these without a note: a supervision says what is expected; on a resident's report,
/// dispatching names the department and resolving is the reply the resident reads.
fn needs_note(a: crate::flow::Action) -> bool {
    use crate::flow::Action;
    matches!(a, Action::Supervise | Action::Dispatch | Action::Resolve)
}

fn coverage_view(lang: Lang, c: Coverage) -> AnyView {
    let line = |label: Msg, n: GridCount, id: &'static str| {
        let share = if n.grids > 0 { f64::from(n.patrolled) * 100.0 / f64::from(n.grids) } else { 0.0 };
        view! {
            <p class="coverage-line" id=id>
                <strong>{t(lang, label)} " " {n.grids}</strong>
                " · " {t(lang, Msg::Staffed)} " " {n.staffed}
                " · " {t(lang, Msg::GridVacant)} " " {n.grids - n.staffed}
                " · " {i18n::patrolled_within(lang, c.days)} " " {n.patrolled} {format!(" ({share:.0}%)")}
            </p>
        }
    };
    let f = c.fitness;
    let pct = |f: crate::model::Fitness| f.rate().map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "—".into());
    let fitness = view! {
        <h3 id="fitness" data-fit=f.fit.to_string() data-grids=f.grids.to_string()>
            {t(lang, Msg::FitnessTitle)} " " {pct(f)} " (" {f.fit} "/" {f.grids} ")"
        </h3>
        <p class="coverage-line" id="fitness-gaps">
            {i18n::fitness_gap(lang, crate::model::FitnessGap::Vacant)} " " {f.vacant}
            " · " {i18n::fitness_gap(lang, crate::model::FitnessGap::NotPatrolled)} " " {f.not_patrolled}
            " · " {i18n::fitness_gap(lang, crate::model::FitnessGap::BaseDataStale)} " " {f.base_stale}
        </p>
        <ul class="fitness-by-child" id="fitness-by-child">
            {c.fitness_by_child
                .into_iter()
                .map(|(r, f)| view! { <li data-region=r.code.clone()><strong>{r.name}</strong> " " {pct(f)} " (" {f.fit} "/" {f.grids} ")"</li> })
                .collect_view()}
        </ul>
        <ul class="stale-grids" id="unfit-grids">
            {c.unfit
                .into_iter()
                .map(|g| {
                    let gaps: Vec<&str> = g.gaps.iter().map(|&x| i18n::fitness_gap(lang, x)).collect();
                    let stale_base = g.gaps.contains(&crate::model::FitnessGap::BaseDataStale);
                    let gap_keys = g.gaps.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ");
                    let base = match g.base_updated {
                        Some(at) => format!("{} {}", t(lang, Msg::BaseDataUpdated), date_time(at)),
                        None => t(lang, Msg::BaseDataNever).to_string(),
                    };
                    view! {
                        <li data-grid=g.code.clone() data-gaps=gap_keys>
                            <strong>{g.name}</strong>
                            <span class="place">{g.place}</span>
                            <span class="gaps">{gaps.join("、")}</span>
                            <span class="when" class:stale=stale_base>{base}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    };
    let duty = duty_view(lang, c.duty);
    view! {
        <div class="coverage" id="desk-coverage">
            {fitness}
            {duty}
            {line(Msg::GridsComprehensive, c.comprehensive, "coverage-comprehensive")}
            {line(Msg::GridsDedicated, c.dedicated, "coverage-dedicated")}
            <h3>{t(lang, Msg::StaleGrids)} " (" {i18n::in_all(lang, c.stale_total)} ")"</h3>
            <ul class="stale-grids" id="stale-grids">
                {c.stale
                    .into_iter()
                    .map(|g| view! {
                        <li data-grid=g.code.clone()>
                            <strong>{g.name}</strong>
                            <span class="place">{g.place}</span>
                            <span>{i18n::grid_kind(lang, g.kind)}</span>
                            <span>{g.worker.unwrap_or_else(|| t(lang, Msg::GridVacant).to_string())}</span>
                            <span class="when">{g.last_patrol.map(date_time).unwrap_or_else(|| t(lang, Msg::NeverPatrolled).to_string())}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// Who is on duty in the region's grids now: the count, per child region, and grid by grid.
fn duty_view(lang: Lang, d: crate::duty::DutyView) -> impl IntoView {
    use crate::duty::DutyStatus;
    let c = d.count;
    let now = d.as_of;
    // A time today reads as the time; another day with its date.
    let when = move |t: i64| if crate::model::local_day(t) == crate::model::local_day(now) { date_time(t)[11..].to_string() } else { date_time(t) };
    view! {
        <h3 id="duty" data-on-duty=c.on_duty.to_string() data-grids=c.grids.to_string()>
            {t(lang, Msg::DutyTitle)} " " {c.on_duty} "/" {c.grids}
        </h3>
        <p class="coverage-line" id="duty-count" data-on-leave=c.on_leave.to_string() data-off-duty=c.off_duty.to_string() data-vacant=c.vacant.to_string()>
            {i18n::duty_status(lang, DutyStatus::OnDuty)} " " {c.on_duty}
            " · " {i18n::duty_status(lang, DutyStatus::OnLeave)} " " {c.on_leave}
            " · " {i18n::duty_status(lang, DutyStatus::OffDuty)} " " {c.off_duty}
            " · " {i18n::duty_status(lang, DutyStatus::Vacant)} " " {c.vacant}
        </p>
        <ul class="fitness-by-child" id="duty-by-child" aria-label=t(lang, Msg::DutyByChild)>
            {d.by_child
                .into_iter()
                .map(|(r, n)| view! {
                    <li data-region=r.code.clone() data-on-duty=n.on_duty.to_string() data-grids=n.grids.to_string()>
                        <strong>{r.name}</strong> " " {i18n::duty_status(lang, DutyStatus::OnDuty)} " " {n.on_duty} "/" {n.grids}
                    </li>
                })
                .collect_view()}
        </ul>
        <ul class="stale-grids" id="duty-grids">
            {d.grids
                .into_iter()
                .map(|g| {
                    let until = g.until.map(|u| format!("{} {}", i18n::duty_until(lang, g.status), when(u))).unwrap_or_default();
                    view! {
                        <li data-grid=g.code.clone() data-status=g.status.as_str()>
                            <strong>{g.name}</strong>
                            <span class="place">{g.place}</span>
                            <span class=format!("duty-status {}", g.status.as_str())>{i18n::duty_status(lang, g.status)}</span>
                            <span>{g.worker.unwrap_or_default()}</span>
                            <span class="when">{until}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

fn holder_text(lang: Lang, c: &CaseView) -> String {
    match &c.holder {
        Some(h) => format!("{} · {}", h.name, h.department.clone().unwrap_or_else(|| t(lang, Msg::CentreOf).to_string())),
        None => i18n::status(lang, c.status).to_string(),
    }
}

fn actor_text(lang: Lang, actor: &str) -> String {
    if actor.starts_with("rule:") { t(lang, Msg::RuleActor).to_string() } else { actor.to_string() }
}

#[component]
fn Detail(
    lang: Lang,
    selected: Selected,
    sheet: RwSignal<Option<Selected>>,
    csrf: RwSignal<Option<String>>,
    refresh: RwSignal<u32>,
    /// Kept by the page, so a note survives a failed attempt.
    note: RwSignal<String>,
) -> impl IntoView {
    let c = selected.case.clone();
    let busy = RwSignal::new(false);
    // A court's referral: the next attempt's tier (those the last attempt allows) and its outcome.
    let last = c.timeline.iter().rev().find_map(|e| e.mediation);
    let tiers: Vec<crate::flow::Tier> = crate::flow::Tier::ALL.into_iter().filter(|t| crate::flow::mediation_next(last, *t).is_ok()).collect();
    let tier = RwSignal::new(tiers.first().copied());
    let settled = RwSignal::new(true);
    let act = move |action: crate::flow::Action| {
        #[cfg(feature = "hydrate")]
        {
            if needs_note(action) && note.get_untracked().trim().is_empty() {
                let why = if action == crate::flow::Action::Supervise { Msg::NoteRequired } else { Msg::StepNoteRequired };
                sheet.update(|s| if let Some(s) = s { s.message = Some((false, t(lang, why).to_string())) });
                return;
            }
            let Some(token) = csrf.get_untracked() else { return };
            let Some(case) = sheet.get_untracked().map(|s| s.case) else { return };
            busy.set(true);
            leptos::task::spawn_local(async move {
                let mediation = (action == crate::flow::Action::Mediate)
                    .then(|| tier.get_untracked())
                    .flatten()
                    .map(|tier| crate::flow::Mediation { tier, outcome: if settled.get_untracked() { crate::flow::Outcome::Settled } else { crate::flow::Outcome::Failed } });
                let outcome = client::act(&case.feed, &case.case_id, action, &note.get_untracked(), mediation, &token).await;
                busy.set(false);
                match outcome {
                    Ok(updated) => {
                        note.set(String::new());
                        sheet.set(Some(Selected { case: updated, message: Some((true, t(lang, Msg::ActionDone).to_string())) }));
                        refresh.update(|n| *n += 1);
                    }
                    Err(e) => sheet.update(|s| if let Some(s) = s { s.message = Some((false, format!("{}{e}", t(lang, Msg::ActionFailed)))) }),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (action, csrf, refresh, sheet, tier, settled);
    };
    let mediation = (c.actions.contains(&crate::flow::Action::Mediate) && !tiers.is_empty()).then(|| view! {
        <div class="mediate" id="mediate-form">
            <label>
                {t(lang, Msg::MediationTier)}
                <select id="mediate-tier" on:change=move |ev| tier.set(crate::flow::Tier::parse(&event_target_value(&ev)))>
                    {tiers.iter().map(|&x| view! { <option value=x.as_str() selected=move || tier.get() == Some(x)>{i18n::tier(lang, x)}</option> }).collect_view()}
                </select>
            </label>
            <label>
                {t(lang, Msg::MediationOutcome)}
                <select id="mediate-outcome" on:change=move |ev| settled.set(event_target_value(&ev) == "settled")>
                    <option value="settled" selected=move || settled.get()>{i18n::outcome(lang, crate::flow::Outcome::Settled)}</option>
                    <option value="failed" selected=move || !settled.get()>{i18n::outcome(lang, crate::flow::Outcome::Failed)}</option>
                </select>
            </label>
            <button class="act act-mediate" id="act-mediate" disabled=move || busy.get() on:click=move |_| act(crate::flow::Action::Mediate)>
                {i18n::action_button(lang, crate::flow::Action::Mediate)}
            </button>
        </div>
    });
    let supervise = c.actions.contains(&crate::flow::Action::Supervise);
    let steps = c.actions.iter().any(|&a| a != crate::flow::Action::Supervise && needs_note(a));
    let label = match (supervise, steps) {
        (_, true) => Msg::StepNoteLabel,
        _ => Msg::NoteLabel,
    };
    let actions = view! {
            <div class="actions">
                {(supervise || steps).then(|| view! {
                    <label>
                        {t(lang, label)}
                        <textarea id="supervise-note" rows="3" maxlength="500"
                            prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                    </label>
                })}
                {mediation}
                {c.actions
                    .iter()
                    .filter(|&&a| a != crate::flow::Action::Mediate)
                    .map(|&a| view! {
                        <button class=format!("act act-{}", a.as_str()) id=format!("act-{}", a.as_str()) disabled=move || busy.get() on:click=move |_| act(a)>
                            {i18n::action_button(lang, a)}
                        </button>
                    })
                    .collect_view()}
            </div>
    }
    .into_any();
    let timeline = view! {
            <h3>{t(lang, Msg::Timeline)}</h3>
            <ol class="timeline" id="detail-timeline">
                {c.timeline
                    .iter()
                    .map(|e| {
                        view! {
                            <li data-action=e.action.as_str()>
                                <time>{date_time(e.at)}</time>
                                <span class="what">{i18n::action(lang, e.action)}</span>
                                {e.mediation.map(|m| view! { <span class="tier">{i18n::tier(lang, m.tier)} " " {i18n::outcome(lang, m.outcome)}</span> })}
                                {e.actor.as_deref().map(|a| view! { <span class="who">{actor_text(lang, a)}</span> })}
                                {e.note.clone().filter(|n| !n.is_empty()).map(|n| view! { <q>{n}</q> })}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
    }
    .into_any();
    let person = c.person.clone().map(|p| format!("{} {} {}", p.name, p.phone, p.id_number.unwrap_or_default()));
    view! {
        <aside class="detail" id="case-detail" data-case=c.case_id.clone() role="dialog">
            <header>
                <h2>{i18n::category(lang, c.category)} " · " {c.summary.clone()}</h2>
                <button class="close" id="detail-close" on:click=move |_| sheet.set(None)>{t(lang, Msg::CloseDetail)}</button>
            </header>
            {selected.message.clone().map(|(ok, m)| view! { <p class=if ok { "msg ok" } else { "msg bad" } id="detail-message" role="status">{m}</p> })}
            <dl class="facts">
                <dt>{t(lang, Msg::Holder)}</dt>
                <dd id="detail-holder">{holder_text(lang, &c)}</dd>
                <dt>{t(lang, Msg::Deadline)}</dt>
                <dd>
                    {date_time(c.deadline)} " "
                    {c.timeliness.map(|x| view! { <span class="badge" id="detail-timeliness">{i18n::timeliness(lang, x)}</span> })}
                </dd>
                <dt>{t(lang, Msg::Priority)}</dt>
                <dd>{i18n::priority(lang, c.priority)}</dd>
                <dt>{t(lang, Msg::GridTitle)}</dt>
                <dd>{c.place.clone()}</dd>
                {c.address.clone().map(|a| view! { <dt>{t(lang, Msg::CaseAddress)}</dt><dd id="detail-address">{a}</dd> })}
                {person.map(|p| view! { <dt>{i18n::source(lang, c.source)}</dt><dd>{p}</dd> })}
                {c.masked.then(|| view! { <dd class="masked">{t(lang, Msg::Masked)}</dd> })}
            </dl>
            {c.photo.then(|| view! {
                <figure class="detail-photo">
                    <img id="detail-photo" src=photo_src(&c.feed, &c.case_id) alt=t(lang, Msg::CasePhoto) />
                    <figcaption>{t(lang, Msg::CasePhoto)}</figcaption>
                </figure>
            })}
            {timeline}
            {actions}
        </aside>
    }
    .into_any()
}

/// Where the case's photo is read (the server checks the viewer again, and audits it).
fn photo_src(feed: &str, id: &str) -> String {
    // Percent-encodes all but unreserved characters, as encodeURIComponent does.
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect()
    };
    format!("/api/cases/{}/{}/photo", enc(feed), enc(id))
}

/// The tablet's calls to the case API (browser only). Writes carry the session's CSRF token.
#[cfg(feature = "hydrate")]
mod client {
    use crate::flow::Action;
    use crate::model::CaseView;
    use gloo_net::http::Request;

    fn path(feed: &str, id: &str) -> String {
        format!("/api/cases/{}/{}", js_sys::encode_uri_component(feed), js_sys::encode_uri_component(id))
    }

    async fn read(resp: Result<gloo_net::http::Response, gloo_net::Error>) -> Result<CaseView, String> {
        let resp = resp.map_err(|e| e.to_string())?;
        if resp.ok() {
            resp.json::<CaseView>().await.map_err(|e| e.to_string())
        } else {
            Err(resp.text().await.unwrap_or_else(|_| resp.status().to_string()))
        }
    }

    #[derive(serde::Deserialize)]
    pub struct Me {
        pub csrf: Option<String>,
        #[serde(default)]
        pub last_sign_in: Option<crate::model::LastSignIn>,
    }

    /// The session's CSRF token and the sign-in before it.
    pub async fn me() -> Option<Me> {
        let resp = Request::get("/api/me").send().await.ok()?;
        resp.json::<Me>().await.ok()
    }

    pub async fn case(feed: &str, id: &str) -> Result<CaseView, String> {
        read(Request::get(&path(feed, id)).send().await).await
    }

    /// A step on a warning; the list is read again after it.
    pub async fn warning_step(id: i64, op: crate::warning::WarningOp, note: &str, csrf: &str) -> Result<(), String> {
        let req = Request::post(&format!("/api/warnings/{id}/{}", op.as_str())).header("x-csrf-token", csrf).json(&serde_json::json!({ "note": note })).map_err(|e| e.to_string())?;
        let resp = req.send().await.map_err(|e| e.to_string())?;
        if resp.ok() {
            Ok(())
        } else {
            Err(resp.text().await.unwrap_or_else(|_| resp.status().to_string()))
        }
    }

    pub async fn act(feed: &str, id: &str, action: Action, note: &str, mediation: Option<crate::flow::Mediation>, csrf: &str) -> Result<CaseView, String> {
        let mut body = serde_json::json!({ "action": action.as_str(), "note": note });
        if let Some(m) = mediation {
            body["tier"] = m.tier.as_str().into();
            body["outcome"] = m.outcome.as_str().into();
        }
        let req = Request::post(&format!("{}/actions", path(feed, id))).header("x-csrf-token", csrf).json(&body).map_err(|e| e.to_string())?;
        read(req.send().await).await
    }
}
