// The review page: one flagged example at a time, most likely wrong first. Every string
// from the data goes into the page as text (textContent), never as HTML.
"use strict";

const setup = JSON.parse(document.getElementById("setup").textContent);
const pages = new Map();  // "pair/page" -> items of the shown examples
let pairs = [];  // the queue's (given, suggested) label pairs, most examples first
let shown = null;  // the pair shown, or null for the whole queue
let shownKey = "";  // its index in pairs, "spot" for the spot check, "" for the whole queue
let queueTotal = 0;
let total = 0;  // examples shown
let position = 0;

const $ = (id) => document.getElementById(id);
// A multi-label audit: an example's tags ("; "-joined class names) stand for its label.
const multi = Boolean(setup.multilabel);
const TAGS = "; ";
const DONE = multi
  ? { relabel: "Tags set to ", keep: "Kept: the given tags are right", remove: "To remove" }
  : { relabel: "Relabeled as ", keep: "Kept: the given label is right", remove: "To remove" };
const WORDS = multi
  ? { wrong: "with wrong tags", relabeled: "retagged", labels: "tags" }
  : { wrong: "wrong labels", relabeled: "relabeled", labels: "labels" };
const tagList = (text) => text.split(TAGS).filter(Boolean);
const none = (text) => text || "(no tags)";

async function call(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (err) {
    throw new Error("The review server does not answer: start labelaudit review again "
      + "(every decision shown as made is saved).");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

async function item(at) {
  const page = Math.floor(at / setup.page);
  const key = `${shownKey}/${page}`;
  if (!pages.has(key)) {
    const query = new URLSearchParams({ start: page * setup.page, count: setup.page });
    if (shown && shown.change !== undefined) query.set("change", shown.change);
    else if (shown) { query.set("given", shown.given_label); query.set("suggested", shown.suggested_label); }
    if (shownKey === "spot") query.set("view", "spot");
    pages.set(key, (await call(`api/items?${query}`)).items);
  }
  return pages.get(key)[at - page * setup.page];
}

function showProgress(p) {
  queueTotal = p.n_queue;
  if (shownKey === "") total = p.n_queue;
  const wrong = p.n_relabel + p.n_remove;
  let text = `Reviewed ${p.n_reviewed} of ${p.n_queue} flagged examples`;
  if (p.n_reviewed) {
    text += `: ${wrong} ${WORDS.wrong} (${p.n_relabel} ${WORDS.relabeled}, ${p.n_remove} to remove), `
      + `${p.n_keep} right; the audit expected ${p.expected_wrong.toFixed(1)} wrong among them`;
  }
  if (p.n_spot_reviewed) {
    text += `. Spot check: ${p.n_spot_wrong} wrong of ${p.n_spot_reviewed} unflagged examples, `
      + `so about ${Math.round(p.missed)} (${Math.round(p.missed_low)}-${Math.round(p.missed_high)}) `
      + `examples ${WORDS.wrong} missed among all ${p.n_unflagged} unflagged`;
  }
  $("progress").textContent = text + ".";
  $("bar-fill").style.width = `${p.n_queue ? (100 * p.n_reviewed) / p.n_queue : 0}%`;
}

function showData(it) {
  const image = $("image");
  image.hidden = !it.image;
  if (it.image) { image.src = it.image; image.alt = `example ${it.example}`; }
  $("text").hidden = it.text === null;
  $("text").textContent = it.text || "";
  const fields = $("fields");
  fields.replaceChildren();
  for (const [name, value] of it.fields) {
    const row = fields.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = value;
  }
  fields.hidden = it.fields.length === 0;
}

async function show(at) {
  position = Math.max(0, Math.min(at, total - 1));
  const it = await item(position);
  $("position").textContent = `${position + 1} of ${total} (example ${it.example})`;
  $("card").classList.toggle("blind", shownKey === "spot");
  showData(it);
  const shownAs = multi ? none : (text) => text;
  $("given").textContent = shownAs(it.given_label);
  $("suggested").textContent = shownAs(it.suggested_label);
  $("changes").textContent = it.changes;
  $("p").textContent = it.p_mislabeled.toFixed(3);
  $("kind").textContent = it.kind;
  $("reason").textContent = it.reason;
  $("accept-label").textContent = shownAs(it.suggested_label);
  $("keep-label").textContent = multi ? "the given tags" : it.given_label;
  $("accept").disabled = it.suggested_label === it.given_label;
  $("decided").textContent = it.decision
    ? DONE[it.decision] + (it.decision === "relabel" ? shownAs(it.label) : "") : "";
  if (multi) checkTags(tagList(it.decision === "relabel" ? it.label : it.given_label));
  $("other").value = "";
  $("other-go").disabled = true;
  $("prev").disabled = position === 0;
  $("next").disabled = position >= total - 1;
  $("error").textContent = "";
}

async function decide(decision, label) {
  const it = await item(position);
  try {
    const progress = await call("api/decisions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ example: it.example, decision, label }),
    });
    it.decision = decision === "clear" ? "" : decision;
    it.label = decision !== "relabel" ? "" : multi ? inClassOrder(label).join(TAGS) : label;
    showProgress(progress);
    if (decision !== "clear" && position < total - 1) await show(position + 1);
    else await show(position);
  } catch (err) {
    $("error").textContent = err.message;
  }
}

async function nextOpen() {
  for (let at = position + 1; at < total; at += 1) {
    if (!(await item(at)).decision) return show(at);
  }
  for (let at = 0; at < position; at += 1) {
    if (!(await item(at)).decision) return show(at);
  }
  $("error").textContent = "Every example shown has a decision.";
}

// The tag boxes of a multi-label page, one per class, in class order.
function checkTags(tags) {
  const on = new Set(tags);
  for (const box of $("tags").querySelectorAll("input")) box.checked = on.has(box.value);
}

function inClassOrder(tags) {
  const on = new Set(tags);
  return setup.class_names.filter((name) => on.has(name));
}

async function saveTags() {
  const checked = [...$("tags").querySelectorAll("input:checked")].map((box) => box.value);
  const it = await item(position);
  if (inClassOrder(checked).join(TAGS) === it.given_label) return decide("keep");
  return decide("relabel", checked);
}

function toggleTag(index) {
  const boxes = $("tags").querySelectorAll("input");
  if (index < boxes.length) boxes[index].checked = !boxes[index].checked;
}

function pairTitle(p) {
  if (p.change === undefined) return `labeled ${p.given_label}, suggested ${p.suggested_label} (${p.n})`;
  return `${p.change.startsWith("+") ? "add" : "remove"} ${p.change.slice(1)} (${p.n})`;
}

async function showPair(index) {
  shown = index === "" || index === "spot" ? null : pairs[Number(index)];
  shownKey = index;
  total = shown ? shown.n : index === "spot" ? setup.n_spot : queueTotal;
  pages.clear();  // fetched again, with the decisions made under the other view
  await showFirstOpen();
}

async function showFirstOpen() {
  await show(0);
  if ((await item(0)).decision) await nextOpen();
}

async function start() {
  for (const name of setup.class_names) $("other").add(new Option(name, name));
  if (multi) {
    document.body.classList.add("multi");
    $("accept-verb").textContent = "Accept the suggested tags:";
    $("p-name").textContent = "p_any_wrong";
    $("remove").textContent = "Remove the example: unusable (r)";
    setup.class_names.forEach((name, i) => {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = name;
      const label = document.createElement("label");
      label.append(box, ` ${i < 9 ? `${i + 1} ` : ""}${name}`);
      $("tags").append(label);
    });
  }
  pairs = (await call("api/pairs")).pairs.slice(0, 100);  // the largest; K^2 may be many
  pairs.forEach((p, i) => {
    $("filter").add(new Option(pairTitle(p), i));
  });
  if (setup.n_spot) {
    $("filter").add(new Option(`spot check: ${setup.n_spot} unflagged examples at random`, "spot"));
  }
  showProgress(await call("api/progress"));
  if (total === 0) {
    $("empty").hidden = false;
    if (!setup.n_spot) return;
    $("card").hidden = false;
    $("filter").value = "spot";
    return showPair("spot");
  }
  $("card").hidden = false;
  await showFirstOpen();
}

$("prev").onclick = () => show(position - 1);
$("next").onclick = () => show(position + 1);
$("next-open").onclick = nextOpen;
$("accept").onclick = async () => {
  const suggested = (await item(position)).suggested_label;
  return decide("relabel", multi ? tagList(suggested) : suggested);
};
$("save-tags").onclick = saveTags;
$("keep").onclick = () => decide("keep");
$("remove").onclick = () => decide("remove");
$("clear").onclick = () => decide("clear");
// Arrow keys and typing change a closed list at once: choosing records nothing until
// Enter or the button.
const relabelAsChosen = () => {
  const label = $("other").value;
  if (label) { $("other").blur(); decide("relabel", label); }
};
$("other").onchange = () => { $("other-go").disabled = !$("other").value; };
$("other").onkeydown = (e) => { if (e.key === "Enter") { e.preventDefault(); relabelAsChosen(); } };
$("other-go").onclick = relabelAsChosen;
$("filter").onchange = (e) => { showPair(e.target.value); e.target.blur(); };

const KEYS = {
  a: () => $("accept").disabled || shownKey === "spot" || $("accept").click(),
  k: () => decide("keep"),
  r: () => decide("remove"),
  c: () => decide("clear"),
  n: nextOpen,
  o: () => $("other").focus(),
  f: () => $("filter").focus(),
  s: () => multi && saveTags(),
  ArrowLeft: () => show(position - 1),
  ArrowRight: () => show(position + 1),
};
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.target.tagName === "INPUT" && e.key === " ") return;  // a tag box toggles itself
  if (multi && total && /^[1-9]$/.test(e.key)) { e.preventDefault(); toggleTag(Number(e.key) - 1); return; }
  if (total && KEYS[e.key]) { e.preventDefault(); KEYS[e.key](); }
});

start().catch((err) => { $("error").textContent = err.message; $("card").hidden = false; });
