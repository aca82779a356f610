// The service worker of encrypted downloads (scope: /static/e2e/). decrypt.js posts
// {type: "download", id, name, size} with a MessagePort, then opens
// /static/e2e/download/<id> in a hidden frame; this worker answers that request with a
// stream it pulls from the page chunk by chunk, as an attachment. It sees plaintext
// only in passing and keeps nothing.
const pending = new Map();

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

function pulled(port) {
  return new ReadableStream({
    pull(controller) {
      return new Promise((resolve) => {
        port.onmessage = (event) => {
          const data = event.data || {};
          if (data.error) controller.error(new Error(data.error));
          else if (data.done) controller.close();
          else controller.enqueue(data.chunk);
          resolve();
        };
        port.postMessage("pull");
      });
    },
    cancel() { port.postMessage("cancel"); },
  });
}

function disposition(name) {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const port = event.ports[0];
  if (data.type !== "download" || !port || !/^[0-9a-f]{32}$/.test(data.id)) return;
  pending.set(data.id, { stream: pulled(port), name: String(data.name), size: Number(data.size) });
  port.postMessage("ready");
});

self.addEventListener("fetch", (event) => {
  const match = new URL(event.request.url).pathname.match(/\/download\/([0-9a-f]{32})$/);
  const download = match && pending.get(match[1]);
  if (!download) return;
  pending.delete(match[1]);
  event.respondWith(new Response(download.stream, {
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Disposition": disposition(download.name),
      "Content-Length": String(download.size),
      "X-Content-Type-Options": "nosniff",
    },
  }));
});
