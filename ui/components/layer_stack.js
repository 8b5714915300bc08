// The layer palette and the stack, with native HTML5 drag and drop.
// data: {stack: JSON of {palette: [{class_name, hint}], rows: [{index, class_name, name,
//        shape, params, status, note, fixes: [label]}], selected, input}}
// Sends one trigger value, "action": {op: "insert" | "move" | "select" | "delete" |
// "duplicate" | "fix", ...}; Python applies it to the architecture and sends new rows back.

const NEW_PREFIX = "new:";
const MOVE_PREFIX = "move:";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// `text` with its markdown code spans (`kernel_size`) as <code>, the backticks dropped.
function withCodeSpans(node, text) {
  String(text).split("`").forEach((part, number) => {
    if (!part) return;
    node.append(number % 2 === 1 ? element("code", "", part) : document.createTextNode(part));
  });
  return node;
}

function paletteChip(entry) {
  const chip = element("div", "chip", entry.class_name);
  chip.draggable = true;
  chip.title = entry.hint || entry.class_name;
  chip.dataset.classname = entry.class_name;
  chip.setAttribute("role", "button");
  chip.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", NEW_PREFIX + entry.class_name);
    event.dataTransfer.effectAllowed = "copy";
  });
  return chip;
}

const ICONS = {
  duplicate: '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><rect x="8" ' +
    'y="8" width="12" height="12" rx="2" fill="none" stroke="currentColor" stroke-width="2"/>' +
    '<path d="M16 4H6a2 2 0 0 0-2 2v10" fill="none" stroke="currentColor" stroke-width="2"/></svg>',
  delete: '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d="M6 6l12 ' +
    '12M18 6L6 18" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/></svg>',
};

function iconButton(icon, title, onClick) {
  const button = element("button", "icon");
  button.innerHTML = ICONS[icon];
  button.type = "button";
  button.title = title;
  button.setAttribute("aria-label", title);
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    onClick();
  });
  return button;
}

function layerCard(row, selected, send) {
  const card = element("div", `card ${row.status}` + (selected ? " selected" : ""));
  card.draggable = true;
  card.tabIndex = 0;
  card.dataset.index = String(row.index);
  card.dataset.name = row.name;
  card.title = `${row.name} (${row.class_name}) → ${row.shape}, ${row.params} params`;
  card.setAttribute("role", "option");
  card.setAttribute("aria-selected", selected ? "true" : "false");

  const head = element("div", "head");
  head.append(element("span", "grip", "⠿"), element("span", "position", String(row.index + 1)));
  const title = element("span", "title");
  title.append(element("b", "", row.class_name), element("span", "name", row.name));
  head.append(title);
  head.append(
    iconButton("duplicate", `Duplicate layer ${row.index + 1}`, () =>
      send({ op: "duplicate", index: row.index })),
    iconButton("delete", `Delete layer ${row.index + 1}`, () =>
      send({ op: "delete", index: row.index })),
  );
  const figures = element("div", "figures");
  figures.append(element("span", "shape", row.shape),
                 element("span", "params", row.params === "—" ? "—" : `${row.params} params`));
  card.append(head, figures);
  if (row.note) card.append(withCodeSpans(element("div", "note"), row.note));
  if (row.fixes && row.fixes.length) {
    const fixes = element("div", "fixes");
    row.fixes.forEach((label, number) => {
      const button = element("button", number === 0 ? "fix primary" : "fix", label);
      button.type = "button";
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        send({ op: "fix", index: row.index, fix: number });
      });
      fixes.append(button);
    });
    card.append(fixes);
  }

  card.addEventListener("click", () => send({ op: "select", index: row.index }));
  card.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      send({ op: "select", index: row.index });
    }
  });
  card.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("text/plain", MOVE_PREFIX + row.index);
    event.dataTransfer.effectAllowed = "move";
    card.classList.add("dragging");
  });
  card.addEventListener("dragend", () => card.classList.remove("dragging"));
  return card;
}

// The gap a drop at vertical position `y` goes into: 0 (top) … number of cards (bottom).
function dropIndex(list, y) {
  const cards = Array.from(list.querySelectorAll(".card"));
  for (let position = 0; position < cards.length; position += 1) {
    const box = cards[position].getBoundingClientRect();
    if (y < box.top + box.height / 2) return position;
  }
  return cards.length;
}

// Marks the gap with a line on a card's edge (no element is inserted: nothing moves).
function showMarker(list, index) {
  list.querySelectorAll(".drop-before, .drop-after").forEach((card) =>
    card.classList.remove("drop-before", "drop-after"));
  if (index === null) return;
  const cards = list.querySelectorAll(".card");
  if (index < cards.length) cards[index].classList.add("drop-before");
  else if (cards.length) cards[cards.length - 1].classList.add("drop-after");
}

export default function ({ data: wire, parentElement, setTriggerValue }) {
  const data = JSON.parse(wire.stack);
  const root = parentElement.querySelector(".cnnviz-stack");
  root.replaceChildren();
  const send = (action) => setTriggerValue("action", action);

  const palette = element("div", "palette");
  palette.append(element("div", "label", "Layers — drag one into the stack"));
  const chips = element("div", "chips");
  (data.palette || []).forEach((entry) => chips.append(paletteChip(entry)));
  palette.append(chips);
  root.append(palette);

  const list = element("div", "list");
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "Layer stack");
  list.append(element("div", "input", `Input ${data.input}`));
  const rows = data.rows || [];
  rows.forEach((row) => list.append(layerCard(row, row.index === data.selected, send)));
  if (rows.length === 0) list.append(element("div", "empty", "Drop layers here"));
  root.append(list);

  let current = null;
  list.addEventListener("dragover", (event) => {
    event.preventDefault();
    current = dropIndex(list, event.clientY);
    showMarker(list, current);
  });
  list.addEventListener("dragleave", (event) => {
    if (!list.contains(event.relatedTarget)) showMarker(list, null);
  });
  list.addEventListener("drop", (event) => {
    event.preventDefault();
    const payload = event.dataTransfer.getData("text/plain");
    const index = dropIndex(list, event.clientY);
    showMarker(list, null);
    if (payload.startsWith(NEW_PREFIX)) {
      send({ op: "insert", class_name: payload.slice(NEW_PREFIX.length), index });
    } else if (payload.startsWith(MOVE_PREFIX)) {
      const from = Number(payload.slice(MOVE_PREFIX.length));
      const to = index > from ? index - 1 : index;
      if (Number.isInteger(from) && to !== from) send({ op: "move", from, to });
    }
  });

  return () => root.replaceChildren();
}
