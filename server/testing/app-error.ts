/** Unit-test helper shared by the validation and adapter tests (not used by production code). */
import { AppError } from "../gateway/errors";

/** The AppError that `run` throws, to assert on its status, code and param; anything else thrown is rethrown. */
export function rejection(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError to be thrown");
}
