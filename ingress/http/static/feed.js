// The live feed (/ws). Reconnects with exponential backoff and jitter, so a restarted service
// is not hit by every open tab at the same instant; every reconnect starts with a new snapshot.

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

export function openFeed({ onMessage, onOpen, onClose }) {
  let delay = FIRST_DELAY_MS;
  let timer = null;
  let socket = null;

  function connect() {
    clearTimeout(timer);
    timer = null;
    const url = new URL("ws", document.baseURI); // under the URL base (<base href>)
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    let opened = false;
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      opened = true;
      delay = FIRST_DELAY_MS;
      onOpen();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    });
    socket.addEventListener("close", () => {
      socket = null;
      const wait = Math.round(delay * (0.75 + Math.random() / 2));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      timer = setTimeout(connect, wait);
      onClose({ wait, opened });
    });
  }

  function retryNow() {
    if (socket === null) connect();
  }

  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") retryNow();
  });
  connect();
  return { retryNow };
}
