//! The console's one script: live lists and tickets, keyboard shortcuts, local times and a
//! reply draft that survives a reload. Served from [`SCRIPT_PATH`] (the CSP allows no inline
//! script); every page works without it.

/// Where [`SCRIPT`] is served.
pub const SCRIPT_PATH: &str = "/console/assets/console.js";

/// What the script does, by what the page carries:
///
/// * `body[data-events]`: an event stream whose `changed` events mean "what this page shows
///   changed"; the page is fetched again and its `[data-live]` parts swapped in (the title
///   too, which carries the count of unread tickets).
/// * `time[datetime]`: shown relative ("4 min ago") in the agent's time zone, exact on hover.
/// * `textarea[data-draft]`: the draft is kept in the browser until it is sent.
/// * `select[data-insert]`: the chosen option's value (a canned reply) goes into the text box
///   the attribute names.
/// * Keys: `j`/`k` next/previous ticket, `Enter` open it, `/` search, `r` reply, `n` note,
///   `a` assign to me, `c` close, `?` the list of keys, `Escape` closes it.
pub const SCRIPT: &str = r#"(function(){
'use strict';
function rel(t){
  var d=(Date.now()-t.getTime())/1000,f=d<0,a=Math.abs(d),s;
  if(a<45)s='just now';
  else if(a<3600)s=Math.round(a/60)+' min';
  else if(a<86400)s=Math.round(a/3600)+' h';
  else if(a<30*86400)s=Math.round(a/86400)+' d';
  else return t.toLocaleDateString();
  if(s==='just now')return s;
  return f?'in '+s:s+' ago';
}
function times(root){
  root.querySelectorAll('time[datetime]').forEach(function(el){
    var t=new Date(el.getAttribute('datetime'));
    if(isNaN(t))return;
    el.title=t.toLocaleString();
    el.textContent=rel(t);
  });
}
function rows(){return Array.prototype.slice.call(document.querySelectorAll('tr[data-ticket]'));}
var current=-1;
function pick(i){
  var r=rows();if(!r.length)return;
  current=Math.max(0,Math.min(r.length-1,i));
  r.forEach(function(row,n){row.classList.toggle('picked',n===current);});
  var link=r[current].querySelector('a');if(link)link.focus();
}
function live(){
  var url=document.body.dataset.events;
  if(!url||!window.EventSource)return;
  var pending=null,events=new EventSource(url);
  events.addEventListener('changed',function(){
    if(pending)return;
    pending=setTimeout(function(){
      pending=null;
      fetch(location.href,{credentials:'same-origin',headers:{'X-Live':'1'}})
        .then(function(r){return r.ok?r.text():null;})
        .then(function(html){
          if(html===null)return;
          var next=new DOMParser().parseFromString(html,'text/html');
          var ticked={};
          document.querySelectorAll('input[name=ticket]:checked').forEach(function(b){ticked[b.value]=true;});
          document.querySelectorAll('[data-live]').forEach(function(el){
            var fresh=next.querySelector('[data-live="'+el.dataset.live+'"]');
            if(fresh&&!el.contains(document.activeElement)){el.innerHTML=fresh.innerHTML;times(el);}
          });
          document.querySelectorAll('input[name=ticket]').forEach(function(b){if(ticked[b.value])b.checked=true;});
          document.title=next.title;
          if(current>=0)pick(current);
        });
    },150);
  });
}
function drafts(){
  document.querySelectorAll('textarea[data-draft]').forEach(function(box){
    var key='relaydesk-draft:'+box.dataset.draft;
    try{var kept=localStorage.getItem(key);if(kept&&!box.value)box.value=kept;}catch(e){}
    box.addEventListener('input',function(){try{localStorage.setItem(key,box.value);}catch(e){}});
    if(box.form)box.form.addEventListener('submit',function(){try{localStorage.removeItem(key);}catch(e){}});
  });
}
function help(show){
  var box=document.getElementById('keys');if(!box)return;
  box.hidden=!show;
  if(show)box.focus();
}
function typing(e){
  var t=e.target;
  return t&&(t.isContentEditable||/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}
function press(sel){var el=document.querySelector(sel);if(el){el.click();return true;}return false;}
function focus(sel){var el=document.querySelector(sel);if(el){el.focus();return true;}return false;}
document.addEventListener('keydown',function(e){
  if(e.key==='Escape'){help(false);return;}
  if(e.ctrlKey||e.metaKey||e.altKey||typing(e))return;
  var done=true;
  switch(e.key){
    case 'j':pick(current+1);break;
    case 'k':pick(current<0?0:current-1);break;
    case 'Enter':
      var r=rows();if(current>=0&&r[current]){var a=r[current].querySelector('a');if(a)location.href=a.href;}else done=false;break;
    case '/':done=focus('input[type=search]');break;
    case 'r':done=focus('#reply-text');break;
    case 'n':done=focus('#note-text');break;
    case 'a':done=press('#assign-me');break;
    case 'c':done=press('#close-ticket');break;
    case '?':help(true);break;
    default:done=false;
  }
  if(done)e.preventDefault();
});
document.addEventListener('change',function(e){
  var t=e.target;
  if(!t||!t.matches||!t.matches('select[data-insert]')||!t.value)return;
  var box=document.querySelector(t.dataset.insert);
  if(box){
    box.value=box.value?box.value+'\n'+t.value:t.value;
    box.dispatchEvent(new Event('input'));
    box.focus();
  }
  t.value='';
});
document.addEventListener('click',function(e){
  var t=e.target;
  if(t&&t.matches&&t.matches('[data-close-keys]'))help(false);
});
times(document);
setInterval(function(){times(document);},30000);
drafts();
live();
})();
"#;
