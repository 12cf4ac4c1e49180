/**
 * A piece of work that runs once at a time in this process (an outbox's delivery): a call during a run gets
 * that run's result and asks for one more run after it, so nothing queued meanwhile waits for the next
 * schedule; any number of calls during a run make one more, not many.
 */
export class OneRunAtATime<T> {
  private running: Promise<T> | null = null;
  private again = false;

  constructor(private readonly work: () => Promise<T>) {}

  run(): Promise<T> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.work().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.run().catch(() => undefined);
      }
    });
    return this.running;
  }
}
