// The upload page's end-to-end encryption (upload.js calls window.pastefile.e2e.upload
// when "Encrypt end to end" is ticked). Each file is encrypted in the browser to a fresh
// age X25519 identity, or to a passphrase (age's scrypt mode), as a stream:
// File.stream() → age → 8 MiB blocks → tus PATCHes. The file is never whole in memory,
// and the key, the name and the type travel only in the link's fragment.
import { Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { Upload } from "tus-js-client/lib/browser/index.js";
import { blockReader } from "./chunks.js";
import { buildFragment } from "./fragment.js";

const BLOCK = 8 * 1024 * 1024;

async function encryptedStream(file, passphrase) {
  const encrypter = new Encrypter();
  let secret = "";
  if (passphrase) {
    encrypter.setPassphrase(passphrase);
  } else {
    secret = await generateX25519Identity();
    encrypter.addRecipient(await identityToRecipient(secret));
  }
  const stream = await encrypter.encrypt(file.stream());
  return { stream, secret, length: stream.size(file.size) };
}

// A failure as upload.js reads it: the XMLHttpRequest of a refused request, null for a
// lost connection, or the Error of the encryption.
function failure(err) {
  const response = err && err.originalResponse;
  if (response) return response.getUnderlyingObject();
  return err && err.originalRequest ? null : err;
}

// Starts one encrypted upload. options: endpoint, csrf, passphrase, metadata (the
// upload options, e.g. expires_in), onProgress(sent, total). Returns {done, abort}:
// done resolves to {id, token, fragment} and rejects with the failed XMLHttpRequest
// (or null when the connection was lost, or an Error from the encryption).
export function upload(file, options) {
  let tus = null;
  let aborted = false;
  const done = encryptedStream(file, options.passphrase).then(({ stream, secret, length }) =>
    new Promise((resolve, reject) => {
      const found = {};
      tus = new Upload(blockReader(stream, BLOCK), {
        endpoint: options.endpoint,
        uploadSize: length,
        chunkSize: BLOCK,
        retryDelays: [0, 1000, 3000],
        storeFingerprintForResuming: false,
        headers: { "X-CSRF-Token": options.csrf },
        metadata: Object.assign({ encryption: "age" }, options.metadata || {}),
        onProgress: (sent, total) => options.onProgress && options.onProgress(sent, total),
        onAfterResponse: (req, res) => {
          found.id = res.getHeader("X-File-Id") || found.id;
          found.token = res.getHeader("X-Token") || found.token;
        },
        onError: (err) => reject(failure(err)),
        onSuccess: () => resolve({
          id: found.id,
          token: found.token || null,
          fragment: buildFragment({
            secret, passphrase: Boolean(options.passphrase), name: file.name, type: file.type,
          }),
        }),
      });
      if (!aborted) tus.start();
    }));
  return {
    done,
    abort() {
      aborted = true;
      if (tus) tus.abort(true).catch(() => {});
    },
  };
}

window.pastefile = window.pastefile || {};
window.pastefile.e2e = { upload, encryptedStream };  // encryptedStream: for bench/browser_encrypt.py
