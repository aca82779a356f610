// A reader over a byte stream that hands out Blobs of exactly `size` bytes (the last one
// shorter), for tus-js-client's stream source. Blobs, not one big Uint8Array: the
// browser keeps their bytes out of the JavaScript heap and sends them as they are, and
// tus-js-client, which grows its buffer by concatenation on every read, gets each
// upload chunk in one read.
export function blockReader(stream, size) {
  const reader = stream.getReader();
  let pending = null;  // bytes read past the last block
  let finished = false;
  return {
    async read() {
      const parts = [];
      let used = 0;
      while (used < size && !finished) {
        let piece = pending;
        pending = null;
        if (!piece) {
          const next = await reader.read();
          if (next.done) { finished = true; break; }
          piece = next.value;
        }
        const n = Math.min(size - used, piece.length);
        parts.push(n < piece.length ? piece.subarray(0, n) : piece);
        used += n;
        if (n < piece.length) pending = piece.subarray(n);
      }
      if (used === 0) return { done: true, value: undefined };
      return { done: false, value: new Blob(parts) };
    },
    cancel(reason) { return reader.cancel(reason); },
  };
}

// Regroups a byte stream into pieces of `size` bytes (the last one shorter): age yields
// 64 KiB, and every piece is one write to the picked file or one message to the service
// worker, so bigger pieces cost fewer round trips.
export function regroup(size) {
  let buffer = new Uint8Array(size);
  let used = 0;
  return new TransformStream({
    transform(chunk, controller) {
      while (chunk.length > 0) {
        const n = Math.min(size - used, chunk.length);
        buffer.set(chunk.subarray(0, n), used);
        used += n;
        chunk = chunk.subarray(n);
        if (used === size) {
          controller.enqueue(buffer);
          buffer = new Uint8Array(size);
          used = 0;
        }
      }
    },
    flush(controller) {
      if (used > 0) controller.enqueue(buffer.slice(0, used));
    },
  });
}
