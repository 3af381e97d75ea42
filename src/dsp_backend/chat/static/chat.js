"use strict";
// The chat page. Everything shown is added as text nodes, never as HTML. Only the latest set of
// answer buttons is live; focus goes to it, or back to the message box; the transcript comes back
// from the server after a reload (the conversation id is in an HttpOnly cookie, never the URL).
(function () {
  const transcript = document.getElementById("transcript");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  const group = document.getElementById("message-group");
  const errorSummary = document.getElementById("error-summary");
  const errorLink = document.getElementById("error-summary-link");
  const errorMessage = document.getElementById("message-error");
  const count = document.getElementById("message-count");
  const countLive = document.getElementById("message-count-live");
  const easyRead = document.getElementById("easy-read");
  const readAloud = document.getElementById("read-aloud");
  const restart = document.getElementById("restart");
  const MAX = Number(form.dataset.maxChars);
  const TITLE = document.title;
  const UNREACHABLE = "The assistant could not be reached. Please try again. If someone is in danger now, call 999.";
  const NO_ANSWER = "Sorry, I have no answer to that. Please try asking in other words. If someone is in danger now, call 999.";
  let waiting = false;

  // UK phone numbers in the assistant's words (999, 111, 116 123, 0116 295 3060) become links
  // that call.
  const PHONE = /\b(999|111|116 ?123|0\d{2,4}(?: ?\d{3,4}){2})\b/g;

  function withPhoneLinks(element, text) {
    let last = 0;
    for (const match of text.matchAll(PHONE)) {
      element.appendChild(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = "tel:" + match[0].replace(/ /g, "");
      link.textContent = match[0];
      element.appendChild(link);
      last = match.index + match[0].length;
    }
    element.appendChild(document.createTextNode(text.slice(last)));
  }

  function show(text, who, emergency) {
    const p = document.createElement(emergency ? "div" : "p");
    p.className = "message from-" + who + (emergency ? " emergency-answer" : "");
    const span = document.createElement("span");
    if (emergency) {
      p.setAttribute("role", "alert");
      const heading = document.createElement("strong");
      heading.textContent = "Emergency help";
      span.appendChild(heading);
    } else {
      const label = document.createElement("span");
      label.className = "who";
      label.textContent = who === "you" ? "You: " : "Assistant: ";
      span.appendChild(label);
    }
    if (who === "you") span.appendChild(document.createTextNode(text));
    else withPhoneLinks(span, text);
    p.appendChild(span);
    transcript.appendChild(p);
    return p;
  }

  // Earlier answer buttons stay as a record of what was offered, but can no longer be used:
  // an old "Learning disability" must not answer a later question.
  function retire() {
    const retired = [...transcript.querySelectorAll(".choices:not(.choices--used)")];
    for (const old of retired) {
      old.classList.add("choices--used");
      for (const control of old.querySelectorAll("button, input")) control.disabled = true;
    }
    return retired;
  }

  // A message that did not get through leaves its question unanswered: its buttons live again.
  function revive(groups) {
    for (const group of groups) {
      group.classList.remove("choices--used");
      for (const control of group.querySelectorAll("button, input")) control.disabled = false;
    }
  }

  function singleChoice(buttons) {
    const div = document.createElement("div");
    div.className = "choices";
    div.setAttribute("role", "group");
    div.setAttribute("aria-label", "Choose an answer");
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary";
      button.textContent = b.title;
      button.addEventListener("click", () => send(b.payload, b.title));
      div.appendChild(button);
    }
    return div;
  }

  // A question that allows several answers: tick them, then send them together.
  function severalChoices(buttons) {
    const fieldset = document.createElement("fieldset");
    fieldset.className = "choices";
    const legend = document.createElement("legend");
    legend.textContent = "Choose all that apply";
    fieldset.appendChild(legend);
    const id = "choice-" + transcript.querySelectorAll(".choices").length;
    buttons.forEach((b, n) => {
      const row = document.createElement("div");
      row.className = "checkbox";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = id + "-" + n;
      box.value = b.payload;
      box.dataset.title = b.title;
      const label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = b.title;
      row.append(box, label);
      fieldset.appendChild(row);
    });
    const submit = document.createElement("button");
    submit.type = "button";
    submit.className = "button";
    submit.textContent = "Send my choices";
    submit.addEventListener("click", () => {
      const ticked = [...fieldset.querySelectorAll("input:checked")];
      if (!ticked.length) {
        showError("Choose at least one answer, or type your answer", fieldset.querySelector("input").id);
        return;
      }
      send(ticked.map((t) => t.value).join(" and "), ticked.map((t) => t.dataset.title).join(" and "));
    });
    fieldset.appendChild(submit);
    return fieldset;
  }

  function showChoices(message) {
    const element = message.multiple ? severalChoices(message.buttons) : singleChoice(message.buttons);
    transcript.appendChild(element);
    return element;
  }

  // New content in view: from its start if it fits, else with its buttons in view; then the page
  // itself scrolled so that the first new button (or the last of the content) shows.
  function reveal(first, last, control) {
    if (transcript.scrollHeight > transcript.clientHeight) {
      const start = first.offsetTop - 8;
      const end = last.offsetTop + last.offsetHeight + 8;
      transcript.scrollTop = end - start <= transcript.clientHeight ? start : end - transcript.clientHeight;
    }
    (control || last).scrollIntoView({ block: "nearest" });
  }

  function speak(messages) {
    if (readAloud.getAttribute("aria-pressed") !== "true") return;
    // Only a voice on this device: an online voice would send the words elsewhere.
    const voice = speechSynthesis.getVoices().find((v) => v.localService && v.lang.startsWith("en"))
      || speechSynthesis.getVoices().find((v) => v.localService);
    if (!voice) { status.textContent = "This device has no voice to read aloud with."; return; }
    for (const m of messages) {
      if (!m.text) continue;
      const utterance = new SpeechSynthesisUtterance(m.text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      speechSynthesis.speak(utterance);
    }
  }

  // Shows the assistant's messages; returns the first element added, the last, and the first
  // control of the live buttons, if any.
  function showReplies(messages, live) {
    let first = null, last = null, control = null;
    for (const m of messages) {
      const added = [];
      if (m.text) added.push(show(m.text, "assistant", m.emergency));
      if (m.buttons && m.buttons.length) {
        retire();
        const choices = showChoices(m);
        added.push(choices);
        if (live) control = choices.querySelector("button, input"); else retire();
      }
      first = first || added[0] || null;
      last = added[added.length - 1] || last;
    }
    return { first, last, control };
  }

  function setWaiting(on) {
    waiting = on;
    sendButton.disabled = on;
    transcript.setAttribute("aria-busy", on ? "true" : "false");
    status.textContent = on ? "The assistant is typing" : "";
  }

  function showError(text, target) {
    errorSummary.hidden = false;
    errorLink.textContent = text;
    errorLink.href = "#" + (target || "message");
    if (!target || target === "message") {
      errorMessage.replaceChildren();
      const prefix = document.createElement("span");
      prefix.className = "visually-hidden";
      prefix.textContent = "Error: ";
      errorMessage.append(prefix, document.createTextNode(text));
      errorMessage.hidden = false;
      group.classList.add("form-group--error");
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "message-hint message-error message-count");
    }
    document.title = "Error: " + TITLE;
    errorSummary.focus();
  }

  function clearError() {
    errorSummary.hidden = true;
    errorMessage.hidden = true;
    group.classList.remove("form-group--error");
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", "message-hint message-count");
    document.title = TITLE;
  }

  errorLink.addEventListener("click", (event) => {
    const target = document.getElementById(errorLink.hash.slice(1));
    if (target) { event.preventDefault(); target.focus(); }
  });

  async function send(message, shown) {
    if (waiting) return;
    clearError();
    const retired = retire();
    const mine = show(shown || message, "you");
    reveal(mine, mine);
    input.focus({ preventScroll: true });
    setWaiting(true);
    let body = null, response = null;
    try {
      response = await fetch("/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message }),
      });
      body = await response.json();
    } catch (e) {
      body = null;
    }
    setWaiting(false);
    if (response && (response.status === 413 || response.status === 422) && body) {
      // The message itself is refused: it goes back in the box with the reason beside it.
      mine.remove();
      revive(retired);
      if (!shown) { input.value = message; updateCount(); }
      showError(typeof body.detail === "string" ? body.detail : "Enter a message");
      return;
    }
    if (!response || !response.ok || !body) {
      const note = show((body && typeof body.detail === "string" && body.detail) || UNREACHABLE, "assistant");
      revive(retired);
      reveal(note, note);
      input.focus();
      return;
    }
    if (!body.messages.length) body.messages = [{ text: NO_ANSWER, buttons: [] }];
    const { first, last, control } = showReplies(body.messages, true);
    if (first) reveal(first, last, control);
    (control || input).focus({ preventScroll: true });
    speak(body.messages);
  }

  function length(text) { return [...text].length; }

  let announce = null;
  function updateCount() {
    const left = MAX - length(input.value);
    const text = left >= 0
      ? "You have " + left.toLocaleString("en-GB") + (left === 1 ? " character" : " characters") + " remaining"
      : "You have " + (-left).toLocaleString("en-GB") + (left === -1 ? " character" : " characters") + " too many";
    count.textContent = text;
    count.classList.toggle("count--over", left < 0);
    clearTimeout(announce);
    announce = setTimeout(() => { countLive.textContent = text; }, 1000);
  }

  input.addEventListener("input", updateCount);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (waiting) return;
    const text = input.value.trim();
    if (!text) { showError("Enter a message"); return; }
    if (length(text) > MAX) {
      showError("That message is too long: please keep it under " + MAX.toLocaleString("en-GB")
        + " characters, or send it in parts. If someone is in danger now, call 999.");
      return;
    }
    input.value = "";
    updateCount();
    send(text);
  });

  function setEasyRead(on) {
    document.body.classList.toggle("easy-read", on);
    easyRead.setAttribute("aria-pressed", on ? "true" : "false");
    try { localStorage.setItem("dsp-easy-read", on ? "1" : ""); } catch (e) { /* private mode */ }
  }
  easyRead.addEventListener("click", () => setEasyRead(easyRead.getAttribute("aria-pressed") !== "true"));
  try { setEasyRead(localStorage.getItem("dsp-easy-read") === "1"); } catch (e) { /* private mode */ }

  if ("speechSynthesis" in window) {
    readAloud.hidden = false;
    readAloud.addEventListener("click", () => {
      const on = readAloud.getAttribute("aria-pressed") !== "true";
      readAloud.setAttribute("aria-pressed", on ? "true" : "false");
      if (!on) speechSynthesis.cancel();
    });
  }

  function clearTranscript() {
    for (const old of [...transcript.children]) if (old.id !== "welcome") old.remove();
  }

  restart.addEventListener("click", async () => {
    if (waiting || !window.confirm("Start again? This deletes the conversation so far.")) return;
    const response = await fetch("/chat/restart", { method: "POST" }).catch(() => null);
    if (!response || !response.ok) { status.textContent = UNREACHABLE; return; }
    clearTranscript();
    clearError();
    input.value = "";
    updateCount();
    status.textContent = "You have started again. The earlier conversation is deleted.";
    input.focus();
  });

  // After a reload: the conversation so far, with only the buttons still waiting for an answer live.
  async function restore() {
    const response = await fetch("/chat/history").catch(() => null);
    if (!response || !response.ok) return;
    const body = await response.json();
    const lastYou = body.messages.map((m) => m.who).lastIndexOf("you");
    body.messages.forEach((m, n) => {
      if (m.who === "you") { retire(); show(m.text, "you"); } else showReplies([m], n > lastYou);
    });
    transcript.scrollTop = transcript.scrollHeight;
  }

  restore();
})();
