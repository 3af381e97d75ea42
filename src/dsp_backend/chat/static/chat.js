    const transcript = document.getElementById("transcript");
    const form = document.getElementById("chat-form");
    const input = document.getElementById("message");

    // UK phone numbers in the assistant's words (999, 111, 116 123, 0116 295 3060) become links
    // that call; everything is added as text nodes, never as HTML.
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
        span.appendChild(document.createElement("br"));
      } else {
        span.appendChild(document.createTextNode(who === "you" ? "You: " : "Assistant: "));
      }
      if (who === "you") span.appendChild(document.createTextNode(text));
      else withPhoneLinks(span, text);
      p.appendChild(span);
      transcript.appendChild(p);
      transcript.scrollTop = transcript.scrollHeight;
    }

    function showChoices(buttons) {
      const div = document.createElement("div");
      div.className = "choices";
      for (const b of buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", () => { div.remove(); send(b.payload, b.title); });
        div.appendChild(button);
      }
      transcript.appendChild(div);
    }

    async function send(message, shown) {
      show(shown || message, "you");
      try {
        const response = await fetch("/chat", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ message }),
        });
        const body = await response.json();
        if (!response.ok) { show(body.detail || "Something went wrong. Please try again.", "assistant"); return; }
        for (const m of body.messages) {
          if (m.text) show(m.text, "assistant", m.emergency);
          if (m.buttons && m.buttons.length) showChoices(m.buttons);
        }
      } catch (e) {
        show("The assistant could not be reached. Please try again. If someone is in danger now, call 999.", "assistant");
      }
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      send(text);
      input.focus();
    });
