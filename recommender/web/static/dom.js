// Building the page from data without ever parsing data as markup: every string becomes a text node or an
// attribute value set through the DOM. Nothing here parses HTML.

/**
 * el("li", {class: "hit", "aria-pressed": "false", onclick: fn}, "text", childNode, [more])
 * Strings and numbers among the children become text nodes; null/false children and attributes are skipped.
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Append children (nested lists allowed) as nodes or text. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Remove every child of `node`. */
export function clear(node) {
  node.replaceChildren();
  return node;
}

/** A number shown with 3 decimals (scores) or "–" when missing. */
export function fixed(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/** An integer with thousands separators. */
export function count(value) {
  return Number(value || 0).toLocaleString("en");
}

/** Call `fn` at most once per animation frame with the latest arguments (for pointer moves and redraws). */
export function perFrame(fn) {
  let pending = null;
  return (...args) => {
    const first = pending === null;
    pending = args;
    if (first) {
      requestAnimationFrame(() => {
        const latest = pending;
        pending = null;
        fn(...latest);
      });
    }
  };
}
