import assert from 'node:assert/strict';

/** Until `check` holds (the container's own pace, never a clock assertion): 200 tries, 50 ms apart. */
export async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`never happened: ${what}`);
}
