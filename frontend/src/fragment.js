// The key-bearing URL fragment: "#k=AGE-SECRET-KEY-1…&n=<name>&t=<type>", or "p=1" in
// place of k when a passphrase (age's scrypt mode) wraps the file key. n and t are
// base64url (no padding) of UTF-8. A fragment never reaches the server.

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "===".slice((b64.length + 3) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

export function buildFragment({ secret, passphrase, name, type }) {
  const parts = [passphrase ? "p=1" : "k=" + secret];
  if (name) parts.push("n=" + toBase64Url(name));
  if (type) parts.push("t=" + toBase64Url(type));
  return "#" + parts.join("&");
}

// {secret, passphrase, name, type}; throws when the fragment is unreadable.
export function parseFragment(hash) {
  const bare = hash.replace(/^#/, "");
  // A bare identity ("#AGE-SECRET-KEY-1…") opens the file too, without a name or type.
  if (bare.startsWith("AGE-SECRET-KEY-")) return { secret: bare, passphrase: false, name: "", type: "" };
  const fields = new URLSearchParams(bare);
  const decoded = (key) => {
    const value = fields.get(key);
    if (!value) return "";
    try { return fromBase64Url(value); } catch (e) { return ""; }
  };
  return {
    secret: fields.get("k") || "",
    passphrase: fields.get("p") === "1",
    name: decoded("n"),
    type: decoded("t"),
  };
}
