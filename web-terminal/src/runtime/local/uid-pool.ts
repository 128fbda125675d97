// Host uids for sandboxes when the service runs as root: one per live sandbox, so that process
// limits and file ownership are per session and never root's.

export class UidPool {
  private readonly inUse = new Set<number>();
  private next = 0;

  constructor(private readonly base: number, private readonly size: number) {}

  acquire(): { value: number; release: () => void } {
    for (let i = 0; i < this.size; i += 1) {
      const value = this.base + ((this.next + i) % this.size);
      if (this.inUse.has(value)) continue;
      this.inUse.add(value);
      this.next = (value - this.base + 1) % this.size;
      let released = false;
      return {
        value,
        release: () => {
          if (released) return;
          released = true;
          this.inUse.delete(value);
        },
      };
    }
    throw new Error('no free sandbox uid');
  }
}
