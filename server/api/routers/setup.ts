/** First-run setup (public): open while no user exists, closed for good once the first admin is created. */
import { setupInput } from "@/lib/contracts/auth";
import { createFirstAdmin, needsSetup } from "../../auth/setup";
import { publicProcedure, router } from "../trpc";

export const setupRouter = router({
  status: publicProcedure.query(async ({ ctx }) => ({ open: await needsSetup(ctx.rt.db.prisma) })),

  /** Creates the first admin; CONFLICT once any user exists. The client then signs in with the same credentials. */
  createAdmin: publicProcedure.input(setupInput).mutation(async ({ ctx, input }) => {
    const user = await createFirstAdmin(ctx.rt.db.prisma, input);
    ctx.rt.log.info({ userId: user.id }, "first admin created on the setup page");
    return { email: user.email };
  }),
});
