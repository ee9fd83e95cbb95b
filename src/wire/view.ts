/**
 * viewOf: a DataView over exactly the bytes of a Uint8Array (DataView index i is buf[i]), for the
 * 16- and 32-bit big-endian reads of the parser and the checksum's 32-bit sums (one bounds-checked
 * load instead of two or four byte loads).
 *
 * Views are cached: the last four buffers by identity, then a WeakMap of every buffer seen. Only the
 * first sight of a buffer makes a view (cold path); a gateway reading its inputs and building packets
 * in its own buffers allocates nothing per packet. Callers must read only within buf.length: a
 * DataView throws where a Uint8Array would give undefined.
 */

const NO_BUF = new Uint8Array(0);
const NO_VIEW = new DataView(new ArrayBuffer(0));
const keys: Uint8Array[] = [NO_BUF, NO_BUF, NO_BUF, NO_BUF];
const views: DataView[] = [NO_VIEW, NO_VIEW, NO_VIEW, NO_VIEW];
let next = 0;
const seen = new WeakMap<Uint8Array, DataView>();

export function viewOf(buf: Uint8Array): DataView {
  if (keys[0] === buf) return views[0];
  if (keys[1] === buf) return views[1];
  if (keys[2] === buf) return views[2];
  if (keys[3] === buf) return views[3];
  return viewMiss(buf);
}

function viewMiss(buf: Uint8Array): DataView {
  let v = seen.get(buf);
  if (v === undefined) {
    v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    seen.set(buf, v);
  }
  const i = next;
  keys[i] = buf;
  views[i] = v;
  next = (i + 1) & 3;
  return v;
}
