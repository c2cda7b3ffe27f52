// A DiskScheduler driven by hand: every operation waits until the driver completes it, one at a
// time and in an order it picks (a seeded PRNG, for the crash tests). Operations still waiting
// when the disk crashes are the ones "in flight" at the power loss.
import type { DiskOp, DiskScheduler } from './disk-control.js';

export class SteppedDisk implements DiskScheduler {
  private readonly waiting: { op: DiskOp; done: () => void }[] = [];

  delay(op: DiskOp): Promise<void> {
    return new Promise<void>((done) => {
      this.waiting.push({ op, done });
    });
  }

  /** Operations issued and not yet completed. */
  pending(): readonly DiskOp[] {
    return this.waiting.map((w) => w.op);
  }

  /** Completes one waiting operation (a random one, or the oldest); returns it, or undefined if none. */
  step(random?: () => number): DiskOp | undefined {
    if (this.waiting.length === 0) return undefined;
    const i = random === undefined ? 0 : Math.floor(random() * this.waiting.length);
    const [w] = this.waiting.splice(i, 1);
    w!.done();
    return w!.op;
  }
}
