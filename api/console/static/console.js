// The console's one script, served by the app (no inline script: the CSP forbids it). Everything
// works without it; it only saves round trips in the segment rule builder: "Add a condition"
// copies a row in place, and each added row can be removed.
"use strict";

function blankCopy(row) {
  const copy = row.cloneNode(true);
  for (const input of copy.querySelectorAll("input")) input.value = "";
  for (const select of copy.querySelectorAll("select[name=category]")) select.value = "";
  return copy;
}

function enableRemove(row) {
  const button = row.querySelector(".remove-condition");
  if (!button) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const list = row.parentElement;
    if (list.children.length > 1) row.remove();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("conditions");
  const add = document.getElementById("add-condition");
  if (!list || !add) return;
  for (const row of list.children) enableRemove(row);
  add.addEventListener("click", (event) => {
    event.preventDefault();
    const row = blankCopy(list.lastElementChild);
    list.appendChild(row);
    enableRemove(row);
    row.querySelector("select").focus();
  });
});
