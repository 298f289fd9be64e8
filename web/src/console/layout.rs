//! The console's page shell and small rendering helpers. Everything shown is escaped by maud:
//! what customers and agents write is text, never markup.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use relaydesk_storage::{Agent, Role};

use super::session::{Session, CONSOLE_PATH};

/// The console's stylesheet, served at [`STYLE_PATH`].
pub const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#1d2330;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header form{margin:0}
header .who{margin-left:auto}
main{padding:1rem;max-width:1200px;margin:0 auto}
.layout{display:flex;gap:1rem;align-items:flex-start}
nav.views{min-width:13rem}
nav.views a{display:flex;justify-content:space-between;padding:.35rem .6rem;border-radius:4px;color:#1d2330;text-decoration:none}
nav.views a.current{background:#dfe6f3;font-weight:600}
.count{color:#555}
table{border-collapse:collapse;width:100%;background:#fff}
table.canned td.text{white-space:pre-wrap;overflow-wrap:anywhere}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e6eb;vertical-align:top}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;margin-bottom:.8rem;align-items:end}
.filters label{display:flex;flex-direction:column;font-size:.8rem}
.conversation{display:flex;flex-direction:column;gap:.6rem}
.message{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:.5rem .7rem}
.message.from-agent{border-left:4px solid #3b6fd8}
.message.note{background:#fff8dc;border-left:4px solid #d8a93b}
.message .meta{font-size:.8rem;color:#555;margin-bottom:.25rem}
.message .body{white-space:pre-wrap;overflow-wrap:anywhere}
.panel{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:.6rem .8rem;margin-bottom:1rem}
.panel h2{font-size:1rem;margin:.1rem 0 .5rem}
.ticket{display:grid;grid-template-columns:minmax(0,2fr) minmax(16rem,1fr);gap:1rem}
.actions form{margin:.3rem 0;display:flex;gap:.4rem;flex-wrap:wrap}
.actions textarea{width:100%;min-height:4rem}
.flash{padding:.5rem .8rem;border-radius:4px;margin-bottom:.8rem}
.flash.error{background:#fde2e1;color:#7a1b16}
.flash.done{background:#e1f5e4;color:#18542a}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;background:#e3e6eb;font-size:.8rem}
.badge.breached{background:#fde2e1}
.badge.due-soon{background:#fff0c2}
.sign-in{max-width:22rem;margin:4rem auto;background:#fff;padding:1.5rem;border-radius:6px;border:1px solid #e3e6eb}
.sign-in label{display:block;margin:.6rem 0}
.sign-in input{width:100%;box-sizing:border-box}
section.main{flex:1}
.chart{display:block;max-width:100%;height:auto}
.chart .opened,.key.opened{fill:#3b6fd8;color:#3b6fd8}
.chart .closed,.key.closed{fill:#3bb273;color:#3bb273}
.chart .backlog{fill:none;stroke:#d8a93b;stroke-width:2}
.key.backlog{color:#d8a93b;font-weight:700}
.chart .axis{stroke:#8a93a3}
.chart .tick{font-size:11px;fill:#555}
.scroll{overflow-x:auto}
.skip{position:absolute;left:-999px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
form.bulk{font-size:.9rem}
.skip:focus{left:1rem;top:.5rem;z-index:10;background:#fff;color:#1d2330;padding:.3rem .6rem}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #2f6fe4;outline-offset:2px}
tr.unread td{font-weight:700}
.dot{display:inline-block;width:.55rem;height:.55rem;border-radius:50%;background:#2f6fe4;margin-right:.35rem;vertical-align:middle}
tr.picked{outline:2px solid #2f6fe4;outline-offset:-2px}
.keys{position:fixed;right:1rem;bottom:1rem;background:#fff;color:#1d2330;border:1px solid #c8ced8;border-radius:6px;padding:.8rem 1rem;box-shadow:0 4px 16px rgba(0,0,0,.2);max-width:calc(100vw - 2rem);box-sizing:border-box}
.keys dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem;margin:.4rem 0}
.keys dd{margin:0}
kbd{font-family:ui-monospace,monospace;border:1px solid #c8ced8;border-radius:3px;padding:0 .3rem}
label.insert{display:block;font-size:.85rem;margin:.2rem 0}
td,.message .meta,.panel li,h1,h2{overflow-wrap:anywhere}
header{flex-wrap:wrap}
.avatar{display:inline-flex;align-items:center;justify-content:center;width:1.7rem;height:1.7rem;border-radius:50%;color:#fff;font-size:.72rem;font-weight:700;margin-right:.4rem;vertical-align:middle;flex:none}
.hue-0{background:#1f5fbf}.hue-1{background:#1d7a4d}.hue-2{background:#7d3fa3}.hue-3{background:#a8432a}
.hue-4{background:#0f6a73}.hue-5{background:#6b5a1c}.hue-6{background:#9c2d64}.hue-7{background:#4a5a78}
.channel{display:inline-flex;align-items:center;gap:.25rem}
svg.icon{fill:none;stroke:currentColor;stroke-width:1.4;stroke-linejoin:round;stroke-linecap:round;vertical-align:middle}
.chip{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.78rem;white-space:nowrap;background:#e3e6eb;color:#1d2330}
.chip.sla-breached{background:#fde2e1;color:#7a1b16}
.chip.sla-soon{background:#fff0c2;color:#5c4a12}
.chip.sla-running{background:#e1f5e4;color:#18542a}
.chip.sla-none{background:transparent;color:#555}
.chip.priority-urgent{background:#fde2e1;color:#7a1b16}
.chip.priority-high{background:#fff0c2;color:#5c4a12}
.who-cell{display:flex;align-items:center}
form.row{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center}
img.inline-image{display:block;max-width:min(100%,24rem);max-height:18rem;height:auto;border-radius:4px;border:1px solid #e3e6eb}
@media (max-width:760px){
  main{padding:.6rem}
  .layout{flex-direction:column}
  nav.views{min-width:0;width:100%;display:flex;flex-wrap:wrap;gap:.2rem}
  nav.views a{gap:.4rem}
  .ticket{grid-template-columns:minmax(0,1fr)}
  table.tickets thead{display:none}
  table.tickets,table.tickets tbody,table.tickets tr,table.tickets td{display:block;width:auto}
  table.tickets tr{border-bottom:1px solid #e3e6eb;padding:.4rem 0}
  table.tickets td{border:0;padding:.1rem .5rem}
  header input[type=search]{width:10rem}
  section.main{width:100%;min-width:0}
  .filters label{flex:1 1 8rem}
  .filters select,.filters input{max-width:100%}
}
@media (prefers-color-scheme:dark){
  body{color:#e6e9ef;background:#14171d}
  a{color:#8fb4ff}
  nav.views a{color:#e6e9ef}
  nav.views a.current{background:#2a3446}
  .count{color:#b3bac6}
  table,.message,.panel,.sign-in,.keys{background:#1d222b;color:#e6e9ef;border-color:#343b48}
  th,td{border-bottom-color:#343b48}
  .message .meta{color:#b3bac6}
  .message.note{background:#3a3320}
  .badge{background:#343b48;color:#e6e9ef}
  .badge.breached{background:#6b2420}
  .badge.due-soon{background:#5c4a12}
  .flash.error{background:#6b2420;color:#fde2e1}
  .flash.done{background:#1f4a2b;color:#e1f5e4}
  input,select,textarea,button{background:#232935;color:#e6e9ef;border:1px solid #4a5262}
  .chart .tick{fill:#b3bac6}
  .skip:focus{background:#1d222b;color:#e6e9ef}
  .chip{background:#343b48;color:#e6e9ef}
  .chip.sla-breached,.chip.priority-urgent{background:#6b2420;color:#fde2e1}
  .chip.sla-soon,.chip.priority-high{background:#5c4a12;color:#fff0c2}
  .chip.sla-running{background:#1f4a2b;color:#e1f5e4}
  .chip.sla-none{background:transparent;color:#b3bac6}
}
"#;

/// Where [`STYLE`] is served; pages link it (the CSP allows no inline style).
pub const STYLE_PATH: &str = "/console/assets/console.css";
/// Where [`LIVE_SCRIPT`] is served.
pub const LIVE_SCRIPT_PATH: &str = "/console/assets/live.js";

/// Redraws a ticket's conversation when its event stream says it changed. The page names
/// the stream and the fragment in `data-events` and `data-fragment` of `#conversation`.
pub const LIVE_SCRIPT: &str = r#"(function(){
  var box=document.getElementById('conversation');
  if(!window.EventSource||!box||!box.dataset.events)return;
  var events=new EventSource(box.dataset.events);
  events.addEventListener('changed',function(){
    fetch(box.dataset.fragment,{credentials:'same-origin'})
      .then(function(r){return r.ok?r.text():null;})
      .then(function(html){if(html!==null){box.innerHTML=html;}});
  });
})();
"#;

/// For a page only admins may see: `None` for an admin, else a 403 page titled `title` that
/// says `why`. The one refusal of the console's admin pages.
pub fn admins_only(session: &Session, title: &str, why: &str) -> Option<Response> {
    if session.agent.role == Role::Admin {
        return None;
    }
    let body = html! {
        h1 { (title) }
        p.flash.error role="alert" { (why) }
    };
    let page = page(title, &session.agent, &session.csrf, body);
    Some((StatusCode::FORBIDDEN, page).into_response())
}

/// A whole page for a signed-in agent.
pub fn page(title: &str, agent: &Agent, csrf: &str, body: Markup) -> Markup {
    live_page(title, agent, csrf, None, body)
}

/// [`page`] whose `[data-live]` parts are fetched again whenever `events` (an event stream)
/// says something changed.
pub fn live_page(
    title: &str,
    agent: &Agent,
    csrf: &str,
    events: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Relaydesk console" }
                link rel="stylesheet" href=(STYLE_PATH);
            }
            body data-events=[events] {
                a.skip href="#content" { "Skip to the content" }
                header {
                    a href=(CONSOLE_PATH) { "Relaydesk" }
                    form method="get" action="/console/tickets" role="search" {
                        input type="hidden" name="view" value="all";
                        input type="search" name="q" placeholder="Search tickets, messages, customers" aria-label="Search";
                    }
                    a href="/console/alerts" { "Alerts" }
                    a href="/console/canned" { "Canned replies" }
                    a href="/console/faq" { "FAQ" }
                    a href="/console/teams" { "Teams" }
                    @if agent.role == relaydesk_storage::Role::Admin {
                        a href="/console/reports" { "Reports" }
                        a href="/console/agents" { "Agents" }
                        a href="/console/channels" { "Channels" }
                        a href="/console/webhooks" { "Webhooks" }
                        a href="/console/tokens" { "API tokens" }
                    }
                    form.availability method="post" action="/console/availability" {
                        input type="hidden" name="csrf" value=(csrf);
                        @if agent.on_duty {
                            input type="hidden" name="on_duty" value="false";
                            button type="submit" title="You get tickets by assignment; press to stop" { "On duty" }
                        } @else {
                            input type="hidden" name="on_duty" value="true";
                            button type="submit" title="You get no tickets by assignment; press to take them again" { "Away" }
                        }
                    }
                    a.who href="/console/password" title="Change your password" { (agent.name) }
                    form method="post" action="/console/sign-out" {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { "Sign out" }
                    }
                }
                main #content { (body) }
                (keys_help())
                script src=(super::script::SCRIPT_PATH) defer {}
            }
        }
    }
}

/// The keyboard shortcuts, shown by `?`.
fn keys_help() -> Markup {
    let keys = [
        ("j / k", "next / previous ticket in a list"),
        ("Enter", "open the chosen ticket"),
        ("/", "search"),
        ("r", "write a reply"),
        ("n", "write an internal note"),
        ("a", "assign the ticket to me"),
        ("c", "close the ticket"),
        ("?", "show these keys"),
        ("Esc", "hide them"),
    ];
    html! {
        div #keys.keys role="dialog" aria-label="Keyboard shortcuts" tabindex="-1" hidden {
            h2 { "Keyboard shortcuts" }
            dl {
                @for (key, what) in keys {
                    dt { kbd { (key) } } dd { (what) }
                }
            }
            button type="button" data-close-keys { "Close" }
        }
    }
}

/// A page outside a session (sign-in, refusals).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Relaydesk console" }
                link rel="stylesheet" href=(STYLE_PATH);
            }
            body { main { (body) } }
        }
    }
}

/// A page that only says something.
pub fn bare_page(title: &str, text: &str) -> Markup {
    bare(
        title,
        html! {
            div.sign-in {
                h1 { (title) }
                p { (text) }
                p { a href=(CONSOLE_PATH) { "Back to the console" } }
            }
        },
    )
}

/// A moment as shown in the console (UTC).
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A moment as a `<time>`: the console's script shows it relative, in the agent's zone.
pub fn moment(t: DateTime<Utc>) -> Markup {
    html! { time datetime=(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) { (when(t)) } }
}

/// The text with its first letter in upper case: `close` → `Close`.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
