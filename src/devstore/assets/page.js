// Keeps the Flash Sale section current without a reload: the countdown ticks every second and the
// section is re-fetched from the server every 5 s. The server renders (and escapes) all markup, so this
// script never builds HTML from data.
(() => {
  "use strict";
  const section = document.getElementById("flash-sale");
  const pad = (n) => String(n).padStart(2, "0");
  let refreshing = false;

  function localiseTimes() {
    for (const t of section.querySelectorAll("time[datetime]")) {
      const when = new Date(t.getAttribute("datetime"));
      if (!Number.isNaN(when.getTime())) t.textContent = when.toLocaleString();
    }
  }

  function tick() {
    const el = document.getElementById("countdown");
    if (!el) return;
    const endsAt = Date.parse(el.dataset.endsAt);
    if (Number.isNaN(endsAt)) return;
    const left = Math.max(0, Math.floor((endsAt - Date.now()) / 1000));
    const days = Math.floor(left / 86400);
    const clock = pad(Math.floor(left / 3600) % 24) + ":" + pad(Math.floor(left / 60) % 60) + ":" + pad(left % 60);
    el.textContent = (days > 0 ? days + "d " : "") + clock;
    if (left === 0) refresh();
  }

  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const response = await fetch("/fragment/flash-sale", { cache: "no-store" });
      if (response.ok) {
        section.innerHTML = await response.text();
        localiseTimes();
        tick();
      }
    } catch (_) {
      // Keep showing the last known state; the next poll tries again.
    } finally {
      refreshing = false;
    }
  }

  localiseTimes();
  tick();
  setInterval(tick, 1000);
  setInterval(refresh, 5000);
})();
