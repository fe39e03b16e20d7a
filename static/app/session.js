// The idle logout without losing work (issue 17).
//
// 1. Drafts: a form marked data-draft (the visit form) is copied into this browser's
//    localStorage as it is typed, under the user's id and the form's address. The copy stays
//    until the server confirms the save (the page after a save carries data-draft-saved), or
//    the user discards it. So an idle logout, a lost connection or a closed tab loses nothing:
//    when the form is opened again (after logging in again), what was typed comes back with a
//    notice. Nothing is posted again by itself: the official checks it and saves.
// 2. A warning a few minutes before the idle logout (body[data-session-idle-timeout], seconds,
//    as in config/middleware.py), with a button that keeps the session.
// Texts of the form's notice come from the page (translated there); the few texts this file
// writes itself are below, in the two languages the app has.
(() => {
  "use strict";

  const TEXTS = {
    zh: {
      warn: "您已有一段时间没有操作，为保护数据安全，约 {minutes} 分钟后将自动退出登录。",
      warnSoon: "您已有一段时间没有操作，即将自动退出登录。",
      draftKept: "正在填写的内容已保存在本机。",
      stay: "继续使用",
      expired: "登录已超时，请重新登录。",
      expiredDraft: "正在填写的内容已保存在本机，重新登录后将自动恢复。",
      login: "重新登录",
      loginNotice: "登录已超时，已为您保留填写内容。重新登录后将自动恢复。",
    },
    en: {
      warn: "You have been inactive for a while: for security you will be logged out in about {minutes} min.",
      warnSoon: "You have been inactive for a while and will be logged out in a moment.",
      draftKept: "What you are typing is kept on this device.",
      stay: "Stay logged in",
      expired: "Your login timed out: please log in again.",
      expiredDraft: "What you were typing is kept on this device and comes back after you log in.",
      login: "Log in again",
      loginNotice: "Your login timed out; what you typed has been kept for you and comes back after you log in.",
    },
  };
  const CHINESE = (document.documentElement.lang || "zh").toLowerCase().startsWith("zh");
  const T = CHINESE ? TEXTS.zh : TEXTS.en;
  const sentences = (...parts) => parts.filter(Boolean).join(CHINESE ? "" : " ");

  const DRAFT_PREFIX = "evt-draft:v1:";
  const DRAFT_MAX_AGE = 7 * 24 * 3600 * 1000; // a week: older drafts are dropped unread
  const LAST_REQUEST = "evt-session:last-request";
  const RELOGIN = "evt-draft:relogin"; // sessionStorage: the login page saw a kept draft for this path
  // Never kept: the CSRF token changes with the login, the version must stay the server's (so a
  // stale edit is still caught), and the formset's counters are the page's own.
  const SKIP = /^(csrfmiddlewaretoken|version)$|-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$/;

  // localStorage may be missing, full or refused (private windows): drafts are then a no-op.
  const storage = {
    get(key, area = window.localStorage) {
      try {
        return area.getItem(key);
      } catch {
        return null;
      }
    },
    set(key, value, area = window.localStorage) {
      try {
        area.setItem(key, value);
        return true;
      } catch {
        return false;
      }
    },
    remove(key, area = window.localStorage) {
      try {
        area.removeItem(key);
      } catch {
        /* nothing kept */
      }
    },
    keys() {
      try {
        return Object.keys(window.localStorage);
      } catch {
        return [];
      }
    },
  };

  const draftKey = (user, path) => `${DRAFT_PREFIX}${user}:${path}`;
  const timeText = (ms) => new Date(ms).toTimeString().slice(0, 5);

  function readDraft(key) {
    const raw = storage.get(key);
    if (!raw) return null;
    try {
      const draft = JSON.parse(raw);
      if (draft && Array.isArray(draft.fields) && Date.now() - draft.savedAt < DRAFT_MAX_AGE) return draft;
    } catch {
      /* unreadable: dropped below */
    }
    storage.remove(key);
    return null;
  }

  function dropOldDrafts() {
    for (const key of storage.keys()) if (key.startsWith(DRAFT_PREFIX)) readDraft(key);
  }

  function kept(element) {
    return element.name && !element.disabled && !SKIP.test(element.name) && element.type !== "submit";
  }

  function serialize(form) {
    const fields = [];
    let files = false;
    for (const element of form.elements) {
      if (!kept(element) || element.type === "button") continue;
      if (element.type === "file") {
        files = files || element.files.length > 0; // a browser cannot keep chosen files
      } else if (element.type === "checkbox" || element.type === "radio") {
        if (element.checked) fields.push([element.name, element.value]);
      } else if (element.type === "select-multiple") {
        for (const option of element.selectedOptions) fields.push([element.name, option.value]);
      } else {
        fields.push([element.name, element.value]);
      }
    }
    return { fields, files };
  }

  function fill(form, fields) {
    const values = new Map();
    for (const [name, value] of fields) values.set(name, [...(values.get(name) || []), value]);
    for (const element of form.elements) {
      if (!kept(element) || element.type === "file" || element.type === "button") continue;
      const saved = values.get(element.name) || [];
      if (element.type === "checkbox" || element.type === "radio") {
        element.checked = saved.includes(element.value);
      } else if (element.type === "select-multiple") {
        for (const option of element.options) option.selected = saved.includes(option.value);
      } else if (values.has(element.name)) {
        element.value = saved[0];
      }
    }
  }

  function sameFields(a, b) {
    const text = (fields) =>
      JSON.stringify(fields.filter(([name]) => name !== "submission_token").sort());
    return text(a) === text(b);
  }

  function showNotice(parts, onDiscard) {
    const notice = document.getElementById("draft-notice");
    if (!notice) return;
    document.getElementById("draft-notice-text").textContent = sentences(...parts);
    document.getElementById("draft-discard").addEventListener("click", onDiscard);
    notice.hidden = false;
  }

  function draftForm(form) {
    const user = form.dataset.draftUser;
    if (!user) return;
    const key = draftKey(user, window.location.pathname);
    const status = document.getElementById("draft-status");
    const initial = serialize(form).fields;
    let restoring = false;
    let timer = null;

    function save(submitted = false) {
      clearTimeout(timer);
      timer = null;
      if (restoring) return;
      const { fields, files } = serialize(form);
      const previous = readDraft(key);
      if (!previous && sameFields(fields, initial) && !files) return; // nothing typed yet
      const draft = {
        savedAt: Date.now(),
        submittedAt: submitted ? Date.now() : null,
        version: form.dataset.draftVersion || (previous && previous.version) || null,
        fields,
        files,
      };
      if (storage.set(key, JSON.stringify(draft)) && status) {
        status.textContent = status.dataset.text.replace("{time}", timeText(draft.savedAt));
        status.hidden = false;
      }
    }
    const later = () => {
      clearTimeout(timer);
      timer = setTimeout(save, 400);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", () => save(true));
    window.addEventListener("pagehide", () => timer && save()); // a save still waiting

    const draft = readDraft(key);
    if (!draft) return;
    if ("draftBound" in form.dataset) {
      // The server answered this post (it shows the form again with what was sent): keep the
      // draft, but it is no longer a post in flight.
      draft.submittedAt = null;
      storage.set(key, JSON.stringify(draft));
      return;
    }
    if (sameFields(draft.fields, initial) && !draft.files) {
      storage.remove(key);
      return;
    }
    const notice = document.getElementById("draft-notice");
    const text = (name) => (notice ? notice.dataset[name] : "");
    const relogin = storage.get(RELOGIN, window.sessionStorage) === window.location.pathname;
    storage.remove(RELOGIN, window.sessionStorage);
    let first;
    if (relogin || (draft.submittedAt && /\/accounts\/login\//.test(document.referrer))) first = text("relogin");
    else if (draft.submittedAt) first = text("unsent");
    else first = (text("restored") || "").replace("{time}", timeText(draft.savedAt));

    restoring = true;
    form.dispatchEvent(new CustomEvent("draft:before-restore", { detail: draft }));
    fill(form, draft.fields);
    form.dispatchEvent(new CustomEvent("draft:restored", { detail: draft }));
    restoring = false;
    save(); // the restored draft, no longer in flight
    const changed = form.dataset.draftVersion && draft.version && draft.version !== form.dataset.draftVersion;
    showNotice(
      [first, changed ? text("changed") : "", draft.files ? text("files") : "", text("check")],
      () => {
        storage.remove(key);
        window.location.reload(); // the form as the server gives it
      },
    );
  }

  // The page after a save: the form at that address was saved, its draft is done with.
  function dropSavedDraft() {
    const marker = document.querySelector("[data-draft-saved]");
    if (marker) storage.remove(draftKey(marker.dataset.draftUser, marker.dataset.draftSaved));
  }

  // The login page after an idle logout: say the text was kept, before the user worries.
  function loginNotice() {
    const next = new URLSearchParams(window.location.search).get("next");
    const form = document.querySelector("form input[name=next]");
    if (!next || !form || document.body.dataset.sessionIdleTimeout) return;
    let path;
    try {
      path = new URL(next, window.location.origin).pathname;
    } catch {
      return;
    }
    const suffix = `:${path}`;
    const pending = storage
      .keys()
      .filter((key) => key.startsWith(DRAFT_PREFIX) && key.endsWith(suffix))
      .map(readDraft)
      .some((draft) => draft && draft.submittedAt);
    if (!pending) return;
    storage.set(RELOGIN, path, window.sessionStorage);
    const alert = document.createElement("div");
    alert.className = "alert alert-warning";
    alert.id = "login-draft-notice";
    alert.setAttribute("role", "status");
    alert.textContent = T.loginNotice;
    document.querySelector("main")?.prepend(alert);
  }

  // An explicit logout says "done on this device": drafts kept here go too (shared office PCs).
  function dropDraftsOnLogout() {
    for (const form of document.querySelectorAll("form[action]")) {
      if (!/\/accounts\/logout\/$/.test(new URL(form.action, window.location.href).pathname)) continue;
      form.addEventListener("submit", () => {
        for (const key of storage.keys()) if (key.startsWith(DRAFT_PREFIX)) storage.remove(key);
      });
    }
  }

  // --- The idle warning ------------------------------------------------------------------------
  function idleWarning() {
    const seconds = Number(document.body.dataset.sessionIdleTimeout);
    if (!seconds) return;
    const timeout = seconds * 1000;
    const lead = Math.min(5 * 60 * 1000, timeout / 4); // warn 5 minutes before (30-minute limit)
    // The server moves its idle clock at most once a minute: its logout may come a minute early.
    const slack = Math.min(60 * 1000, timeout / 10);
    const remember = (ms) => {
      if (ms > (Number(storage.get(LAST_REQUEST)) || 0)) storage.set(LAST_REQUEST, String(ms));
    };
    const loadedAt = Date.now();
    remember(loadedAt); // other tabs of the same login share the clock
    const lastRequest = () => Math.max(loadedAt, Number(storage.get(LAST_REQUEST)) || 0);
    const hasDraft = Boolean(document.querySelector("form[data-draft]"));
    let banner = null;
    let timer = null;

    function show(kind, minutes) {
      if (!banner) {
        banner = document.createElement("div");
        banner.id = "session-warning";
        banner.className = "alert session-warning d-flex flex-wrap align-items-center gap-2 d-print-none";
        banner.setAttribute("role", "alert");
        document.querySelector("main")?.prepend(banner);
      }
      banner.classList.toggle("alert-warning", kind === "warn");
      banner.classList.toggle("alert-danger", kind === "expired");
      banner.dataset.state = kind;
      const text = document.createElement("span");
      text.className = "me-auto";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-primary";
      if (kind === "warn") {
        text.textContent = sentences(
          minutes > 0 ? T.warn.replace("{minutes}", minutes) : T.warnSoon,
          hasDraft ? T.draftKept : "",
        );
        button.textContent = T.stay;
        button.id = "session-stay";
        button.addEventListener("click", stay);
      } else {
        text.textContent = sentences(T.expired, hasDraft ? T.expiredDraft : "");
        button.textContent = T.login;
        button.id = "session-login";
        // Opening the page again leads to the login page, and back here after it.
        button.addEventListener("click", () => window.location.reload());
      }
      banner.replaceChildren(text, button);
    }

    function hide() {
      banner?.remove();
      banner = null;
    }

    function schedule() {
      clearTimeout(timer);
      const endsAt = lastRequest() + timeout;
      const warnAt = endsAt - slack - lead;
      const now = Date.now();
      if (now >= endsAt) {
        show("expired");
        return;
      }
      if (now >= warnAt) {
        show("warn", Math.floor((endsAt - slack - now) / 60000));
        timer = setTimeout(schedule, Math.min(15000, endsAt - now));
      } else {
        hide();
        timer = setTimeout(schedule, warnAt - now);
      }
    }

    async function stay() {
      // Any signed-in request moves the server's idle clock: this page, asked for again.
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
        if (response.redirected && /\/accounts\/login\//.test(new URL(response.url).pathname)) {
          show("expired");
          return;
        }
        remember(Date.now());
      } catch {
        /* offline: the warning stays and says how long is left */
      }
      schedule();
    }

    window.addEventListener("storage", (event) => event.key === LAST_REQUEST && schedule());
    // Timers sleep in background tabs and on a locked phone: look again on return.
    document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && schedule());
    schedule();
  }

  document.addEventListener("DOMContentLoaded", () => {
    dropSavedDraft();
    dropOldDrafts();
    loginNotice();
    dropDraftsOnLogout();
    idleWarning();
    // After every DOMContentLoaded handler, so the form's own script (more issue rows) is ready.
    setTimeout(() => document.querySelectorAll("form[data-draft]").forEach(draftForm), 0);
  });
})();
