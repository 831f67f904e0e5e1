/**
 * After a configuration write commits: bump the config version (every gateway instance reloads its snapshot
 * within its refresh interval) and refresh this instance's snapshot at once, so the dashboard's next request
 * (or a test right after it) already sees the change.
 */
import { bumpConfigVersion } from "../gateway/snapshot";
import type { Runtime } from "../runtime";

export async function configChanged(rt: Runtime): Promise<void> {
  await bumpConfigVersion(rt.db.prisma);
  await rt.snapshot.refresh();
}
