import { describe, expect, it } from "vitest";
import { SyncError } from "../errors";
import { MAX_BODY_BYTES, readBodyLimited } from "./body";

const URL = "http://localhost/api/webhooks/stack/user/sync";
const CHUNK = 64 * 1024;

function filled(size: number, seed = 7): Uint8Array<ArrayBuffer> {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + seed) & 0xff;
  return data;
}

/** A body stream that hands out `total` bytes in `chunk`-sized pieces and counts how often it is pulled. */
function countingStream(total: number, chunk = CHUNK) {
  const source = filled(total);
  const stats = { pulls: 0, bytesPulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      stats.pulls++;
      const start = stats.bytesPulled;
      const piece = source.slice(start, Math.min(total, start + chunk));
      stats.bytesPulled += piece.byteLength;
      controller.enqueue(piece);
      if (stats.bytesPulled >= total) controller.close();
    },
    cancel() {
      stats.cancelled = true;
    },
  });
  return { stream, stats, source };
}

function streamed(stream: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Request {
  return new Request(URL, { method: "POST", body: stream, headers, duplex: "half" } as RequestInit);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SyncError);
    return (error as SyncError).code;
  }
  throw new Error("the body was accepted");
}

describe("readBodyLimited", () => {
  it("has a limit of exactly 2 MiB", () => {
    expect(MAX_BODY_BYTES).toBe(2 * 1024 * 1024);
  });

  it("returns a body of exactly 2 MiB whole, byte for byte", async () => {
    const body = filled(MAX_BODY_BYTES);
    const read = await readBodyLimited(new Request(URL, { method: "POST", body }));
    expect(read.byteLength).toBe(MAX_BODY_BYTES);
    expect(Buffer.from(read).equals(Buffer.from(body))).toBe(true);
  });

  it("returns a streamed body of exactly 2 MiB in many chunks whole, byte for byte", async () => {
    const { stream, source } = countingStream(MAX_BODY_BYTES, 10_000);
    const read = await readBodyLimited(streamed(stream));
    expect(read.byteLength).toBe(MAX_BODY_BYTES);
    expect(Buffer.from(read).equals(Buffer.from(source))).toBe(true);
  });

  it("returns a small body and an empty body as they are", async () => {
    const text = '{"type":"user.created","data":{"display_name":"Zoë"}}';
    const read = await readBodyLimited(new Request(URL, { method: "POST", body: text }));
    expect(new TextDecoder().decode(read)).toBe(text);
    expect((await readBodyLimited(new Request(URL, { method: "POST" }))).byteLength).toBe(0);
    expect((await readBodyLimited(new Request(URL, { method: "POST", body: "" }))).byteLength).toBe(0);
  });

  it("refuses a declared Content-Length of 2 MiB + 1 before reading anything", async () => {
    const { stream, stats } = countingStream(MAX_BODY_BYTES + 1);
    const request = streamed(stream, { "content-length": String(MAX_BODY_BYTES + 1) });
    // A stream fills its queue (one chunk) on its own as soon as it exists: count from after that.
    await new Promise((resolve) => setTimeout(resolve, 10));
    const pulledBefore = stats.pulls;
    expect(pulledBefore).toBeLessThanOrEqual(1);
    const code = await refusal(readBodyLimited(request));
    expect(code).toBe("payload_too_large");
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stats.pulls).toBe(pulledBefore);
  });

  it("refuses a body of 2 MiB + 1 sent whole with its Content-Length", async () => {
    const body = filled(MAX_BODY_BYTES + 1);
    const request = new Request(URL, {
      method: "POST",
      body,
      headers: { "content-length": String(body.byteLength) },
    });
    expect(await refusal(readBodyLimited(request))).toBe("payload_too_large");
  });

  it("refuses a streamed body of 2 MiB + 1 without a Content-Length", async () => {
    const { stream, stats } = countingStream(MAX_BODY_BYTES + 1);
    const request = streamed(stream);
    expect(request.headers.get("content-length")).toBeNull();
    expect(await refusal(readBodyLimited(request))).toBe("payload_too_large");
    expect(stats.bytesPulled).toBe(MAX_BODY_BYTES + 1);
  });

  it("refuses a body longer than its declared Content-Length says", async () => {
    const { stream } = countingStream(MAX_BODY_BYTES + CHUNK);
    expect(await refusal(readBodyLimited(streamed(stream, { "content-length": "100" })))).toBe(
      "payload_too_large",
    );
  });

  it("ignores a Content-Length that is not a number and counts the bytes instead", async () => {
    const ok = countingStream(1000);
    expect((await readBodyLimited(streamed(ok.stream, { "content-length": "lots" }))).byteLength).toBe(1000);
    const big = countingStream(MAX_BODY_BYTES + 1);
    expect(await refusal(readBodyLimited(streamed(big.stream, { "content-length": "lots" })))).toBe(
      "payload_too_large",
    );
  });

  it("refuses a 10 MiB stream after pulling little more than 2 MiB of it, and cancels the rest", async () => {
    const total = 10 * 1024 * 1024;
    const { stream, stats } = countingStream(total);
    expect(await refusal(readBodyLimited(streamed(stream)))).toBe("payload_too_large");
    const chunksToPassTheLimit = MAX_BODY_BYTES / CHUNK + 1;
    // The stream may read a few chunks ahead of the reader; it must not read the whole 160.
    expect(stats.pulls).toBeGreaterThanOrEqual(chunksToPassTheLimit);
    expect(stats.pulls).toBeLessThanOrEqual(chunksToPassTheLimit + 4);
    expect(stats.bytesPulled).toBeLessThan(total / 2);
    expect(stats.cancelled).toBe(true);
  });

  it("honours a smaller limit when given one", async () => {
    expect((await readBodyLimited(new Request(URL, { method: "POST", body: "12345" }), 5)).byteLength).toBe(
      5,
    );
    expect(await refusal(readBodyLimited(new Request(URL, { method: "POST", body: "123456" }), 5))).toBe(
      "payload_too_large",
    );
  });
});
