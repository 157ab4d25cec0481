// The sandbox chat page: talk to the bot as one of several test citizens.
// Everything goes through /sandbox/api (the stand-in's user side); nothing reaches Telegram.

import { $, el } from "./dom.js";
import { currentLanguage, locale, setUpLanguage, t } from "./i18n.js";
import { showTools } from "./sandbox_tools.js";

const API = "/sandbox/api";
const LONG_POLL_SECONDS = 20;
const OTHERS_POLL_MS = 3000;

const state = {
  bot: { username: "", name: "Britizen" },
  citizens: [],
  commands: [],
  current: null, // user id
  chats: new Map(), // user id -> chat
  pollToken: 0,
};

function chatOf(userId) {
  let chat = state.chats.get(userId);
  if (!chat) {
    chat = { next: 0, messages: new Map(), order: [], keyboard: null, keyboardHidden: false, unread: 0 };
    state.chats.set(userId, chat);
  }
  return chat;
}

async function api(path, body) {
  const options = body === undefined
    ? {}
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(API + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.detail || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return data;
}

let toastTimer = 0;
function toast(text, ms = 3500) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, ms);
}

// ---------------------------------------------------------------------------------------------
// Text with Telegram entities (offsets are UTF-16 code units, as JavaScript strings are).
// ---------------------------------------------------------------------------------------------

const URL_OR_COMMAND = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'’”])|(^|[\s(])(\/[a-zA-Z0-9_]{1,32})(?![\w/])/g;

function autolink(text) {
  // Telegram clients make links and /commands clickable even without entities.
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_OR_COMMAND)) {
    const start = match.index + (match[1] ? 0 : match[2].length);
    const token = match[1] || match[3];
    if (start > last) fragment.append(text.slice(last, start));
    fragment.append(match[1] ? linkNode(token, token) : commandNode(token));
    last = start + token.length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

const SAFE_URL = /^(https?|tg):/i;

function linkNode(href, label) {
  // Only web and Telegram links become links (never javascript: or data:).
  if (!SAFE_URL.test(href)) return el("span", { text: label });
  const a = el("a", { href, target: "_blank", rel: "noopener noreferrer", text: label });
  a.addEventListener("click", (event) => {
    if (openBotLink(href)) event.preventDefault();
  });
  return a;
}

function commandNode(command) {
  return el("span", {
    class: "command",
    role: "button",
    tabindex: "0",
    text: command,
    onclick: () => sendText(command),
  });
}

function wrapEntity(entity, inner, text) {
  const piece = text.slice(entity.offset, entity.offset + entity.length);
  switch (entity.type) {
    case "bold": return el("b", {}, inner);
    case "italic": return el("i", {}, inner);
    case "underline": return el("u", {}, inner);
    case "strikethrough": return el("s", {}, inner);
    case "code": return el("code", {}, inner);
    case "pre": return el("pre", {}, inner);
    case "blockquote":
    case "expandable_blockquote": return el("blockquote", {}, inner);
    case "spoiler": {
      const node = el("span", { class: "spoiler", title: t("Spoiler") }, inner);
      node.addEventListener("click", () => node.classList.add("shown"));
      return node;
    }
    case "text_link": {
      const a = linkNode(entity.url, "");
      a.textContent = "";
      a.append(inner);
      return a;
    }
    case "url": return linkNode(piece.startsWith("http") ? piece : `https://${piece}`, piece);
    case "bot_command": return commandNode(piece);
    default: return inner;
  }
}

function renderText(text, entities) {
  const list = (entities || []).filter((e) => e.length > 0);
  const build = (start, end, active) => {
    // Entities nest (Telegram guarantees they never partially overlap).
    const fragment = document.createDocumentFragment();
    let position = start;
    const children = active
      .filter((e) => e.offset >= start && e.offset + e.length <= end)
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    let i = 0;
    while (i < children.length) {
      const entity = children[i];
      if (entity.offset < position) { i += 1; continue; }
      if (entity.offset > position) fragment.append(autolink(text.slice(position, entity.offset)));
      const inner = children.filter((e) => e !== entity && e.offset >= entity.offset
        && e.offset + e.length <= entity.offset + entity.length);
      const content = ["url", "bot_command"].includes(entity.type)
        ? document.createTextNode(text.slice(entity.offset, entity.offset + entity.length))
        : build(entity.offset, entity.offset + entity.length, inner);
      fragment.append(wrapEntity(entity, content, text));
      position = entity.offset + entity.length;
      i += 1;
    }
    if (position < end) fragment.append(autolink(text.slice(position, end)));
    return fragment;
  };
  return build(0, text.length, list);
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

function formatMoney(amount, currency) {
  if (currency === "XTR") return `${amount} ⭐`;
  try {
    return new Intl.NumberFormat(locale(), { style: "currency", currency }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function nameOf(userId) {
  const person = state.citizens.find((c) => c.id === userId);
  return person ? person.first_name : t("user {id}", { id: userId });
}

function renderMessage(msg) {
  const mine = !msg.from_bot;
  const bubble = el("div", { class: "bubble" });
  if (msg.kind === "photo" && msg.file) {
    bubble.classList.add("media");
    const img = el("img", { class: "photo", src: msg.file.url, alt: msg.text || t("Photo from the bot"), loading: "lazy" });
    img.addEventListener("load", () => keepScrolled());
    img.addEventListener("click", () => {
      $("viewer-image").src = msg.file.url;
      $("viewer").showModal();
    });
    bubble.append(img);
  } else if (msg.kind === "document" && msg.file) {
    bubble.append(el("a", { class: "document", href: `${msg.file.url}?download=1`, download: msg.file.name || "file" },
      el("span", { class: "icon", "aria-hidden": "true", text: "📄" }),
      el("span", {},
        el("div", { class: "file-name", text: msg.file.name || t("Document") }),
        el("div", { class: "file-size", text: `${formatSize(msg.file.size)} · ${msg.file.mime_type || "file"}` }))));
  } else if (msg.kind === "invoice" && msg.invoice) {
    bubble.append(el("div", { class: "invoice" },
      el("b", { text: msg.invoice.title }),
      el("div", { text: msg.invoice.description }),
      el("div", { class: "amount", text: formatMoney(msg.invoice.total_amount, msg.invoice.currency) })));
  }
  let text = msg.text;
  let service = false;
  if (msg.kind === "users_shared" && msg.users_shared) {
    text = `👥 ${t("Shared: {names}", { names: msg.users_shared.users.map((u) => u.first_name || nameOf(u.user_id)).join(", ") })}`;
    service = true;
  } else if (msg.kind === "contact" && msg.contact) {
    text = `📱 ${t("Shared my contact: {phone}", { phone: msg.contact.phone_number })}`;
    service = true;
  } else if (msg.kind === "successful_payment" && msg.payment) {
    text = `💳 ${t("Paid {amount}", { amount: formatMoney(msg.payment.total_amount, msg.payment.currency) })}`;
    service = true;
  } else if (msg.kind === "invoice") {
    text = "";
  }
  if (text) {
    const node = el("div", { class: service ? "text service" : "text" });
    node.append(service ? document.createTextNode(text) : renderText(text, msg.entities));
    bubble.append(node);
  }
  const time = new Date(msg.date * 1000).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
  bubble.append(el("div", { class: "meta", text: msg.version > 0 ? t("edited {time}", { time }) : time }));

  const wrapper = el("div", { class: `msg ${mine ? "me" : "bot"}`, "data-id": msg.message_id, "data-kind": msg.kind }, bubble);
  const keyboard = msg.inline_keyboard || [];
  if (keyboard.length || msg.kind === "invoice") {
    wrapper.append(renderInlineKeyboard(msg, keyboard));
  }
  return wrapper;
}

function renderInlineKeyboard(msg, keyboard) {
  const box = el("div", { class: "inline-keyboard" });
  const rows = keyboard.length ? keyboard : [[{ text: t("Pay {amount}", { amount: formatMoney(msg.invoice.total_amount, msg.invoice.currency) }), pay: true }]];
  for (const row of rows) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      const node = el("button", { type: "button", text: button.text, class: button.url ? "url" : undefined });
      if (button.url) node.title = button.url;
      node.addEventListener("click", () => pressInline(msg, button, node));
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

async function pressInline(msg, button, node) {
  const userId = state.current;
  if (button.url) {
    if (!openBotLink(button.url) && SAFE_URL.test(button.url)) window.open(button.url, "_blank", "noopener,noreferrer");
    return;
  }
  if (button.pay || (msg.kind === "invoice" && button.pay !== false && !button.callback_data)) {
    node.classList.add("pending");
    try {
      const answer = await api(`/chats/${userId}/pay`, { message_id: msg.message_id });
      if (!answer.ok) toast(answer.error || t("The payment was declined."));
    } catch (error) {
      toast(t("Payment failed: {reason}", { reason: error.message }));
    } finally {
      node.classList.remove("pending");
    }
    return;
  }
  if (button.copy_text) {
    await navigator.clipboard?.writeText(button.copy_text.text).catch(() => {});
    toast(t("Copied to the clipboard."));
    return;
  }
  if (button.callback_data === undefined) {
    toast(t("This kind of button does not work in the sandbox."));
    return;
  }
  node.classList.add("pending");
  try {
    await api(`/chats/${userId}/press`, { message_id: msg.message_id, data: button.callback_data });
  } catch (error) {
    toast(error.status === 409 ? t("That button is no longer there.") : t("Could not press it: {reason}", { reason: error.message }));
  } finally {
    setTimeout(() => node.classList.remove("pending"), 400);
  }
}

// A t.me link to this bot opens the bot's chat in Telegram (with /start PAYLOAD when it has one).
// In the sandbox the person chooses which test citizen opens it: an invite link is meant for
// someone else.
function openBotLink(href) {
  let url;
  try { url = new URL(href); } catch { return false; }
  if (!["t.me", "telegram.me"].includes(url.hostname)) return false;
  const name = url.pathname.replace(/^\//, "").split("/")[0];
  if (!state.bot.username || name.toLowerCase() !== state.bot.username.toLowerCase()) return false;
  const payload = url.searchParams.get("start");
  choose({
    title: t("Open this link as…"),
    hint: payload ? t("It opens the bot with “/start {payload}”.", { payload }) : t("It opens the chat with the bot."),
    // Someone else first: an invite link is usually opened by the person it was sent to.
    options: [...state.citizens.filter((c) => c.id !== state.current), ...state.citizens.filter((c) => c.id === state.current)]
      .map((c) => ({ value: c.id, label: c.id === state.current ? t("{name} (you)", { name: `${c.first_name} ${c.last_name}` }) : `${c.first_name} ${c.last_name}` })),
    single: true,
  }).then(async (picked) => {
    if (!picked || !picked.length) return;
    const userId = Number(picked[0]);
    selectCitizen(userId);
    if (payload) await sendText(`/start ${payload}`, userId);
  });
  return true;
}

function choose({ title, hint, options, single, max }) {
  return new Promise((resolve) => {
    const dialog = $("picker");
    $("picker-title").textContent = title;
    $("picker-hint").textContent = hint || "";
    const box = $("picker-options");
    box.replaceChildren();
    options.forEach((option, index) => {
      const input = el("input", {
        type: single ? "radio" : "checkbox",
        name: "pick",
        value: String(option.value),
        checked: single ? index === 0 : option.checked,
      });
      if (!single && max) {
        input.addEventListener("change", () => {
          const picked = box.querySelectorAll("input:checked").length;
          for (const other of box.querySelectorAll("input")) other.disabled = !other.checked && picked >= max;
        });
      }
      box.append(el("label", {}, input, option.label));
    });
    const done = () => {
      dialog.removeEventListener("close", done);
      if (dialog.returnValue !== "ok") return resolve(null);
      resolve([...box.querySelectorAll("input:checked")].map((i) => i.value));
    };
    dialog.addEventListener("close", done);
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// ---------------------------------------------------------------------------------------------
// The reply keyboard (under the message box)
// ---------------------------------------------------------------------------------------------

function renderReplyKeyboard() {
  const box = $("reply-keyboard");
  const chat = chatOf(state.current);
  box.replaceChildren();
  if (!chat.keyboard || chat.keyboardHidden) {
    box.hidden = true;
    $("text").placeholder = t("Message");
    return;
  }
  for (const row of chat.keyboard.rows) {
    const line = el("div", { class: "row" });
    for (const button of row) {
      line.append(el("button", { type: "button", text: button.text, onclick: () => pressReply(button) }));
    }
    box.append(line);
  }
  $("text").placeholder = chat.keyboard.placeholder || t("Message");
  box.hidden = false;
}

async function pressReply(button) {
  const userId = state.current;
  const chat = chatOf(userId);
  const request = button.request_users;
  try {
    if (request) {
      const others = state.citizens.filter((c) => c.id !== userId);
      const max = request.max_quantity || 1;
      const picked = await choose({
        title: button.text,
        hint: t("Choose up to {max} of the other test citizens.", { max }),
        options: others.map((c) => ({ value: c.id, label: `${c.first_name} ${c.last_name}` })),
        single: max === 1,
        max,
      });
      if (!picked) return;
      await api(`/chats/${userId}/share-users`, { request_id: request.request_id, user_ids: picked.map(Number) });
    } else if (button.request_contact) {
      await api(`/chats/${userId}/contact`, {});
    } else {
      await sendText(button.text, userId);
    }
    if (chat.keyboard && chat.keyboard.one_time) {
      chat.keyboardHidden = true;
      renderReplyKeyboard();
    }
  } catch (error) {
    toast(t("Could not send it: {reason}", { reason: error.message }));
  }
}

// ---------------------------------------------------------------------------------------------
// Chats and events
// ---------------------------------------------------------------------------------------------

function applyEvents(userId, events) {
  const chat = chatOf(userId);
  const changed = [];
  for (const event of events) {
    const msg = event.message;
    if (event.kind === "message" && msg) {
      if (!chat.messages.has(msg.message_id)) chat.order.push(msg.message_id);
      chat.messages.set(msg.message_id, msg);
      changed.push(msg.message_id);
      if (msg.from_bot) {
        if (userId !== state.current || document.hidden) chat.unread += 1;
        if ("keyboard" in msg) {
          chat.keyboard = msg.keyboard;
          chat.keyboardHidden = false;
        }
      }
    } else if (event.kind === "edit" && msg) {
      chat.messages.set(msg.message_id, msg);
      changed.push(msg.message_id);
    } else if (event.kind === "delete" && msg) {
      chat.messages.delete(msg.message_id);
      chat.order = chat.order.filter((id) => id !== msg.message_id);
      changed.push(msg.message_id);
    } else if (event.kind === "callback_answer" && event.text && userId === state.current) {
      toast(event.text);
    } else if (event.kind === "action" && userId === state.current) {
      showTyping();
    }
  }
  if (userId === state.current) {
    if (changed.length) hideTyping();
    drawChanges(chat, changed);
  }
  renderCitizens();
}

function drawChanges(chat, changed) {
  const box = $("messages");
  const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  for (const id of new Set(changed)) {
    const existing = box.querySelector(`.msg[data-id="${id}"]`);
    const msg = chat.messages.get(id);
    if (!msg) { existing?.remove(); continue; }
    const node = renderMessage(msg);
    if (existing) existing.replaceWith(node);
    else box.append(node);
  }
  $("empty").hidden = chat.order.length > 0;
  renderReplyKeyboard();
  if (nearBottom || changed.length) keepScrolled();
}

function keepScrolled() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function drawChat() {
  const chat = chatOf(state.current);
  const box = $("messages");
  box.replaceChildren($("empty") || el("p", { class: "empty", id: "empty" }));
  for (const id of chat.order) box.append(renderMessage(chat.messages.get(id)));
  $("empty").hidden = chat.order.length > 0;
  renderReplyKeyboard();
  keepScrolled();
}

let typingTimer = 0;
function showTyping() {
  const status = $("status");
  status.textContent = t("typing…");
  status.classList.add("typing");
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, 5000);
}
function hideTyping() {
  const status = $("status");
  status.textContent = t("Bot");
  status.classList.remove("typing");
}

async function fetchEvents(userId, wait) {
  const chat = chatOf(userId);
  const data = await api(`/chats/${userId}/events?since=${chat.next}&wait=${wait}`);
  if (data.events.length) {
    chat.next = data.next;
    applyEvents(userId, data.events);
  }
  return data.events.length;
}

async function pollCurrent() {
  // One long poll at a time, for the chat on screen; switching citizens starts a new loop.
  const token = ++state.pollToken;
  let failures = 0;
  while (token === state.pollToken) {
    try {
      await fetchEvents(state.current, LONG_POLL_SECONDS);
      failures = 0;
      $("connection").hidden = true;
    } catch {
      failures += 1;
      $("connection").hidden = false;
      await new Promise((r) => setTimeout(r, Math.min(10000, 500 * 2 ** failures)));
    }
  }
}

async function pollOthers() {
  for (const person of state.citizens) {
    if (person.id === state.current) continue;
    try { await fetchEvents(person.id, 0); } catch { /* the current chat's loop reports it */ }
  }
  setTimeout(pollOthers, OTHERS_POLL_MS);
}

async function sendText(text, userId = state.current) {
  const trimmed = text.trim();
  if (!trimmed) return;
  try {
    await api(`/chats/${userId}/messages`, { text: trimmed });
  } catch (error) {
    toast(t("Could not send it: {reason}", { reason: error.message }));
  }
}

// ---------------------------------------------------------------------------------------------
// The sidebar and the page
// ---------------------------------------------------------------------------------------------

function renderCitizens() {
  const list = $("citizens");
  list.replaceChildren();
  for (const person of state.citizens) {
    const chat = chatOf(person.id);
    const lastId = chat.order[chat.order.length - 1];
    const last = lastId !== undefined ? chat.messages.get(lastId) : null;
    let preview = t("No messages yet");
    if (last) {
      const said = `${last.kind === "photo" ? "🖼 " : ""}${last.text || last.kind}`;
      preview = last.from_bot ? said : t("You: {text}", { text: said });
    }
    const initials = person.first_name[0] + (person.last_name ? person.last_name[0] : "");
    const button = el("button", {
      type: "button",
      class: "citizen",
      "aria-current": person.id === state.current ? "true" : "false",
      "data-user": person.id,
      onclick: () => selectCitizen(person.id),
    },
    el("span", { class: `avatar hue-${person.id % 6}`, text: initials }),
    el("span", { class: "who" },
      el("div", { class: "name", text: `${person.first_name} ${person.last_name}` },
        person.reviewer ? el("span", { class: "badge", title: t("Can try /review"), text: t("Reviewer") }) : null),
      el("div", { class: "preview", text: preview.split("\n")[0] })),
    chat.unread && person.id !== state.current ? el("span", { class: "unread", text: chat.unread }) : null);
    list.append(el("li", {}, button));
  }
}

function renderSample() {
  const person = state.citizens.find((c) => c.id === state.current);
  const box = $("sample");
  box.replaceChildren();
  if (!person) { box.hidden = true; return; }
  const chip = (label, value) => el("button", {
    type: "button",
    class: "small secondary",
    title: t("Put “{value}” in the message box", { value }),
    onclick: () => { const input = $("text"); input.value = value; input.focus(); },
  }, label);
  box.append(
    t("Invented details for {name} (click to type): ", { name: person.first_name }),
    chip(t("NI number {value}", { value: person.sample.ni_number }), person.sample.ni_number),
    chip(t("born {value}", { value: person.sample.date_of_birth }), person.sample.date_of_birth),
    chip(t("postcode {value}", { value: person.sample.postcode }), person.sample.postcode),
  );
  box.hidden = false;
}

function selectCitizen(userId) {
  if (state.current === userId) return;
  state.current = userId;
  chatOf(userId).unread = 0;
  const person = state.citizens.find((c) => c.id === userId);
  $("me").textContent = person ? `${person.first_name} ${person.last_name}` : String(userId);
  history.replaceState(null, "", `#citizen=${userId}`);
  hideTyping();
  renderCitizens();
  renderSample();
  drawChat();
  pollCurrent();
  $("text").focus();
}

function renderCommands() {
  const menu = $("commands");
  menu.replaceChildren();
  for (const command of state.commands) {
    menu.append(el("button", {
      type: "button",
      onclick: () => { menu.hidden = true; sendText(`/${command.command}`); },
    }, el("span", { class: "cmd", text: `/${command.command}` }), el("span", { class: "desc", text: command.description })));
  }
}

async function loadState() {
  const data = await api("/state");
  state.bot = data.bot;
  state.citizens = data.citizens;
  state.commands = data.commands;
  $("bot-name").textContent = data.bot.name;
  if (data.sponsor && data.sponsor.api_key) {
    $("sponsor-box").hidden = false;
    $("sponsor-name").textContent = data.sponsor.name;
    $("sponsor-key").textContent = data.sponsor.api_key;
    // The fragment never leaves the browser; the portal moves the key into sessionStorage.
    $("portal-link").href = `/portal#key=${encodeURIComponent(data.sponsor.api_key)}`;
  }
  showTools(data, { api, toast });
  renderCommands();
}

async function main() {
  // The page's language is also the test citizens' Telegram app language (bot/sandbox.py), so
  // switching to Cymraeg makes the bot answer anyone who hasn't chosen with /language in Welsh.
  document.addEventListener("britizen:language", async (event) => {
    await api("/language", { language_code: event.detail.language }).catch(() => {});
    await loadState().catch(() => {});
    // What the page built itself is built again in the new language.
    if (state.current !== null) {
      hideTyping();
      renderCitizens();
      renderSample();
      drawChat();
    }
  });
  await api("/language", { language_code: currentLanguage() }).catch(() => {});
  await loadState();
  await setUpLanguage("sandbox");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    input.value = "";
    sendText(text);
  });
  $("menu-button").addEventListener("click", () => {
    const menu = $("commands");
    menu.hidden = !menu.hidden;
  });
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#commands, #menu-button")) $("commands").hidden = true;
  });
  $("add-citizen").addEventListener("click", async () => {
    try {
      const person = await api("/citizens", {});
      state.citizens.push(person);
      selectCitizen(person.id);
    } catch (error) {
      toast(error.message);
    }
  });
  $("copy-key").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("sponsor-key").textContent);
      toast(t("Key copied."));
    } catch {
      toast(t("Select the key and copy it."));
    }
  });
  const wanted = Number(new URLSearchParams(location.hash.slice(1)).get("citizen"));
  const first = state.citizens.find((c) => c.id === wanted) || state.citizens[0];
  selectCitizen(first.id);
  setTimeout(pollOthers, 500);
  // Commands are set when the bot starts; fetch them again in case the page was quicker.
  if (!state.commands.length) setTimeout(() => loadState().catch(() => {}), 2000);
}

main().catch((error) => {
  $("connection").textContent = t("The sandbox did not answer: {reason}. Is `make run` running?", { reason: error.message });
  $("connection").hidden = false;
});
