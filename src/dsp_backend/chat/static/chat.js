    const transcript = document.getElementById("transcript");
    const form = document.getElementById("chat-form");
    const input = document.getElementById("message");

    function show(text, who) {
      const p = document.createElement("p");
      p.className = "message from-" + who;
      const span = document.createElement("span");
      span.textContent = (who === "you" ? "You: " : "Assistant: ") + text;
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
          if (m.text) show(m.text, "assistant");
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
