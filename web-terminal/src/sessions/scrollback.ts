// Bounded record of recent terminal output, replayed to a viewer that (re)attaches.
// Memory never exceeds `capacity` bytes whatever the program prints, and grows only as output comes
// (an idle session that printed a prompt holds a few hundred bytes, not the whole capacity).

const INITIAL_BYTES = 1024;

export class Scrollback {
  private buffer: Buffer = Buffer.alloc(0);
  private start = 0;
  private length = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.length;
  }

  append(chunk: Buffer): void {
    if (this.buffer.length < this.capacity) {
      // Still growing: the content is linear from offset 0.
      const needed = this.length + chunk.length;
      if (needed > this.buffer.length) this.grow(Math.min(this.capacity, Math.max(needed, this.buffer.length * 2, INITIAL_BYTES)));
      if (needed <= this.buffer.length) {
        chunk.copy(this.buffer, this.length);
        this.length = needed;
        return;
      }
    }
    if (chunk.length >= this.capacity) {
      chunk.copy(this.buffer, 0, chunk.length - this.capacity);
      this.start = 0;
      this.length = this.capacity;
      return;
    }
    const end = (this.start + this.length) % this.capacity;
    const firstPart = Math.min(chunk.length, this.capacity - end);
    chunk.copy(this.buffer, end, 0, firstPart);
    chunk.copy(this.buffer, 0, firstPart);
    const overflow = Math.max(0, this.length + chunk.length - this.capacity);
    this.length = Math.min(this.capacity, this.length + chunk.length);
    this.start = (this.start + overflow) % this.capacity;
  }

  private grow(size: number): void {
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  /** A copy of what is kept, oldest byte first. */
  snapshot(): Buffer {
    const end = this.start + this.length;
    if (end <= this.capacity) return Buffer.from(this.buffer.subarray(this.start, end));
    return Buffer.concat([this.buffer.subarray(this.start), this.buffer.subarray(0, end - this.capacity)]);
  }
}
