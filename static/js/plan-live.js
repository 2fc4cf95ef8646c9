// Live plan page: when someone else changes the plan (goals, de bloem, veiligheid, evaluatie),
// show a notice with a button that loads the new version. The texts are in the page (translated
// there); this file only shows them. The page works without this file.
(function () {
  "use strict";
  const notice = document.getElementById("plan-live");
  if (!notice || typeof io === "undefined") return;
  const familyId = Number(notice.dataset.family);
  const socket = io("/live", { transports: ["websocket", "polling"] });
  socket.on("connect", () => { socket.emit("subscribe", { family_id: familyId }); });
  socket.on("plan.changed", (event) => {
    if (event && event.family_id === familyId) notice.hidden = false;
  });
  const button = notice.querySelector("button");
  if (button) button.addEventListener("click", () => { window.location.reload(); });
  // On access.revoked the server closes this socket; the page stays as it is until the next
  // click, which the policy then refuses (tests/e2e/test_guest_journey.py relies on that).
})();
