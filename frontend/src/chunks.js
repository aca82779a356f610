// A reader over a byte stream that hands out blocks of exactly `size` bytes (the last
// one shorter). tus-js-client grows its buffer by concatenation on every read, so
// handing it age's 64 KiB pieces one by one would copy each upload chunk many times.
export function blockReader(stream, size) {
  const reader = stream.getReader();
  let pending = null;  // bytes read past the last block
  let finished = false;
  return {
    async read() {
      if (finished && !pending) return { done: true, value: undefined };
      const block = new Uint8Array(size);
      let used = 0;
      while (used < size) {
        let piece = pending;
        pending = null;
        if (!piece) {
          const next = await reader.read();
          if (next.done) { finished = true; break; }
          piece = next.value;
        }
        const n = Math.min(size - used, piece.length);
        block.set(piece.subarray(0, n), used);
        used += n;
        if (n < piece.length) pending = piece.subarray(n);
      }
      if (used === 0) return { done: true, value: undefined };
      return { done: false, value: used === size ? block : block.slice(0, used) };
    },
    cancel(reason) { return reader.cancel(reason); },
  };
}
