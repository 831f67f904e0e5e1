import { describe, expect, it } from "vitest";
import { AppError } from "../gateway/errors";
import { batchObject, fileObject, lineErrorResponse, listPage, newBatchId, newFileId, newItemId } from "./objects";

const at = (s: number) => new Date(s * 1000);

describe("batch objects", () => {
  it("renders a batch in OpenAI's shape, timestamps in seconds and unset ones null", () => {
    const job = {
      id: "batch_1",
      endpoint: "/v1/chat/completions",
      inputFileId: "file-1",
      completionWindow: "24h",
      status: "failed",
      outputFileId: null,
      errorFileId: null,
      metadata: { a: "b" },
      errors: [{ code: "empty_file", message: "m", param: null, line: null }],
      requestTotal: 0,
      requestCompleted: 0,
      requestFailed: 0,
      createdAt: at(100),
      expiresAt: at(86_500),
      inProgressAt: null,
      finalizingAt: null,
      completedAt: null,
      failedAt: new Date(101_900),
      expiredAt: null,
      cancellingAt: null,
      cancelledAt: null,
    };
    expect(batchObject(job)).toEqual({
      id: "batch_1",
      object: "batch",
      endpoint: "/v1/chat/completions",
      errors: { object: "list", data: [{ code: "empty_file", message: "m", param: null, line: null }] },
      input_file_id: "file-1",
      completion_window: "24h",
      status: "failed",
      output_file_id: null,
      error_file_id: null,
      created_at: 100,
      in_progress_at: null,
      expires_at: 86_500,
      finalizing_at: null,
      completed_at: null,
      failed_at: 101,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { a: "b" },
    });
    expect(batchObject({ ...job, errors: null, metadata: null }).errors).toBeNull();
  });

  it("renders files and list pages", () => {
    const file = { id: "file-1", purpose: "batch", filename: "in.jsonl", bytes: 12, createdAt: at(5), expiresAt: at(10) };
    expect(fileObject(file)).toEqual({ id: "file-1", object: "file", bytes: 12, created_at: 5, filename: "in.jsonl", purpose: "batch", status: "processed", status_details: null, expires_at: 10 });
    expect(listPage([{ id: "a" }, { id: "b" }], true)).toEqual({ object: "list", data: [{ id: "a" }, { id: "b" }], first_id: "a", last_id: "b", has_more: true });
    expect(listPage([], false)).toEqual({ object: "list", data: [], first_id: null, last_id: null, has_more: false });
  });

  it("renders error lines in the OpenAI error envelope", () => {
    const response = lineErrorResponse(new AppError(400, "invalid_value", "Invalid value for 'temperature'", { param: "temperature" }), "req_1");
    expect(response).toEqual({
      status_code: 400,
      request_id: "req_1",
      body: { error: { message: "Invalid value for 'temperature'", type: "invalid_request_error", param: "temperature", code: "invalid_value" } },
    });
  });

  it("makes ids in OpenAI's formats; item ids fit Anthropic's custom_id pattern", () => {
    expect(newFileId()).toMatch(/^file-[A-Za-z0-9]{24}$/);
    expect(newBatchId()).toMatch(/^batch_[A-Za-z0-9]{24}$/);
    expect(newItemId()).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(new Set(Array.from({ length: 100 }, newItemId)).size).toBe(100);
  });
});
