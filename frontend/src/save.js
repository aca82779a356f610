// Where a decrypted file goes: a file the user picks (File System Access API), a
// download streamed by our service worker (sw.js), or a Blob for small files.

export const BLOB_LIMIT = 256 * 1024 * 1024;

// The script's own folder: sw.js sits beside decrypt.js, and its scope is that folder.
const HERE = new URL("./", document.currentScript ? document.currentScript.src : location.href);

// A writable stream into the file the user picks; false when the picker was cancelled.
export async function saveToPicker(name) {
  try {
    const handle = await window.showSaveFilePicker({ suggestedName: name });
    return await handle.createWritable();
  } catch (err) {
    if (err.name === "AbortError") return false;
    return null;  // refused (e.g. a sandboxed context): try the other ways
  }
}

function activated(registration) {
  const worker = registration.active || registration.waiting || registration.installing;
  if (!worker) return Promise.reject(new Error("no service worker"));
  if (worker.state === "activated") return Promise.resolve(worker);
  return new Promise((resolve, reject) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") resolve(worker);
      if (worker.state === "redundant") reject(new Error("service worker failed"));
    });
  });
}

function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Hands the stream to the service worker chunk by chunk, as it asks for them (so a slow
// disk slows the decryption, not the memory), and opens the download in a hidden
// frame. False when there is no service worker to do it.
export async function saveThroughWorker(stream, name, size) {
  if (!("serviceWorker" in navigator)) return false;
  let worker;
  try {
    worker = await activated(await navigator.serviceWorker.register(new URL("sw.js", HERE), { scope: HERE.pathname }));
  } catch (err) {
    return false;
  }
  const id = randomId();
  const channel = new MessageChannel();
  const reader = stream.getReader();
  return new Promise((resolve, reject) => {
    channel.port1.onmessage = async (event) => {
      if (event.data === "ready") {
        const frame = document.createElement("iframe");
        frame.hidden = true;
        frame.src = new URL("download/" + id, HERE).href;
        document.body.append(frame);
      } else if (event.data === "pull") {
        try {
          const { done, value } = await reader.read();
          channel.port1.postMessage(done ? { done: true } : { chunk: value });
          if (done) resolve(true);
        } catch (err) {
          channel.port1.postMessage({ error: String(err) });
          reject(err);
        }
      } else if (event.data === "cancel") {
        reader.cancel();
        resolve(true);
      }
    };
    worker.postMessage({ type: "download", id, name, size }, [channel.port2]);
  });
}

// The whole stream as a Blob. Read here, not by Response.blob(), which would turn a
// decryption error into a bare TypeError.
export async function collect(stream, type) {
  const reader = stream.getReader();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new Blob(parts, { type: type || "" });
    parts.push(value);
  }
}

export async function saveAsBlob(stream, name) {
  const blob = await collect(stream);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
