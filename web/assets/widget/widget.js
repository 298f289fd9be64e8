/* Relaydesk chat widget. Add to any page:
 *   <script src="https://desk.example.com/widget.js" data-relaydesk async></script>
 * Options (attributes of that tag): data-title, data-color, data-lang, data-open,
 * data-user-id, data-user-name, data-user-email, data-user-hash (identity verification).
 * When the visitor signs out of the site, call window.Relaydesk.logout(): the conversation is
 * forgotten in this browser. A page with another data-user-id (or none, after a signed-in
 * visitor) starts a new conversation by itself.
 * Everything anyone writes is shown with textContent: never as HTML. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-relaydesk]");
  if (!script || window.__relaydeskWidget) return;
  window.__relaydeskWidget = true;

  var base = new URL(script.src, location.href);
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/widget/ws";
  var opt = script.dataset || {};

  var TEXTS = {
    en: { launcher: "Chat with us", title: "Support", intro: "Hi! Tell us your name and we will get started.",
      name: "Your name", email: "Email (optional)", start: "Start chat", placeholder: "Write a message…",
      send: "Send", attach: "Attach a file", close: "Close", sending: "sending…", failed: "not sent",
      offline: "No one is available right now. Leave your email and we will answer there as soon as we can.",
      saveEmail: "Save", emailSaved: "Thanks, we will write to you at that address.",
      closed: "This conversation has been closed. Write again if you need anything else.",
      opened: "Thanks! Your ticket number is #{n}.", reconnecting: "Reconnecting…", you: "You" },
    de: { launcher: "Chatten Sie mit uns", title: "Support", intro: "Hallo! Wie heißen Sie?",
      name: "Ihr Name", email: "E-Mail (optional)", start: "Chat starten", placeholder: "Nachricht schreiben…",
      send: "Senden", attach: "Datei anhängen", close: "Schließen", sending: "wird gesendet…", failed: "nicht gesendet",
      offline: "Gerade ist niemand erreichbar. Hinterlassen Sie Ihre E-Mail-Adresse, wir antworten so bald wie möglich.",
      saveEmail: "Speichern", emailSaved: "Danke, wir schreiben Ihnen an diese Adresse.",
      closed: "Dieses Gespräch wurde geschlossen. Schreiben Sie uns einfach wieder, wenn Sie noch etwas brauchen.",
      opened: "Danke! Ihre Ticketnummer ist #{n}.", reconnecting: "Verbindung wird wiederhergestellt…", you: "Sie" },
    fi: { launcher: "Keskustele kanssamme", title: "Tuki", intro: "Hei! Kerro nimesi, niin aloitetaan.",
      name: "Nimesi", email: "Sähköposti (valinnainen)", start: "Aloita keskustelu", placeholder: "Kirjoita viesti…",
      send: "Lähetä", attach: "Liitä tiedosto", close: "Sulje", sending: "lähetetään…", failed: "ei lähetetty",
      offline: "Kukaan ei ole juuri nyt paikalla. Jätä sähköpostiosoitteesi, niin vastaamme sinne mahdollisimman pian.",
      saveEmail: "Tallenna", emailSaved: "Kiitos, kirjoitamme sinulle tähän osoitteeseen.",
      closed: "Tämä keskustelu on suljettu. Kirjoita uudelleen, jos tarvitset vielä jotain.",
      opened: "Kiitos! Tikettisi numero on #{n}.", reconnecting: "Yhdistetään uudelleen…", you: "Sinä" },
    sv: { launcher: "Chatta med oss", title: "Support", intro: "Hej! Vad heter du?",
      name: "Ditt namn", email: "E-post (valfritt)", start: "Starta chatten", placeholder: "Skriv ett meddelande…",
      send: "Skicka", attach: "Bifoga en fil", close: "Stäng", sending: "skickas…", failed: "inte skickat",
      offline: "Ingen är tillgänglig just nu. Lämna din e-postadress så svarar vi där så snart vi kan.",
      saveEmail: "Spara", emailSaved: "Tack, vi skriver till dig på den adressen.",
      closed: "Den här konversationen har stängts. Skriv igen om du behöver något mer.",
      opened: "Tack! Ditt ärendenummer är #{n}.", reconnecting: "Återansluter…", you: "Du" },
    ru: { launcher: "Напишите нам", title: "Поддержка", intro: "Здравствуйте! Как вас зовут?",
      name: "Ваше имя", email: "Email (необязательно)", start: "Начать чат", placeholder: "Напишите сообщение…",
      send: "Отправить", attach: "Прикрепить файл", close: "Закрыть", sending: "отправляется…", failed: "не отправлено",
      offline: "Сейчас никого нет на месте. Оставьте email, и мы ответим туда как можно скорее.",
      saveEmail: "Сохранить", emailSaved: "Спасибо, мы напишем вам на этот адрес.",
      closed: "Этот разговор закрыт. Напишите снова, если нужна помощь.",
      opened: "Спасибо! Номер вашего обращения: #{n}.", reconnecting: "Переподключение…", you: "Вы" }
  };
  var lang = String(opt.lang || navigator.language || "en").toLowerCase().split(/[-_]/)[0];
  var T = TEXTS[lang] || TEXTS.en;
  if (!TEXTS[lang]) lang = "en";

  /* Storage: the session token and the visitor's name survive reloads; so do messages not yet
   * acknowledged (without their files). */
  var KEY = "relaydesk:" + base.host + ":";
  function load(name) { try { return localStorage.getItem(KEY + name); } catch (e) { return null; } }
  function save(name, value) {
    try { if (value === null) localStorage.removeItem(KEY + name); else localStorage.setItem(KEY + name, value); } catch (e) {}
  }

  var verifiedUser = opt.userId && opt.userHash
    ? { id: opt.userId, name: opt.userName || null, email: opt.userEmail || null, hash: opt.userHash } : null;

  /* The stored conversation belongs to whoever the page said the visitor was when it began:
   * another identity (or none after a signed-in one) is someone else at this browser. */
  var STORED = ["token", "name", "email", "pending", "open", "user"];
  function forget() { STORED.forEach(function (k) { save(k, null); }); }
  var pageUser = verifiedUser ? "id:" + verifiedUser.id : "";
  var sessionUser = load("user");
  if (sessionUser !== null && sessionUser !== pageUser) forget();

  /* ---- DOM (in a shadow root: the host page's CSS cannot reach it) ---- */
  var host = document.createElement("div");
  host.id = "relaydesk-widget";
  host.style.cssText = "all:initial;position:fixed;z-index:2147483000;right:20px;bottom:20px;";
  var root = host.attachShadow({ mode: "open" });
  var color = /^#[0-9a-fA-F]{3,8}$/.test(opt.color || "") ? opt.color : "#2f6fed";
  var style = document.createElement("style");
  style.textContent =
    ":host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:14px;line-height:1.4}" +
    ".launcher{border:0;border-radius:24px;padding:12px 18px;background:" + color + ";color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);font-weight:600}" +
    ".panel{display:none;flex-direction:column;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 40px);background:#fff;color:#1d1d1f;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}" +
    ".open .panel{display:flex}.open .launcher{display:none}" +
    ".head{display:flex;justify-content:space-between;align-items:center;padding:10px 14px;background:" + color + ";color:#fff;font-weight:600}" +
    ".head button{background:none;border:0;color:#fff;font-size:18px;cursor:pointer}" +
    ".messages{flex:1;overflow-y:auto;padding:10px;background:#f6f7f9}" +
    ".msg{max-width:85%;margin:6px 0;padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    ".visitor{margin-left:auto;background:" + color + ";color:#fff}.agent{background:#fff;border:1px solid #e1e3e8}" +
    ".system{margin:8px auto;max-width:95%;background:none;color:#666;font-size:12px;text-align:center}" +
    ".author{display:block;font-size:11px;opacity:.75;margin-bottom:2px}.state{display:block;font-size:11px;opacity:.75}" +
    ".failed{outline:2px solid #d33}.files a{display:block;color:inherit}.files img{max-width:100%;border-radius:6px;margin-top:4px}" +
    ".form{padding:14px;display:flex;flex-direction:column;gap:8px}.form input{padding:8px;border:1px solid #ccd;border-radius:6px}" +
    ".form button,.compose button,.offline button{padding:8px 12px;border:0;border-radius:6px;background:" + color + ";color:#fff;cursor:pointer}" +
    ".compose{display:flex;gap:6px;padding:8px;border-top:1px solid #e1e3e8;align-items:flex-end}" +
    ".compose textarea{flex:1;resize:none;height:40px;padding:8px;border:1px solid #ccd;border-radius:6px}" +
    ".compose label{cursor:pointer;padding:8px 4px;font-size:18px}.compose input[type=file]{display:none}" +
    ".offline{display:none;padding:8px 10px;background:#fff8e1;border-top:1px solid #f0e0a0;font-size:12px}" +
    ".offline input{width:60%;padding:6px;border:1px solid #ccd;border-radius:6px;margin-right:4px}" +
    ".choices{display:flex;gap:4px;margin-top:6px;flex-wrap:wrap}" +
    ".choices button{padding:6px 10px;border:1px solid " + color + ";border-radius:6px;background:#fff;color:" + color + ";cursor:pointer}" +
    ".choices button.on{background:" + color + ";color:#fff}.choices button:disabled{cursor:default;opacity:.7}" +
    ".choices.survey button{border:0;background:none;padding:2px;font-size:24px;color:#b0b4bb}" +
    ".choices.survey button.on{background:none;color:#e6a100}" +
    ".prompt form{display:flex;flex-direction:column;gap:4px;margin-top:6px}" +
    ".prompt textarea{resize:vertical;min-height:40px;padding:6px;border:1px solid #ccd;border-radius:6px;font:inherit}" +
    ".prompt form button{align-self:flex-end;padding:6px 10px;border:0;border-radius:6px;background:" + color + ";color:#fff;cursor:pointer}" +
    ".prompt .said{margin-top:6px;font-style:italic}" +
    ".banner{display:none;padding:4px;text-align:center;font-size:12px;background:#eee;color:#555}";
  root.appendChild(style);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  var frame = el("div", "frame");
  var launcher = el("button", "launcher", opt.title || T.launcher);
  launcher.type = "button";
  var panel = el("div", "panel");
  var head = el("div", "head");
  head.appendChild(el("span", "title", opt.title || T.title));
  var closeBtn = el("button", "close", "×");
  closeBtn.type = "button";
  closeBtn.title = T.close;
  head.appendChild(closeBtn);
  var banner = el("div", "banner", T.reconnecting);
  var messages = el("div", "messages");
  var form = el("form", "form intro");
  form.appendChild(el("div", "", T.intro));
  var nameInput = el("input", "name");
  nameInput.placeholder = T.name;
  nameInput.required = true;
  nameInput.maxLength = 80;
  var emailInput = el("input", "email");
  emailInput.type = "email";
  emailInput.placeholder = T.email;
  var startBtn = el("button", "start", T.start);
  startBtn.type = "submit";
  form.appendChild(nameInput);
  form.appendChild(emailInput);
  form.appendChild(startBtn);
  var offline = el("form", "offline");
  offline.appendChild(el("div", "", T.offline));
  var offlineEmail = el("input", "offline-email");
  offlineEmail.type = "email";
  offlineEmail.placeholder = T.email;
  var offlineSave = el("button", "", T.saveEmail);
  offlineSave.type = "submit";
  offline.appendChild(offlineEmail);
  offline.appendChild(offlineSave);
  var compose = el("form", "compose");
  var fileLabel = el("label", "attach", "📎");
  fileLabel.title = T.attach;
  var fileInput = el("input", "file");
  fileInput.type = "file";
  fileInput.accept = "image/png,image/jpeg,image/gif,image/webp,application/pdf";
  fileLabel.appendChild(fileInput);
  var textarea = el("textarea", "text");
  textarea.placeholder = T.placeholder;
  textarea.maxLength = 8000;
  var sendBtn = el("button", "send", T.send);
  sendBtn.type = "submit";
  compose.appendChild(fileLabel);
  compose.appendChild(textarea);
  compose.appendChild(sendBtn);
  panel.appendChild(head);
  panel.appendChild(banner);
  panel.appendChild(messages);
  panel.appendChild(form);
  panel.appendChild(offline);
  panel.appendChild(compose);
  frame.appendChild(launcher);
  frame.appendChild(panel);
  root.appendChild(frame);

  /* ---- state ---- */
  var ws = null, ready = false, retries = 0, maxFile = 5 * 1024 * 1024, flushTimer = null;
  var idle = false;           // the server closed the socket for inactivity: wait for the visitor
  var shownIds = {};          // server message id -> true
  var bubbles = {};           // client id -> bubble element
  var pending = [];           // [{id, text, file?}] not yet acknowledged
  try { pending = JSON.parse(load("pending") || "[]") || []; } catch (e) { pending = []; }
  var name = load("name") || (verifiedUser && verifiedUser.name) || "";
  var email = load("email") || "";

  function savePending() {
    save("pending", JSON.stringify(pending.map(function (p) { return { id: p.id, text: p.text, attempts: p.attempts || 0 }; })));
  }
  function scroll() { messages.scrollTop = messages.scrollHeight; }
  function systemLine(text) { messages.appendChild(el("div", "msg system", text)); scroll(); }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function showForm() {
    var started = !!name || !!verifiedUser;
    form.style.display = started ? "none" : "flex";
    compose.style.display = started ? "flex" : "none";
  }

  function bubble(from, author, text, files) {
    var b = el("div", "msg " + (from === "visitor" ? "visitor" : "agent"));
    if (from !== "visitor") b.appendChild(el("span", "author", author));
    b.appendChild(el("span", "body", text));
    if (files && files.length) {
      var list = el("div", "files");
      files.forEach(function (f) {
        var safe = typeof f.url === "string" && /^(https?:\/\/[^\s]+|\/widget\/files\/[0-9a-f]+)$/.test(f.url);
        var href = safe ? new URL(f.url, base).href : null;
        if (href && /^image\//.test(f.mime_type || "")) {
          var img = el("img");
          img.src = href;
          img.alt = f.name || "";
          list.appendChild(img);
        } else if (href) {
          var a = el("a", "", f.name || "file");
          a.href = href;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          list.appendChild(a);
        } else {
          list.appendChild(el("span", "", f.name || "file"));
        }
      });
      b.appendChild(list);
    }
    messages.appendChild(b);
    scroll();
    return b;
  }
  /* A survey (stars, then an optional comment) or an FAQ answer (two buttons). */
  var prompts = {};           // prompt id -> {frame, box}
  function renderPrompt(p) {
    var f = p.frame, box = p.box;
    box.textContent = "";
    box.appendChild(el("span", "body", f.text));
    var row = el("div", "choices " + f.kind);
    f.buttons.forEach(function (b) {
      var survey = f.kind === "survey";
      var btn = el("button", "choice", survey ? "★" : b.label);
      btn.type = "button";
      btn.value = b.value;
      if (survey) {
        btn.setAttribute("aria-label", b.label + " / 5");
        btn.title = b.label + " / 5";
      }
      var on = survey ? (f.chosen && Number(b.value) <= Number(f.chosen)) : f.chosen === b.value;
      if (on) btn.classList.add("on");
      btn.setAttribute("aria-pressed", f.chosen === b.value ? "true" : "false");
      if (!survey && f.chosen) btn.disabled = true;
      btn.addEventListener("click", function () {
        if (idle) connect();
        send({ type: "answer", prompt: f.id, value: b.value });
      });
      row.appendChild(btn);
    });
    box.appendChild(row);
    if (f.kind === "survey" && f.chosen && f.comment && !f.commented) {
      var cform = el("form", "comment");
      var label = el("label", "", f.comment.label);
      var area = el("textarea", "comment-text");
      area.maxLength = 1000;
      label.appendChild(area);
      var go = el("button", "", f.comment.send);
      go.type = "submit";
      cform.appendChild(label);
      cform.appendChild(go);
      cform.addEventListener("submit", function (e) {
        e.preventDefault();
        var text = area.value.trim();
        if (text) send({ type: "comment", prompt: f.id, text: text });
      });
      box.appendChild(cform);
    }
    if (p.said) box.appendChild(el("div", "said", p.said));
    scroll();
  }
  function showPrompt(f) {
    var p = prompts[f.id];
    if (!p) {
      p = prompts[f.id] = { box: el("div", "msg agent prompt") };
      p.box.setAttribute("data-prompt", f.id);
      messages.appendChild(p.box);
    }
    p.frame = f;
    renderPrompt(p);
  }
  function answered(f) {
    var p = prompts[f.prompt];
    if (!p) return;
    p.frame.chosen = f.chosen;
    p.frame.commented = f.commented;
    p.said = f.text;
    renderPrompt(p);
  }

  function markState(b, text, failed) {
    if (!b) return;
    var s = b.querySelector(".state");
    if (!s) { s = el("span", "state"); b.appendChild(s); }
    s.textContent = text || "";
    if (failed) b.classList.add("failed"); else b.classList.remove("failed");
  }

  /* ---- connection ---- */
  function send(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }
  /* A message the server never acknowledges (each attempt ended its connection) is given up
   * after a few tries instead of being sent forever. */
  var MAX_ATTEMPTS = 5;
  function flush() {
    flushTimer = null;
    if (!ready) return;
    pending = pending.filter(function (p) {
      p.attempts = (p.attempts || 0) + 1;
      if (p.attempts > MAX_ATTEMPTS) {
        markState(bubbles[p.id], T.failed, true);
        return false;
      }
      var frame = { type: "send", id: p.id, text: p.text };
      if (p.file) frame.file = p.file;
      send(frame);
      return true;
    });
    savePending();
  }
  function connect() {
    if (!name && !verifiedUser) return;   // signed out: nobody to connect as
    idle = false;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    ready = false;
    ws = new WebSocket(wsUrl);
    ws.onopen = function () {
      var hello = { type: "hello", token: load("token"), name: name || null, email: email || null, language: lang };
      if (verifiedUser) hello.user = verifiedUser;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = function (event) {
      var f;
      try { f = JSON.parse(event.data); } catch (e) { return; }
      handle(f);
    };
    ws.onclose = function () {
      ready = false;
      if (idle) return;
      banner.style.display = "block";
      var delay = Math.min(15000, 500 * Math.pow(2, retries++));
      setTimeout(connect, delay);
    };
  }
  function handle(f) {
    if (f.type === "welcome") {
      ready = true;
      retries = 0;
      banner.style.display = "none";
      save("token", f.token);
      save("user", pageUser);
      if (f.name && !name) { name = f.name; save("name", name); showForm(); }
      maxFile = f.max_file_bytes || maxFile;
      offline.style.display = f.offline && !f.has_email ? "block" : "none";
      flush();
    } else if (f.type === "message") {
      if (shownIds[f.id]) return;
      shownIds[f.id] = true;
      var mine = f.client_id && bubbles[f.client_id];
      if (mine) {
        markState(mine, "", false);
        return;
      }
      bubble(f.from, f.from === "visitor" ? T.you : f.author, f.text, f.files);
    } else if (f.type === "ack") {
      pending = pending.filter(function (p) { return p.id !== f.id; });
      savePending();
      markState(bubbles[f.id], "", false);
      if (f.new_ticket && !f.duplicate) systemLine(T.opened.replace("{n}", f.ticket));
    } else if (f.type === "prompt") {
      showPrompt(f);
    } else if (f.type === "answered") {
      answered(f);
    } else if (f.type === "status") {
      if (f.closed) systemLine(T.closed);
    } else if (f.type === "error") {
      if (f.id) {
        if (f.code === "rate_limited" || f.code === "internal") {
          // The server answered: this try does not count against the message.
          pending.forEach(function (p) { if (p.id === f.id && p.attempts) p.attempts -= 1; });
          markState(bubbles[f.id], T.sending, false);
          if (!flushTimer) flushTimer = setTimeout(flush, 5000);
        } else {
          pending = pending.filter(function (p) { return p.id !== f.id; });
          savePending();
          markState(bubbles[f.id], T.failed, true);
        }
      }
      if (f.code === "idle") {
        // A visible, open chat stays live (a reply may be on its way); a tab in the
        // background reconnects when it is looked at again.
        idle = true;
        if (!document.hidden && frame.classList.contains("open")) setTimeout(connect, 1000);
        return;
      }
      systemLine(f.message);
      if (f.code === "identity_refused") verifiedUser = null;
    }
  }

  function submitMessage(text, file) {
    if (idle) connect();
    var id = newId();
    var item = { id: id, text: text, attempts: ready ? 1 : 0 };
    if (file) item.file = file;
    pending.push(item);
    savePending();
    var b = bubble("visitor", T.you, text, file ? [{ name: file.name }] : []);
    bubbles[id] = b;
    markState(b, T.sending, false);
    if (ready) send({ type: "send", id: id, text: text, file: file || undefined });
  }

  /* ---- events ---- */
  function setOpen(open) {
    frame.classList.toggle("open", open);
    save("open", open ? "1" : null);
    if (open) {
      showForm();
      if (name || verifiedUser) connect();
      (name || verifiedUser ? textarea : nameInput).focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var n = nameInput.value.trim();
    if (!n) return;
    name = n;
    email = emailInput.value.trim();
    save("name", name);
    if (email) save("email", email);
    showForm();
    connect();
    textarea.focus();
  });
  offline.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = offlineEmail.value.trim();
    if (!v) return;
    email = v;
    save("email", email);
    send({ type: "profile", email: email });
    offline.style.display = "none";
    systemLine(T.emailSaved);
  });
  compose.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = textarea.value;
    if (!text.trim()) return;
    textarea.value = "";
    submitMessage(text, null);
  });
  textarea.addEventListener("focus", function () { if (idle) connect(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden && idle) connect(); });
  textarea.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      compose.requestSubmit ? compose.requestSubmit() : compose.dispatchEvent(new Event("submit"));
    }
  });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (file.size > maxFile) { systemLine(T.failed + ": " + file.name); return; }
    var reader = new FileReader();
    reader.onload = function () {
      var data = String(reader.result).split(",")[1] || "";
      submitMessage(textarea.value, { name: file.name, data: data });
      textarea.value = "";
    };
    reader.readAsDataURL(file);
  });

  /* The embedding site's sign-out: the conversation is forgotten here and the widget starts
   * over as for a new visitor. */
  function logout() {
    forget();
    if (ws) { ws.onclose = null; ws.onmessage = null; try { ws.close(); } catch (e) {} }
    ws = null;
    ready = false;
    verifiedUser = null;
    pageUser = "";
    name = "";
    email = "";
    pending = [];
    shownIds = {};
    prompts = {};
    bubbles = {};
    while (messages.firstChild) messages.removeChild(messages.firstChild);
    banner.style.display = "none";
    offline.style.display = "none";
    nameInput.value = "";
    emailInput.value = "";
    frame.classList.remove("open");
    showForm();
  }
  window.Relaydesk = { logout: logout };

  function mount() {
    document.body.appendChild(host);
    showForm();
    if (load("open") === "1" || opt.open !== undefined) setOpen(true);
    else if (load("token")) connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
