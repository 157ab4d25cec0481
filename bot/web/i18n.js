// The page in English or Welsh (Cymraeg). Marked elements keep their English (the msgid) in the
// HTML; the translations come from the same gettext catalog as the bot's, served by
// GET /i18n/{lang}.json?page=... (bot/pages.py). The choice is remembered in this browser.
// Text the scripts build at runtime goes through t("English with {placeholders}", {values}):
// the English is the key (listed in texts/web.py), so English is always the fallback.

const STORE = "britizen.language";
const ATTRIBUTES = [
  ["data-i18n", null],
  ["data-i18n-placeholder", "placeholder"],
  ["data-i18n-title", "title"],
  ["data-i18n-label", "aria-label"],
];

let strings = {};
let active = "en";

export function currentLanguage() {
  try {
    return localStorage.getItem(STORE) === "cy" ? "cy" : "en";
  } catch {
    return "en";
  }
}

// The BCP 47 locale for Intl (dates, times, numbers, money) in the page's language.
export function locale() {
  return active === "cy" ? "cy-GB" : "en-GB";
}

// `english` in the page's language, {name} placeholders filled from `values`.
export function t(english, values = {}) {
  const text = strings[english] ?? english;
  return text.replace(/\{([a-z_]+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A whole number in the page's language ("1,234").
export function number(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

function english(node, target) {
  // The English is read once, from the page as served, and kept on the element.
  const key = `en${(target || "text").replace("-", "")}`;
  if (!(key in node.dataset)) {
    node.dataset[key] = target ? node.getAttribute(target) || "" : node.textContent.trim();
  }
  return node.dataset[key];
}

export async function applyLanguage(page, language) {
  const response = await fetch(`/i18n/${language}.json?page=${encodeURIComponent(page)}`);
  if (!response.ok) return;
  const { strings: loaded, switch_to: switchTo } = await response.json();
  strings = loaded;
  active = language === "cy" ? "cy" : "en";
  for (const [attribute, target] of ATTRIBUTES) {
    for (const node of document.querySelectorAll(`[${attribute}]`)) {
      const source = english(node, target);
      const text = strings[source] ?? source;
      if (target) node.setAttribute(target, text);
      else node.textContent = text;
    }
  }
  document.documentElement.lang = language === "cy" ? "cy" : "en-GB";
  const toggle = document.getElementById("language-switch");
  if (toggle) {
    toggle.textContent = switchTo.label;
    toggle.dataset.switchTo = switchTo.language;
  }
  document.dispatchEvent(new CustomEvent("britizen:language", { detail: { language } }));
}

// Wire the switch button and show the remembered language.
export async function setUpLanguage(page) {
  const toggle = document.getElementById("language-switch");
  if (toggle) {
    toggle.addEventListener("click", () => {
      const language = toggle.dataset.switchTo || "cy";
      // Only a choice the person made is remembered (nothing is stored on a plain visit).
      try {
        localStorage.setItem(STORE, language);
      } catch {
        // Private browsing: the choice lasts for this page only.
      }
      applyLanguage(page, language);
    });
  }
  await applyLanguage(page, currentLanguage());
}
