// The page's one live connection (Socket.IO, /live), shared with the page's own live scripts
// (live.js, plan-live.js) as window.portalLive. It keeps the unread badge by "Berichten" true on
// every open page of this person, and says so when the live connection is refused instead of
// silently showing a page that no longer changes. The page works without this file.
(function () {
  "use strict";
  const nav = document.querySelector(".family-nav[data-family]");
  if (!nav || typeof io === "undefined") return;
  const familyId = Number(nav.dataset.family);
  const me = Number(nav.dataset.me);
  const socket = io("/live", { transports: ["websocket", "polling"] });
  window.portalLive = socket;

  const refused = document.getElementById("live-refused");
  socket.on("connect", () => { if (refused) refused.hidden = true; });
  socket.on("connect_error", () => { if (refused) refused.hidden = false; });

  const badge = document.getElementById("unread-total");
  const number = badge ? badge.querySelector(".unread-count") : null;
  function setUnread(total) {
    if (!badge || !number) return;
    number.textContent = String(Math.max(0, total));
    badge.hidden = total <= 0;
  }
  // After this person read (on any of their pages or devices): the stored count, from the server.
  socket.on("unread.changed", (u) => { if (u.family_id === familyId) setUnread(Number(u.total)); });
  // A message from someone else: one more until a page of theirs shows it (which then sends
  // the stored count above).
  socket.on("message.new", (m) => {
    if (m.family_id !== familyId || m.author_id === me || !number) return;
    setUnread(Number(number.textContent) + 1);
  });

  // To hear of new messages this page follows the family (the server checks the policy and
  // logs it), unless the page's own live script does so already.
  function subscribe() { socket.emit("subscribe", { family_id: familyId }); }
  document.addEventListener("DOMContentLoaded", () => {
    if (window.portalLiveSubscribes) return;
    socket.on("connect", subscribe);
    if (socket.connected) subscribe();
  });
})();
