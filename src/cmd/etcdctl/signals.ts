/** Resolves on the first SIGINT or SIGTERM (after which the command cleans up and exits). */
export function interrupted(): { promise: Promise<void>; fired: () => boolean } {
  let fired = false;
  const promise = new Promise<void>((resolve) => {
    const on = () => {
      fired = true;
      resolve();
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  return { promise, fired: () => fired };
}

/** Races work against an interrupt; undefined when interrupted first. */
export async function unlessInterrupted<T>(work: Promise<T>, stop: Promise<void>): Promise<T | undefined> {
  return Promise.race([work, stop.then(() => undefined)]);
}
