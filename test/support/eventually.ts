/**
 * Polls `probe` until it returns true, every `everyMs`, for at most `withinMs`; throws with
 * `what` otherwise. For states that settle behind a request (a background key refresh).
 */
export async function eventually(
  what: string,
  probe: () => Promise<boolean>,
  withinMs = 5_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
