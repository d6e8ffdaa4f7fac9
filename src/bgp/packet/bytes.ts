// ByteReader / ByteWriter: the one cursor pair every decoder and encoder in this folder uses.
export class ByteReader {
  constructor(buf: Uint8Array, start = 0, end = buf.length) { void buf; void start; void end; throw new Error('not implemented'); }
}
export class ByteWriter {
  constructor(initialSize = 4096) { void initialSize; throw new Error('not implemented'); }
}
