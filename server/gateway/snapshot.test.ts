import { describe, expect, it } from "vitest";
import { createSnapshotHolder } from "./snapshot";

const log = { warn: () => {} } as never;

describe("config snapshot holder", () => {
  it("a refresh asked for during a reload sees a version bumped after that reload read it", async () => {
    let version = 1;
    let gate: (() => void) | null = null;
    const holder = await createSnapshotHolder({
      readVersion: async () => String(version),
      load: async (v) => {
        if (v === "2") await new Promise<void>((resolve) => (gate = resolve));
        return Number(v);
      },
      log,
      intervalMs: 60_000,
    });
    version = 2;
    const first = holder.refresh(); // reads 2, blocks in load
    await new Promise((r) => setTimeout(r, 5));
    version = 3; // a control-plane write bumps again while the reload runs
    const second = holder.refresh();
    const third = holder.refresh();
    expect(third).toBe(second);
    gate!();
    await first;
    expect(holder.current()).toBe(2);
    await second;
    expect(holder.current()).toBe(3);
    holder.stop();
  });

  it("keeps serving the previous snapshot when a reload fails", async () => {
    let version = 1;
    const holder = await createSnapshotHolder({
      readVersion: async () => String(version),
      load: async (v) => {
        if (v === "2") throw new Error("database down");
        return Number(v);
      },
      log,
      intervalMs: 60_000,
    });
    version = 2;
    await holder.refresh();
    expect(holder.current()).toBe(1);
    holder.stop();
  });
});
