// Stands in for @noble/post-quantum/hybrid.js and @noble/curves/nist.js in the bundle:
// pastefile links use native X25519 identities or passphrases only, and leaving out the
// post-quantum and p256 tag recipients halves the bundle. Using one fails clearly.
const refuse = new Proxy({}, {
  get() { throw new Error("post-quantum and tag recipients are not in pastefile's build"); },
});
export const MLKEM768P256 = refuse;
export const MLKEM768X25519 = refuse;
export const p256 = refuse;
