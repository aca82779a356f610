// Previews after decryption, in an <iframe sandbox=""> from a blob: URL: the frame has
// an opaque origin and runs no script, whatever the file holds. The type comes from the
// link's fragment (the uploader's word), so only known kinds are shown, and text is
// always shown as plain text, never as HTML.

export const PREVIEW_LIMIT = 32 * 1024 * 1024;

const IMAGES = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/svg+xml"];
const TEXT = /^(text\/[\w.+-]+|application\/(json|xml|x-sh|javascript))$/;

export function previewKind(type) {
  const bare = (type || "").split(";")[0].trim().toLowerCase();
  if (IMAGES.includes(bare)) return { type: bare, tag: "image" };
  if (/^video\/[\w.+-]+$/.test(bare)) return { type: bare, tag: "video" };
  if (/^audio\/[\w.+-]+$/.test(bare)) return { type: bare, tag: "audio" };
  if (bare === "application/pdf") return { type: bare, tag: "pdf" };
  if (TEXT.test(bare)) return { type: "text/plain;charset=utf-8", tag: "text" };
  return null;
}

export function showPreview(holder, blob, kind, title) {
  const frame = document.createElement("iframe");
  // Chromium shows no PDF in a sandboxed frame. Unsandboxed, the blob's type is still
  // application/pdf, whatever its bytes: the browser's PDF viewer draws it, and no page
  // of ours runs it.
  if (kind.tag !== "pdf") frame.setAttribute("sandbox", "");
  frame.className = "e2e-frame e2e-" + kind.tag;
  frame.title = title;
  frame.src = URL.createObjectURL(new Blob([blob], { type: kind.type }));
  holder.replaceChildren(frame);
}
