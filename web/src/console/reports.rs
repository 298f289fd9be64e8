//! The Reports page (admins): a form for the span, period, grouping and time zone; a chart of
//! tickets opened and closed per period with the backlog as a line (server-drawn SVG, no
//! script); the figures as a table; and the same report as a CSV download.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use relaydesk_desk::reports::{duration, Granularity, Report};
use relaydesk_storage::ReportGroup;

use super::layout;
use super::session::Session;
use crate::reports::{load, ReportParams};
use crate::{AppState, WebError};

/// GET /console/reports
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ReportParams>,
) -> Result<Response, WebError> {
    if let Some(refused) = refuse_non_admin(&session) {
        return Ok(refused);
    }
    let (status, report, problem) =
        match params.request(&state.settings.report_time_zone, state.clock.now()) {
            Ok(request) => (
                StatusCode::OK,
                Some(load(&state.store, request).await?),
                None,
            ),
            Err(bad) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(format!("{}: {}", bad.field, bad.message)),
            ),
        };
    let query = csv_query(&params);
    let body = html! {
        h1 { "Reports" }
        (form(&params, &state.settings.report_time_zone))
        @if let Some(problem) = &problem {
            p.flash.error role="alert" { (problem) }
        }
        @if let Some(report) = &report {
            p.count {
                "Periods of one " (report.granularity.as_str()) " in " (report.zone.name())
                ". Durations are median / 90th percentile. "
                a href={ "/console/reports.csv?" (query) } download { "Download CSV" }
            }
            (chart(report))
            (table(report))
        }
    };
    let page = layout::page("Reports", &session.agent, &session.csrf, body);
    Ok((status, page).into_response())
}

/// GET /console/reports.csv
pub async fn csv(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<ReportParams>,
) -> Result<Response, WebError> {
    if let Some(refused) = refuse_non_admin(&session) {
        return Ok(refused);
    }
    let request = match params.request(&state.settings.report_time_zone, state.clock.now()) {
        Ok(request) => request,
        Err(bad) => {
            let text = format!("{}: {}", bad.field, bad.message);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, text).into_response());
        }
    };
    let report = load(&state.store, request).await?;
    let Ok(csv) = report.to_csv() else {
        tracing::error!("report CSV failed");
        return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
    };
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"relaydesk-report.csv\""),
    );
    Ok(response)
}

fn refuse_non_admin(session: &Session) -> Option<Response> {
    layout::admins_only(session, "Reports", "Only admins see reports.")
}

/// The page's parameters again, for the CSV link (encoded).
fn csv_query(params: &ReportParams) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in [
        ("by", &params.by),
        ("from", &params.from),
        ("to", &params.to),
        ("period", &params.period),
        ("time_zone", &params.time_zone),
    ] {
        if let Some(value) = value {
            query.append_pair(key, value);
        }
    }
    query.finish()
}

fn form(params: &ReportParams, default_zone: &str) -> Markup {
    let by = params.by.as_deref().unwrap_or("all");
    let period = params.period.as_deref().unwrap_or("day");
    html! {
        form.filters method="get" action="/console/reports" {
            label { "From" input type="text" name="from" value=(params.from.as_deref().unwrap_or("7d")) placeholder="7d, 2026-11-01"; }
            label { "To" input type="text" name="to" value=(params.to.as_deref().unwrap_or("")) placeholder="now"; }
            label { "Period"
                select name="period" {
                    @for p in Granularity::NAMES { option value=(p) selected[p == period] { (p) } }
                }
            }
            label { "Split by"
                select name="by" {
                    @for g in ReportGroup::NAMES { option value=(g) selected[g == by] { (g) } }
                }
            }
            label { "Time zone" input type="text" name="time_zone" value=(params.time_zone.as_deref().unwrap_or(default_zone)); }
            button type="submit" { "Show" }
        }
    }
}

/// Bars of tickets opened and closed per period (all groups together) and the backlog at
/// each period's end as a line.
fn chart(report: &Report) -> Markup {
    const W: f64 = 720.0;
    const H: f64 = 220.0;
    const PAD: f64 = 28.0;
    let n = report.days.len().max(1);
    let mut opened = vec![0i64; n];
    let mut closed = vec![0i64; n];
    let mut backlog = vec![0i64; n];
    for row in &report.rows {
        if let Some(i) = (row.period < n).then_some(row.period) {
            opened[i] += row.figures.opened;
            closed[i] += row.figures.closed;
            backlog[i] += row.figures.backlog;
        }
    }
    let top = opened
        .iter()
        .chain(&closed)
        .chain(&backlog)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = (W - 2.0 * PAD) / n as f64;
    let bar = (slot * 0.35).max(1.0);
    let y = |v: i64| H - PAD - (v as f64 / top) * (H - 2.0 * PAD);
    let line: Vec<String> = backlog
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", PAD + slot * (i as f64 + 0.5), y(*v)))
        .collect();
    let label_every = n.div_ceil(12);
    html! {
        figure.panel {
            svg.chart viewBox={ "0 0 " (W) " " (H) } role="img" aria-labelledby="chart-title" width="100%" {
                title #chart-title { "Tickets opened and closed per " (report.granularity.as_str()) ", and the backlog" }
                line.axis x1=(PAD) y1=(H - PAD) x2=(W - PAD) y2=(H - PAD) {}
                text.tick x="2" y=(PAD) { (top as i64) }
                @for i in 0..n {
                    @let x = PAD + slot * i as f64;
                    rect.opened x=(format!("{:.1}", x + slot * 0.12)) y=(format!("{:.1}", y(opened[i]))) width=(format!("{bar:.1}")) height=(format!("{:.1}", H - PAD - y(opened[i]))) {
                        title { (report.days.get(i).map(|d| d.to_string()).unwrap_or_default()) ": " (opened[i]) " opened" }
                    }
                    rect.closed x=(format!("{:.1}", x + slot * 0.12 + bar)) y=(format!("{:.1}", y(closed[i]))) width=(format!("{bar:.1}")) height=(format!("{:.1}", H - PAD - y(closed[i]))) {
                        title { (report.days.get(i).map(|d| d.to_string()).unwrap_or_default()) ": " (closed[i]) " closed" }
                    }
                    @if i % label_every == 0 {
                        text.tick x=(format!("{:.1}", x + 2.0)) y=(H - 8.0) { (report.days.get(i).map(|d| d.format("%m-%d").to_string()).unwrap_or_default()) }
                    }
                }
                polyline.backlog points=(line.join(" ")) {}
            }
            figcaption {
                span.key.opened { "■" } " opened  " span.key.closed { "■" } " closed  " span.key.backlog { "—" } " backlog at the end of each period"
            }
        }
    }
}

fn table(report: &Report) -> Markup {
    let lines = report.lines();
    html! {
        @if lines.is_empty() {
            p { "No tickets in this span." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Report table" {
                table.report {
                    thead { tr {
                        th { "Period" } th { (report.by.as_str()) } th { "Opened" } th { "Closed" } th { "Reopened" } th { "Backlog" }
                        th { "First response" } th { "Resolution" }
                        th title="In the business hours of each ticket's SLA policy" { "First response (business hours)" }
                        th title="In the business hours of each ticket's SLA policy" { "Resolution (business hours)" }
                        th { "SLA met" } th { "CSAT" } th { "Answered" } th { "Solved by FAQ" }
                    } }
                    tbody {
                        @for (row, line) in report.rows.iter().zip(&lines) {
                            tr {
                                td { (line.period) } td { (line.group) }
                                td { (line.opened) } td { (line.closed) } td { (line.reopened) } td { (line.backlog) }
                                td { (duration(row.figures.first_response.median_ms)) " / " (duration(row.figures.first_response.p90_ms)) }
                                td { (duration(row.figures.resolution.median_ms)) " / " (duration(row.figures.resolution.p90_ms)) }
                                td { (duration(row.figures.first_response_business.median_ms)) " / " (duration(row.figures.first_response_business.p90_ms)) }
                                td { (duration(row.figures.resolution_business.median_ms)) " / " (duration(row.figures.resolution_business.p90_ms)) }
                                td { @match line.sla_hit_rate { Some(r) => { (format!("{:.0}%", r * 100.0)) }, None => { "–" } } }
                                td { @match line.csat_average { Some(a) => { (format!("{a:.1}")) }, None => { "–" } } }
                                td { (line.csat_answered) " of " (line.csat_sent) }
                                td { (line.self_served) }
                            }
                        }
                    }
                }
            }
        }
    }
}
