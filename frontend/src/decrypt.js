// The card of an end-to-end encrypted file (<div id="e2e" data-raw-url data-size>): the
// key comes from the URL fragment, the ciphertext from /i/<id> as a stream, and age
// decrypts it here in 64 KiB chunks. Saving goes to the File System Access API where
// the browser has it, else through a service-worker stream (sw.js), else, for files up
// to 256 MiB, through a Blob in memory. Images, video, audio, PDF and text preview in a
// sandboxed frame (no scripts, an opaque origin) from a blob: URL.
import { Decrypter, identityToRecipient } from "age-encryption";
import { parseFragment } from "./fragment.js";
import { saveToPicker, saveThroughWorker, saveAsBlob, collect, BLOB_LIMIT } from "./save.js";
import { regroup } from "./chunks.js";
import { previewKind, showPreview, PREVIEW_LIMIT } from "./preview.js";

const ENGLISH = {
  save: "Decrypt and save",
  saving: "Decrypting… {done} of {total}",
  saved: "Decrypted and saved.",
  missingKey: "This link has no key. Ask the sender for the whole link, with everything after #.",
  invalidKey: "The key in this link is not valid. Check that the link was copied whole.",
  wrongKey: "The key in this link does not open this file.",
  passphrase: "Passphrase",
  unlock: "Decrypt",
  checking: "Checking the key…",
  wrongPassphrase: "Wrong passphrase.",
  corrupted: "The file is damaged: it does not decrypt.",
  gone: "This file is gone.",
  failed: "The download failed.",
  tooLarge: "This browser cannot save a file this large. Use Chrome or Edge, or the pf command.",
  preview: "Preview of {name}",
};

function messages() {
  const holder = document.getElementById("e2e-messages");
  return Object.assign({}, ENGLISH, holder ? holder.dataset : {});
}

class UserError extends Error {}

// An age header is a few hundred bytes: "age-encryption.org/v1", one line per recipient
// stanza, then "--- <MAC>".
const HEADER_MAX = 16 * 1024;
const SAVE_PIECE = 1024 * 1024;

// Reads until the header is complete; the header, and every byte read so far.
async function headerOf(reader) {
  let bytes = new Uint8Array(0);
  for (;;) {
    const end = headerEnd(bytes);
    if (end > 0) return { header: bytes.subarray(0, end), head: bytes };
    const { done, value } = await reader.read();
    if (done || bytes.length >= HEADER_MAX) throw new Error("invalid header");
    const grown = new Uint8Array(bytes.length + value.length);
    grown.set(bytes);
    grown.set(value, bytes.length);
    bytes = grown;
  }
}

// The bytes already read, then the rest of the reader.
function rejoined(head, reader) {
  return new ReadableStream({
    start(controller) { controller.enqueue(head); },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) { return reader.cancel(reason); },
  });
}

function headerEnd(bytes) {
  const marker = new TextEncoder().encode("\n--- ");
  outer: for (let i = 0; i + marker.length <= bytes.length; i++) {
    for (let j = 0; j < marker.length; j++) if (bytes[i + j] !== marker[j]) continue outer;
    const newline = bytes.indexOf(10, i + marker.length);
    return newline < 0 ? -1 : newline + 1;
  }
  return -1;
}

// Our sentence for what went wrong; age's own messages are for developers.
function explain(err, text, usingPassphrase) {
  if (err instanceof UserError) return err.message;
  const message = String((err && err.message) || err);
  if (message.includes("no identity matched")) return usingPassphrase ? text.wrongPassphrase : text.wrongKey;
  if (/invalid identity|unrecognized identity/.test(message)) return text.invalidKey;
  if (err instanceof TypeError) return text.failed;  // fetch: the connection was lost
  return text.corrupted;  // a bad header, MAC, stanza, chunk tag or size
}

function element(tag, props, children) {
  const node = Object.assign(document.createElement(tag), props || {});
  (children || []).forEach((child) => node.append(child));
  return node;
}

function start(box) {
  const text = messages();
  const size = Number(box.dataset.size);
  const human = (window.pastefile && window.pastefile.size) || ((n) => n + " bytes");
  const key = parseFragment(location.hash);
  const ui = {
    file: element("p", { className: "e2e-file" }),
    form: element("form", { className: "e2e-passphrase", hidden: true }),
    save: element("button", { type: "button", className: "e2e-save", textContent: text.save, hidden: true }),
    status: element("p", { className: "e2e-status", role: "status" }),
    error: element("p", { className: "e2e-error", role: "alert", hidden: true }),
    preview: element("div", { className: "e2e-preview" }),
  };
  box.append(ui.file, ui.form, ui.save, ui.status, ui.error, ui.preview);
  let passphrase = "";

  function fail(err) {
    ui.error.textContent = explain(err, text, key.passphrase);
    ui.error.hidden = false;
    ui.status.textContent = "";
  }

  async function fetched() {
    const response = await fetch(box.dataset.rawUrl, { credentials: "same-origin" });
    if (response.status === 404 || response.status === 410) throw new UserError(text.gone);
    if (!response.ok) throw new UserError(text.failed + " (" + response.status + ")");
    return response;
  }

  // The plaintext as a stream with its size. Each GET of /i/<id> counts as a download
  // (a download limit applies to encrypted files too), so the page makes one when it
  // opens, checks the key on its header, and keeps that stream for the preview or the
  // first save. The file key is kept: a passphrase's scrypt (seconds) runs once.
  let fileKey = null;
  async function open() {
    const reader = (await fetched()).body.getReader();
    const { header, head } = await headerOf(reader);
    if (!fileKey) {
      const unwrap = new Decrypter();
      if (key.passphrase) unwrap.addPassphrase(passphrase);
      else unwrap.addIdentity(key.secret);
      fileKey = await unwrap.decryptHeader(header).catch((err) => { reader.cancel(); throw err; });
    }
    const d = new Decrypter();
    d.addIdentity({ unwrapFileKey: () => fileKey });
    const plain = await d.decrypt(rejoined(head, reader));
    return { stream: plain, size: plain.size(size) };
  }

  // What the next save reads: the stream opened with the page, the preview's Blob, or
  // (for a second save) a new download.
  let source = null;
  async function take() {
    const ready = source;
    source = null;
    if (ready && ready.blob) { source = ready; return { stream: ready.blob.stream(), size: ready.blob.size }; }
    return ready || open();
  }

  // 1 MiB pieces, counted on the way (the status changes at most ten times a second).
  function counted(stream, total) {
    let done = 0;
    let shown = 0;
    return stream.pipeThrough(regroup(SAVE_PIECE)).pipeThrough(new TransformStream({
      transform(chunk, controller) {
        done += chunk.length;
        if (Date.now() - shown > 100 || done === total) {
          shown = Date.now();
          ui.status.textContent = text.saving.replace("{done}", human(done)).replace("{total}", human(total));
        }
        controller.enqueue(chunk);
      },
    }));
  }

  async function save() {
    ui.error.hidden = true;
    const name = key.name || "download";
    // The picker first: it needs the click's user activation.
    const sink = window.showSaveFilePicker ? await saveToPicker(name) : null;
    if (sink === false) return;  // the picker was cancelled
    const plain = await take();
    const stream = counted(plain.stream, plain.size);
    if (sink) await stream.pipeTo(sink);
    else if (!(await saveThroughWorker(stream, name, plain.size))) {
      if (plain.size > BLOB_LIMIT) { stream.cancel(); throw new UserError(text.tooLarge); }
      await saveAsBlob(stream, name);
    }
    ui.status.textContent = text.saved;
  }

  async function preview(plain) {
    const kind = previewKind(key.type);
    if (!kind || plain.size > PREVIEW_LIMIT) { source = plain; return; }
    const blob = await collect(plain.stream);
    source = { blob };
    showPreview(ui.preview, blob, kind, text.preview.replace("{name}", key.name || ""));
  }

  // Opening checks the header's MAC, so a wrong key or passphrase shows before any click.
  async function ready() {
    ui.status.textContent = key.passphrase ? text.checking : "";
    const plain = await open();
    ui.status.textContent = "";
    ui.file.textContent = (key.name ? key.name + " · " : "") + human(plain.size);
    ui.form.hidden = true;
    ui.save.hidden = false;
    ui.save.onclick = () => save().catch((err) => { if (err.name !== "AbortError") fail(err); });
    return preview(plain);
  }

  function askPassphrase() {
    const field = element("input", { type: "password", id: "e2e-passphrase", autocomplete: "off", required: true });
    const label = element("label", { htmlFor: field.id, textContent: text.passphrase });
    ui.form.append(label, field, element("button", { type: "submit", textContent: text.unlock }));
    ui.form.hidden = false;
    ui.form.onsubmit = (event) => {
      event.preventDefault();
      passphrase = field.value;
      ui.error.hidden = true;
      ready().catch(fail);
    };
    field.focus();
  }

  ui.file.textContent = key.name;
  if (!key.secret && !key.passphrase) { fail(new UserError(text.missingKey)); return; }
  if (key.passphrase) { askPassphrase(); return; }
  // A key that does not parse is the link's fault, not the file's.
  identityToRecipient(key.secret).then(
    () => ready().catch(fail),
    () => fail(new UserError(text.invalidKey)),
  );
}

const box = document.getElementById("e2e");
if (box) start(box);
