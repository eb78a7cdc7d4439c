// Atlas and the dealer portal: live updates (server-sent events), the day slider, and the ask-Clara box.
// No inline scripts (the content security policy forbids them) and no libraries: this file is all the JS.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function reloadMain(payload) {
  const response = await fetch(window.location.href, { headers: { "X-Fragment": "main" }, credentials: "same-origin" });
  if (!response.ok) { return; }
  document.getElementById("main").innerHTML = await response.text();
  document.body.dataset.version = String(payload.version);
  const asof = document.getElementById("asof");
  if (asof) { asof.textContent = "State of " + payload.as_of + " (day " + payload.day + ")"; }
  const note = document.getElementById("live-note");
  if (note) { note.hidden = false; note.textContent = "updated to day " + payload.day; }
  bindAsk();
}

function listen() {
  if (document.body.dataset.live !== "yes" || !window.EventSource) { return; }
  const source = new EventSource("/events");
  source.addEventListener("signed-out", () => { source.close(); });
  source.addEventListener("state", (event) => {
    const payload = JSON.parse(event.data);
    if (String(payload.version) !== document.body.dataset.version) { reloadMain(payload); }
  });
}

function bindSlider() {
  const slider = document.getElementById("day-slider");
  if (!slider) { return; }
  const days = slider.dataset.days.split(",");
  const label = document.getElementById("day-label");
  slider.addEventListener("input", () => { label.textContent = days[Number(slider.value)]; });
  slider.addEventListener("change", () => {
    const url = new URL(window.location.href);
    const index = Number(slider.value);
    if (index === days.length - 1) { url.searchParams.delete("day"); } else { url.searchParams.set("day", days[index]); }
    window.location.assign(url.toString());
  });
}

function bindAsk() {
  const form = document.getElementById("ask-form");
  if (!form || form.dataset.bound) { return; }
  form.dataset.bound = "yes";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = document.getElementById("ask-text").value.trim();
    const target = document.getElementById("ask-reply");
    if (!text) { return; }
    target.textContent = "Asking…";
    const response = await fetch("/api/ask", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ text: text }),
    });
    const body = await response.json();
    target.textContent = "";
    const answer = document.createElement("p");
    if (!response.ok) {
      answer.className = "error";
      answer.textContent = typeof body.detail === "string" ? body.detail : "The question could not be sent.";
      target.appendChild(answer);
      return;
    }
    answer.className = "answer " + (body.resolved ? "resolved" : "escalated");
    answer.textContent = body.answer;
    target.appendChild(answer);
    if (!body.resolved) {
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = "Passed to your regional manager (" + String(body.escalation_reason).replace(/_/g, " ") + ").";
      target.appendChild(hint);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => { listen(); bindSlider(); bindAsk(); });
