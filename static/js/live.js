// Live conversation: messages, typing and read receipts over Socket.IO (/live), with an offline
// queue. User text is only ever inserted with textContent. The page works without this file.
(function () {
  "use strict";
  const list = document.getElementById("messages");
  if (!list || typeof io === "undefined") return;
  const familyId = Number(list.dataset.family);
  const conversationId = Number(list.dataset.conversation);
  const me = Number(list.dataset.me);
  let lastSeq = Number(list.dataset.lastSeq);
  const form = document.getElementById("message-form");
  const typingLine = document.getElementById("typing");
  const receipts = document.getElementById("receipts");
  // How far each other person read, as stored (people who keep that to themselves are not here).
  const readers = new Map();
  document.querySelectorAll("#read-positions li").forEach((li) => {
    readers.set(Number(li.dataset.user), { name: li.textContent, seq: Number(li.dataset.read) });
  });
  const status = document.getElementById("connection");
  const queueKey = "portal-outbox-" + conversationId;
  const nl = document.documentElement.lang !== "en";
  const text = {
    offline: nl ? "Geen verbinding: je berichten worden verstuurd zodra die er weer is." : "Offline: your messages will be sent when the connection is back.",
    typing: nl ? " typt…" : " is typing…",
    readBy: nl ? "Gelezen door " : "Read by ",
    failed: nl ? "Versturen lukte niet. Je tekst staat er nog." : "Sending failed. Your text is still there.",
    deleted: nl ? "Dit bericht is verwijderd." : "This message was deleted.",
    reply: nl ? "Reageren" : "Reply",
    replyTo: nl ? " op bericht " : " to message ",
    removed: nl ? "Je doet niet meer mee in dit gesprek." : "You are no longer in this conversation.",
    photo: nl ? "Foto: " : "Photo: ",
  };
  const replyField = form ? form.querySelector('input[name="reply_to_seq"]') : null;
  const replying = document.getElementById("replying");
  const fileInput = document.getElementById("attachments");

  function queue() {
    try { return JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(items) { localStorage.setItem(queueKey, JSON.stringify(items)); }
  // As the page shows the messages it was drawn with (Babel's short style, Dutch time):
  // "02-12-2026, 14:05", "12/2/26, 2:05 PM".
  const locale = nl ? "nl-NL" : "en-US";
  const zone = { timeZone: "Europe/Amsterdam" };
  const day = new Intl.DateTimeFormat(locale, { dateStyle: "short", ...zone });
  const hour = new Intl.DateTimeFormat(locale, { timeStyle: "short", ...zone });
  function sentAt(iso) {
    const at = new Date(iso);
    return day.format(at) + ", " + hour.format(at);
  }

  function show(message, pending) {
    if (message.seq && document.querySelector('[data-seq="' + message.seq + '"]')) return;
    if (message.client_key) {
      const waiting = document.querySelector('[data-key="' + message.client_key + '"]');
      if (waiting) waiting.remove();
    }
    const empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.className = "message" + (message.author_id === me ? " mine" : "") + (pending ? " pending" : "");
    if (message.seq) { item.dataset.seq = message.seq; item.id = "m" + message.seq; }
    if (pending) item.dataset.key = message.client_key;
    const meta = document.createElement("p");
    meta.className = "message-meta";
    const who = document.createElement("strong");
    who.textContent = message.author_name || "";
    meta.appendChild(who);
    if (message.at) {
      const when = document.createElement("time");
      when.dateTime = message.at;
      when.textContent = sentAt(message.at);
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(when);
    }
    if (message.seq && form) {
      const link = document.createElement("a");
      link.className = "reply-link";
      link.href = "?reply=" + message.seq + "#message-form";
      link.dataset.reply = message.seq;
      link.textContent = text.reply;
      const hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = text.replyTo + message.seq;
      link.appendChild(hidden);
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(link);
    }
    item.dataset.author = message.author_name || "";
    item.appendChild(meta);
    if (message.reply_to) {
      const quote = document.createElement("blockquote");
      quote.className = "quote";
      const to = document.createElement("a");
      to.href = "#m" + message.reply_to.seq;
      to.textContent = message.reply_to.author_name;
      quote.appendChild(to);
      quote.appendChild(document.createTextNode(": " + (message.reply_to.deleted ? text.deleted : message.reply_to.excerpt)));
      item.appendChild(quote);
    }
    if (message.body) {
      const body = document.createElement("p");
      body.className = "message-body";
      body.textContent = message.body;
      item.appendChild(body);
    }
    if (message.attachments && message.attachments.length) {
      const files = document.createElement("ul");
      files.className = "attachments";
      message.attachments.forEach((f) => {
        const li = document.createElement("li");
        if (f.preview) {
          const img = document.createElement("img");
          img.className = "photo";
          img.src = "/families/" + familyId + "/files/" + Number(f.id) + "/preview";
          img.width = Number(f.preview.width);
          img.height = Number(f.preview.height);
          img.alt = text.photo + f.name;
          img.loading = "lazy";
          li.appendChild(img);
        }
        const a = document.createElement("a");
        a.href = "/families/" + familyId + "/files/" + Number(f.id);
        a.setAttribute("download", "");
        a.textContent = f.name;
        li.appendChild(a);
        files.appendChild(li);
      });
      item.appendChild(files);
    }
    // Keep the list in sequence order, whatever order events arrive in.
    const after = Array.from(list.querySelectorAll("[data-seq]")).find((li) => Number(li.dataset.seq) > message.seq);
    if (message.seq && after) list.insertBefore(item, after); else list.appendChild(item);
    if (message.seq && message.seq > lastSeq) lastSeq = message.seq;
    if (message.seq && readers.has(message.author_id)) {
      // Whoever wrote a message has read up to it (the server stores it so as well).
      const reader = readers.get(message.author_id);
      reader.seq = Math.max(reader.seq, message.seq);
    }
    if (message.seq) showReceipts();
  }

  // "Gelezen door": the people whose stored position reaches the newest message on the page.
  function showReceipts() {
    if (!receipts) return;
    const names = [];
    readers.forEach((reader) => { if (lastSeq > 0 && reader.seq >= lastSeq) names.push(reader.name); });
    names.sort((a, b) => a.localeCompare(b));
    receipts.textContent = names.length ? (receipts.dataset.label || text.readBy.trim()) + " " + names.join(", ") : "";
  }

  // A message the server refused: never shown as sent or waiting, its text back in the box.
  function giveBack(item, message) {
    const waiting = document.querySelector('[data-key="' + item.client_key + '"]');
    if (waiting) waiting.remove();
    const box = form ? form.querySelector("textarea") : null;
    if (!box) { if (status) status.textContent = message; return; }
    if (box.value.indexOf(item.body) === -1) box.value = box.value ? item.body + "\n\n" + box.value : item.body;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    if (window.portalText) window.portalText.refuse(box, message); else if (status) status.textContent = message;
  }

  // The page's one connection (live-page.js), or one of its own without the family menu.
  const socket = window.portalLive || io("/live", { transports: ["websocket", "polling"] });
  window.portalLiveSubscribes = true; // live-page.js leaves the subscribing to this script

  function flush() {
    const items = queue();
    if (!items.length || !socket.connected) return;
    const next = items[0];
    const payload = { conversation_id: conversationId, client_key: next.client_key, body: next.body };
    if (next.reply_to_seq) payload.reply_to_seq = next.reply_to_seq;
    socket.emit("message.send", payload, (ack) => {
      if (ack && ack.ok) {
        saveQueue(queue().filter((m) => m.client_key !== next.client_key));
        flush();
      } else if (ack && ack.error && ack.error.code === "rate_limited") {
        setTimeout(flush, Math.ceil((ack.retry_after || 1) * 1000)); // keep it, send it later
      } else if (ack && ack.error && ack.error.code === "unavailable") {
        if (status) status.textContent = ack.error.message; // kept in the queue, tried again
        setTimeout(flush, 5000);
      } else if (ack && ack.error && ack.error.code !== "unauthorized") {
        saveQueue(queue().filter((m) => m.client_key !== next.client_key));
        giveBack(next, ack.error.message || text.failed); // the text stays, to change and send again
        flush();
      }
    });
  }

  function catchUp() {
    fetch("/api/v1/families/" + familyId + "/conversations/" + conversationId + "/messages?after=" + lastSeq, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { items: [] }))
      .then((page) => { page.items.forEach((m) => show(m, false)); markRead(); });
  }

  // Read only what a person can see: this page visible and focused (a page in a background tab
  // or behind another window reads nothing); the server stores only what this says.
  let readSent = 0;
  function markRead() {
    if (document.visibilityState !== "visible" || !document.hasFocus() || !socket.connected) return;
    if (lastSeq <= readSent) return;
    readSent = lastSeq;
    socket.emit("read", { conversation_id: conversationId, seq: lastSeq });
  }

  function connected() {
    if (status) status.textContent = "";
    readSent = 0;
    socket.emit("subscribe", { family_id: familyId }, () => { catchUp(); flush(); });
  }
  socket.on("connect", connected);
  socket.on("disconnect", () => { if (status) status.textContent = text.offline; });
  socket.on("message.new", (m) => {
    if (m.conversation_id !== conversationId) return;
    show(m, false);
    markRead();
  });
  socket.on("message.changed", (m) => {
    if (m.conversation_id !== conversationId) return;
    const item = document.querySelector('[data-seq="' + m.seq + '"] .message-body');
    if (!item) return;
    item.textContent = m.deleted ? text.deleted : m.body;
    if (m.deleted) item.classList.add("deleted");
  });
  socket.on("typing", (t) => {
    if (t.conversation_id !== conversationId || !typingLine) return;
    typingLine.textContent = t.name + text.typing;
    clearTimeout(typingLine._timer);
    typingLine._timer = setTimeout(() => { typingLine.textContent = ""; }, 3000);
  });
  socket.on("message.read", (r) => {
    if (r.conversation_id !== conversationId || r.user_id === me) return;
    const reader = readers.get(r.user_id) || { name: r.name, seq: 0 };
    reader.seq = Math.max(reader.seq, Number(r.seq));
    readers.set(r.user_id, reader);
    showReceipts();
  });
  socket.on("access.revoked", () => { window.location.reload(); });
  socket.on("conversation.changed", (c) => {
    // A new topic: shown at once (as text, never as markup).
    if (c.conversation_id !== conversationId || typeof c.topic !== "string") return;
    const heading = document.getElementById("conversation-topic");
    if (heading) heading.textContent = c.topic;
    document.title = c.topic + document.title.slice(document.title.lastIndexOf(" · "));
  });
  socket.on("conversation.removed", (r) => {
    if (r.conversation_id !== conversationId) return;
    if (form) form.remove();
    if (status) status.textContent = text.removed;
    const notice = document.createElement("p");
    notice.className = "error-summary";
    notice.setAttribute("role", "alert");
    notice.textContent = text.removed;
    list.after(notice);
  });

  function replyTo(seq) {
    const item = document.querySelector('[data-seq="' + seq + '"]');
    if (!item || !replyField || !replying) return;
    const body = item.querySelector(".message-body");
    replyField.value = String(seq);
    document.getElementById("replying-name").textContent = item.dataset.author || "";
    const excerpt = body ? body.textContent : "";
    document.getElementById("replying-text").textContent = excerpt.length > 140 ? excerpt.slice(0, 140) + "…" : excerpt;
    replying.hidden = false;
    form.querySelector("textarea").focus();
  }
  function stopReplying() {
    if (replyField) replyField.value = "";
    if (replying) replying.hidden = true;
  }
  list.addEventListener("click", (event) => {
    const link = event.target.closest("a.reply-link");
    if (!link || !form) return;
    event.preventDefault();
    replyTo(Number(link.dataset.reply));
  });
  const cancel = document.getElementById("reply-cancel");
  if (cancel) cancel.addEventListener("click", (event) => { event.preventDefault(); stopReplying(); });
  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("focus", markRead);

  queue().forEach((m) => show(m, true));
  if (form) {
    const box = form.querySelector("textarea");
    form.addEventListener("submit", (event) => {
      const body = box.value.trim();
      if (!body) return; // let the server say what is wrong
      const max = Number(box.dataset.maxChars || 0);
      if (max && window.portalText && window.portalText.count(body) > max) {
        // textlength.js stops this earlier; never queue what the server will refuse.
        event.preventDefault();
        return;
      }
      if (fileInput && fileInput.files.length) return; // files go with the form post itself
      event.preventDefault();
      const key = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^A-Za-z0-9-]/g, "");
      const message = { client_key: key, body: body, author_id: me, author_name: nl ? "Jij" : "You" };
      const reply = replyField && Number(replyField.value);
      if (reply) message.reply_to_seq = reply;
      saveQueue(queue().concat([message]));
      show(message, true);
      box.value = "";
      stopReplying();
      if (socket.connected) flush(); else if (status) status.textContent = text.offline;
    });
    let lastTyping = 0;
    box.addEventListener("input", () => {
      const now = Date.now();
      if (socket.connected && now - lastTyping > 2000) {
        lastTyping = now;
        socket.emit("typing", { conversation_id: conversationId });
      }
    });
  }
  if (socket.connected) connected(); // the shared connection may be up already
})();
