/* ipt-groups pages: save an attendance tap at once (the forms work without this script too). */
"use strict";

function announce(text) {
  var region = document.querySelector(".js-announce");
  if (region) { region.textContent = text; }
}

function saveMark(event) {
  var form = event.target;
  if (!form.classList || !form.classList.contains("mark-form")) { return; }
  event.preventDefault();
  var group = form.closest(".marks");
  group.classList.add("busy");
  fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin"
  }).then(function (response) {
    if (response.status === 401) { window.location.reload(); return null; }
    return response.text().then(function (body) {
      if (!response.ok) {
        var reason = "Not saved";
        try { reason = JSON.parse(body).message || reason; } catch (e) { /* not JSON */ }
        group.classList.remove("busy");
        group.querySelector(".saved").textContent = "Not saved: " + reason;
        announce("Not saved: " + reason);
        return null;
      }
      var holder = document.createElement("div");
      holder.innerHTML = body;
      var fresh = holder.firstElementChild;
      group.replaceWith(fresh);
      var pressed = fresh.querySelector("button[aria-pressed=true]");
      if (pressed) { pressed.focus(); announce(pressed.getAttribute("aria-label") + " saved"); }
      return null;
    });
  }).catch(function () {
    group.classList.remove("busy");
    group.querySelector(".saved").textContent = "Not saved: no connection. Tap again.";
  });
}

document.addEventListener("submit", saveMark);
