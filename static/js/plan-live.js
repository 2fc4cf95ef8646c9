// Live plan page: when someone else changes the plan, the changed sections are brought in
// without a reload (unless you are typing in a form here: then a notice offers the new version,
// so nothing you typed is lost). Also shows who else is looking at the plan now. The texts are
// in the page (translated there); user text is only ever inserted with textContent or as
// the server's own escaped HTML. The page works without this file.
(function () {
  "use strict";
  const notice = document.getElementById("plan-live");
  if (!notice || typeof io === "undefined") return;
  const familyId = Number(notice.dataset.family);
  const me = Number(notice.dataset.me);
  const presenceLine = document.getElementById("plan-presence");
  // The page's one connection (live-page.js), or one of its own without the family menu.
  const socket = window.portalLive || io("/live", { transports: ["websocket", "polling"] });
  window.portalLiveSubscribes = true; // live-page.js leaves the subscribing to this script

  function typingHere() {
    const active = document.activeElement;
    if (active && active.closest("form") && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return true;
    return Array.from(document.querySelectorAll("details[open] form input:not([type=hidden]), details[open] form textarea"))
      .some((field) => field.value && field.value !== field.defaultValue);
  }

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "plan-live" } })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("main section[aria-labelledby]").forEach((section) => {
          const id = section.getAttribute("aria-labelledby");
          const replacement = fresh.querySelector('main section[aria-labelledby="' + id + '"]');
          if (replacement) section.replaceWith(document.importNode(replacement, true));
        });
        const status = document.querySelector(".plan-status");
        const freshStatus = fresh.querySelector(".plan-status");
        if (status && freshStatus) status.replaceWith(document.importNode(freshStatus, true));
      })
      .catch(() => { notice.hidden = false; });
  }

  function subscribe() {
    socket.emit("subscribe", { family_id: familyId }, () => {
      socket.emit("presence", { family_id: familyId, page: "plan" });
    });
  }
  socket.on("connect", subscribe);
  if (socket.connected) subscribe(); // the shared connection may be up already
  socket.on("plan.changed", (event) => {
    if (!event || event.family_id !== familyId) return;
    if (typingHere()) notice.hidden = false; else refresh();
  });
  socket.on("presence", (event) => {
    if (!presenceLine || !event || event.family_id !== familyId) return;
    const others = (event.people || []).filter((p) => p.user_id !== me).map((p) => p.name);
    if (!others.length) { presenceLine.textContent = ""; presenceLine.hidden = true; return; }
    const names = others.length === 1 ? others[0] : others.slice(0, -1).join(", ") + " " + presenceLine.dataset.and + " " + others[others.length - 1];
    presenceLine.textContent = names + " " + (others.length === 1 ? presenceLine.dataset.one : presenceLine.dataset.many);
    presenceLine.hidden = false;
  });
  const button = notice.querySelector("button");
  if (button) button.addEventListener("click", () => { window.location.reload(); });
  // Access ended (revoked or expired): the server says so and closes this socket. Reload, so the
  // plan leaves the screen at once and the page says why (the policy refuses the reload), as
  // the messaging page does.
  socket.on("access.revoked", () => { window.location.reload(); });
})();
